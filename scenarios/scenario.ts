import type { HostedNode } from '../core/host/node.ts';
import type { SimOptions } from '../sim/options.ts';
import { Simulation } from '../sim/simulation.ts';
import type { RunResult, SimParts } from '../sim/observer.ts';
import type { Trace } from '../sim/trace.ts';

/** A run of a scenario, prepared for one seed: the options it will use, then the run itself. */
export interface PreparedRun {
  readonly options: SimOptions;
  /** What a reader of the header should know beyond the options: swarm draw, check sampling. */
  readonly notes: readonly string[];
  execute(config?: { readonly keepTrail?: boolean }): ExecutedRun;
}

export interface ExecutedRun {
  readonly result: RunResult;
  readonly trace: Trace;
  /** Counters for the summary, in a stable order of keys. */
  readonly stats: Readonly<Record<string, number>>;
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
  /** Seeds a sweep runs when not told how many (its default otherwise): costly scenarios run fewer. */
  readonly sweepSeeds?: number;
  prepare(seed: number): PreparedRun;
}

/** The one-line command that replays a run. */
export function replayCommand(scenario: string, seed: number): string {
  return `npx detcd-sim run --seed ${seed} --scenario ${scenario}`;
}

/** Runs a simulation and gathers the counters every summary shows. */
export function executeSimulation<M, Q, R, N extends HostedNode<M, Q, R>>(options: SimOptions, parts: SimParts<M, Q, R, N>): ExecutedRun {
  const sim = new Simulation(options, parts);
  const result = sim.run();
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
    result,
    trace: sim.trace,
    stats: {
      messagesSent: network.sent,
      messagesDelivered: network.delivered,
      duplicated: network.duplicated,
      droppedLoss: network.droppedLoss,
      droppedPartition: network.droppedPartition,
      droppedFull: network.droppedFull,
      droppedDown: network.droppedDown,
      inboxDropped: sim.stats.inboxDropped,
      faults: sim.stats.faults,
      crashes: sim.stats.crashes,
      restarts: sim.stats.restarts,
      pauses: sim.stats.pauses,
      partitions: sim.stats.partitions,
      clockJumps: sim.stats.clockJumps,
      diskWrites: disk.writes,
      diskSyncs: disk.syncs,
      writesLost: disk.writesLost,
      tornWrites: disk.tornWrites,
      opsOk: outcomes.ok,
      opsFailed: outcomes.fail,
      opsUnknown: outcomes.unknown,
    },
  };
}
