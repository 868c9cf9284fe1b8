import { assert, AssertionError } from '../base/assert.ts';
import { decodeNumbers, encodeNumbers, numberAt } from '../base/bytes.ts';
import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { ClientId, ClientReply, DurableWrite, HostedNode, NodeId, NodeReady, NodeStart, Outbound, RequestId } from '../host/node.ts';
import {
  digestEntry,
  emptyConfState,
  type MemoryStorage,
  RawNode,
  snapshotOnDemand,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Ready,
  type Snapshot,
  type SoftState,
  waitsForDurability,
} from '../raft/index.ts';
import type { RaftNodeView } from './raftNodeView.ts';
import { leftConfiguration, readdsRemoved, refusesPeer, withRemoved } from './removedMembers.ts';
import { takeUrgentHeartbeats } from './urgentMessages.ts';
import { compactedWal, persistToStorage, readyWrites, recoverWal, snapshotAndCompact, walFile, type WalRecord } from './wal.ts';

// Shared empty lists for a Ready that hands out nothing of a kind (the types keep them empty).
const noWrites: readonly DurableWrite[] = [];
const noOutbound: readonly Outbound<Message>[] = [];
const noReplies: readonly ClientReply<LogReply>[] = [];

/** A Raft message as the host sends it: heartbeats and appends may leave before the sync (node.ts). */
function outbound(message: Message): Outbound<Message> {
  return { to: message.to, message, beforeSync: !waitsForDurability(message.type) };
}

/**
 * A replicated log: the smallest useful application of Raft, used by the Raft scenario family.
 * Clients append numbers and read the log's length and digest; an admin changes the membership.
 * Everything Raft needs from a host is done here as the etcd server will do it: the WAL is written
 * from each Ready, the state is rebuilt from the WAL on restart, snapshots are taken every so many
 * entries and the log compacted behind them, and replies leave only after their entry is applied
 * and durable.
 */
export interface LogReplicaConfig {
  /** The members of the first configuration; every other machine starts without one and waits to be added. */
  readonly initialVoters: readonly NodeId[];
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  /** A snapshot (and WAL compaction) every this many applied entries. */
  readonly snapshotEveryEntries: number;
  /** Entries kept behind a snapshot, so a follower a little behind still gets entries. */
  readonly catchUpEntries: number;
  /** Requests waiting for their entry or read point, at most; more are refused. */
  readonly pendingRequestsMax: number;
  /** A waiting request is forgotten after this many ticks (its client has long given up). */
  readonly requestTicksMax: number;
}

export type LogRequest =
  | { readonly kind: 'append'; readonly value: number }
  | { readonly kind: 'read' }
  | { readonly kind: 'conf-change'; readonly change: ConfChange }
  | { readonly kind: 'transfer-leader'; readonly to: NodeId };

export type LogReply =
  | { readonly kind: 'appended'; readonly index: number }
  /** The log as of a linearizable read point: its applied index, how many values, their digest. */
  | { readonly kind: 'read'; readonly index: number; readonly length: number; readonly digest: number }
  /** The configuration after the change, and every id removed so far (an admin must not add them again). */
  | { readonly kind: 'conf-changed'; readonly index: number; readonly confState: ConfState; readonly removed: readonly NodeId[] }
  | { readonly kind: 'transfer-started' }
  /** Surely not done: the proposal never entered any log, or the request was refused. */
  | { readonly kind: 'error'; readonly reason: 'proposal-dropped' | 'too-many-requests' | 'conf-change-refused' | 'stopped' };

/**
 * The application state in a snapshot: the first `count` values, the index of each, and the state
 * digest. The arrays are copies (`count` long): a snapshot is written to the disk, which holds
 * records as they were written (the simulated one freezes them), so it cannot share the arrays
 * the replica goes on appending to.
 */
export interface LogSnapshotData {
  readonly values: readonly number[];
  readonly valueIndexes: readonly number[];
  readonly count: number;
  readonly digest: number;
  /** The ids removed from the configuration so far (never to be added again, as in etcd). */
  readonly removed: readonly NodeId[];
}

interface Waiting {
  readonly client: ClientId;
  readonly id: RequestId;
  readonly sinceTick: number;
}

export class LogReplica implements HostedNode<Message, LogRequest, LogReply>, RaftNodeView {
  readonly id: NodeId;
  readonly raft: RawNode;
  readonly storage: MemoryStorage;
  private readonly config: LogReplicaConfig;
  /**
   * The applied values, in log order, and the log index of each (ascending). Append-only; a restore
   * replaces them.
   */
  values: number[] = [];
  valueIndexes: number[] = [];
  /** The state digest after each applied index (sparse: a snapshot skips the indexes it covers). */
  readonly stateDigests = new Map<number, number>();
  appliedIndex = 0;
  stateDigest = 0;
  confState: ConfState = emptyConfState;
  /**
   * Every id an applied conf change took out of the configuration, ascending: etcd's removed
   * members. Their messages are refused and they are never added again (removedMembers.ts).
   */
  removed: readonly NodeId[] = [];
  /**
   * The configuration in force when the commit index last moved (as the Ready that carried it was
   * taken, before its entries were applied): the one that commit index was counted in.
   */
  commitCountedIn: ConfState = emptyConfState;
  /** The hard state as last handed to the host for persisting (or recovered). */
  hardState: HardState;
  softState: SoftState = { lead: 0, role: 'follower' };
  private ticks = 0;
  /**
   * This member applied its own removal and serves no more requests: each is refused at once, so
   * its clients go elsewhere as they would from a stopped etcd. Its Raft keeps running, as the
   * etcd member's does here (core/server's stopIfRemoved): see ARCHITECTURE, removed members.
   */
  stopped = false;
  /** A peer refused us as removed (we never applied our removal): our election clock stops. */
  private told = false;
  private readonly proposals = new Map<number, Waiting>();
  private readonly reads = new Map<string, Waiting>();
  /** Read points answered by Raft, waiting for the applied index to reach them. */
  private readsAwaitingApply: { readonly index: number; readonly waiting: Waiting }[] = [];
  private writes: DurableWrite[] = [];
  private replies: ClientReply<LogReply>[] = [];
  private readyOut = false;
  private raftReadyOut = false;

  constructor(start: NodeStart, config: LogReplicaConfig) {
    this.id = start.id;
    this.config = config;
    const recovered = recoverWal(start.durable);
    this.storage = recovered.storage;
    this.hardState = recovered.hardState;
    // A torn tail is cut off before anything is appended after it (etcd's WAL repair).
    if (recovered.torn) this.writes.push(compactedWal(recovered.storage, recovered.hardState));
    if (recovered.records === 0 && config.initialVoters.includes(start.id)) this.bootstrap(config.initialVoters);
    const snapshot = recovered.storage.snapshot();
    if (snapshot.metadata.index > 0) this.restore(snapshot);
    this.raft = new RawNode({
      id: start.id,
      storage: snapshotOnDemand(this.storage, () => ({ index: this.appliedIndex, confState: this.confState, data: () => this.snapshotData() })),
      random: start.random,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      maxSizePerMsg: config.maxSizePerMsg,
      maxInflightMsgs: config.maxInflightMsgs,
      preVote: config.preVote,
      checkQuorum: config.checkQuorum,
      applied: this.appliedIndex,
    });
    // The configuration in force: from the snapshot, or the bootstrap voters on a first start.
    this.confState = this.raft.status().config;
  }

  /**
   * A first boot of an initial member: the initial configuration goes into the log as a snapshot
   * at index 1, term 1 (where etcd-io/raft's Bootstrap appends one conf change per member), so that
   * it is durable like any configuration, and a member added later learns it from a snapshot.
   */
  private bootstrap(voters: readonly NodeId[]): void {
    const confState: ConfState = { ...emptyConfState, voters: [...voters].sort((a, b) => a - b) };
    const snapshot: Snapshot = { metadata: { index: 1, term: 1, confState }, data: Object.freeze({ values: [], valueIndexes: [], count: 0, digest: 0, removed: [] } satisfies LogSnapshotData) };
    const hardState: HardState = { term: 1, vote: 0, commit: 1 };
    this.storage.applySnapshot(snapshot);
    this.storage.setHardState(hardState);
    this.hardState = hardState;
    this.writes.push({
      kind: 'append',
      file: walFile,
      records: [
        { type: 'snapshot', snapshot },
        { type: 'hardState', hardState },
      ] satisfies WalRecord[],
    });
  }

  tick(): void {
    this.ticks++;
    // Told that it was removed, etcd's member halts. This one stops its election clock once it
    // neither leads nor follows a leader (a leader keeps ticking until check-quorum deposes it; a
    // follower's lease must run out, or it would refuse pre-votes forever: raft-membership seed
    // 135): it never campaigns again, yet still answers peers that count it (raft-joint-no-prevote
    // seed 1541: a told member kept campaigning and spent the vote of a new, empty voter that had
    // not heard of its removal).
    if (this.told && this.softState.role !== 'leader' && this.softState.lead === 0) return;
    this.raft.tick();
    this.forgetOldRequests();
  }

  receive(from: NodeId, message: Message): void {
    if (this.refuses(from)) return; // a host that did not ask first
    this.raft.step(message);
  }

  /**
   * etcd's transport refuses a removed member's messages: one that never learned of its removal
   * would otherwise depose every leader with ever higher terms (raft-joint-no-prevote seed 42).
   */
  refuses(from: NodeId): boolean {
    return refusesPeer(this.removed, this.confState, from);
  }

  /**
   * A peer refused our message: we were removed without applying it (cut off while it committed).
   * etcd's member stops on errMemberRemoved; this one stops serving, so its clients go elsewhere,
   * and stops campaigning (see `tick`).
   */
  removedBy(_by: NodeId): void {
    this.told = true;
    this.stop();
  }

  submit(client: ClientId, id: RequestId, request: LogRequest): void {
    const waiting: Waiting = { client, id, sinceTick: this.ticks };
    if (this.stopped) {
      this.reply(waiting, { kind: 'error', reason: 'stopped' });
      return;
    }
    if (request.kind === 'transfer-leader') {
      this.raft.transferLeadership(request.to);
      this.reply(waiting, { kind: 'transfer-started' });
      return;
    }
    if (this.proposals.size + this.reads.size + this.readsAwaitingApply.length >= this.config.pendingRequestsMax) {
      this.reply(waiting, { kind: 'error', reason: 'too-many-requests' });
      return;
    }
    const key = requestKey(client, id);
    switch (request.kind) {
      case 'append': {
        const result = this.raft.propose(encodeNumbers([client, id, request.value]));
        if (result === 'proposal-dropped') this.reply(waiting, { kind: 'error', reason: 'proposal-dropped' });
        else this.proposals.set(key, waiting);
        return;
      }
      case 'conf-change': {
        // etcd's ErrIDRemoved: a removed id is never added again (checked again when applied).
        if (readdsRemoved(this.removed, request.change) !== null) {
          this.reply(waiting, { kind: 'error', reason: 'conf-change-refused' });
          return;
        }
        const result = this.raft.proposeConfChange({ ...request.change, context: encodeNumbers([client, id]) });
        if (result === 'proposal-dropped') this.reply(waiting, { kind: 'error', reason: 'proposal-dropped' });
        else this.proposals.set(key, waiting);
        return;
      }
      case 'read': {
        // Unique per node: a forwarded read comes back to the node that asked.
        const context = `${this.id}/${client}/${id}`;
        this.reads.set(context, waiting);
        this.raft.readIndex(context);
        return;
      }
    }
  }

  hasReady(): boolean {
    return !this.readyOut && (this.writes.length > 0 || this.replies.length > 0 || this.raft.hasReady());
  }

  ready(): NodeReady<Message, LogReply> {
    assert(!this.readyOut, 'ready() twice without advance()');
    this.readyOut = true;
    // The Ready takes this node's lists when they hold something and the shared empty ones
    // otherwise: the simulator asks for hundreds of thousands of Readies per run.
    const writes = this.writes;
    let messages: readonly Outbound<Message>[] = noOutbound;
    let mustSync = false;
    if (this.raft.hasReady()) {
      const ready = this.raft.ready();
      this.raftReadyOut = true;
      if (ready.hardState !== null && ready.hardState.commit !== this.hardState.commit) this.commitCountedIn = this.confState;
      for (const write of readyWrites(ready)) writes.push(write);
      this.persistInMemory(ready);
      this.apply(ready);
      const compaction = this.maybeCompact();
      if (compaction !== null) writes.push(compaction);
      if (ready.messages.length > 0) messages = ready.messages.map(outbound);
      mustSync = ready.mustSync;
    }
    if (writes.length > 0) this.writes = [];
    // Taken last: applying the Ready above answers requests.
    const replies = this.replies;
    if (replies.length > 0) this.replies = [];
    return { writes: writes.length > 0 ? writes : noWrites, mustSync, messages, replies: replies.length > 0 ? replies : noReplies };
  }

  /** Heartbeats and their answers raised while a Ready waits for its sync (urgentMessages.ts). */
  takeUrgentMessages(): readonly Outbound<Message>[] {
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

  /** The Ready's snapshot, entries and hard state go into the in-memory storage Raft reads back. */
  private persistInMemory(ready: Ready): void {
    persistToStorage(this.storage, ready);
    if (ready.hardState !== null) this.hardState = ready.hardState;
    if (ready.softState !== null) this.softState = ready.softState;
  }

  private apply(ready: Ready): void {
    if (ready.snapshot !== null) this.restore(ready.snapshot);
    for (const entry of ready.committedEntries) this.applyEntry(entry);
    for (const state of ready.readStates) {
      const waiting = this.reads.get(state.requestContext);
      if (waiting === undefined) continue; // forgotten, or asked by an earlier incarnation
      this.reads.delete(state.requestContext);
      this.readsAwaitingApply.push({ index: state.index, waiting });
    }
    this.answerReads();
  }

  private applyEntry(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) throw new AssertionError(`node ${this.id} applies index ${entry.index} after ${this.appliedIndex}`);
    let digest = digestEntry(entry, this.stateDigest);
    if (entry.type === 'normal') {
      if (entry.data.byteLength > 0) {
        const client = numberAt(entry.data, 0);
        const id = numberAt(entry.data, 1);
        const value = numberAt(entry.data, 2);
        this.values.push(value);
        this.valueIndexes.push(entry.index);
        digest = mixNumber(digest, value);
        this.answer(requestKey(client, id), { kind: 'appended', index: entry.index });
      }
    } else {
      // A change committed after others it did not know of may no longer fit (the admin removed
      // voters from a stale view until none would be left, or re-added a removed id): skip it, as
      // etcd's server does.
      const readded = readdsRemoved(this.removed, entry.change);
      const refusal = readded !== null ? `node ${readded} was removed` : this.raft.checkConfChange(entry.change);
      if (refusal === null) {
        const before = this.confState;
        this.confState = this.raft.applyConfChange(entry.change);
        this.removed = withRemoved(this.removed, leftConfiguration(before, this.confState));
        this.stopIfRemoved();
      }
      digest = mix32(digest, refusal === null ? 1 : 2);
      if (entry.change.context.byteLength > 0) {
        const [client, id] = decodeNumbers(entry.change.context) as [number, number];
        const reply: LogReply = refusal === null ? { kind: 'conf-changed', index: entry.index, confState: this.confState, removed: this.removed } : { kind: 'error', reason: 'conf-change-refused' };
        this.answer(requestKey(client, id), reply);
      }
    }
    this.appliedIndex = entry.index;
    this.stateDigest = finalize32(digest);
    this.stateDigests.set(entry.index, this.stateDigest);
  }

  /** The value applied at log index `index`, or undefined when none was (or it is not applied yet). */
  valueAt(index: number): number | undefined {
    let low = 0;
    let high = this.valueIndexes.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const at = this.valueIndexes[middle]!;
      if (at === index) return this.values[middle];
      if (at < index) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  private answer(key: number, reply: LogReply): void {
    const waiting = this.proposals.get(key);
    if (waiting === undefined) return; // proposed elsewhere, or forgotten
    this.proposals.delete(key);
    this.reply(waiting, reply);
  }

  private answerReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    const stillWaiting: typeof this.readsAwaitingApply = [];
    for (const read of this.readsAwaitingApply) {
      if (read.index <= this.appliedIndex) {
        this.reply(read.waiting, { kind: 'read', index: this.appliedIndex, length: this.values.length, digest: mix32(this.stateDigest, this.values.length) });
      } else stillWaiting.push(read);
    }
    this.readsAwaitingApply = stillWaiting;
  }

  private restore(snapshot: Snapshot): void {
    const data = snapshot.data as LogSnapshotData;
    this.values = data.values.slice(0, data.count);
    this.valueIndexes = data.valueIndexes.slice(0, data.count);
    this.appliedIndex = snapshot.metadata.index;
    this.stateDigest = data.digest;
    this.stateDigests.set(snapshot.metadata.index, data.digest);
    this.confState = snapshot.metadata.confState;
    this.removed = data.removed;
    this.stopIfRemoved();
  }

  /**
   * Stops serving once this member applied its own removal (a voter removed by a joint change only
   * once it is left). What waits is forgotten, not failed: a proposal already forwarded may still
   * commit, so its client must see no answer (an unknown outcome), not a refusal.
   */
  private stopIfRemoved(): void {
    if (refusesPeer(this.removed, this.confState, this.id)) this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.proposals.clear();
    this.reads.clear();
    this.readsAwaitingApply = [];
  }

  /** Every `snapshotEveryEntries` applied entries: snapshot the state, compact the log and the WAL. */
  private maybeCompact(): DurableWrite | null {
    const snapshotIndex = this.storage.snapshot().metadata.index;
    if (this.appliedIndex - snapshotIndex < this.config.snapshotEveryEntries) return null;
    return snapshotAndCompact(this.storage, this.hardState, this.appliedIndex, this.confState, this.snapshotData(), this.config.catchUpEntries);
  }

  private snapshotData(): LogSnapshotData {
    return Object.freeze({ values: this.values.slice(), valueIndexes: this.valueIndexes.slice(), count: this.values.length, digest: this.stateDigest, removed: this.removed });
  }

  private reply(waiting: Waiting, reply: LogReply): void {
    // Answers rest on applied (so committed) entries or on read indexes: nothing this Ready writes.
    this.replies.push({ client: waiting.client, id: waiting.id, reply, beforeSync: true });
  }

  private forgetOldRequests(): void {
    const oldest = this.ticks - this.config.requestTicksMax;
    for (const [key, waiting] of this.proposals) if (waiting.sinceTick < oldest) this.proposals.delete(key);
    for (const [key, waiting] of this.reads) if (waiting.sinceTick < oldest) this.reads.delete(key);
    this.readsAwaitingApply = this.readsAwaitingApply.filter((read) => read.waiting.sinceTick >= oldest);
  }
}

/** Client ids stay below 2^20 and request ids below 2^32, so the key is an exact integer. */
function requestKey(client: ClientId, id: RequestId): number {
  return client * 0x1_0000_0000 + id;
}
