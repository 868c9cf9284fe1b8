import { assert, AssertionError } from '../base/assert.ts';
import { type RaftConfig, validateConfig } from './config.ts';
import { hup } from './election.ts';
import { type ConfChange, confChangeEntry, type Entry, normalEntry, payloadsSize } from './entry.ts';
import { applyConfChange, checkConfChange } from './membership.ts';
import { isResponseMessage, makeMessage, type Message } from './message.ts';
import { Raft, type StepResult } from './raft.ts';
import { mustSync, type Ready } from './ready.ts';
import type { ConfState, HardState, NodeId, ReadState, SoftState, Snapshot, StateRole } from './state.ts';
import { None } from './state.ts';
import { getStatus, type Status } from './status.ts';
import type { Unstable } from './unstable.ts';
import { reportSnapshot, reportUnreachable } from './stepLeader.ts';

// Shared empty lists for Readies that hand out nothing of a kind (not frozen: see `noEntries`).
const noReadStates: readonly ReadState[] = [];
const noMessages: readonly Message[] = [];

/** What `advance()` feeds back into the state machine, decided when the Ready was taken. */
type AdvanceStep =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'persisted'; readonly term: number; readonly index: number; readonly logTerm: number; readonly snapshot: Snapshot | null }
  | { readonly kind: 'applied'; readonly entries: readonly Entry[] };

const noSteps: readonly AdvanceStep[] = [];

/**
 * A Raft node driven by its host (etcd-io/raft's RawNode): inputs are `tick`, `step` and the
 * requests (`propose`, `readIndex`, ...); outputs leave through `ready()`, and `advance()` tells the
 * node the Ready was handled. Synchronous and deterministic: randomness comes from the config's
 * Random, time from `tick()`.
 */
export class RawNode {
  private readonly raft: Raft;
  private previousSoftState: SoftState;
  private previousHardState: HardState;
  /** Set between `ready()` and `advance()`. */
  private stepsOnAdvance: readonly AdvanceStep[] | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(validateConfig(config));
    this.previousSoftState = this.raft.softState();
    this.previousHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** One unit of logical time: election and heartbeat timeouts are counted in ticks. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with pre-vote first, if configured). */
  campaign(): void {
    hup(this.raft, this.raft.preVote ? 'pre-election' : 'election');
  }

  /** Proposes `data` for the log. A follower forwards it to the leader; dropped without one. */
  propose(data: Uint8Array): StepResult {
    return this.raft.step(makeMessage({ type: 'MsgProp', from: this.raft.id, to: None, entries: [normalEntry(data)] }));
  }

  /**
   * Proposes a membership change. Once committed, the application applies it by calling
   * `applyConfChange`. A leader refuses (replaces with an empty entry) a change proposed while
   * another is pending or that does not fit the joint state.
   */
  proposeConfChange(change: ConfChange): StepResult {
    return this.raft.step(makeMessage({ type: 'MsgProp', from: this.raft.id, to: None, entries: [confChangeEntry(change)] }));
  }

  /** Applies a committed conf change entry's change; returns the configuration now in force. */
  applyConfChange(change: ConfChange): ConfState {
    return applyConfChange(this.raft, change);
  }

  /**
   * Why a committed conf change can no longer be applied (it would remove every voter, enter a
   * joint configuration from a joint one, ...), or null. An application skips such a change, as
   * etcd's server turns an invalid change into a no-op when it applies it.
   */
  checkConfChange(change: ConfChange): string | null {
    return checkConfChange(this.raft, change);
  }

  /** Steps a message received from a peer. */
  step(message: Message): StepResult {
    // Every delivered message passes here: no message closure built per call.
    if (message.to !== this.raft.id) throw new AssertionError(`message for ${message.to} stepped on node ${this.raft.id}`);
    if (isResponseMessage(message.type) && this.raft.tracker.get(message.from) === undefined) return 'peer-not-found';
    return this.raft.step(message);
  }

  /**
   * Requests a linearizable read point. The answer comes as a ReadState in a later Ready, with this
   * context (which must be non-empty and unique among pending requests). Dropped without a leader.
   */
  readIndex(context: string): void {
    assert(context !== '', 'a read index context must not be empty');
    this.raft.step(makeMessage({ type: 'MsgReadIndex', from: None, to: None, context }));
  }

  /** Asks the leader (directly, or through this follower) to hand leadership to `transferee`. */
  transferLeadership(transferee: NodeId): void {
    this.raft.step(makeMessage({ type: 'MsgTransferLeader', from: this.raft.id, to: None, index: transferee }));
  }

  /** The transport failed to reach `id` (leader only): it stops streaming to it and probes. */
  reportUnreachable(id: NodeId): void {
    reportUnreachable(this.raft, id);
  }

  /** Whether a snapshot sent to `id` was applied (leader only). */
  reportSnapshot(id: NodeId, status: 'finished' | 'failed'): void {
    reportSnapshot(this.raft, id, status === 'failed');
  }

  /**
   * Takes the heartbeats and heartbeat answers not yet in a Ready (a host calls it while one is
   * being handled, before its sync completes), which may leave at once. They promise nothing about the log (etcd-io/raft sends them in `msgs`, not
   * `msgsAfterAppend`, with asynchronous storage writes), and holding them behind a slow fsync
   * lets a follower's election timer or a leader's check-quorum run out while everyone is alive.
   * A heartbeat with a context (a ReadIndex round) stays: its context is a request id, which may
   * leave only with the Ready that makes its reservation durable.
   */
  takeHeartbeats(): Message[] {
    const raft = this.raft;
    const urgent = (message: Message) => message.type === 'MsgHeartbeatResp' || (message.type === 'MsgHeartbeat' && message.context === '');
    if (!raft.messages.some(urgent)) return [];
    const taken = raft.messages.filter(urgent);
    raft.messages = raft.messages.filter((message) => !urgent(message));
    return taken;
  }

  /** Whether `ready()` has anything. False while a Ready is being handled (until `advance()`). */
  hasReady(): boolean {
    if (this.stepsOnAdvance !== null) return false;
    const raft = this.raft;
    // Asked after every input the host gives: compared field by field, building no state objects.
    if (!this.softStateUnchanged() || !this.hardStateUnchanged()) return true;
    if (raft.log.unstable.nextSnapshot() !== null) return true;
    if (raft.messages.length > 0 || raft.messagesAfterAppend.length > 0) return true;
    if (raft.log.unstable.hasNextEntries() || raft.log.hasNextCommittedEntries()) return true;
    return raft.readStates.length > 0;
  }

  /** The work to do now. The host must handle it (see `Ready`) and then call `advance()`. */
  ready(): Ready {
    assert(this.stepsOnAdvance === null, 'ready() called again before advance()');
    const raft = this.raft;
    const log = raft.log;
    // An unchanged state is handed out as the object already kept (null in the Ready): most
    // Readies change neither, and the simulator takes hundreds of thousands of them per run.
    const softChanged = !this.softStateUnchanged();
    const hardChanged = !this.hardStateUnchanged();
    const softState = softChanged ? raft.softState() : this.previousSoftState;
    const hardState = hardChanged ? raft.hardState() : this.previousHardState;
    const entries = log.unstable.nextEntries();
    const snapshot = log.unstable.nextSnapshot();
    const committedEntries = log.nextCommittedEntries();
    // Raft's queues are replaced below when they hold anything, so the Ready may own them rather
    // than copies; empty ones stay and the Ready gets the shared empty list.
    const messages = raft.messages;
    let steps: AdvanceStep[] | null = null;
    for (const message of raft.messagesAfterAppend) {
      if (message.to === raft.id) (steps ??= []).push({ kind: 'message', message });
      else messages.push(message);
    }
    const ready: Ready = {
      softState: softChanged ? softState : null,
      hardState: hardChanged ? hardState : null,
      readStates: raft.readStates.length === 0 ? noReadStates : raft.readStates,
      entries,
      snapshot,
      committedEntries,
      messages: messages.length === 0 ? noMessages : messages,
      mustSync: mustSync(hardState, this.previousHardState, entries.length, snapshot !== null),
    };

    // Accept the Ready: what it hands out is now in the host's hands.
    this.previousSoftState = softState;
    this.previousHardState = hardState;
    if (raft.readStates.length > 0) raft.readStates = [];
    // Once persisted, the unstable log up to its current end is stable. With nothing unstable,
    // index 0 says "no entries" (a snapshot alone may be pending).
    if (log.unstable.entries.length > 0 || snapshot !== null) {
      const index = log.unstable.entries.length > 0 ? log.lastIndex() : 0;
      (steps ??= []).push({ kind: 'persisted', term: raft.term, index, logTerm: index === 0 ? 0 : log.lastTerm(), snapshot });
    }
    if (committedEntries.length > 0) (steps ??= []).push({ kind: 'applied', entries: committedEntries });
    if (raft.messages.length > 0) raft.messages = [];
    if (raft.messagesAfterAppend.length > 0) raft.messagesAfterAppend = [];
    log.unstable.acceptInProgress();
    if (committedEntries.length > 0) {
      log.acceptApplying(committedEntries[committedEntries.length - 1]!.index, payloadsSize(committedEntries));
    }
    this.stepsOnAdvance = steps ?? noSteps;
    return ready;
  }

  /**
   * The host persisted, sent and applied the last Ready. Only now does the node count its own
   * durable acknowledgements and votes, and mark entries stable and applied.
   */
  advance(): void {
    const steps = this.stepsOnAdvance;
    assert(steps !== null, 'advance() called without a Ready');
    this.stepsOnAdvance = null;
    for (const step of steps) {
      switch (step.kind) {
        case 'message':
          this.raft.step(step.message);
          break;
        case 'persisted':
          this.raft.onPersisted(step.term, step.index, step.logTerm, step.snapshot);
          break;
        case 'applied':
          this.raft.onApplied(step.entries);
          break;
      }
    }
  }

  status(): Status {
    return getStatus(this.raft);
  }

  /** The index of the last entry in the log, unstable ones included. Cheap, for checkers. */
  get lastIndex(): number {
    return this.raft.log.lastIndex();
  }

  /** The unstable log's coverage counts (`Unstable.counts`): the live object, for checkers; never written by them. */
  get unstableCounts(): Readonly<Unstable['counts']> {
    return this.raft.log.unstable.counts;
  }

  /** The term of the entry at `index` in the log (unstable ones included), or null when it is compacted or beyond the log. */
  termAt(index: number): number | null {
    const term = this.raft.log.term(index);
    return typeof term === 'number' ? term : null;
  }

  /** The target of a leadership transfer in progress, or None. Cheap, for checkers that run on every event. */
  get leadTransferee(): NodeId {
    return this.raft.leadTransferee;
  }

  /**
   * Raft's role and term now, which run ahead of the last Ready's soft and hard state while that
   * Ready waits for its sync. Cheap, for checkers.
   */
  get currentRole(): StateRole {
    return this.raft.role;
  }

  get currentTerm(): number {
    return this.raft.term;
  }

  /** The index Raft knows applied: it runs behind what a Ready handed out until that Ready's advance(). Cheap, for checkers. */
  get appliedIndex(): number {
    return this.raft.log.applied;
  }

  /**
   * Visits every member's match index as this node records it (nothing unless it leads), in
   * ascending id order. Cheap (no copies), for checkers that run on every event; `status()` is the
   * full picture.
   */
  visitMatches(visit: (id: NodeId, match: number) => void): void {
    if (this.raft.role !== 'leader') return;
    // A checker asks after every event at a leader: no adapter closure per call.
    const tracker = this.raft.tracker;
    const ids = tracker.ids();
    for (let i = 0; i < ids.length; i++) visit(ids[i]!, tracker.get(ids[i]!)!.match);
  }

  /** Whether Raft's soft state is the one last handed out (etcd-io/raft's SoftState comparison). */
  private softStateUnchanged(): boolean {
    const raft = this.raft;
    const previous = this.previousSoftState;
    return raft.lead === previous.lead && raft.role === previous.role;
  }

  /** Whether Raft's hard state is the one last handed out: term, vote and commit, field by field. */
  private hardStateUnchanged(): boolean {
    const raft = this.raft;
    const previous = this.previousHardState;
    return raft.term === previous.term && raft.vote === previous.vote && raft.log.committed === previous.commit;
  }
}
