import type { HostedNode, NodeProtocol } from '../core/host/node.ts';
import type { TypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import type { HistoryEntry } from '../sim/client.ts';
import type { PinnedFate } from '../sim/network.ts';
import type { SimOptions } from '../sim/options.ts';
import { Simulation } from '../sim/simulation.ts';
import type { RunResult, SimObserver, SimParts } from '../sim/observer.ts';
import type { Trace } from '../sim/trace.ts';
import { continueUnderNewProcesses } from '../properties/linearizability/history.ts';
import { recordingWorkload, scriptedWorkload, type WorkloadScript } from '../sim/workloadScript.ts';

/** A scenario's own setting beyond the simulator's options: a client count, Raft's election ticks. */
export type Knob = number | boolean;
export type Knobs = Readonly<Record<string, Knob>>;

/**
 * What a run may be told instead of what its seed draws: the options (the fault plan included)
 * and the scenario's knobs. `run --case` and `--set` come through here, and the shrinker.
 */
export interface RunSettings {
  readonly options?: SimOptions;
  /** Knobs to change; a name the scenario does not have is refused (a SettingsError). */
  readonly knobs?: Knobs;
}

/** Settings a scenario cannot run with: bad input, not a failed run. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** A run of a scenario, prepared for one seed: the options it will use, then the run itself. */
export interface PreparedRun {
  readonly options: SimOptions;
  /** The scenario's knobs as this run uses them, in a stable order of keys. */
  readonly knobs: Knobs;
  /** What a reader of the header should know beyond the options: swarm draw, check sampling. */
  readonly notes: readonly string[];
  execute(config?: RunConfig): ExecutedRun;
}

/**
 * Watches a run for a person: an observer made for the run's protocol (so it can describe its
 * messages), told first of every event — before the checks, so that the event a check rejects is
 * still seen — and told when the run is over, whatever its verdict.
 */
export type RunWatcher = <M, Q, R, N extends HostedNode<M, Q, R>>(protocol: NodeProtocol<M, Q, R, N>) => WatcherObserver<M, Q, R, N>;

export interface WatcherObserver<M, Q, R, N extends HostedNode<M, Q, R>> extends SimObserver<M, Q, R, N> {
  afterRun?(sim: Simulation<M, Q, R, N>, result: RunResult): void;
}

/** How to execute a prepared run. Everything is off by default: a run costs what it did before. */
export interface RunConfig {
  /** Keep the per-event trail (for comparing runs event by event). */
  readonly keepTrail?: boolean;
  readonly watchers?: readonly RunWatcher[];
  /** Write down what the clients did (`ExecutedRun.workload`), for a case. */
  readonly recordWorkload?: boolean;
  /** Replay this workload instead of drawing one (`run --case`). */
  readonly workload?: WorkloadScript<unknown>;
  /** Record every message's fate (`ExecutedRun.fates`), to pin them in keyed mode. */
  readonly recordFates?: boolean;
}

export interface ExecutedRun {
  readonly result: RunResult;
  readonly trace: Trace;
  /** Counters for the summary, in a stable order of keys. */
  readonly stats: Readonly<Record<string, number>>;
  /** What the clients did, when recorded or replayed. */
  readonly workload?: WorkloadScript<unknown>;
  /** Every message's fate, in send order, when recorded (RunConfig.recordFates). */
  readonly fates?: readonly PinnedFate[];
  /** Every client operation, in invocation order. */
  readonly history: readonly HistoryEntry<unknown, unknown>[];
  /**
   * The clients' history in the linearizability checker's terms, for families that can state one
   * (null otherwise). Built on demand: a sweep never pays for it.
   */
  clientHistory(): TypedHistory | null;
}

/**
 * A named scenario: a cluster, a workload, a fault plan (given, or drawn from the seed) and the
 * checks that judge the run. The scenario name and the seed reproduce a run exactly.
 */
export interface Scenario {
  readonly name: string;
  readonly family: string;
  readonly summary: string;
  /**
   * What a run should find. Bug-catalogue scenarios re-create a known bug and expect a violation:
   * a sweep counts them as passing when they are caught, and reports the seeds that missed.
   */
  readonly expect: 'pass' | 'violation';
  /**
   * An expected violation's contract: the share of seeds, in (0, 1], in which it promises to catch
   * its violation (default 1: every seed). A sweep judges it on its catch rate over the seeds it
   * ran, and lists a miss without failing it while the rate holds (reports/catchRate.ts).
   */
  readonly promisedCatchRate?: number;
  /** Seeds a sweep runs when not told how many (its default otherwise): costly scenarios run fewer. */
  readonly sweepSeeds?: number;
  /**
   * Behaviour counts (`ExecutedRun.stats` keys) a sweep of this scenario's family must see above
   * zero, or the sweep has lost coverage (checked by `sweep --require-coverage` and the gate).
   */
  readonly coverage?: readonly string[];
  prepare(seed: number, settings?: RunSettings): PreparedRun;
}

/**
 * Where a run's code came from when it is not only this checkout's: a catalogued or a user's
 * mutant, or a module of the user's own scenarios (`--scenarios FILE`).
 */
export interface CodeVariant {
  readonly mutant?: string;
  readonly patch?: string;
  readonly scenarios?: string;
}

/** The one-line command that replays a run. */
export function replayCommand(scenario: string, seed: number, variant: CodeVariant = {}): string {
  return `npx detcd-sim run --seed ${seed} --scenario ${scenario}${variantFlags(variant)}`;
}

/** The command-line flags that select a code variant (empty for this checkout's code). */
export function variantFlags(variant: CodeVariant): string {
  return `${variant.scenarios === undefined ? '' : ` --scenarios ${variant.scenarios}`}${variant.mutant === undefined ? '' : ` --mutant ${variant.mutant}`}${variant.patch === undefined ? '' : ` --patch ${variant.patch}`}`;
}

/** A scenario family's parts of a run beyond the simulator's. */
export interface RunParts<M, Q, R, N extends HostedNode<M, Q, R>> extends SimParts<M, Q, R, N> {
  /** The history for the linearizability checker, when the family can state one. */
  readonly clientHistory?: (sim: Simulation<M, Q, R, N>) => TypedHistory;
  /** Behaviour counts of the family's own (leader changes, snapshots), merged into the stats. */
  readonly counts?: (sim: Simulation<M, Q, R, N>) => Readonly<Record<string, number>>;
}

/** Runs a simulation and gathers the counters every summary shows. */
export function executeSimulation<M, Q, R, N extends HostedNode<M, Q, R>>(options: SimOptions, parts: RunParts<M, Q, R, N>, config: RunConfig = {}): ExecutedRun {
  const firstClient = options.nodeCount + 1;
  let workload = parts.workload;
  let recording: ReturnType<typeof recordingWorkload<Q, R>> | null = null;
  if (workload !== undefined && config.workload !== undefined) workload = scriptedWorkload(workload, config.workload as WorkloadScript<Q>, firstClient);
  if (workload !== undefined && config.recordWorkload === true) {
    recording = recordingWorkload(workload, firstClient);
    workload = recording.workload;
  }
  const watchers = (config.watchers ?? []).map((watcher) => watcher(parts.protocol));
  const sim = new Simulation(options, {
    ...parts,
    ...(workload === undefined ? {} : { workload }),
    observers: [...watchers, ...(parts.observers ?? [])],
    keepTrail: config.keepTrail ?? parts.keepTrail ?? false,
    ...(config.recordFates === true ? { recordFates: true } : {}),
  });
  const result = sim.run();
  for (const watcher of watchers) watcher.afterRun?.(sim, result);
  const script = recording?.script() ?? config.workload;
  return {
    result,
    trace: sim.trace,
    stats: { ...simulationStats(sim), ...parts.counts?.(sim) },
    ...(script === undefined ? {} : { workload: script }),
    ...(config.recordFates === true ? { fates: sim.network.recordedFates } : {}),
    history: sim.history,
    clientHistory: () => {
      const history = parts.clientHistory?.(sim);
      return history === undefined ? null : ({ ...history, operations: continueUnderNewProcesses<unknown, unknown>(history.operations) } as TypedHistory);
    },
  };
}

function simulationStats<M, Q, R, N extends HostedNode<M, Q, R>>(sim: Simulation<M, Q, R, N>): Record<string, number> {
  const network = sim.network.stats;
  const disk = { writes: 0, syncs: 0, writesLost: 0, tornWrites: 0 };
  for (const id of sim.members) {
    const stats = sim.disk(id).stats;
    disk.writes += stats.writes;
    disk.syncs += stats.syncs;
    disk.writesLost += stats.writesLost;
    disk.tornWrites += stats.tornWrites;
  }
  const outcomes = { ok: 0, fail: 0, unknown: 0 };
  for (const entry of sim.history) outcomes[entry.outcome]++;
  return {
    messagesSent: network.sent,
    messagesDelivered: network.delivered,
    duplicated: network.duplicated,
    droppedLoss: network.droppedLoss,
    droppedPartition: network.droppedPartition,
    droppedFull: network.droppedFull,
    droppedDown: network.droppedDown,
    inboxDropped: sim.stats.inboxDropped,
    snapshotsReportedFinished: sim.stats.snapshotsReportedFinished,
    snapshotsReportedFailed: sim.stats.snapshotsReportedFailed,
    unreachableReported: sim.stats.unreachableReported,
    faults: sim.stats.faults,
    crashes: sim.stats.crashes,
    restarts: sim.stats.restarts,
    pauses: sim.stats.pauses,
    partitions: sim.stats.partitions,
    partitionsHealed: sim.stats.partitionsHealed,
    clockJumps: sim.stats.clockJumps,
    diskStalls: sim.stats.diskStalls,
    diskWrites: disk.writes,
    diskSyncs: disk.syncs,
    writesLost: disk.writesLost,
    tornWrites: disk.tornWrites,
    tornWritesRecovered: sim.stats.tornWritesRecovered,
    opsOk: outcomes.ok,
    opsFailed: outcomes.fail,
    opsUnknown: outcomes.unknown,
  };
}

/**
 * A scenario's knobs: its defaults, with the given ones put in. A name it does not have, or a value
 * of the wrong type, is a SettingsError naming the knobs it does have.
 */
export function resolveKnobs<K extends Record<string, Knob>>(scenario: string, defaults: K, given: Knobs | undefined): K {
  if (given === undefined) return defaults;
  const resolved: Record<string, Knob> = { ...defaults };
  for (const [name, value] of Object.entries(given)) {
    const known = defaults[name];
    if (known === undefined) throw new SettingsError(`scenario ${scenario} has no knob "${name}" (knobs: ${Object.keys(defaults).join(', ')})`);
    if (typeof known !== typeof value) throw new SettingsError(`knob ${name} of scenario ${scenario} is a ${typeof known}, not ${JSON.stringify(value)}`);
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) throw new SettingsError(`knob ${name} must be a non-negative integer, not ${value}`);
    resolved[name] = value;
  }
  return resolved as K;
}
