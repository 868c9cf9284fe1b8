import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import { isStorageError } from '../../core/raft/index.ts';
import type { RaftNodeView } from '../../core/replica/raftNodeView.ts';
import { durableLogOf } from './durableLog.ts';
import type { HostSimulation, RaftHost, RaftHostObserver } from './raftHost.ts';

interface LeaderScan {
  term: number;
  /** The unapplied tail was scanned up to here, with the applied index then. */
  scannedTo: number;
  appliedThen: number;
}

/**
 * The leader's bookkeeping, checked on every event that reaches a leader:
 *
 * - A recorded match never overstates what the follower acknowledged in this term, nor what it
 *   durably shares with the leader (Raft Figure 2: matchIndex is the highest entry known to be
 *   replicated, reinitialized after election, raised by successful AppendEntries answers). The
 *   follower's granted MsgAppResps of the leader's term, as delivered, bound the match; and while
 *   the follower's durable term is not past the leader's, its disk holds the leader's entry at
 *   the match index — or a snapshot that covers it. Counting a stale acknowledgement of an
 *   earlier term, acknowledging more than the append matched, or keeping matches across terms
 *   shows at once, before a commit counted on it has to be overwritten to be seen.
 * - At most one conf change is in flight (§4.1, etcd's one-pending-change rule): when a leader has
 *   appended a conf change in its own term, no earlier conf change in its log is still
 *   unapplied — it must not propose a change while another may still take effect.
 */
export function leaderBookkeeping<Q, R, N extends RaftHost<Q, R>>(): RaftHostObserver<Q, R, N> {
  type RaftSimulation = HostSimulation<Q, R, N>;
  const scans = new Map<NodeId, LeaderScan>();
  /** (term, leader, follower) → the highest index the follower acknowledged to that leader in that term. */
  const acknowledged = new Map<number, number>();
  const ackKey = (term: number, leader: NodeId, follower: NodeId): number => (term * 64 + leader) * 64 + follower;

  /**
   * The leader `checkMatch` looks at, set by `checkMatches` before it visits: the visitor is made
   * once, not as a closure per event at a leader.
   */
  let visitedSim: RaftSimulation | null = null;
  let visitedLeaderId: NodeId = 0;
  let visitedLeader: RaftNodeView | null = null;
  let visitedTerm = 0;
  const checkMatches = (sim: RaftSimulation, leaderId: NodeId, leader: RaftNodeView): void => {
    visitedSim = sim;
    visitedLeaderId = leaderId;
    visitedLeader = leader;
    visitedTerm = leader.hardState.term;
    leader.raft.visitMatches(checkMatch);
  };
  const checkMatch = (id: NodeId, match: number): void => {
    const sim = visitedSim!;
    const leaderId = visitedLeaderId;
    const leader = visitedLeader!;
    const term = visitedTerm;
    if (id === leaderId || match === 0) return;
    const acked = acknowledged.get(ackKey(term, leaderId, id)) ?? 0;
    if (match > acked) {
      throw new AssertionError(`leader bookkeeping: leader ${leaderId} of term ${term} records match ${match} for node ${id}, which acknowledged ${acked === 0 ? 'nothing' : `up to ${acked}`} in term ${term}`);
    }
    const follower = durableLogOf(sim.disk(id));
    // A follower already in a later term may have had its log rewritten by a later leader:
    // this leader's knowledge of it is stale, and it can commit nothing on it any more.
    if (follower.hardState.term > term) return;
    if (match > leader.raft.lastIndex) {
      throw new AssertionError(`leader bookkeeping: leader ${leaderId} of term ${term} records match ${match} for node ${id}, past its own last index ${leader.raft.lastIndex}`);
    }
    const leaderTerm = leader.raft.termAt(match);
    if (leaderTerm === null) return; // compacted: committed, and shared by every later log
    if (!follower.holds(match, leaderTerm)) {
      const stored = follower.storage.term(match);
      throw new AssertionError(
        `leader bookkeeping: leader ${leaderId} of term ${term} records match ${match} for node ${id}, whose disk holds ${isStorageError(stored) ? 'no entry' : `term ${stored}`} there (the leader's entry is of term ${leaderTerm})`,
      );
    }
  };

  const checkConfChangesInFlight = (leaderId: NodeId, leader: RaftNodeView): void => {
    const term = leader.hardState.term;
    const storage = leader.storage;
    const last = storage.lastIndex();
    let scan = scans.get(leaderId);
    if (scan === undefined || scan.term !== term) {
      scan = { term, scannedTo: 0, appliedThen: -1 };
      scans.set(leaderId, scan);
    }
    if (scan.scannedTo === last && scan.appliedThen === leader.appliedIndex) return;
    scan.scannedTo = last;
    scan.appliedThen = leader.appliedIndex;
    const from = Math.max(leader.appliedIndex + 1, storage.firstIndex());
    if (from > last) return;
    // Read in place, not copied: this runs after events at a leader whose log grew.
    let earlier = 0;
    for (let index = from; index <= last; index++) {
      const entry = storage.entryAt(index)!;
      if (entry.type !== 'confChange') continue;
      if (entry.term === term && earlier !== 0) {
        throw new AssertionError(
          `leader bookkeeping: leader ${leaderId} of term ${term} appended a conf change at index ${entry.index} while the one at index ${earlier} was not applied (applied to ${leader.appliedIndex})`,
        );
      }
      if (earlier === 0) earlier = entry.index;
    }
  };

  return {
    onDeliver(from, to, message) {
      if (message.type !== 'MsgAppResp' || message.reject) return;
      const key = ackKey(message.term, to, from);
      if (message.index > (acknowledged.get(key) ?? 0)) acknowledged.set(key, message.index);
    },
    afterEvent(sim: RaftSimulation) {
      const touched = sim.lastEventNode;
      if (touched === 0) return;
      const replica = sim.node(touched);
      if (replica === null || replica.softState.role !== 'leader') return;
      checkMatches(sim, touched, replica);
      checkConfChangesInFlight(touched, replica);
    },
  };
}
