import { ErrLeaderChanged, ErrNoLeader, ErrStopped, ErrTimeout, ErrTimeoutDueToLeaderFail, ErrTimeoutLeaderTransfer, type EtcdError } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { ClientId, ClientReply, DurableWrite, HostedNode, NodeId, NodeReady, NodeStart, Outbound, RequestId } from '../host/node.ts';
import { isBackendImage, type BackendImage } from '../mvcc/index.ts';
import {
  digestEntry,
  emptyConfState,
  type ConfState,
  type Entry,
  type HardState,
  type MemoryStorage,
  RawNode,
  type Ready,
  snapshotOnDemand,
  type Snapshot,
  type SoftState,
  waitsForDurability,
} from '../raft/index.ts';
import type { RaftNodeView } from '../replica/raftNodeView.ts';
import { persistToStorage, readyWrites, snapshotAndCompact } from '../replica/wal.ts';
import { applyConfChangeEntry } from './confChangeApply.ts';
import type { EtcdServerConfig } from './config.ts';
import { decodeInternalRequest, encodeInternalRequest, type InternalOp, type InternalRaftRequest } from './internalRequest.ts';
import { LinearizableReads } from './linearizableReads.ts';
import type { Membership } from './membership.ts';
import { PeerActivity } from './peerActivity.ts';
import type { PeerMessage } from './peerMessage.ts';
import { RequestIds } from './requestIds.ts';
import { answerApplied, dispatch, serveRead } from './requestHandling.ts';
import type { ServerReply, ServerRequest } from './serverRequest.ts';
import { recoverMember, snapshotImage } from './serverStorage.ts';
import { membershipAfter, StateMachine, type StateMachineOptions } from './stateMachine.ts';
import { LeaderWaiters, ProposalWaiters, type Waiter } from './waiters.ts';

/** A linearizable read as served, for checkers: the read index it waited for and the applied index it saw. */
export interface ServedRead {
  readonly client: ClientId;
  readonly id: RequestId;
  readonly readIndex: number;
  readonly appliedIndex: number;
}

const servedReadsKept = 256;
const digestsKept = 4096;
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
  readonly stateDigests = new Map<number, number>();
  /** The last linearizable reads served (bounded), for checkers. */
  readonly servedReads: ServedRead[] = [];
  /** What this incarnation found on its disk (for checkers: the store must equal backend + WAL replay). */
  readonly recovery: { readonly backendConsistentIndex: number; readonly walSnapshotIndex: number; readonly walLastIndex: number; readonly walCommit: number };
  /** Entries that came again after a restart although the backend held them (skipped). */
  replayedEntries = 0;
  /** This member applied its own removal: it answers every call with ErrStopped (etcd stops). */
  stopped = false;
  ticks = 0;

  readonly proposals = new ProposalWaiters();
  readonly reads = new LinearizableReads<Waiter>();
  readonly leaderWaiters = new LeaderWaiters();
  /** Physical compactions waiting for the compaction to finish, with their responses. */
  compactionWaiters: { readonly waiter: Waiter; readonly response: unknown }[] = [];
  /** MoveLeader calls waiting for the transferee to lead. */
  transferWaiters: { readonly waiter: Waiter; readonly target: NodeId }[] = [];
  readonly requestIds: RequestIds;
  readonly peers: PeerActivity;
  /** Request ids of the member's own proposals (alarm raised, attributes published) that no client waits for. */
  readonly internalProposals = new Set<number>();
  /** While replaying entries the backend already holds: the membership as of the entry being replayed. */
  replayMembership: Membership | null;
  /** The tick at which this member last saw a leader elected (for ErrTimeoutDueToLeaderFail). */
  leaderElectedAtTick = -1;

  private writes: DurableWrite[];
  private syncNext: boolean;
  private replies: ClientReply<ServerReply>[] = [];
  /** The highest log index the WAL writes handed out so far hold (entries or a snapshot). */
  private walWrittenIndex: number;
  private revision: number;
  private readyOut = false;
  private raftReadyOut = false;

  constructor(start: NodeStart, config: EtcdServerConfig) {
    this.id = start.id;
    this.config = config;
    this.stateOptions = {
      backend: { batchLimit: config.backendBatchLimit },
      compactionBatchLimit: config.compactionBatchLimit,
      quotaBackendBytes: config.quotaBackendBytes,
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
      applied: snapshotIndex,
    });
    this.confState = this.raft.status().config;
  }

  // --- the node as its host drives it ------------------------------------------------------

  tick(): void {
    this.ticks++;
    this.raft.tick();
    this.commitBackendPeriodically();
    this.stepCompaction();
    this.expireWaiters();
    if (this.ticks % this.config.electionTicks === 0) this.maybePublish();
  }

  receive(from: NodeId, message: PeerMessage): void {
    // etcd's transport refuses a removed member's messages (it is told it was removed).
    if (this.state.membership.isRemoved(from)) return;
    this.peers.heard(from, this.ticks);
    this.raft.step(message);
  }

  submit(client: ClientId, id: RequestId, request: ServerRequest): void {
    const waiter: Waiter = { client, id, request, sinceTick: this.ticks };
    if (this.stopped) this.replyError(waiter, ErrStopped);
    else dispatch(this, waiter);
  }

  hasReady(): boolean {
    return !this.readyOut && (this.writes.length > 0 || this.replies.length > 0 || this.requestIds.hasWrite || this.state.backend.hasWrites || this.raft.hasReady());
  }

  ready(): NodeReady<PeerMessage, ServerReply> {
    assert(!this.readyOut, 'ready() twice without advance()');
    this.readyOut = true;
    const writes = this.writes;
    this.writes = [];
    let mustSync = this.syncNext;
    this.syncNext = false;
    const reservation = this.requestIds.takeWrite();
    if (reservation !== null) {
      writes.push(reservation);
      mustSync = true;
    }
    let messages = noMessages;
    if (this.raft.hasReady()) {
      const ready = this.raft.ready();
      this.raftReadyOut = true;
      this.handleRaftReady(ready, writes);
      // A request id reservation must be durable before any id it covers leaves the node (in a
      // forwarded proposal or an append): then nothing leaves before the sync.
      const early = reservation === null;
      messages = ready.messages.map((message) => ({ to: message.to, message, beforeSync: early && !waitsForDurability(message.type) }));
      mustSync ||= ready.mustSync;
    }
    this.serveReads();
    // A backend commit is a synced write (bbolt's commit fsyncs); it rides the Ready's sync.
    if (this.takeBackendWrites(writes)) mustSync = true;
    const replies = this.replies;
    this.replies = [];
    return { writes, mustSync, messages, replies };
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
    if (ready.snapshot !== null) this.installSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) this.applyEntry(entry);
    for (const state of ready.readStates) this.reads.onReadState(state);
    const compaction = this.maybeSnapshot();
    if (compaction !== null) writes.push(compaction);
  }

  private onSoftState(softState: SoftState): void {
    const previous = this.softState.lead;
    this.softState = softState;
    if (softState.lead === previous) return;
    if (softState.lead !== 0) this.leaderElectedAtTick = this.ticks;
    for (const waiter of this.reads.onLeaderChange(softState.lead)) this.replyError(waiter, ErrLeaderChanged);
    if (softState.lead !== 0) for (const waiter of this.leaderWaiters.takeAll()) dispatch(this, waiter);
    for (const { waiter, target } of this.transferWaiters) if (softState.lead === target) answerApplied(this, waiter, { header: this.header(this.state.kv.revision) });
    this.transferWaiters = this.transferWaiters.filter(({ target }) => softState.lead !== target);
  }

  /** A snapshot from the leader: the backend is replaced by its image, and the state rebuilt from it. */
  private installSnapshot(snapshot: Snapshot): void {
    const image = snapshotImage(snapshot);
    assert(snapshot.metadata.index > this.appliedIndex, () => `node ${this.id} installs a snapshot at ${snapshot.metadata.index}, not after its applied index ${this.appliedIndex}`);
    this.state = StateMachine.fromSnapshot(image, this.stateOptions);
    this.appliedIndex = snapshot.metadata.index;
    this.confState = snapshot.metadata.confState;
    this.replayMembership = null;
    this.checkRevisionForward('installing a snapshot');
    this.stopIfRemoved();
  }

  /** Applies one committed entry, exactly once, in order. */
  private applyEntry(entry: Entry): void {
    assert(entry.index === this.appliedIndex + 1, () => `node ${this.id} applies index ${entry.index} after ${this.appliedIndex}`);
    // An entry the backend already holds (replayed after a restart) changes nothing there; its
    // conf change still reconfigures Raft, which restarted from the WAL's snapshot.
    const replayed = entry.index <= this.state.consistentIndex;
    if (replayed) this.replayedEntries++;
    else this.state.backend.setConsistentIndex(entry.index, entry.term);
    if (entry.type === 'normal') {
      if (entry.data.byteLength > 0) this.applyRequest(decodeInternalRequest(entry.data), replayed);
    } else {
      this.confState = applyConfChangeEntry(this, entry, replayed);
    }
    this.appliedIndex = entry.index;
    this.recordDigest(entry);
    if (this.replayMembership !== null && this.appliedIndex === this.state.consistentIndex) this.endReplay();
    this.checkRevisionForward(`applying index ${entry.index}`);
  }

  private applyRequest(request: InternalRaftRequest, replayed: boolean): void {
    const { header, op } = request;
    if (replayed) {
      // Membership ops still move the replayed membership, so later conf changes are decided as before.
      if (this.replayMembership !== null) this.replayMembership = replayMembershipOp(this.replayMembership, op);
      return;
    }
    const outcome = this.state.apply(op);
    if (outcome.overQuota && !this.state.alarms.has('NOSPACE')) this.raiseNoSpace();
    if (header.member !== this.id) return;
    if (this.internalProposals.delete(header.id)) return;
    const waiter = this.proposals.take(header.id);
    if (waiter === undefined) return; // expired, or proposed by an earlier incarnation
    if (outcome.error !== null) this.replyError(waiter, outcome.error);
    else answerApplied(this, waiter, outcome.response);
  }

  private endReplay(): void {
    const replayed = this.replayMembership!;
    const stored = this.state.membership;
    assert(
      JSON.stringify(replayed.members) === JSON.stringify(stored.members) && JSON.stringify(replayed.removed) === JSON.stringify(stored.removed),
      () => `node ${this.id}: the membership replayed from the WAL differs from the backend's at index ${this.appliedIndex}`,
    );
    this.replayMembership = null;
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

  private recordDigest(entry: Entry): void {
    let digest = digestEntry(entry);
    if (entry.type === 'normal') digest = mixNumber(digest, entry.data.byteLength);
    this.stateDigests.set(entry.index, finalize32(mix32(digest, entry.term)));
    if (this.stateDigests.size > digestsKept) this.stateDigests.delete(entry.index - digestsKept);
  }

  private checkRevisionForward(what: string): void {
    const revision = this.state.kv.revision;
    assert(revision >= this.revision, () => `node ${this.id}'s revision went back from ${this.revision} to ${revision} ${what}`);
    this.revision = revision;
  }

  /** etcd's triggerSnapshot: every snapshotCount applied entries, snapshot and compact the log and the WAL. */
  private maybeSnapshot(): DurableWrite | null {
    const snapshotIndex = this.storage.snapshot().metadata.index;
    if (this.appliedIndex - snapshotIndex <= this.config.snapshotCount || this.replayMembership !== null) return null;
    return snapshotAndCompact(this.storage, this.hardState, this.appliedIndex, this.confState, this.state.backend.snapshot(), this.config.snapshotCatchUpEntries);
  }

  /** The applied state for a snapshot Raft asks for; while replaying, the stored one (the backend is ahead). */
  private appliedState(): { index: number; confState: ConfState; data: () => BackendImage } {
    const consistent = this.replayMembership === null && this.appliedIndex === this.state.consistentIndex;
    return { index: consistent ? this.appliedIndex : 0, confState: this.confState, data: () => this.state.backend.snapshot() };
  }

  /** The backend's commits go after the WAL writes of the same Ready, and never hold an entry the WAL writes do not. */
  private takeBackendWrites(writes: DurableWrite[]): boolean {
    if (!this.state.backend.hasWrites) return false;
    for (const write of this.state.backend.takeWrites()) {
      for (const record of write.records) {
        if (!isBackendImage(record)) continue;
        assert(record.meta.consistentIndex <= this.walWrittenIndex, () => `node ${this.id} writes a backend commit at index ${record.meta.consistentIndex} ahead of its WAL (${this.walWrittenIndex})`);
      }
      writes.push(write);
    }
    return true;
  }

  // --- reads, time, replies ------------------------------------------------------------------

  /** Serves the read round once its index is applied, then starts the next. */
  serveReads(): void {
    const round = this.reads.takeServable(this.appliedIndex);
    if (round !== null) {
      for (const waiter of round.reads) {
        this.servedReads.push({ client: waiter.client, id: waiter.id, readIndex: round.confirmedIndex, appliedIndex: this.appliedIndex });
        serveRead(this, waiter);
      }
      if (this.servedReads.length > servedReadsKept) this.servedReads.splice(0, this.servedReads.length - servedReadsKept);
    }
    this.reads.maybeStart(this.softState.lead, this.ticks, () => this.sendReadIndex());
  }

  private sendReadIndex(): string {
    const context = `${this.id}/${this.requestIds.nextId()}`;
    this.raft.readIndex(context);
    return context;
  }

  private commitBackendPeriodically(): void {
    if (this.ticks % this.config.backendBatchIntervalTicks !== 0) return;
    const backend = this.state.backend;
    backend.commit();
    if (backend.commitsSinceReplace >= this.config.backendFileCommitsMax) backend.rewriteFile();
  }

  private stepCompaction(): void {
    const kv = this.state.kv;
    for (let i = 0; i < this.config.compactionBatchesPerTick && kv.compacting; i++) kv.stepCompaction();
    if (kv.compacting || this.compactionWaiters.length === 0) return;
    // etcd forces a commit once a physical compaction is done, so a crash does not resume it.
    this.state.backend.commit();
    for (const { waiter, response } of this.compactionWaiters) answerApplied(this, waiter, response);
    this.compactionWaiters = [];
  }

  private expireWaiters(): void {
    const config = this.config;
    for (const waiter of this.proposals.expire(this.ticks, config.requestTimeoutTicks)) this.replyError(waiter, this.timeoutError(waiter));
    for (const waiter of this.reads.tick(this.ticks, config.readIndexRetryTicks, config.requestTimeoutTicks, () => this.sendReadIndex(), (read) => read.sinceTick)) {
      this.replyError(waiter, ErrTimeout);
    }
    for (const waiter of this.leaderWaiters.expire(this.ticks, config.electionTicks)) this.replyError(waiter, ErrNoLeader);
    this.expireTransfers();
  }

  private expireTransfers(): void {
    if (this.transferWaiters.length === 0) return;
    const timeout = this.config.requestTimeoutTicks;
    for (const { waiter } of this.transferWaiters) if (this.ticks - waiter.sinceTick >= timeout) this.replyError(waiter, ErrTimeoutLeaderTransfer);
    this.transferWaiters = this.transferWaiters.filter(({ waiter }) => this.ticks - waiter.sinceTick < timeout);
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
    const id = this.requestIds.nextId();
    this.internalProposals.add(id);
    this.proposeInternal({ header: { member: this.id, id }, op: { kind: 'memberAttributes', id: this.id, name, clientURLs: [...clientURLs] } });
  }

  /** The NOSPACE alarm, raised through Raft by the member that saw the quota exceeded. */
  raiseNoSpace(): void {
    const id = this.requestIds.nextId();
    this.internalProposals.add(id);
    this.proposeInternal({ header: { member: this.id, id }, op: { kind: 'alarm', request: { action: 'ACTIVATE', memberID: this.id, alarm: 'NOSPACE' } } });
  }

  /** Proposes a request no client waits for (dropped without a leader; it is retried by whoever needs it). */
  proposeInternal(request: InternalRaftRequest): void {
    void this.raftPropose(request);
  }

  /** Hands a request to Raft; false when Raft dropped it (no leader known, or a leader transfer). */
  raftPropose(request: InternalRaftRequest): boolean {
    return this.raft.propose(encodeInternalRequest(request)) !== 'proposal-dropped';
  }

  header(revision: number): { clusterId: number; memberId: number; revision: number; raftTerm: number } {
    return { clusterId: this.config.clusterId, memberId: this.id, revision, raftTerm: this.hardState.term };
  }

  reply(waiter: Waiter, reply: ServerReply): void {
    this.replies.push({ client: waiter.client, id: waiter.id, reply, beforeSync: !answersLocalWrite(waiter.request) });
  }

  replyError(waiter: Waiter, error: EtcdError): void {
    this.reply(waiter, { method: waiter.request.method, error });
  }

  /** Asks for the next Ready to sync its writes (a defragmentation, which a reply promises durable). */
  syncNextReady(): void {
    this.syncNext = true;
  }

  /** This member applied its own removal: stop serving (etcd stops the server), fail what waits. */
  stopIfRemoved(): void {
    if (this.stopped || !this.state.membership.isRemoved(this.id)) return;
    this.stopped = true;
    const waiting = [...this.proposals.drain(), ...this.reads.drain(), ...this.leaderWaiters.takeAll()];
    for (const waiter of waiting) this.replyError(waiter, ErrStopped);
  }

  /** Whether the member's backend holds nothing beyond what the state says (for checkers). */
  get consistentIndex(): number {
    return this.state.consistentIndex;
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

function replayMembershipOp(membership: Membership, op: InternalOp): Membership {
  if (op.kind !== 'memberUpdate' && op.kind !== 'memberAttributes') return membership;
  const changed = membershipAfter(membership, op);
  return 'error' in changed ? membership : changed.membership;
}
