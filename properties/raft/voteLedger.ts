import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import { durableLogOf } from './durableLog.ts';
import type { HostSimulation, RaftHost, RaftHostObserver } from './raftHost.ts';

/**
 * The vote ledger (Raft §5.2: "each server will vote for at most one candidate in a given term").
 * Every vote a node casts — a granted MsgVoteResp it sends, or a vote its durable hard state
 * records (its own, as a candidate: a vote counts once it is durable) — is written down as (voter, term) → candidate, and the ledger lives
 * for the whole run, across crashes and restarts: a node that forgets its vote on restart and
 * grants the same term to someone else is caught at that second grant, long before two leaders
 * of one term have to meet to show it. Pre-votes change nothing durable and are not votes.
 */
export function voteLedger<Q, R, N extends RaftHost<Q, R>>(): RaftHostObserver<Q, R, N> {
  type RaftSimulation = HostSimulation<Q, R, N>;
  /**
   * voter → term → candidate. Two small-integer keys: one key `voter * 2^32 + term` was a heap
   * number boxed on every lookup, and this runs after every event.
   */
  const ledger = new Map<NodeId, Map<number, NodeId>>();
  const record = (voter: NodeId, term: number, candidate: NodeId, how: string): void => {
    let votes = ledger.get(voter);
    if (votes === undefined) ledger.set(voter, (votes = new Map()));
    const known = votes.get(term);
    if (known === undefined) votes.set(term, candidate);
    else if (known !== candidate) throw new AssertionError(`vote ledger: node ${voter} voted for ${known} in term ${term}, and now for ${candidate} (${how})`);
  };
  return {
    onSend(from, to, message) {
      if (message.type === 'MsgVoteResp' && !message.reject) record(from, message.term, to, 'a granted MsgVoteResp');
    },
    afterEvent(sim: RaftSimulation) {
      const touched = sim.lastEventNode;
      if (touched === 0) return;
      // A vote in the hard state handed to the host is not cast until it is durable: a crash
      // before the sync leaves the node free to vote again in that term.
      const { term, vote } = durableLogOf(sim.disk(touched)).hardState;
      if (vote !== 0) record(touched, term, vote, 'its durable hard state');
    },
  };
}
