import { AssertionError } from '../../core/base/assert.ts';
import { finalize32, mix32 } from '../../core/base/hash.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { RaftHost } from './raftHost.ts';
import { digestEntry, isStorageError, type Entry, type Message } from '../../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import type { RaftNodeView } from '../../core/replica/raftNodeView.ts';
import type { Simulation } from '../../sim/simulation.ts';
import type { SimObserver } from '../../sim/observer.ts';
import { type DurableLog, durableLogOf } from './durableLog.ts';
import { quorumHolds } from './quorum.ts';

export type { RaftHost } from './raftHost.ts';
export type RaftSimulation = Simulation<Message, LogRequest, LogReply, LogReplica>;

export interface RaftSafetyOptions {
  /** The log-wide checks (log matching over whole logs, leader completeness) run every this many events. */
  readonly wholeLogEveryEvents: number;
}

export const defaultRaftSafetyOptions: RaftSafetyOptions = { wholeLogEveryEvents: 64 };

/** What the checks cost, for the run header. */
export function describeRaftSafety(options: RaftSafetyOptions): string {
  return (
    'checks: one leader per term (every send and every event); votes and acknowledgements durable before they leave (every send); log matching on every MsgApp and over whole logs ' +
    `every ${options.wholeLogEveryEvents} events; leader completeness every ${options.wholeLogEveryEvents} events; ` +
    'state machine safety, committed-means-durable-on-a-quorum, commits are final, term and commit never back (every event)'
  );
}

/** Entries are immutable and shared (a follower stores the objects the leader sent): fingerprint each once. */
const fingerprints = new WeakMap<Entry, number>();

/** An entry's identity including its payload, so two different entries at one place never match. */
export function entryFingerprint(entry: Entry): number {
  const known = fingerprints.get(entry);
  if (known !== undefined) return known;
  let h = digestEntry(entry);
  if (entry.type === 'normal') for (let i = 0; i < entry.data.byteLength; i++) h = mix32(h, entry.data[i]!);
  const fingerprint = finalize32(h);
  fingerprints.set(entry, fingerprint);
  return fingerprint;
}

/**
 * An entry seen at one index: its term, fingerprint and preceding term, and the entry of another
 * term seen there before (a diverged log's; rarely more than a few). Keyed by index alone: a key
 * made of index and term outgrows V8's small integers and was boxed on every lookup, on every
 * entry of every MsgApp sent.
 */
interface SeenEntry {
  readonly term: number;
  readonly fingerprint: number;
  readonly previousTerm: number;
  readonly otherTerm: SeenEntry | undefined;
}

interface NodeWatch {
  incarnation: number;
  /** The last entry whose place in this node's log was checked; the log before it is unchanged while it is still there. */
  verified: Entry | null;
  term: number;
  commit: number;
  checkedApplied: number;
  checkedCommit: number;
  durableTerm: number;
  durableCommit: number;
}

/**
 * Raft's safety properties (Raft §5.2–5.4, Figure 3) checked on a simulated cluster of Raft hosts
 * (LogReplicas, etcd members: anything that shows a RaftNodeView):
 *
 * - Election safety: at most one leader per term, seen both from node state and from who sends
 *   leader-only messages (MsgApp, MsgHeartbeat, MsgSnap) in each term.
 * - Log matching: two entries with the same index and term are the same entry, and are preceded by
 *   the same entry. Checked on every MsgApp and over every node's whole stored log.
 * - Leader completeness: a leader's log holds every entry committed before it.
 * - State machine safety: no two nodes apply different entries at one index (the replicas' state
 *   digests agree index by index, through snapshots too).
 * - A commit is final: when it happens, no node lacking the entry could win an election.
 * - Committed means durable: when a node reports index i committed, the entry at i is on the disks
 *   of a quorum, synced. This is "nothing committed is ever lost" before any crash has to prove it,
 *   and it is what etcd #14370 broke (a single member applying entries before they were durable).
 * - A node's term and commit never go back while it runs, and its durable ones never go back.
 * - Promises are durable: a granted vote or an append acknowledgement leaves only after the vote
 *   or the acknowledged entries are synced.
 */
export function raftSafety<Q, R, N extends RaftHost<Q, R>>(options: RaftSafetyOptions = defaultRaftSafetyOptions): SimObserver<Message, Q, R, N> {
  type HostSimulation = Simulation<Message, Q, R, N>;
  const leaderOfTerm = new Map<number, NodeId>();
  /** index → the entries seen there (one per term), for log matching. */
  const entryAt = new Map<number, SeenEntry>();
  /**
   * index → the term of the entry committed there, and the term of the node that first reported
   * it committed. That node's term is at least the term in which the entry was committed (it took
   * the commit from that term's leader or a later one), so a leader of a higher term must hold it.
   */
  const committedAt = new Map<number, { term: number; reportedInTerm: number }>();
  let maxCommitted = 0;
  /** index → the applied state digest every replica must reach there. */
  const appliedDigest = new Map<number, number>();
  const watches = new Map<NodeId, NodeWatch>();
  let events = 0;

  const fail = (message: string): never => {
    throw new AssertionError(message);
  };

  const claimLeadership = (term: number, node: NodeId, how: string): void => {
    const leader = leaderOfTerm.get(term);
    if (leader === undefined) leaderOfTerm.set(term, node);
    else if (leader !== node) fail(`election safety: nodes ${leader} and ${node} both lead term ${term} (${how})`);
  };

  /**
   * Log matching for one entry, seen in `node`'s log (`inTerm` 0) or in a MsgApp it sent in
   * `inTerm`. The place is named only when the check fails: a text built per entry of every
   * MsgApp was most of this checker's garbage.
   */
  const recordEntry = (entry: Entry, previousTerm: number, node: NodeId, inTerm: number): void => {
    const fingerprint = entryFingerprint(entry);
    const atIndex = entryAt.get(entry.index);
    let known = atIndex;
    while (known !== undefined && known.term !== entry.term) known = known.otherTerm;
    if (known === undefined) entryAt.set(entry.index, { term: entry.term, fingerprint, previousTerm, otherTerm: atIndex });
    else if (known.fingerprint !== fingerprint || (previousTerm >= 0 && known.previousTerm >= 0 && known.previousTerm !== previousTerm)) {
      fail(`log matching: two different entries at index ${entry.index} term ${entry.term} (${inTerm === 0 ? `node ${node}'s log` : `MsgApp from ${node} in term ${inTerm}`})`);
    }
  };

  const durableLog = (sim: HostSimulation, id: NodeId): DurableLog => durableLogOf(sim.disk(id));

  const watchOf = (sim: HostSimulation, id: NodeId, replica: RaftNodeView): NodeWatch => {
    const incarnation = sim.incarnation(id);
    let watch = watches.get(id);
    if (watch === undefined) {
      watch = { incarnation, verified: null, term: 0, commit: 0, checkedApplied: 0, checkedCommit: 0, durableTerm: 0, durableCommit: 0 };
      watches.set(id, watch);
    }
    if (watch.incarnation !== incarnation) {
      // A new process: its volatile state starts again from the disk.
      watch.incarnation = incarnation;
      watch.term = replica.hardState.term;
      watch.commit = replica.hardState.commit;
      watch.checkedApplied = 0;
      watch.checkedCommit = 0;
      watch.verified = null;
    }
    return watch;
  };

  const checkNode = (sim: HostSimulation, id: NodeId, replica: RaftNodeView): void => {
    const watch = watchOf(sim, id, replica);
    const { term, commit } = replica.hardState;
    if (term < watch.term) fail(`term monotonicity: node ${id}'s term went back from ${watch.term} to ${term}`);
    if (commit < watch.commit) fail(`commit monotonicity: node ${id}'s commit index went back from ${watch.commit} to ${commit}`);
    watch.term = term;
    if (replica.softState.role === 'leader') claimLeadership(term, id, 'role');

    // State machine safety.
    for (let index = watch.checkedApplied + 1; index <= replica.appliedIndex; index++) {
      const digest = replica.stateDigests.get(index);
      if (digest === undefined) continue; // covered by a snapshot this replica installed
      const expected = appliedDigest.get(index);
      if (expected === undefined) appliedDigest.set(index, digest);
      else if (expected !== digest) fail(`state machine safety: node ${id} applied a different state at index ${index}`);
    }
    watch.checkedApplied = replica.appliedIndex;

    // Committed means durable on a quorum of the configuration the leader counted in. (A follower
    // learns the commit index from the leader and may still be in an older configuration.)
    if (commit > watch.commit && replica.softState.role === 'leader') checkLeaderCommit(sim, id, replica, commit);
    watch.commit = commit;

    // Durable term and commit never go back.
    const log = durableLog(sim, id);
    if (log.hardState.term < watch.durableTerm) fail(`durable term monotonicity: node ${id}'s durable term went back from ${watch.durableTerm} to ${log.hardState.term}`);
    if (log.hardState.commit < watch.durableCommit) fail(`durable commit monotonicity: node ${id}'s durable commit went back from ${watch.durableCommit} to ${log.hardState.commit}`);
    watch.durableTerm = log.hardState.term;
    watch.durableCommit = log.hardState.commit;
  };

  /**
   * A leader's new commit index is durable on a quorum and final. Apart from `checkNode`, which
   * runs after every event: a closure over its variables would make V8 allocate their context on
   * every call, not only when a leader commits.
   */
  const checkLeaderCommit = (sim: HostSimulation, id: NodeId, replica: RaftNodeView, commit: number): void => {
    const commitTerm = replica.storage.term(commit);
    if (isStorageError(commitTerm)) return;
    const config = replica.commitCountedIn;
    if (!quorumHolds(config, (voter) => durableLog(sim, voter).holds(commit, commitTerm))) {
      fail(`commit durability: node ${id} reports index ${commit} (term ${commitTerm}) committed, but it is not durable on a quorum of ${JSON.stringify(config.voters)}`);
    }
    checkCommitIsFinal(sim, id, commit, commitTerm, config);
  };

  /**
   * A committed entry is final: no node whose log lacks it could win an election, that is, be at
   * least as up to date (§5.4.1) as a quorum of the voters' durable logs. Raft's commit rule makes
   * this hold the moment an entry commits (the quorum holding it is more up to date than any log
   * without it); committing an earlier term's entry by counting (Figure 8) breaks it at once,
   * while the overwrite it allows may take many more faults to happen. Every state of a node's
   * log counts: what it has handed out, and what is durable.
   */
  const checkCommitIsFinal = (sim: HostSimulation, leader: NodeId, index: number, term: number, config: RaftNodeView['confState']): void => {
    const voterLasts = new Map<NodeId, { index: number; term: number }>();
    for (const voter of config.voters) voterLasts.set(voter, lastOf(durableLog(sim, voter).storage));
    for (const voter of config.votersOutgoing) voterLasts.set(voter, lastOf(durableLog(sim, voter).storage));
    for (const candidate of sim.members) {
      checkCannotWin(durableLog(sim, candidate).storage, candidate, leader, index, term, config, voterLasts);
      const running = sim.node(candidate);
      if (running !== null) checkCannotWin(running.storage, candidate, leader, index, term, config, voterLasts);
    }
  };

  /** One state of a candidate's log (durable, or handed out) lacking a committed entry must not be electable. */
  const checkCannotWin = (view: LogView, candidate: NodeId, leader: NodeId, index: number, term: number, config: RaftNodeView['confState'], voterLasts: ReadonlyMap<NodeId, { index: number; term: number }>): void => {
    if (!lacks(view, index, term)) return;
    const last = lastOf(view);
    if (quorumHolds(config, (voter) => isUpToDate(last, voterLasts.get(voter)!))) {
      fail(`commit is not final: node ${leader} committed index ${index} (term ${term}), but node ${candidate}, whose log lacks it (last entry ${last.index}/${last.term}), is as up to date as a quorum of ${JSON.stringify(config.voters)} and could be elected`);
    }
  };

  /** Log matching over the whole stored log, the committed prefix, and leader completeness. */
  const checkWholeLogs = (sim: HostSimulation): void => {
    const leaders: { id: NodeId; replica: RaftNodeView }[] = [];
    for (const id of sim.members) {
      const replica = sim.node(id);
      if (replica === null) continue;
      const storage = replica.storage;
      const watch = watchOf(sim, id, replica);
      const last = storage.lastIndex();
      // Entries are replaced only by truncation, which replaces the verified one too: while it is
      // still in place, only what follows it is new.
      // Read in place (`entryAt`), not copied: this runs every few dozen events on every node.
      const first = storage.firstIndex();
      let from = first;
      if (watch.verified !== null && storage.entryAt(watch.verified.index) === watch.verified) from = watch.verified.index + 1;
      if (last >= from) {
        const before = storage.term(from - 1);
        let previousTerm = isStorageError(before) ? -1 : before;
        for (let index = from; index <= last; index++) {
          const entry = storage.entryAt(index)!;
          recordEntry(entry, previousTerm, id, 0);
          previousTerm = entry.term;
        }
        watch.verified = storage.entryAt(last);
      }
      for (let index = Math.max(watch.checkedCommit + 1, first); index <= Math.min(replica.hardState.commit, last); index++) {
        const term = storage.term(index) as number;
        const known = committedAt.get(index);
        if (known === undefined) committedAt.set(index, { term, reportedInTerm: replica.hardState.term });
        else if (known.term !== term) fail(`two different entries committed at index ${index}: terms ${known.term} and ${term} (node ${id})`);
        if (index > maxCommitted) maxCommitted = index;
      }
      watch.checkedCommit = Math.max(watch.checkedCommit, Math.min(replica.hardState.commit, last));
      if (replica.softState.role === 'leader') leaders.push({ id, replica });
    }
    for (const { id, replica } of leaders) {
      const storage = replica.storage;
      const leaderTerm = replica.hardState.term;
      for (let index = storage.firstIndex(); index <= maxCommitted; index++) {
        const committed = committedAt.get(index);
        if (committed === undefined || committed.reportedInTerm >= leaderTerm) continue;
        const term = storage.term(index);
        if (isStorageError(term) || term !== committed.term) {
          fail(`leader completeness: leader ${id} of term ${leaderTerm} lacks the entry committed at index ${index} (term ${committed.term}) before its term`);
        }
      }
    }
  };

  /**
   * An acknowledgement is of the leader's entry: within one term a follower holds at the index it
   * acknowledges the entry its leader holds there (it took it from that leader, and no one else
   * writes its log in that term). The unstable → stable handoff can break it unseen by the other
   * checks: a follower that marks stable a replacement its host never wrote (stableTo by index
   * alone; a cut in-flight tail whose replacement is never handed out) holds, in its storage and on
   * its disk alike, the entry of the older term, and acknowledges the newer one. Judged while both
   * are in the message's term (the follower as last handed out, the leader still leading it).
   */
  const checkAckMatchesLeader = (sim: HostSimulation, from: NodeId, message: Message, term: number): void => {
    const follower = sim.node(from);
    const leader = sim.node(message.to);
    if (follower === null || leader === null || follower.hardState.term !== message.term) return;
    // The leader as it is now: its last Ready's soft and hard state lag while that Ready waits for a
    // stalled sync, and by then it may follow a later leader whose entries its log holds (a false
    // catch in raft-disk-stalls-one-way seeds 2 and 5 before this).
    if (leader.raft.currentRole !== 'leader' || leader.raft.currentTerm !== message.term) return;
    const leaderTerm = leader.raft.termAt(message.index);
    if (leaderTerm !== null && leaderTerm !== term) {
      fail(`ack matches leader: node ${from} acknowledged index ${message.index} to leader ${message.to} of term ${message.term}, but holds there an entry of term ${term} where the leader's is of term ${leaderTerm}`);
    }
  };

  /**
   * A message leaves only once what it promises is durable (Raft §3.8; the host loop's persist →
   * send): a granted vote promises the voter's term and vote, an append acknowledgement promises
   * the entries up to its index.
   */
  const checkPromise = (sim: HostSimulation, from: NodeId, message: Message): void => {
    if (message.reject) return;
    if (message.type === 'MsgVoteResp') {
      // Kept by a durable vote for this candidate in that term, or by a durable later term (in
      // which the voter can no longer vote in the earlier one). A node stepping several votes
      // between two Readies answers an earlier term while its hard state is already past it.
      const durable = durableLog(sim, from).hardState;
      if (durable.term < message.term || (durable.term === message.term && durable.vote !== message.to)) {
        fail(`vote durability: node ${from} granted its vote in term ${message.term} to ${message.to} before persisting it (durable: term ${durable.term}, vote ${durable.vote})`);
      }
    } else if (message.type === 'MsgAppResp') {
      const replica = sim.node(from);
      const term = replica?.storage.term(message.index);
      if (term === undefined || isStorageError(term) || message.index === 0) return;
      if (!durableLog(sim, from).holds(message.index, term)) fail(`ack durability: node ${from} acknowledged index ${message.index} (term ${term}) to ${message.to} before it was durable`);
      checkAckMatchesLeader(sim, from, message, term);
    }
  };

  return {
    onSend(from, _to, message, sim) {
      checkPromise(sim, from, message);
      if (message.type === 'MsgApp' || message.type === 'MsgHeartbeat' || message.type === 'MsgSnap') claimLeadership(message.term, from, message.type);
      if (message.type === 'MsgApp') {
        let previousTerm = message.logTerm;
        for (const entry of message.entries) {
          recordEntry(entry, previousTerm, from, message.term);
          previousTerm = entry.term;
        }
      }
    },
    afterEvent(sim) {
      events++;
      // Only the node the event reached changed; a fault may have changed any.
      const touched = sim.lastEventNode;
      if (touched !== 0) {
        const replica = sim.node(touched);
        if (replica !== null) checkNode(sim, touched, replica);
      } else {
        for (const id of sim.members) {
          const replica = sim.node(id);
          if (replica !== null) checkNode(sim, id, replica);
        }
      }
      if (events % options.wholeLogEveryEvents === 0) checkWholeLogs(sim);
    },
    finish(sim) {
      checkWholeLogs(sim);
    },
  };
}

type LogView = DurableLog['storage'];

function lastOf(storage: LogView): { index: number; term: number } {
  const index = storage.lastIndex();
  const term = storage.term(index);
  return { index, term: isStorageError(term) ? 0 : term };
}

/** Whether the log lacks entry (index, term): a snapshot at or past the index covers it. */
function lacks(storage: LogView, index: number, term: number): boolean {
  if (index <= storage.snapshot().metadata.index) return false;
  return storage.term(index) !== term;
}

/** Raft §5.4.1: a log is at least as up to date as another if its last term is higher, or equal with an index as long. */
function isUpToDate(candidate: { index: number; term: number }, voter: { index: number; term: number }): boolean {
  return candidate.term > voter.term || (candidate.term === voter.term && candidate.index >= voter.index);
}
