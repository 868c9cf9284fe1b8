import { etcdMutations } from './etcdCatalogue.ts';
import { huntMutations } from './huntCatalogue.ts';
import { watchMutations } from './watchCatalogue.ts';

/**
 * The mutation catalogue: deliberate bugs, each a one-place textual patch of the Raft core (or its
 * host), applied to a copy of the sources by `detcd-sim mutants` and by the mutation test — never
 * a flag on the production path. Each must be caught by the Raft scenario family (those of the
 * pipelined host loop by its pipelined scenarios); the runner
 * records how many seeds that took.
 */
export interface Mutation {
  readonly name: string;
  /** What the patched code does wrong, and which property should catch it. */
  readonly bug: string;
  /** The file to patch, relative to the repository root. */
  readonly file: string;
  /** Text that occurs exactly once in the file, and what replaces it. */
  readonly find: string;
  readonly replace: string;
  /**
   * Further one-place patches, for a bug that needs more than one line reverted (etcd #17780 is
   * two fixes undone in two files); the probe goes before the first patch only.
   */
  readonly also?: readonly { readonly file: string; readonly find: string; readonly replace: string }[];
  /** Scenarios swept, seed by seed, in this order, until one catches the bug. */
  readonly scenarios: readonly string[];
  /**
   * The run that caught it when the hunt last ran (`detcd-sim mutants`), and a piece of the
   * violation it reported; the mutation test replays exactly this run.
   */
  readonly caughtAt: { readonly scenario: string; readonly seed: number; readonly violation: string } | null;
  /**
   * Realistic bugs nobody planted with a particular check in mind (issue 7): the kinds real Raft
   * implementations have shipped. The hand-picked six above are not marked.
   */
  readonly realistic?: boolean;
  /**
   * How the hunt did on the code before issue 7's checks and scenarios (40 seeds of each of the
   * 12 older Raft scenarios), for the record.
   */
  readonly beforeIssue7?: string;
  /**
   * Why the mutant cannot go wrong in this implementation, when it cannot (then `caughtAt` is
   * null and the pinned test checks the reason is written down instead).
   */
  readonly equivalent?: string;
}

/** The Raft family, in the order a hunt sweeps it. */
export const raftFamily: readonly string[] = [
  'raft-leader-churn-3',
  'raft-leader-churn',
  'raft-swarm',
  'raft-crashes',
  'raft-partitions',
  'raft-no-prevote',
  'raft-membership',
  'raft-lossy',
  'raft-pauses',
  'raft-clocks',
  'raft-joint',
  'raft-single',
  // Issue 7's scenarios for the rare paths.
  'raft-stale-traffic',
  'raft-transfers',
  'raft-election-crashes',
  'raft-divergent-snapshot',
  'raft-membership-admins',
  'raft-joint-no-prevote',
  'raft-idle-partitions',
  'raft-extreme',
  // The audit of issues 7 and 8: reads that wait on lagging followers.
  'raft-slow-followers',
];

/** The scenarios of the pipelined host loop, which the runtime runs (its mutants are caught there). */
const pipelined: readonly string[] = ['raft-pipelined-crashes', 'raft-pipelined-churn', 'raft-pipelined'];

const raftMutations: readonly Mutation[] = [
  {
    name: 'vote-without-log-check',
    bug: 'grants a vote without the up-to-date log check (§5.4.1): a leader may lack committed entries',
    file: 'core/raft/election.ts',
    find: 'if (canVote && raft.log.isUpToDate(m.index, m.logTerm)) {',
    replace: 'if (canVote) {',
    scenarios: raftFamily,
    // Re-pinned in session 20 (task unstable): checkAckMatchesLeader catches it first — a follower
    // acknowledges its commit index to the elected leader that lacks the committed entry there.
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'holds there an entry of term' },
  },
  {
    name: 'commit-previous-term-by-counting',
    bug: "commits an earlier term's entry once a quorum holds it (§5.4.2, Figure 8)",
    file: 'core/raft/raftLog.ts',
    find: 'if (index > this.committed && term !== 0 && this.termOrZero(index) === term) {',
    replace: 'if (index > this.committed && term !== 0 && this.termOrZero(index) !== 0) {',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 153, violation: 'commit is not final' },
  },
  {
    name: 'vote-reply-before-persist',
    bug: 'lets term and vote changes leave unsynced, so a vote is answered before it is durable (§3.8)',
    file: 'core/raft/ready.ts',
    find: 'return entryCount !== 0 || hasSnapshot || state.vote !== previous.vote || state.term !== previous.term;',
    replace: 'return entryCount !== 0 || hasSnapshot;',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'before persisting it' },
  },
  {
    name: 'single-member-commit-before-durable',
    bug: 'a leader counts its own entries as acknowledged before they are persisted (etcd #14370)',
    file: 'core/raft/raft.ts',
    find: "this.send({ type: 'MsgAppResp', to: this.id, index: newLast });",
    replace: "this.step(makeMessage({ type: 'MsgAppResp', from: this.id, to: this.id, term: this.term, index: newLast }));",
    scenarios: ['raft-single', ...raftFamily],
    caughtAt: { scenario: 'raft-single', seed: 0, violation: 'it is not durable on a quorum' },
  },
  {
    name: 'read-index-without-heartbeat',
    bug: 'a leader answers ReadIndex at once instead of confirming its leadership with a heartbeat round',
    file: 'core/raft/stepLeader.ts',
    find: `      raft.readOnly.addRequest(raft.log.committed, m);
      // The leader acknowledges its own heartbeat round.
      raft.readOnly.recvAck(raft.id, m.context);
      bcastHeartbeat(raft, m.context);`,
    replace: '      raft.respondToReadIndex(m, raft.log.committed);',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-no-prevote', seed: 0, violation: 'stale read' },
  },
  {
    name: 'append-without-truncating-conflicts',
    bug: 'a follower keeps its conflicting entries instead of truncating them, yet acknowledges the append (§5.3)',
    file: 'core/raft/raftLog.ts',
    find: 'this.append(entries.slice(conflict - (prevIndex + 1)));',
    replace: 'if (conflict > this.lastIndex()) this.append(entries.slice(conflict - (prevIndex + 1)));',
    scenarios: raftFamily,
    // Re-pinned in issue 7: the leader bookkeeping check now catches it at its first wrong step
    // (an acknowledged match the follower's disk does not hold), before state machine safety.
    // Re-pinned in session 20 (task unstable): raftSafety's checkAckMatchesLeader catches it at the
    // acknowledgement itself (the follower holds the acked index in an older term), before that.
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'holds there an entry of term' },
  },
  // Realistic bugs (issue 7): the kinds real Raft implementations have shipped.
  {
    name: 'vote-forgotten-on-restart',
    bug: 'recovery restores the term but not the vote, so a restarted node may vote twice in one term (§5.2)',
    file: 'core/raft/raft.ts',
    find: '    this.vote = state.vote;\n',
    replace: '    this.vote = None;\n',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'recovery fidelity' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'joint-quorum-one-half',
    bug: 'in a joint configuration votes are counted in the incoming half only (§4.3: both majorities must agree)',
    file: 'core/raft/jointConfig.ts',
    find: 'const outgoing = this.outgoing.voteResult(votes);',
    replace: 'const outgoing = incoming;',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-joint-no-prevote', seed: 1, violation: 'election quorum' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'second-conf-change-in-flight',
    bug: 'a new leader forgets that its uncommitted tail may hold a conf change, and accepts a second one (§4.1)',
    file: 'core/raft/raft.ts',
    find: '    this.pendingConfIndex = this.log.lastIndex();\n',
    replace: '',
    scenarios: raftFamily,
    // Re-pinned in task raft7 (was raft-joint seed 9): removed ids are never added again, so the
    // admins run out of machines to add and change the membership less often; the hunt now takes
    // 50 seeds (1,046 runs) of the family.
    caughtAt: { scenario: 'raft-membership-admins', seed: 49, violation: 'leader bookkeeping' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'stale-append-response-counted',
    bug: 'an append acknowledgement from an earlier term is counted: the match may name entries since overwritten (§5.1)',
    file: 'core/raft/election.ts',
    find: '  if (m.term < raft.term) {\n    stepLowerTerm(raft, m);',
    replace: "  if (m.term < raft.term && m.type !== 'MsgAppResp') {\n    stepLowerTerm(raft, m);",
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-stale-traffic', seed: 9, violation: 'leader bookkeeping' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'prevote-granted-in-lease',
    bug: 'the check-quorum lease guards votes but not pre-votes: a follower that hears a healthy leader grants pre-votes to a disruptive node (thesis §4.2.3, §9.6)',
    file: 'core/raft/election.ts',
    find: "    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {\n      const force",
    replace: "    if (m.type === 'MsgVote') {\n      const force",
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-idle-partitions', seed: 0, violation: 'availability' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'ack-past-last-new',
    bug: 'a follower acknowledges its whole log instead of the last entry the append matched, so a stale tail counts as replicated (§5.3)',
    file: 'core/raft/stepFollower.ts',
    find: "    raft.send({ type: 'MsgAppResp', to: m.from, index: lastNew });",
    replace: "    raft.send({ type: 'MsgAppResp', to: m.from, index: log.lastIndex() });",
    scenarios: raftFamily,
    caughtAt: null,
    realistic: true,
    equivalent:
      "equivalent here: a follower's log past the last entry an append matched holds either that leader's own entries (acknowledging them is true) or an older term's tail, which this Raft never leaves in place while an append of the new leader matches before it: a new leader's first append carries its no-op at its last index + 1, which conflicts with any older-term entry there, and the term hint lands backtracking on the divergence point, never below it (terms never decrease along a log). 40 + 20 seeds of every scenario never met it.",
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'snapshot-inside-divergent-log',
    bug: "a follower whose log reaches past a snapshot's index takes it as covered without comparing terms, and commits its own divergent entries (§7)",
    file: 'core/raft/membership.ts',
    find: '  if (raft.log.matchTerm(index, term)) {',
    replace: '  if (raft.log.lastIndex() >= index) {',
    scenarios: raftFamily,
    // Re-pinned in session 20 (task unstable): checkAckMatchesLeader catches it at the follower's
    // acknowledgement of the snapshot it took as covered, before state machine safety.
    caughtAt: { scenario: 'raft-divergent-snapshot', seed: 0, violation: 'holds there an entry of term' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'heartbeat-commit-past-match',
    bug: "heartbeats carry the leader's whole commit index, past what the follower is known to match",
    file: 'core/raft/replication.ts',
    find: 'const commit = Math.min(progress.match, raft.log.committed);',
    replace: 'const commit = raft.log.committed;',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'is out of range' },
    realistic: true,
    beforeIssue7: 'caught at raft-leader-churn-3 seed 0',
  },
  {
    name: 'follower-commit-past-last-new',
    bug: "a follower commits up to the leader's commit index over its own unverified tail, not just to the last new entry (§5.3, Figure 2)",
    file: 'core/raft/raftLog.ts',
    find: 'this.commitTo(Math.min(commit, lastNew));',
    replace: 'this.commitTo(Math.min(commit, this.lastIndex()));',
    scenarios: raftFamily,
    caughtAt: null,
    realistic: true,
    equivalent:
      "equivalent here, for the reason given for ack-past-last-new: no append of a leader matches while an older term's tail lies beyond it, so the entries past the last new one that the follower would commit are the leader's own (and committed by it). 20 seeds of every scenario never met it.",
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'match-kept-across-terms',
    bug: "a node keeps its followers' match indexes across terms, so a returning leader trusts acknowledgements from its earlier reign (§5.3: reinitialized after election)",
    file: 'core/raft/raft.ts',
    find: 'match: id === this.id ? lastIndex : 0,',
    replace: 'match: id === this.id ? lastIndex : Math.min(old.match, lastIndex),',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-partitions', seed: 0, violation: 'leader bookkeeping' },
    realistic: true,
    beforeIssue7: 'missed in 40 seeds × 12 scenarios',
  },
  {
    name: 'torn-tail-not-repaired',
    bug: 'recovery stops at a torn WAL record but does not cut it off, so later appends land behind it and vanish on the next restart',
    file: 'core/replica/logReplica.ts',
    find: '    if (recovered.torn) this.writes.push(compactedWal(recovered.storage, recovered.hardState));\n',
    replace: '',
    scenarios: raftFamily,
    caughtAt: { scenario: 'raft-swarm', seed: 0, violation: 'before persisting it' },
    realistic: true,
    beforeIssue7: 'caught at raft-swarm seed 0',
  },
  {
    name: 'ack-before-durable',
    bug: 'on the pipelined host loop, an append acknowledgement leaves before the entries it acknowledges are durable',
    file: 'core/raft/message.ts',
    find: "return type === 'MsgAppResp' || type === 'MsgVoteResp' || type === 'MsgPreVoteResp';",
    replace: "return type === 'MsgVoteResp' || type === 'MsgPreVoteResp';",
    scenarios: pipelined,
    caughtAt: { scenario: 'raft-pipelined-crashes', seed: 0, violation: 'before it was durable' },
  },
  {
    name: 'vote-before-durable',
    bug: 'on the pipelined host loop, a vote leaves before the vote and its term are durable (§3.8)',
    file: 'core/raft/message.ts',
    find: "return type === 'MsgAppResp' || type === 'MsgVoteResp' || type === 'MsgPreVoteResp';",
    replace: "return type === 'MsgAppResp';",
    scenarios: pipelined,
    caughtAt: { scenario: 'raft-pipelined-crashes', seed: 0, violation: 'before persisting it' },
  },
  {
    name: 'host-sends-all-before-sync',
    bug: 'the pipelined host loop sends every message of a Ready before its sync, not only those that promise nothing',
    file: 'core/host/hostLoop.ts',
    find: 'if (this.sendBeforeSync) this.deliver(ready, true);',
    replace: 'if (this.sendBeforeSync) this.deliver(ready, null);',
    scenarios: pipelined,
    caughtAt: { scenario: 'raft-pipelined-crashes', seed: 0, violation: 'before persisting it' },
  },
  {
    // Stryker's survivor S5 of issue 7 (stryker-triage.md), made a catalogued mutant once a
    // property and a scenario could see it: reads waiting for their apply are dropped at every
    // tick, so a read on a follower that lags its leader's commit is never answered.
    name: 'read-awaiting-apply-forgotten',
    bug: 'reads that wait for their apply are forgotten at the next tick: a read on a lagging follower is never answered (thesis §6.4)',
    file: 'core/replica/logReplica.ts',
    find: 'this.readsAwaitingApply = this.readsAwaitingApply.filter((read) => read.waiting.sinceTick >= oldest);',
    replace: 'this.readsAwaitingApply = this.readsAwaitingApply.filter((read) => false);',
    scenarios: ['raft-slow-followers', ...raftFamily],
    caughtAt: { scenario: 'raft-slow-followers', seed: 0, violation: 'read latency' },
    realistic: true,
  },
];

/** Every catalogued mutant: the Raft core's, then the etcd server's and store's. */
export const mutations: readonly Mutation[] = [...raftMutations, ...etcdMutations, ...watchMutations, ...huntMutations];
