import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import { LeaderSampler, type HostSimulation, type RaftHost, type RaftHostObserver } from './raftHost.ts';

/** One leader's term, and since when (in time both ends were up) each follower has waited in StateSnapshot. */
interface LeaderWaits {
  term: number;
  /** Follower → microseconds waited while the leader and that follower were both up. */
  readonly waitedUs: Map<NodeId, number>;
}

/**
 * A leader never waits for a snapshot's fate for good: a follower it tracks in StateSnapshot
 * leaves that state (the snapshot reported finished or failed, or answered) within `boundUs` of
 * time in which the leader and that follower were both up (running, not paused or down), for as
 * long as that leader leads in that term. A host that waits for reports (`snapshotStatusReported`)
 * and a transport that drops a snapshot unreported leave the follower behind while the cluster
 * goes on without it: liveness sees that only if the same leader still leads when the faults stop.
 * Sampled every `sampleUs` at a leader, from Raft's own progress (`RawNode.status`).
 */
export function snapshotWaitBounded<Q, R, N extends RaftHost<Q, R>>(boundUs: number, sampleUs: number): RaftHostObserver<Q, R, N> {
  const leaders = new Map<NodeId, LeaderWaits>();
  const sampler = new LeaderSampler(sampleUs);
  return {
    afterEvent(sim: HostSimulation<Q, R, N>) {
      const id = sim.lastEventNode;
      if (id === 0) return;
      const node = sampler.sample(sim, id);
      if (node === null) return;
      const now = sim.nowUs;
      const last = sampler.previousUs;
      const term = node.hardState.term;
      let waits = leaders.get(id);
      if (waits === undefined || waits.term !== term) {
        waits = { term, waitedUs: new Map() };
        leaders.set(id, waits);
      }
      const elapsed = last === undefined ? 0 : now - last;
      const leaderUp = sim.processState(id) === 'up';
      for (const [follower, progress] of node.raft.status().progress) {
        if (progress.state !== 'snapshot') {
          waits.waitedUs.delete(follower);
          continue;
        }
        const before = waits.waitedUs.get(follower);
        const waited = before === undefined ? 0 : before + (leaderUp && sim.processState(follower) === 'up' ? elapsed : 0);
        waits.waitedUs.set(follower, waited);
        if (waited > boundUs) {
          throw new AssertionError(
            `snapshot wait: leader ${id} of term ${term} has waited in StateSnapshot for follower ${follower} (snapshot at ${progress.pendingSnapshot}) for over ${boundUs / 1000} ms while both were up: the snapshot's fate was never reported`,
          );
        }
      }
    },
  };
}
