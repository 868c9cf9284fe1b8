import type { Ratio } from '../core/base/ratio.ts';
import { calmDisk } from '../sim/disk.ts';
import type { FaultAction, FaultPlan } from '../sim/faults.ts';
import { calmNetwork, type LatencyDistribution } from '../sim/network.ts';
import { steadyClocks, type SimOptions } from '../sim/options.ts';
import { countFaults, recoveries } from '../sim/planEdit.ts';
import { scriptOperations, type WorkloadScript } from '../sim/workloadScript.ts';
import type { CodeVariant, ExecutedRun, Knobs, PreparedRun, RunConfig, Scenario } from './scenario.ts';

/**
 * A case: one run written out in full — scenario, seed, knobs, options, and the explicit fault
 * plan and workload the seed drew — so that it can be read, edited, shrunk and replayed to the
 * same trace hash. `run --save-case FILE` writes one, `run --case FILE` replays it, `shrink` makes
 * a failing one small. The file format is in `caseFile.ts` (and README.md, "Cases").
 */
export interface RunCase {
  readonly scenario: string;
  readonly seed: number;
  /** The code it runs against: this checkout's, or a mutant's. */
  readonly variant: CodeVariant;
  readonly knobs: Knobs;
  /** Every option, the fault plan included (`options.faults`). */
  readonly options: SimOptions;
  readonly workload: WorkloadScript<unknown>;
  /** What the run gave when the case was written: compared, never enforced, on replay. */
  readonly saved?: CaseOutcome;
}

export interface CaseOutcome {
  readonly traceHash: string;
  /** The violation's message, or null for a run that passed. */
  readonly violation: string | null;
  readonly violationUs?: number;
}

/** The case a run was: its settings, and the workload it recorded (`recordWorkload: true`). */
export function caseOfRun(scenario: string, variant: CodeVariant, prepared: PreparedRun, executed: ExecutedRun): RunCase {
  if (executed.workload === undefined) throw new Error('a case needs the run to record its workload (RunConfig.recordWorkload)');
  const { result } = executed;
  return {
    scenario,
    seed: prepared.options.seed,
    variant,
    knobs: prepared.knobs,
    options: prepared.options,
    workload: executed.workload,
    saved: { traceHash: result.traceHash, violation: result.violation?.message ?? null, ...(result.violation === null ? {} : { violationUs: result.violation.timeUs }) },
  };
}

/** Prepares the case's run: its options and knobs as given, nothing drawn from the seed. */
export function prepareCase(scenario: Scenario, runCase: RunCase): PreparedRun {
  return scenario.prepare(runCase.seed, { options: runCase.options, knobs: runCase.knobs });
}

/** Runs a case: its settings, and its workload replayed. */
export function executeCase(scenario: Scenario, runCase: RunCase, config: Omit<RunConfig, 'workload'> = {}): { prepared: PreparedRun; executed: ExecutedRun } {
  const prepared = prepareCase(scenario, runCase);
  return { prepared, executed: prepared.execute({ ...config, workload: runCase.workload }) };
}

/** How big a case is, in the terms a shrinker cuts. */
export interface CaseSize {
  readonly faults: number;
  readonly planEntries: number;
  readonly operations: number;
  readonly clients: number;
  readonly members: number;
  readonly simulatedUs: number;
  /** Message fates pinned (NetworkOptions.fates): data a reader may skip, not a size to shrink. */
  readonly pinnedFates: number;
  /** How much a lagging disk lags (DiskOptions.lag): its longest lag times its chance, 0 without one. */
  readonly diskLag: number;
  /**
   * How far the case's other harsh settings are from calm, in halvings (`harshness`): message
   * loss, duplication and slow tails, slow links (the network's latency and each per-link
   * override's), torn writes, slow syncs, clock offsets and drift, tick bursts, and in the
   * plan each weather change's rates, stall, pause, crash and partition lengths, clock jumps and
   * drifts. 0 when everything is calm; it breaks ties after `diskLag`, so the smallest case keeps
   * the calmer settings.
   */
  readonly harshness: number;
}

export function caseSize(runCase: RunCase): CaseSize {
  return {
    pinnedFates: runCase.options.network.fates?.length ?? 0,
    faults: countFaults(runCase.options.faults),
    planEntries: runCase.options.faults.length,
    operations: scriptOperations(runCase.workload),
    clients: runCase.workload.clients.filter((operations) => operations.length > 0).length,
    members: runCase.options.nodeCount,
    simulatedUs: runCase.options.timeLimitUs,
    diskLag: diskLagOf(runCase.options.disk),
    harshness: harshness(runCase.options),
  };
}

/** Below these a setting is calm enough: the shrinker halves no further (shrinkCandidates.ts). */
export const calmFloors = { ratio: 1 / 1_024, us: 1_000, ppm: 1, ticks: 1 } as const;

/**
 * How many halvings a setting is from calm: none at 0, one for a value at its floor, one more for
 * each doubling above it. Dropping a setting takes its steps to 0, halving it takes one off (down
 * to its floor): each calmer candidate of the shrinker is a smaller harshness.
 */
export function calmSteps(value: number, floor: number): number {
  return value <= 0 ? 0 : 1 + Math.max(0, Math.log2(value / floor));
}

const ratioSteps = (r: Ratio | undefined): number => (r === undefined ? 0 : calmSteps(r.numerator / r.denominator, calmFloors.ratio));
const usSteps = (us: number): number => calmSteps(Math.abs(us), calmFloors.us);

/** Extra sync latency beyond a calm disk's (slow syncs): what the shrinker takes away. */
export function slowSyncUs(disk: SimOptions['disk']): number {
  return Math.max(0, disk.syncLatencyUsMax - Math.max(disk.syncLatencyUsMin, calmDisk.syncLatencyUsMax));
}

/**
 * How much later than on a calm network a message may arrive on a link (slow links): its longest
 * delay beyond a calm network's, tails apart. What the shrinker takes away.
 */
export function slowLatencyUs(latency: LatencyDistribution): number {
  return Math.max(0, latency.latencyUsMax - calmNetwork.latencyUsMax);
}

/** Owed ticks a forward clock jump may fire back to back beyond a steady clock's one (ClockOptions.tickBurstMax). */
export function extraTickBurst(clock: SimOptions['clock']): number {
  return Math.max(0, clock.tickBurstMax - steadyClocks.tickBurstMax);
}

/**
 * A delay distribution's calm steps — the network's own or a per-link override's
 * (NetworkOptions.links): its slow latency, its tail's chance and length; 0 when no slower than a
 * calm network.
 */
export function latencyHarshness(latency: LatencyDistribution): number {
  return usSteps(slowLatencyUs(latency)) + ratioSteps(latency.tail) + (latency.tail.numerator > 0 ? usSteps(latency.tailUsMax) : 0);
}

/** The sum of the calm steps of every harsh setting and fault magnitude (CaseSize.harshness). */
export function harshness(options: SimOptions): number {
  const { network, disk, clock } = options;
  let steps = ratioSteps(network.loss) + ratioSteps(network.duplicate) + latencyHarshness(network);
  for (const link of network.links ?? []) steps += latencyHarshness(link);
  steps += ratioSteps(disk.tornWrite) + usSteps(slowSyncUs(disk));
  steps += usSteps(clock.offsetUsMax) + calmSteps(clock.driftPpmMax, calmFloors.ppm) + calmSteps(extraTickBurst(clock), calmFloors.ticks);
  const plan = options.faults;
  const enders = recoveries(plan);
  plan.forEach((fault, index) => {
    steps += faultHarshness(fault.action);
    // A fault that lasts until its recovery: its length (shortenFaults halves it, to ~2 ms).
    const ender = enders[index]!;
    if (ender >= 0 && plan[ender]!.action.kind !== 'quiet') steps += usSteps(plan[ender]!.atUs - fault.atUs);
  });
  return steps;
}

function faultHarshness(action: FaultAction): number {
  switch (action.kind) {
    case 'network':
      return ratioSteps(action.loss) + ratioSteps(action.duplicate) + ratioSteps(action.tail) + (action.tail !== undefined && action.tail.numerator > 0 ? usSteps(action.tailUsMax ?? 0) : 0);
    case 'stall':
    case 'disk-stall':
    case 'disk-stall-leader':
      return usSteps(action.durationUs);
    case 'pause-leader':
      return usSteps(action.resumeAfterUs);
    case 'crash-leader':
      return usSteps(action.restartAfterUs);
    case 'clock-jump':
    case 'clock-jump-leader':
      return usSteps(action.deltaUs);
    case 'clock-drift':
      return calmSteps(Math.abs(action.driftPpm), calmFloors.ppm);
    default:
      return 0;
  }
}

function diskLagOf(disk: SimOptions['disk']): number {
  const lag = disk.lag;
  return lag === undefined ? 0 : (lag.usMax * lag.chance.numerator) / lag.chance.denominator;
}

export function describeCaseSize(size: CaseSize): string {
  return `${size.faults} fault(s) (${size.planEntries} plan entries), ${size.operations} client operation(s) from ${size.clients} client(s), ${size.members} member(s), ${(size.simulatedUs / 1e6).toFixed(3)} s simulated at most${size.diskLag === 0 ? '' : ', a lagging disk'}${size.harshness === 0 ? '' : `, harsh settings ${size.harshness.toFixed(1)} halvings from calm`}${size.pinnedFates === 0 ? '' : `, ${size.pinnedFates} message fates pinned`}`;
}

/** The case with another fault plan. */
export function withFaults(runCase: RunCase, faults: FaultPlan): RunCase {
  return { ...runCase, options: { ...runCase.options, faults } };
}

/** The case with other options (its fault plan among them). */
export function withOptions(runCase: RunCase, options: SimOptions): RunCase {
  return { ...runCase, options };
}
