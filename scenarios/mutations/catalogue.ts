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
  /** Scenarios swept, seed by seed, in this order, until one catches the bug. */
  readonly scenarios: readonly string[];
  /**
   * The run that caught it when the hunt last ran (`detcd-sim mutants`), and a piece of the
   * violation it reported; the mutation test replays exactly this run.
   */
  readonly caughtAt: { readonly scenario: string; readonly seed: number; readonly violation: string };
}

const pipelined = ['raft-pipelined-crashes', 'raft-pipelined-churn', 'raft-pipelined'];

const family = ['raft-leader-churn-3', 'raft-leader-churn', 'raft-swarm', 'raft-crashes', 'raft-partitions', 'raft-no-prevote', 'raft-membership', 'raft-lossy', 'raft-pauses', 'raft-clocks', 'raft-joint', 'raft-single'];

export const mutations: readonly Mutation[] = [
  {
    name: 'vote-without-log-check',
    bug: 'grants a vote without the up-to-date log check (§5.4.1): a leader may lack committed entries',
    file: 'core/raft/election.ts',
    find: 'if (canVote && raft.log.isUpToDate(m.index, m.logTerm)) {',
    replace: 'if (canVote) {',
    scenarios: family,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'state machine safety' },
  },
  {
    name: 'commit-previous-term-by-counting',
    bug: "commits an earlier term's entry once a quorum holds it (§5.4.2, Figure 8)",
    file: 'core/raft/raftLog.ts',
    find: 'if (index > this.committed && term !== 0 && this.termOrZero(index) === term) {',
    replace: 'if (index > this.committed && term !== 0 && this.termOrZero(index) !== 0) {',
    scenarios: family,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 153, violation: 'commit is not final' },
  },
  {
    name: 'vote-reply-before-persist',
    bug: 'lets term and vote changes leave unsynced, so a vote is answered before it is durable (§3.8)',
    file: 'core/raft/ready.ts',
    find: 'return entryCount !== 0 || hasSnapshot || state.vote !== previous.vote || state.term !== previous.term;',
    replace: 'return entryCount !== 0 || hasSnapshot;',
    scenarios: family,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'before persisting it' },
  },
  {
    name: 'single-member-commit-before-durable',
    bug: 'a leader counts its own entries as acknowledged before they are persisted (etcd #14370)',
    file: 'core/raft/raft.ts',
    find: "this.send({ type: 'MsgAppResp', to: this.id, index: newLast });",
    replace: "this.step(makeMessage({ type: 'MsgAppResp', from: this.id, to: this.id, term: this.term, index: newLast }));",
    scenarios: ['raft-single', ...family],
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
    scenarios: family,
    caughtAt: { scenario: 'raft-no-prevote', seed: 0, violation: 'stale read' },
  },
  {
    name: 'append-without-truncating-conflicts',
    bug: 'a follower keeps its conflicting entries instead of truncating them, yet acknowledges the append (§5.3)',
    file: 'core/raft/raftLog.ts',
    find: 'this.append(entries.slice(conflict - (prevIndex + 1)));',
    replace: 'if (conflict > this.lastIndex()) this.append(entries.slice(conflict - (prevIndex + 1)));',
    scenarios: family,
    caughtAt: { scenario: 'raft-leader-churn-3', seed: 0, violation: 'state machine safety' },
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
];
