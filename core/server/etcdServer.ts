import { ErrLeaderChanged, ErrStopped, ErrTimeout, ErrTimeoutDueToLeaderFail, type EtcdError } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import type { ClientId, ClientReply, DurableWrite, HostedNode, NodeId, NodeReady, NodeStart, Outbound, RequestId, StreamFrame } from '../host/node.ts';
import { isBackendImage, type BackendImage, type ValueSlabs } from '../mvcc/index.ts';
import {
  emptyConfState,
  type ConfState,
  type HardState,
  type MemoryStorage,
  RawNode,
  type Message,
  type Ready,
  snapshotOnDemand,
  type SoftState,
  waitsForDurability,
} from '../raft/index.ts';
import type { RaftNodeView } from '../replica/raftNodeView.ts';
import { inConfiguration, refusesPeer } from '../replica/removedMembers.ts';
import { takeUrgentHeartbeats } from '../replica/urgentMessages.ts';
import { persistToStorage, readyWrites, snapshotAndCompact } from '../replica/wal.ts';
import { AppliedDigests } from './appliedDigests.ts';
import { applyCommitted, continueSlicedApply, installSnapshot, type SlicedApply } from './applyEntries.ts';
import type { ApplyListener } from './applyListener.ts';
import { minLeaseTTL, type EtcdServerConfig } from './config.ts';
import { receiveLeasePeerMessage, tickLeases } from './leaseApi.ts';
import { LeaseLog } from './leaseLog.ts';
import { RequestCodec, type InternalOp } from './internalRequest.ts';
import type { Membership } from './membership.ts';
import { PeerActivity } from './peerActivity.ts';
import { isRaftMessage, type PeerMessage } from './peerMessage.ts';
import { RecentCalls } from './recentCalls.ts';
import { RequestIds } from './requestIds.ts';
import { answerApplied, dispatch, serveRead } from './requestHandling.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from './serverRequest.ts';
import { recoverMember } from './serverStorage.ts';
import type { StateMachine, StateMachineOptions } from './stateMachine.ts';
import { ServerWaiters, type Waiter } from './waiters.ts';
import { WatchStreams } from './watchStreams.ts';
import { WatchableStore } from '../watch/index.ts';

/** A linearizable read as served, for checkers: the read index it waited for and the applied index it saw. */
export interface ServedRead {
  readonly client: ClientId;
  readonly id: RequestId;
  readonly readIndex: number;
  readonly appliedIndex: number;
}

const servedReadsKept = 256;
const noMessages: readonly Outbound<PeerMessage>[] = Object.freeze([]);

/**
 * An etcd member (etcd's EtcdServer with its raftNode), as a synchronous node the host drives:
 * Raft for consensus, the MVCC store and its backend for state, and etcd's request handling in
 * between. Writes are proposed and answered once applied on this member; linearizable reads wait
 * for a confirmed read index; the backend is committed in batches with the consistent index of
 * every entry it holds, and a restart replays only the WAL entries after it.
 *
 * Invariants, asserted where they live: entries are applied once each, in order; the consistent
 * index and the revision never go back; an apply moves the revision by what it changed (see
 * StateMachine); a reply to a write leaves only once its entry is applied here; a linearizable
 * read is served only once the applied index reaches its confirmed read index; the backend is
 * never written ahead of the WAL records it depends on, and on a restart it is not ahead of the
 * WAL; after replaying to the backend's consistent index, the membership replayed equals the
 * backend's.
 */
export class EtcdServer implements HostedNode<PeerMessage, ServerRequest, ServerReply>, RaftNodeView {
  readonly id: NodeId;
  readonly config: EtcdServerConfig;
  readonly raft: RawNode;
  readonly storage: MemoryStorage;
  state: StateMachine;
  readonly stateOptions: StateMachineOptions;
  appliedIndex: number;
  confState: ConfState = emptyConfState;
  /** The configuration in force when the commit index last moved: the one it was counted in. */
  commitCountedIn: ConfState = emptyConfState;
  /** The hard state as last handed to the host for persisting (or recovered). */
  hardState: HardState;
  softState: SoftState = { lead: 0, role: 'follower' };
  /** By applied index, a digest of the entry applied there (the last few thousand). */
  readonly stateDigests = new AppliedDigests();
  /** The last linearizable reads served (bounded), for checkers. */
  readonly servedReads: ServedRead[] = [];
  /** What this incarnation found on its disk (for checkers: the store must equal backend + WAL replay). */
  readonly recovery: { readonly backendConsistentIndex: number; readonly walSnapshotIndex: number; readonly walLastIndex: number; readonly walCommit: number };
  /** Entries that came again after a restart although the backend held them (skipped). */
  replayedEntries = 0;
  /** This incarnation's entry codec and decode memo (never shared with another member or incarnation). */
  readonly requests = new RequestCodec();
  /** This member applied its own removal: it answers every call with ErrStopped (etcd stops). */
  stopped = false;
  ticks = 0;

  readonly waiters = new ServerWaiters();
  /** Hooks for the lease and watch layers (the watchable store first); checkers may add read-only ones. */
  readonly applyListeners: ApplyListener[] = [];
  /** What this member did with leases (expiries proposed, revokes applied), for checkers. */
  readonly leaseLog = new LeaseLog();
  /** The Watch service: every open stream, on the watchable store the apply loop feeds. */
  readonly watches: WatchStreams;
  readonly requestIds: RequestIds;
  readonly peers: PeerActivity;
  private readonly recentCalls = new RecentCalls();
  /** While replaying entries the backend already holds: the membership as of the entry being replayed. */
  replayMembership: Membership | null;
  /** The tick at which this member last saw a leader elected (for ErrTimeoutDueToLeaderFail). */
  leaderElectedAtTick = -1;
  /**
   * A range delete being applied in slices, one per turn of the host's loop, and the entries
   * queued behind it (see SlicedApply). Meanwhile the backend's write transaction is open: no
   * commit (periodic, snapshot, defragment), no compaction step.
   */
  slicedApply: SlicedApply | null = null;
  /** Range deletes applied in more than one slice, slices after the first, entries that queued behind them (for checkers and benches). */
  readonly slicing = { applies: 0, laterSlices: 0, queuedEntries: 0, dropped: 0 };
  /** The host asked for the next slice (continueWork): the next Ready does it. */
  private sliceDue = false;
  /** Calls that commit the backend (Defragment, Snapshot), waiting for a sliced apply to end. */
  private afterSlicedApply: Waiter[] = [];

  private writes: DurableWrite[];
  private syncNext: boolean;
  private replies: ClientReply<ServerReply>[] = [];
  /** The server's own peer messages (lease calls forwarded to the leader, and answers) for the next Ready. */
  private peerMessages: Outbound<PeerMessage>[] = [];
  /** The highest log index the WAL writes handed out so far hold (entries or a snapshot). */
  private walWrittenIndex: number;
  private revision: number;
  private readyOut = false;
  private raftReadyOut = false;

  /** `values`: the allocator this member's backends append long values to (see `etcdProtocol`); absent, each makes its own. */
  constructor(start: NodeStart, config: EtcdServerConfig, values?: ValueSlabs) {
    this.id = start.id;
    this.config = config;
    this.stateOptions = {
      backend: { batchLimit: config.backendBatchLimit, ...(values === undefined ? {} : { values }) },
      appliedRequestsWindow: config.appliedRequestsWindow,
      compactionBatchLimit: config.compactionBatchLimit,
      compactionIndexSliceKeys: config.compactionIndexSliceKeys,
      quotaBackendBytes: config.quotaBackendBytes,
      lessor: {
        minTTL: minLeaseTTL(config),
        ticksPerSecond: 1000 / config.tickMs,
        checkpointIntervalTicks: config.leaseCheckpointIntervalTicks,
        revokeRetryTicks: config.leaseRevokeRetryTicks,
        revokesPerSecond: config.leaseRevokesPerSecond,
      },
      now: () => this.ticks,
    };
    const recovered = recoverMember(start, config, this.stateOptions);
    this.storage = recovered.storage;
    this.hardState = recovered.hardState;
    this.state = recovered.state;
    this.writes = [...recovered.writes];
    this.syncNext = recovered.mustSync;
    this.requestIds = new RequestIds(start.durable);
    this.peers = new PeerActivity(config.electionTicks);
    const snapshotIndex = this.storage.snapshot().metadata.index;
    this.recovery = { backendConsistentIndex: this.state.consistentIndex, walSnapshotIndex: snapshotIndex, walLastIndex: this.storage.lastIndex(), walCommit: this.hardState.commit };
    this.walWrittenIndex = Math.max(this.storage.lastIndex(), snapshotIndex);
    // Raft restarts from the WAL's snapshot; the entries after it that the backend already holds
    // come again and are skipped (etcd's idempotent replay), their conf changes re-applied to Raft.
    this.appliedIndex = snapshotIndex;
    this.replayMembership = this.state.consistentIndex > snapshotIndex ? recovered.snapshotMembership : null;
    this.revision = this.state.kv.revision;
    this.raft = new RawNode({
      id: start.id,
      storage: snapshotOnDemand(this.storage, () => this.appliedState()),
      random: start.random,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      maxSizePerMsg: config.maxSizePerMsg,
      maxInflightMsgs: config.maxInflightMsgs,
      preVote: config.preVote,
      checkQuorum: config.checkQuorum,
      coalesceAppends: config.coalesceAppends,
      snapshotStatusReported: config.snapshotStatusReported,
      ...(config.raftLogger === undefined ? {} : { logger: config.raftLogger }),
      applied: snapshotIndex,
    });
    this.confState = this.raft.status().config;
    this.watches = this.startWatches();
  }

  /** The watchable store, fed every apply's events and told of snapshot installs; its streams answer through this member's Readies. */
  private startWatches(): WatchStreams {
    const store = new WatchableStore(() => this.state.kv, { syncBatchRevisions: this.config.watch.syncBatchRevisions, watchersPerSync: 512 });
    const streams = new WatchStreams(
      store,
      { revision: () => this.state.kv.revision, header: (revision) => this.header(revision), send: (client, stream, reply, frame) => this.streamReply(client, stream, reply, frame) },
      this.config.watch,
      this.config.maxRequestBytes,
    );
    this.applyListeners.push({
      wantsPrevKv: () => store.wantsPrevKv,
      onEvents: (_server, events, revision) => store.notify(events, revision),
      onApplied: () => {},
      onRestored: () => store.restore(() => this.state.kv),
    });
    return streams;
  }

  // --- the node as its host drives it ------------------------------------------------------

  tick(): void {
    this.ticks++;
    this.raft.tick();
    this.commitBackendPeriodically();
    this.stepCompaction();
    this.expireWaiters();
    tickLeases(this);
    this.watches.tick();
    if (this.ticks % this.config.electionTicks === 0) this.maybePublish();
  }

  receive(from: NodeId, message: PeerMessage): void {
    // etcd's transport refuses a removed member's messages (it is told it was removed) — once Raft
    // is done with it: a member removed by a joint change still votes, and may lead, in the
    // outgoing half until the joint configuration is left.
    if (refusesPeer(this.state.membership.removed, this.confState, from)) return;
    this.peers.heard(from, this.ticks);
    if (isRaftMessage(message)) this.raft.step(message);
    else receiveLeasePeerMessage(this, from, message);
  }

  submit(client: ClientId, id: RequestId, request: ServerRequest, stream?: RequestId): void {
    if (this.recentCalls.seen(client, id)) return; // delivered twice: handled once
    if (request.method === 'Watch') {
      if (this.stopped) this.streamReply(client, stream ?? id, { method: 'Watch', error: ErrStopped }, { sequence: 0, end: true });
      else this.watches.submit(client, id, request.request, stream);
      return;
    }
    const waiter: Waiter = { client, id, request, sinceTick: this.ticks };
    if (this.stopped) this.replyError(waiter, ErrStopped);
    else dispatch(this, waiter);
  }

  closeStream(client: ClientId, stream: RequestId): void {
    this.watches.close(client, stream);
  }

  hasReady(): boolean {
    if (this.readyOut) return false;
    // A slice the host made due, or the calls that waited for the last one.
    if (this.slicedApply !== null ? this.sliceDue : this.afterSlicedApply.length > 0) return true;
    return this.writes.length > 0 || this.replies.length > 0 || this.peerMessages.length > 0 || this.watches.hasOutput || this.requestIds.hasWrite || this.state.backend.hasWrites || this.raft.hasReady() || this.waiters.reads.canStart(this.softState.lead);
  }

  ready(): NodeReady<PeerMessage, ServerReply> {
    assert(!this.readyOut, 'ready() twice without advance()');
    this.readyOut = true;
    // The reads that arrived since the last Ready share one round, whose ReadIndex leaves in this one.
    this.waiters.reads.maybeStart(this.softState.lead, this.ticks, () => this.sendReadIndex());
    if (this.sliceDue) {
      this.sliceDue = false;
      if (this.slicedApply !== null) this.continueSlicedApply();
    }
    // Before the sync is decided: a Defragment's answer promises its rewrite durable.
    if (this.slicedApply === null && this.afterSlicedApply.length > 0) this.dispatchAfterSlicedApply();
    const writes = this.writes;
    this.writes = [];
    let mustSync = false;
    let raftMessages: readonly Message[] = [];
    if (this.raft.hasReady()) {
      const ready = this.raft.ready();
      this.raftReadyOut = true;
      this.handleRaftReady(ready, writes);
      raftMessages = ready.messages;
      mustSync ||= ready.mustSync;
    }
    this.serveReads();
    // Backend commits ride the next sync (a crash before it loses the batch: replayed from the WAL).
    this.takeBackendWrites(writes);
    // Asked for before this Ready or while it was made (an answer that promises writes: `reply`).
    if (this.syncNext) {
      mustSync = true;
      this.syncNext = false;
    }
    // Taken last, after everything that may hand out a request id: an id of a reservation not yet
    // durable may leave with this Ready (a proposal, a read index), so the Ready syncs it first.
    const reservation = this.requestIds.takeWrite();
    if (reservation !== null) writes.push(reservation);
    // A request id reservation must be durable before any id it covers leaves the node (in a
    // forwarded proposal or an append): then nothing leaves before the sync.
    const early = reservation === null;
    let messages = raftMessages.length === 0 ? noMessages : raftMessages.map((message): Outbound<PeerMessage> => ({ to: message.to, message, beforeSync: early && !waitsForDurability(message.type) }));
    if (this.peerMessages.length > 0) {
      messages = [...messages, ...this.peerMessages];
      this.peerMessages = [];
    }
    if (this.requestIds.mustSync) mustSync = true;
    this.requestIds.readyTaken(mustSync);
    // Watch responses carry only applied revisions: they leave with (or after) the Ready that applied them.
    this.watches.drain();
    const replies = this.replies;
    this.replies = [];
    return { writes, mustSync, messages, replies };
  }

  hasDeferredWork(): boolean {
    return this.slicedApply !== null && !this.sliceDue;
  }

  continueWork(): void {
    this.sliceDue = true;
  }

  /** The next slice of a sliced apply; once it ends, the entries queued behind it (and a snapshot, when due). */
  private continueSlicedApply(): void {
    continueSlicedApply(this);
    if (this.slicedApply !== null) return;
    const compaction = this.maybeSnapshot();
    if (compaction !== null) this.writes.push(compaction);
  }

  /** The calls that waited for a sliced apply to end (or to be dropped by a snapshot install). */
  private dispatchAfterSlicedApply(): void {
    const waiting = this.afterSlicedApply;
    this.afterSlicedApply = [];
    for (const waiter of waiting) dispatch(this, waiter);
  }

  /** A call that commits the backend waits while a sliced apply holds its write transaction open; true when it must. */
  waitForSlicedApply(waiter: Waiter): boolean {
    if (this.slicedApply === null) return false;
    this.afterSlicedApply.push(waiter);
    return true;
  }

  /** Heartbeats and their answers raised while a Ready waits for its sync (core/replica/urgentMessages.ts). */
  takeUrgentMessages(): readonly Outbound<PeerMessage>[] {
    return takeUrgentHeartbeats(this.raft, this.readyOut);
  }

  advance(): void {
    assert(this.readyOut, 'advance() without ready()');
    this.readyOut = false;
    if (this.raftReadyOut) {
      this.raftReadyOut = false;
      this.raft.advance();
    }
  }

  // --- Ready handling ----------------------------------------------------------------------

  /** Persist (to the WAL writes and the in-memory log), install a snapshot, apply, answer read states. */
  private handleRaftReady(ready: Ready, writes: DurableWrite[]): void {
    if (ready.hardState !== null && ready.hardState.commit !== this.hardState.commit) this.commitCountedIn = this.confState;
    for (const write of readyWrites(ready)) writes.push(write);
    if (ready.snapshot !== null) this.walWrittenIndex = Math.max(this.walWrittenIndex, ready.snapshot.metadata.index);
    if (ready.entries.length > 0) this.walWrittenIndex = ready.entries[ready.entries.length - 1]!.index;
    persistToStorage(this.storage, ready);
    if (ready.hardState !== null) this.hardState = ready.hardState;
    if (ready.softState !== null) this.onSoftState(ready.softState);
    if (ready.snapshot !== null) installSnapshot(this, ready.snapshot);
    for (const entry of ready.committedEntries) applyCommitted(this, entry);
    for (const state of ready.readStates) this.waiters.reads.onReadState(state);
    const compaction = this.maybeSnapshot();
    if (compaction !== null) writes.push(compaction);
  }

  private onSoftState(softState: SoftState): void {
    const previous = this.softState.lead;
    this.softState = softState;
    // etcd's Demote: a member that no longer leads holds every lease forever.
    if (softState.role !== 'leader' && this.state.lessor.primary) this.state.lessor.demote();
    if (softState.lead === previous) return;
    if (softState.lead !== 0) this.leaderElectedAtTick = this.ticks;
    const waiters = this.waiters;
    for (const waiter of waiters.reads.onLeaderChange(softState.lead)) this.replyError(waiter, ErrLeaderChanged);
    if (softState.lead !== 0) for (const waiter of waiters.leader.takeAll()) dispatch(this, waiter);
    for (const { waiter, target } of waiters.transfers) if (softState.lead === target) answerApplied(this, waiter, { header: this.header(this.state.kv.revision) });
    waiters.transfers = waiters.transfers.filter(({ target }) => softState.lead !== target);
  }

  /** The membership that decides the entry being applied: the replayed one while replaying. */
  get applyingMembership(): Membership {
    return this.replayMembership ?? this.state.membership;
  }

  /** Replay-aware: while replaying, a membership change moves only the replayed membership. */
  setApplyingMembership(membership: Membership, replayed: boolean): void {
    if (replayed) this.replayMembership = membership;
    else this.state.setMembership(membership);
  }

  /** The revision never goes back, across applies, snapshot installs and restarts of this incarnation. */
  checkRevisionForward(what: string): void {
    const revision = this.state.kv.revision;
    assert(revision >= this.revision, () => `node ${this.id}'s revision went back from ${this.revision} to ${revision} ${what}`);
    this.revision = revision;
  }

  /** etcd's triggerSnapshot: every snapshotCount applied entries, snapshot and compact the log and the WAL. */
  private maybeSnapshot(): DurableWrite | null {
    const snapshotIndex = this.storage.snapshot().metadata.index;
    if (this.appliedIndex - snapshotIndex <= this.config.snapshotCount || this.replayMembership !== null || this.slicedApply !== null) return null;
    return snapshotAndCompact(this.storage, this.hardState, this.appliedIndex, this.confState, this.state.backend.snapshot(), this.config.snapshotCatchUpEntries);
  }

  /** The applied state for a snapshot Raft asks for; while replaying, the stored one (the backend is ahead). */
  private appliedState(): { index: number; confState: ConfState; data: () => BackendImage } {
    const consistent = this.replayMembership === null && this.slicedApply === null && this.appliedIndex === this.state.consistentIndex;
    return { index: consistent ? this.appliedIndex : 0, confState: this.confState, data: () => this.state.backend.snapshot() };
  }

  /** The backend's commits go after the WAL writes of the same Ready, and never hold an entry the WAL writes do not. */
  private takeBackendWrites(writes: DurableWrite[]): void {
    if (!this.state.backend.hasWrites) return;
    for (const write of this.state.backend.takeWrites()) {
      for (const record of write.records) {
        if (!isBackendImage(record)) continue;
        assert(record.meta.consistentIndex <= this.walWrittenIndex, () => `node ${this.id} writes a backend commit at index ${record.meta.consistentIndex} ahead of its WAL (${this.walWrittenIndex})`);
      }
      writes.push(write);
    }
  }

  // --- reads, time, replies ------------------------------------------------------------------

  /** Serves the read round once its index is applied, then starts the next. */
  serveReads(): void {
    const round = this.waiters.reads.takeServable(this.appliedIndex);
    if (round !== null) {
      for (const waiter of round.reads) {
        this.servedReads.push({ client: waiter.client, id: waiter.id, readIndex: round.confirmedIndex, appliedIndex: this.appliedIndex });
        serveRead(this, waiter);
      }
      if (this.servedReads.length > servedReadsKept) this.servedReads.splice(0, this.servedReads.length - servedReadsKept);
    }
    this.waiters.reads.maybeStart(this.softState.lead, this.ticks, () => this.sendReadIndex());
  }

  private sendReadIndex(): string {
    const context = `${this.id}/${this.requestIds.nextId()}`;
    this.raft.readIndex(context);
    return context;
  }

  private commitBackendPeriodically(): void {
    if (this.ticks % this.config.backendBatchIntervalTicks !== 0 || this.slicedApply !== null) return;
    const backend = this.state.backend;
    backend.commit();
    if (backend.commitsSinceReplace >= this.config.backendFileCommitsMax) backend.rewriteFile();
  }

  private stepCompaction(): void {
    if (this.slicedApply !== null) return; // its batches commit
    const kv = this.state.kv;
    for (let i = 0; i < this.config.compactionBatchesPerTick && kv.compacting; i++) {
      // An index slice (10k keys, ~10-20 ms) is a tick's work, not one of its batches.
      const indexSlice = kv.compactingIndex;
      kv.stepCompaction();
      if (indexSlice) break;
    }
    if (kv.compacting || this.waiters.compactions.length === 0) return;
    // etcd forces a commit once a physical compaction is done, so a crash does not resume it.
    this.state.backend.commit();
    for (const { waiter, response } of this.waiters.compactions) answerApplied(this, waiter, response);
    this.waiters.compactions = [];
  }

  private expireWaiters(): void {
    const expired = this.waiters.expire(this.ticks, this.config, (waiter) => this.timeoutError(waiter), () => this.sendReadIndex());
    for (const [waiter, error] of expired) this.replyError(waiter, error);
  }

  /** etcd's parseProposeCtxErr: a proposal made around a leader's election timed out "due to previous leader failure". */
  private timeoutError(waiter: Waiter): EtcdError {
    const elected = this.leaderElectedAtTick;
    const lostBefore = elected - 2 * this.config.electionTicks;
    return waiter.sinceTick > lostBefore && waiter.sinceTick < elected ? ErrTimeoutDueToLeaderFail : ErrTimeout;
  }

  /**
   * etcd's publish: a started member proposes its name and client URLs until the membership holds
   * them (a member added by MemberAdd has neither until then; etcd lists it as unstarted).
   */
  private maybePublish(): void {
    if (this.stopped || this.softState.lead === 0 || this.replayMembership !== null) return;
    const member = this.state.membership.member(this.id);
    if (member === undefined) return;
    const { name, clientURLs } = this.config.attributesOf(this.id);
    if (member.name === name && member.clientURLs.length === clientURLs.length && member.clientURLs.every((url, i) => url === clientURLs[i])) return;
    this.proposeInternal({ kind: 'memberAttributes', id: this.id, name, clientURLs: [...clientURLs] });
  }

  /** The NOSPACE alarm, raised through Raft by the member that saw the quota exceeded. */
  raiseNoSpace(): void {
    this.proposeInternal({ kind: 'alarm', request: { action: 'ACTIVATE', memberID: this.id, alarm: 'NOSPACE' } });
  }

  /** Proposes an op of the member's own, which no client waits for (dropped without a leader: whoever needs it asks again); its request id. */
  proposeInternal(op: InternalOp): number {
    const id = this.requestIds.nextId();
    this.waiters.addInternal(id, this.ticks);
    this.raft.propose(this.requests.encodeRequest({ header: { member: this.id, id }, op }));
    return id;
  }

  header(revision: number): { clusterId: number; memberId: number; revision: number; raftTerm: number } {
    return { clusterId: this.config.clusterId, memberId: this.id, revision, raftTerm: this.hardState.term };
  }

  reply(waiter: Waiter, reply: ServerReply): void {
    const localWrite = answersLocalWrite(waiter.request);
    if (!localWrite || isErrorReply(reply)) {
      this.replies.push({ client: waiter.client, id: waiter.id, reply, beforeSync: !localWrite });
      return;
    }
    // etcd fsyncs a defragmented file and a physical compaction's commit (ForceCommit) before it
    // answers: the Ready that carries the answer syncs, and the answer waits for the store to hold
    // what it promises even when it lets db writes lag its syncs (DurableStore.caughtUp).
    this.syncNextReady();
    this.replies.push({ client: waiter.client, id: waiter.id, reply, beforeSync: false, promisesWrites: true });
  }

  /** Sends one of the server's own peer messages (not Raft's) with the next Ready; it promises nothing durable. */
  sendPeer(message: PeerMessage & { readonly to: NodeId }): void {
    this.peerMessages.push({ to: message.to, message, beforeSync: true });
  }

  /** A reply on an open stream (the Watch service's); it rests on applied entries only, like an applied write's answer. */
  private streamReply(client: ClientId, stream: RequestId, reply: ServerReply, frame: StreamFrame): void {
    this.replies.push({ client, id: stream, reply, stream: frame, beforeSync: true });
  }

  replyError(waiter: Waiter, error: EtcdError): void {
    this.reply(waiter, { method: waiter.request.method, error });
  }

  /** Asks for the next Ready to sync its writes (a defragmentation, which its reply promises durable). */
  syncNextReady(): void {
    this.syncNext = true;
  }

  /**
   * This member applied its own removal: stop serving (etcd stops the server), fail what waits —
   * once Raft's configuration no longer holds it (removed by a joint change, it serves the
   * outgoing half until the joint configuration is left, leading it perhaps).
   */
  stopIfRemoved(): void {
    if (this.stopped || !this.state.membership.isRemoved(this.id) || inConfiguration(this.confState, this.id)) return;
    this.stopped = true;
    for (const waiter of this.waiters.drain()) this.replyError(waiter, ErrStopped);
    for (const waiter of this.afterSlicedApply) this.replyError(waiter, ErrStopped);
    this.afterSlicedApply = [];
  }

  /**
   * The backend's consistent index: the last entry whose apply the backend holds (for checkers).
   * While a range delete is applied in slices, the entry before it: the backend's index is already
   * set for the delete (so that any commit would hold it), but none may happen before its end.
   */
  get consistentIndex(): number {
    return this.slicedApply === null ? this.state.consistentIndex : this.slicedApply.entry.index - 1;
  }
}

/**
 * Whether a call's answer promises something this member writes in the same Ready: a defragment
 * (the rewritten file) and a physical compaction (its last commit). Every other answer rests on
 * committed entries (durable on a quorum) or on nothing durable at all.
 */
function answersLocalWrite(request: ServerRequest): boolean {
  return request.method === 'Defragment' || (request.method === 'Compact' && request.request.physical === true);
}
