import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { RaftNodeView } from '../../core/replica/raftNodeView.ts';
import { quorumHolds } from './quorum.ts';
import type { HostSimulation, RaftHost, RaftHostObserver } from './raftHost.ts';

/**
 * Election quorums (Raft §5.2, joint consensus §4.3): a node that becomes leader of a term has
 * received granted votes for that term from a quorum of its configuration — a majority of the
 * voters and, in a joint configuration, a majority of the outgoing voters too — counting its own.
 * The votes are the granted MsgVoteResps the network delivered to it, counted here apart from
 * Raft's own tally, so a tally that looks at one half of a joint configuration shows at the
 * election it decides.
 */
export function electionQuorum<Q, R, N extends RaftHost<Q, R>>(): RaftHostObserver<Q, R, N> {
  type RaftSimulation = HostSimulation<Q, R, N>;
  /** candidate * 2^32 + term → the voters whose granted answers reached it. */
  const received = new Map<number, Set<NodeId>>();
  /** The term each node was last checked as leader in. */
  const checkedTerm = new Map<NodeId, number>();
  const key = (candidate: NodeId, term: number): number => candidate * 0x1_0000_0000 + term;

  /**
   * Kept apart from `afterEvent`, which runs after every event: a closure over its variables would
   * make V8 allocate their context on every call, not only when a node first leads a term.
   */
  function checkElection(touched: NodeId, replica: RaftNodeView, term: number): void {
    const voters = received.get(key(touched, term)) ?? new Set<NodeId>();
    // The configuration it campaigned in: a candidate applies no conf change (it would first
    // follow a leader), so it is the one in force now.
    const config = replica.raft.status().config;
    if (!quorumHolds(config, (id) => id === touched || voters.has(id))) {
      const describe = `voters ${JSON.stringify(config.voters)}${config.votersOutgoing.length > 0 ? ` and ${JSON.stringify(config.votersOutgoing)}` : ''}`;
      throw new AssertionError(`election quorum: node ${touched} leads term ${term} with votes from ${JSON.stringify([touched, ...[...voters].sort((a, b) => a - b)])} only, not a quorum of ${describe}`);
    }
    // Older terms of this node can no longer be won.
    for (const k of received.keys()) if (Math.floor(k / 0x1_0000_0000) === touched && k % 0x1_0000_0000 <= term) received.delete(k);
  }

  return {
    onDeliver(from, to, message) {
      if (message.type !== 'MsgVoteResp' || message.reject) return;
      const k = key(to, message.term);
      let voters = received.get(k);
      if (voters === undefined) {
        voters = new Set();
        received.set(k, voters);
      }
      voters.add(from);
    },
    afterEvent(sim: RaftSimulation) {
      const touched = sim.lastEventNode;
      if (touched === 0) return;
      const replica = sim.node(touched);
      if (replica === null || replica.softState.role !== 'leader') return;
      const term = replica.hardState.term;
      if (checkedTerm.get(touched) === term) return;
      checkedTerm.set(touched, term);
      checkElection(touched, replica, term);
    },
  };
}
