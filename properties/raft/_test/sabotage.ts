import type { Message } from '../../../core/raft/index.ts';
import type { Raft } from '../../../core/raft/raft.ts';
import type { RawNode } from '../../../core/raft/rawNode.ts';
import { defaultLogReplicaConfig, logProtocol } from '../../../core/replica/logProtocol.ts';
import type { LogReplica, LogReply, LogRequest } from '../../../core/replica/logReplica.ts';
import type { Workload } from '../../../sim/client.ts';
import type { FaultPlan } from '../../../sim/faults.ts';
import type { RunResult, SimObserver } from '../../../sim/observer.ts';
import { defaultSimOptions } from '../../../sim/options.ts';
import { Simulation } from '../../../sim/simulation.ts';
import type { RaftSimulation } from '../raftSafety.ts';

export type RaftObserver = SimObserver<Message, LogRequest, LogReply, LogReplica>;

/** The Raft state machine inside a replica: tests reach in to make a bad step by hand. */
export function raftOf(replica: LogReplica): Raft {
  return (replica.raft as unknown as { raft: Raft }).raft;
}

export function rawNodeOf(replica: LogReplica): RawNode {
  return replica.raft;
}

const appendWorkload = (machines: number): Workload<LogRequest, LogReply> => {
  let value = 1;
  return {
    name: 'append',
    clientCount: 3,
    operationsPerClientMax: 1_000,
    timeoutUs: 1_000_000,
    thinkUsMin: 0,
    thinkUsMax: 50_000,
    next: (_client, random) => ({ to: 1 + random.below(machines), request: random.below(4) === 0 ? { kind: 'read' } : { kind: 'append', value: value++ } }),
    outcome: (reply) => (reply.kind === 'error' ? 'fail' : 'ok'),
  };
};

/**
 * A small cluster of replicated-log nodes (5 machines, `voters` of them in the first
 * configuration) run for `seconds` with the given faults and observers — the saboteur first, then
 * the checks it provokes — and nothing else: each test sees exactly the check it means.
 */
export function runCluster(config: { seed: number; faults?: FaultPlan; voters?: number; seconds?: number; observers: readonly RaftObserver[] }): { result: RunResult; sim: RaftSimulation } {
  const machines = 5;
  const initialVoters = Array.from({ length: config.voters ?? machines }, (_, i) => i + 1);
  const sim: RaftSimulation = new Simulation(
    { ...defaultSimOptions, seed: config.seed, nodeCount: machines, timeLimitUs: (config.seconds ?? 10) * 1_000_000, faults: config.faults ?? [] },
    { protocol: logProtocol({ ...defaultLogReplicaConfig, initialVoters }), workload: appendWorkload(machines), observers: config.observers },
  );
  return { result: sim.run(), sim };
}

/** The running leader with the highest term, or null. */
export function leaderOf(sim: RaftSimulation): { id: number; replica: LogReplica } | null {
  let best: { id: number; replica: LogReplica } | null = null;
  for (const id of sim.members) {
    const replica = sim.node(id);
    if (replica === null || replica.softState.role !== 'leader') continue;
    if (best === null || replica.hardState.term > best.replica.hardState.term) best = { id, replica };
  }
  return best;
}

/** An observer that acts once, at the first event after `atUs` where `act` returns true. */
export function onceAfter(atUs: number, act: (sim: RaftSimulation) => boolean): RaftObserver & { done: () => boolean } {
  let done = false;
  return {
    afterEvent(sim) {
      if (!done && sim.nowUs >= atUs) done = act(sim);
    },
    done: () => done,
  };
}
