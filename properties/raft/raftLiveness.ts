import type { HostedNode, NodeId } from '../../core/host/node.ts';
import type { RaftNodeView } from '../../core/replica/raftNodeView.ts';
import type { Simulation } from '../../sim/simulation.ts';
import type { LivenessCheck } from '../../sim/observer.ts';

/** The running leader with the highest term, or null. */
export function currentLeader<M, Q, R, N extends HostedNode<M, Q, R> & RaftNodeView>(sim: Simulation<M, Q, R, N>): NodeId | null {
  let best: { id: NodeId; term: number } | null = null;
  for (const id of sim.members) {
    const replica = sim.node(id);
    if (replica === null || sim.processState(id) !== 'up' || replica.softState.role !== 'leader') continue;
    if (best === null || replica.hardState.term > best.term) best = { id, term: replica.hardState.term };
  }
  return best?.id ?? null;
}

/**
 * Liveness once the faults stop: within `boundUs` (stated by the scenario in election timeouts),
 * one leader is followed by every voter of its configuration, it has committed an entry of its own
 * term and everything any node had in its log when the faults stopped, every voter has applied
 * that far, and every client that kept working has had an operation succeed since.
 */
export function raftLiveness<M, Q, R, N extends HostedNode<M, Q, R> & RaftNodeView>(boundUs: number, electionTimeouts: number): LivenessCheck<M, Q, R, N> {
  let target = -1;
  let quietAtUs = 0;
  return {
    description: `within ${electionTimeouts} election timeouts of healing: one leader followed by all voters, everything logged before committed and applied on every voter, and every client served again`,
    boundUs,
    holds(sim) {
      if (target < 0) {
        quietAtUs = sim.nowUs;
        target = Math.max(0, ...sim.members.map((id) => sim.node(id)?.storage.lastIndex() ?? 0));
      }
      const leaderId = currentLeader(sim);
      if (leaderId === null) return false;
      const leader = sim.node(leaderId)!;
      const commit = leader.hardState.commit;
      if (commit < target || leader.storage.term(commit) !== leader.hardState.term) return false;
      for (const voter of [...leader.confState.voters, ...leader.confState.votersOutgoing]) {
        const replica = sim.node(voter);
        if (replica === null || replica.softState.lead !== leaderId || replica.appliedIndex < target) return false;
      }
      const served = new Set<number>();
      const working = new Set<number>();
      for (let i = sim.history.length - 1; i >= 0; i--) {
        const entry = sim.history[i]!;
        if (entry.invokeUs < quietAtUs) break;
        working.add(entry.client);
        if (entry.outcome === 'ok') served.add(entry.client);
      }
      return [...working].every((client) => served.has(client));
    },
  };
}
