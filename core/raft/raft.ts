import { AssertionError, assert } from '../base/assert.ts';
import type { Random } from '../base/random.ts';
import type { ValidConfig } from './config.ts';
import { restoreConfState } from './confChanger.ts';
import { hup, stepTerm, stepVoteRequest } from './election.ts';
import { confChangeEntry, type Entry, leaveJointChange, normalEntry, payloadsSize, placeEntry } from './entry.ts';
import { Inflights } from './inflights.ts';
import type { RaftLogger } from './logger.ts';
import { assertConfStatesEquivalent, switchToConfig } from './membership.ts';
import { makeMessage, type Message, type MessageInit } from './message.ts';
import { Progress } from './progress.ts';
import { type ProgressMap, ProgressTracker } from './progressTracker.ts';
import { RaftLog } from './raftLog.ts';
import { ReadOnly } from './readOnly.ts';
import {
  type HardState,
  isEmptyConfState,
  isEmptyHardState,
  None,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateRole,
} from './state.ts';
import { stepCandidate } from './stepCandidate.ts';
import { stepFollower } from './stepFollower.ts';
import { stepLeader, tickHeartbeat } from './stepLeader.ts';

/**
 * What stepping a message or a request did. Proposals may be dropped (no leader, a transfer in
 * progress, size limits); an answer from a peer outside the configuration is refused.
 */
export type StepResult = 'ok' | 'proposal-dropped' | 'peer-not-found';

/** How an election starts: pre-vote first, a real election, or one forced by a leadership transfer. */
export type CampaignType = 'pre-election' | 'election' | 'transfer';

/**
 * The Raft state machine (etcd-io/raft's `raft`): one node's term, vote, log and role, stepped by
 * messages and ticks. It never performs I/O; what must be persisted and sent accumulates here and
 * leaves through RawNode's Ready. Elections live in election.ts, membership in membership.ts,
 * role-specific handling in stepLeader.ts, stepCandidate.ts and stepFollower.ts, and replication
 * to followers in replication.ts.
 *
 * The fields are public for those files and for tests; applications use RawNode.
 */
/** What `coalesceAppends` keeps of the MsgApp it folded last for one follower (see `Raft.appendFolds`). */
interface AppendFold {
  message: Message;
  entries: Entry[];
  bytes: number;
  /** Whether `entries` is this record's own array (made by a fold), which a later fold may extend. */
  owned: boolean;
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = None;
  readStates: ReadState[] = [];
  readonly log: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly tracker: ProgressTracker;
  role: StateRole = 'follower';
  /** This node is a learner in the active configuration. */
  isLearner = false;
  /** Messages that may leave as soon as the Ready is handled. */
  messages: Message[] = [];
  /**
   * Messages that promise durability (acks of appended entries, votes): they leave only after
   * the state they answer for is persisted. Those addressed to this node itself (the leader's
   * self-ack, the candidate's own vote) are stepped back in on advance.
   */
  messagesAfterAppend: Message[] = [];
  lead: NodeId = None;
  /** The target of a leadership transfer in progress (thesis §3.10), or None. */
  leadTransferee: NodeId = None;
  /**
   * At most one conf change may be pending (appended, not yet applied): proposals of another are
   * refused while the applied index is below this.
   */
  pendingConfIndex = 0;
  /** The payload of uncommitted entries in the leader's log (an estimate that never overshoots). */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Ticks since the last election timeout (leader, candidate) or since the leader was last heard (follower). */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Drawn in [electionTimeout, 2 * electionTimeout - 1] at every reset, from this node's stream. */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly disableConfChangeValidation: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly coalesceAppends: boolean;
  readonly snapshotStatusReported: boolean;
  /**
   * Per follower, the MsgApp that `coalesceAppends` folded last, while it is still queued: its
   * entries (an array of its own, extended in place at the next fold instead of copied) and their
   * payload bytes (not recounted at each fold). A record whose message has left the queue (taken
   * by a Ready) is found stale by identity and ignored. Was a WeakMap keyed by message: each fold
   * put a young key in an ephemeron table and copied the whole run of entries.
   */
  private readonly appendFolds = new Map<NodeId, AppendFold>();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  readonly logger: RaftLogger | null;
  private readonly random: Random;

  constructor(config: ValidConfig) {
    this.id = config.id;
    this.random = config.random;
    this.logger = config.logger;
    this.log = new RaftLog(config.storage, config.maxCommittedSizePerReady, config.logger);
    this.maxMsgSize = config.maxSizePerMsg;
    this.maxUncommittedSize = config.maxUncommittedEntriesSize;
    this.tracker = new ProgressTracker(config.maxInflightMsgs, config.maxInflightBytes);
    this.electionTimeout = config.electionTicks;
    this.heartbeatTimeout = config.heartbeatTicks;
    this.checkQuorum = config.checkQuorum;
    this.preVote = config.preVote;
    this.readOnly = new ReadOnly(config.readOnlyOption);
    this.disableProposalForwarding = config.disableProposalForwarding;
    this.coalesceAppends = config.coalesceAppends;
    this.snapshotStatusReported = config.snapshotStatusReported;
    this.disableConfChangeValidation = config.disableConfChangeValidation;
    this.stepDownOnRemoval = config.stepDownOnRemoval;

    const initial = config.storage.initialState();
    let confState = initial.confState;
    if (isEmptyConfState(confState) && (config.voters.length > 0 || config.learners.length > 0)) {
      const ascending = (ids: readonly NodeId[]): NodeId[] => [...ids].sort((a, b) => a - b);
      confState = { voters: ascending(config.voters), learners: ascending(config.learners), votersOutgoing: [], learnersNext: [], autoLeave: false };
    }
    const restored = restoreConfState(this.tracker, this.log.lastIndex(), confState);
    assert(restored.ok, () => `unable to restore config ${JSON.stringify(confState)}: ${restored.ok ? '' : restored.error}`);
    assertConfStatesEquivalent(confState, switchToConfig(this, restored.config, restored.progress));

    if (!isEmptyHardState(initial.hardState)) this.loadState(initial.hardState);
    if (config.applied > 0) this.log.appliedTo(config.applied, 0);
    this.becomeFollower(this.term, None);
    this.logger?.info(
      `newRaft ${this.id} [peers: [${this.tracker.voterIds().join(',')}], term: ${this.term}, commit: ${this.log.committed}, applied: ${this.log.applied}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}]`,
    );
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /**
   * Queues a message, stamping sender and term. Acknowledgements and votes wait for the next
   * persist (Raft §3.8: persist term, vote and entries before answering); everything else may
   * leave with the next Ready.
   */
  send(init: MessageInit): void {
    // Every message passes here: the checks are written out rather than given closures to build.
    const type = init.type;
    const isVoteish = type === 'MsgVote' || type === 'MsgVoteResp' || type === 'MsgPreVote' || type === 'MsgPreVoteResp';
    let term: number;
    if (isVoteish) {
      // The term of a (pre-)vote is the term campaigned for; of an answer, the term asked about.
      if (init.term === undefined || init.term === 0) throw new AssertionError(`term should be set when sending ${type}`);
      term = init.term;
    } else {
      if (init.term !== undefined && init.term !== 0) throw new AssertionError(`term should not be set when sending ${type} (was ${init.term})`);
      // Proposals and read requests are forwarded like local requests: no term.
      term = type === 'MsgProp' || type === 'MsgReadIndex' ? 0 : this.term;
    }
    const message = makeMessage(init, init.from === undefined || init.from === None ? this.id : init.from, term);
    if (type === 'MsgApp' && this.coalesceAppends && this.foldIntoQueuedAppend(message)) return;
    if (type === 'MsgAppResp' || type === 'MsgVoteResp' || type === 'MsgPreVoteResp') {
      this.messagesAfterAppend.push(message);
    } else {
      if (message.to === this.id) throw new AssertionError(`message should not be self-addressed when sending ${type}`);
      this.messages.push(message);
    }
  }

  /**
   * Folds `append` into the MsgApp queued last for the same follower when it continues it: the
   * same term, anchored at that message's last entry, and both payloads within `maxMsgSize`. The
   * follower then gets one message with both runs of entries and the newer commit index, which
   * it handles as the two in order (each extends the log the other ends), and answers once: the
   * ack of the last index frees both inflight slots. Only the last message to that follower is
   * looked at, so its messages keep their order. False: nothing to fold into (send it).
   */
  private foldIntoQueuedAppend(append: Message): boolean {
    const messages = this.messages;
    for (let i = messages.length - 1; i >= 0; i--) {
      const queued = messages[i]!;
      if (queued.to !== append.to) continue;
      if (queued.type !== 'MsgApp' || queued.term !== append.term) return false;
      const count = queued.entries.length;
      const lastTerm = count === 0 ? queued.logTerm : queued.entries[count - 1]!.term;
      if (append.index !== queued.index + count || append.logTerm !== lastTerm) return false;
      const previous = this.appendFolds.get(append.to);
      const fold = previous !== undefined && previous.message === queued ? previous : undefined;
      let bytes = fold?.bytes ?? payloadsSize(queued.entries);
      let entries = queued.entries;
      let owned = fold?.owned ?? false;
      if (append.entries.length > 0) {
        const added = payloadsSize(append.entries);
        if (count > 0 && bytes + added > this.maxMsgSize) return false;
        bytes += added;
        // The queued message is not out of this node yet, so the array it got from an earlier
        // fold is extended in place; any other (a slice of the log's) is copied first.
        const extended = fold !== undefined && fold.owned ? fold.entries : queued.entries.slice();
        for (let e = 0; e < append.entries.length; e++) extended.push(append.entries[e]!);
        entries = extended;
        owned = true;
      }
      const folded: Message = { ...queued, entries, commit: Math.max(queued.commit, append.commit) };
      if (fold === undefined) this.appendFolds.set(append.to, { message: folded, entries: entries as Entry[], bytes, owned });
      else {
        fold.message = folded;
        fold.entries = entries as Entry[];
        fold.bytes = bytes;
        fold.owned = owned;
      }
      messages[i] = folded;
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Roles

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
    this.logger?.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.logger?.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** Pre-candidates keep their term and vote: a pre-vote changes nothing durable (thesis §9.6). */
  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'invalid transition [leader -> pre-candidate]');
    this.tracker.resetVotes();
    this.lead = None;
    this.role = 'pre-candidate';
    this.logger?.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.role !== 'follower', 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    // The leader trivially replicates to itself; reset() set its match to the last index.
    const self = this.tracker.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Some entry in the uncommitted tail may be a conf change: refuse new ones until it all applies.
    this.pendingConfIndex = this.log.lastIndex();
    // An entry of the new term: committing it commits everything before (§5.4.2), and it lets
    // ReadIndex proceed (§6.4). An empty payload is never refused for size.
    const accepted = this.appendEntries([normalEntry(new Uint8Array(0))]);
    assert(accepted, 'empty entry was dropped');
    this.logger?.info(`${this.id} became leader at term ${this.term}`);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    const progress: ProgressMap = new Map();
    this.tracker.visit((id, old) => {
      progress.set(
        id,
        new Progress({
          match: id === this.id ? lastIndex : 0,
          next: lastIndex + 1,
          inflights: new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes),
          isLearner: old.isLearner,
        }),
      );
    });
    this.tracker.switchTo(this.tracker.config, progress);
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.random.below(this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  /** Can become leader: a voter in the configuration, with no snapshot pending. */
  promotable(): boolean {
    const self = this.tracker.get(this.id);
    return self !== undefined && !self.isLearner && this.log.unstable.snapshot === null;
  }

  // ---------------------------------------------------------------------------------------------
  // Time

  tick(): void {
    if (this.role === 'leader') tickHeartbeat(this);
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      hup(this, this.preVote ? 'pre-election' : 'election');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Stepping

  /** Steps one message: first what its term implies, then (pre-)votes, then the role's handler. */
  step(m: Message): StepResult {
    if (!stepTerm(this, m)) return 'ok';
    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
      stepVoteRequest(this, m);
      return 'ok';
    }
    switch (this.role) {
      case 'leader':
        return stepLeader(this, m);
      case 'candidate':
      case 'pre-candidate':
        return stepCandidate(this, m);
      case 'follower':
        return stepFollower(this, m);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Log

  /**
   * Appends proposed entries at the leader's term. The leader acknowledges them to itself only once
   * they are durable (etcd #14370): the self-ack is stepped back in on advance, after the host
   * persisted them. False if the uncommitted-size limit refuses them.
   */
  appendEntries(proposed: readonly Entry[]): boolean {
    const lastIndex = this.log.lastIndex();
    const entries = proposed.map((entry, i) => placeEntry(entry, this.term, lastIndex + 1 + i));
    if (!this.increaseUncommittedSize(entries)) {
      this.logger?.warn(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    const newLast = this.log.append(entries);
    this.send({ type: 'MsgAppResp', to: this.id, index: newLast });
    return true;
  }

  private increaseUncommittedSize(entries: readonly Entry[]): boolean {
    const size = payloadsSize(entries);
    // An empty uncommitted tail accepts any proposal, and an empty payload is always accepted.
    if (this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.maxUncommittedSize) return false;
    this.uncommittedSize += size;
    return true;
  }

  reduceUncommittedSize(size: number): void {
    this.uncommittedSize = Math.max(0, this.uncommittedSize - size);
  }

  /** Advances the commit index to what a quorum acknowledged, if that entry is of this term. */
  maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  /**
   * The host persisted everything handed out up to the Ready accepted at `term`, ending with the
   * entry (index, logTerm) and perhaps a snapshot. If the term moved on meanwhile, the entries
   * may have been replaced since and are not marked stable (etcd's ABA guard); the snapshot still
   * counts.
   */
  onPersisted(term: number, index: number, logTerm: number, snapshot: Snapshot | null): void {
    if (index !== 0) {
      if (term < this.term) {
        this.logger?.info(`${this.id} [term: ${this.term}] ignored entry appends from a storage ack with lower term [term: ${term}]`);
      } else {
        this.log.unstable.stableTo(index, logTerm);
      }
    }
    if (snapshot !== null) this.appliedSnapshot(snapshot);
  }

  /** The application applied `entries` (the committed entries of the Ready). */
  onApplied(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const size = payloadsSize(entries);
    this.appliedTo(entries[entries.length - 1]!.index, size);
    this.reduceUncommittedSize(size);
  }

  private appliedTo(index: number, size: number): void {
    const applied = Math.max(index, this.log.applied);
    this.log.appliedTo(applied, size);
    if (this.tracker.config.autoLeave && applied >= this.pendingConfIndex && this.role === 'leader') {
      // The joint configuration was entered with auto-leave and is now applied: propose leaving
      // it. Dropped while a transfer is in progress; then the next advance tries again.
      const result = this.step(makeMessage({ type: 'MsgProp', from: this.id, to: this.id, entries: [confChangeEntry(leaveJointChange)] }));
      if (result === 'ok') this.logger?.info(`initiating automatic transition out of joint configuration ${this.tracker.config.describe()}`);
      else this.logger?.debug(`not initiating automatic transition out of joint configuration ${this.tracker.config.describe()}: ${result}`);
    }
  }

  private appliedSnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    this.log.unstable.stableSnapshotTo(index);
    this.appliedTo(index, 0);
  }

  private loadState(state: HardState): void {
    assert(
      state.commit >= this.log.committed && state.commit <= this.log.lastIndex(),
      () => `${this.id} state.commit ${state.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = state.commit;
    this.term = state.term;
    this.vote = state.vote;
  }

  /** The read state for a confirmed ReadIndex request: local ones become a ReadState, forwarded ones an answer. */
  respondToReadIndex(request: Message, readIndex: number): void {
    if (request.from === None || request.from === this.id) {
      this.readStates.push({ index: readIndex, requestContext: request.context });
      return;
    }
    this.send({ type: 'MsgReadIndexResp', to: request.from, index: readIndex, context: request.context });
  }
}

