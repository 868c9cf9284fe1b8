import { formatRatio, type Ratio } from '../core/base/ratio.ts';
import { calmDisk, type DiskOptions } from './disk.ts';
import { describeFault, type FaultPlan } from './faults.ts';
import { calmNetwork, type NetworkOptions } from './network.ts';

export interface ClockOptions {
  /** Each node's clock starts off by up to this much, either way. */
  readonly offsetUsMax: number;
  /** Each node's clock drifts by up to this many parts per million, either way. */
  readonly driftPpmMax: number;
  /** After a forward jump, at most this many owed ticks fire back to back. */
  readonly tickBurstMax: number;
}

export const steadyClocks: ClockOptions = { offsetUsMax: 0, driftPpmMax: 0, tickBurstMax: 1 };

/**
 * Everything that, with the seed, determines a run. Plain data: it prints, and a run is
 * reproduced from the scenario name and seed that produced it.
 */
export interface SimOptions {
  readonly seed: number;
  readonly nodeCount: number;
  /** The run stops when the next event lies beyond this simulated time. */
  readonly timeLimitUs: number;
  /** The run fails when it has delivered this many events (a livelock, or a limit set too low). */
  readonly eventLimit: number;
  readonly queuedEventsMax: number;
  /** What a paused process can hold of deliveries and requests; more are dropped. */
  readonly inboxMax: number;
  /** A node's tick interval, on its own clock. */
  readonly tickIntervalUs: number;
  /** How often the liveness condition is probed once the faults have stopped. */
  readonly livenessProbeUs: number;
  readonly network: NetworkOptions;
  readonly disk: DiskOptions;
  readonly clock: ClockOptions;
  readonly faults: FaultPlan;
  /**
   * The host loop sends what a Ready marks `beforeSync` while its writes are being synced, as the
   * runtime does (HostLoopOptions.sendBeforeSync). Absent: off, every message waits for the sync.
   */
  readonly pipelinedHost?: boolean;
  /** How long after a node asks for a later turn (HostPorts.later: deferred work) it comes. Absent: 1 ms. */
  readonly deferredWorkUs?: number;
}

export const defaultSimOptions: Omit<SimOptions, 'seed'> = {
  nodeCount: 3,
  timeLimitUs: 60_000_000,
  eventLimit: 5_000_000,
  queuedEventsMax: 1_000_000,
  inboxMax: 1_024,
  tickIntervalUs: 100_000,
  livenessProbeUs: 100_000,
  network: calmNetwork,
  disk: calmDisk,
  clock: steadyClocks,
  faults: [],
};

/** The options as lines of `key: value`, every one of them, for a run's header. */
export function describeOptions(options: SimOptions): string[] {
  const lines: string[] = [];
  const visit = (prefix: string, value: unknown): void => {
    if (isRatio(value)) lines.push(`${prefix}: ${formatRatio(value)}`);
    else if (Array.isArray(value)) {
      if (prefix === 'network.fates') lines.push(`network.fates: ${value.length} pinned`);
      else if (prefix === 'faults') {
        lines.push(`faults: ${value.length === 0 ? 'none' : ''}`);
        for (const fault of value as FaultPlan) lines.push(`  at ${fault.atUs}us: ${describeFault(fault.action)}`);
      } else lines.push(`${prefix}: ${JSON.stringify(value)}`);
    } else if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value).sort()) visit(prefix === '' ? key : `${prefix}.${key}`, (value as Record<string, unknown>)[key]);
    } else lines.push(`${prefix}: ${String(value)}`);
  };
  visit('', options);
  return lines;
}

function isRatio(value: unknown): value is Ratio {
  return typeof value === 'object' && value !== null && 'numerator' in value && 'denominator' in value && Object.keys(value).length === 2;
}
