import { assert } from '../base/assert.ts';
import { type ConfState, confStatesEqual, describeConfState, type Entry, type Snapshot } from '../raft/index.ts';
import { applyConfChangeEntry } from './confChangeApply.ts';
import type { EtcdServer } from './etcdServer.ts';
import type { InternalOp, InternalRaftRequest } from './internalRequest.ts';
import { clearingCheckpointApplied } from './leaseApi.ts';
import type { Membership } from './membership.ts';
import { answerApplied } from './requestHandling.ts';
import { snapshotImage } from './serverStorage.ts';
import { membershipAfter, StateMachine, type ApplyOutcome } from './stateMachine.ts';
import type { DeleteRangeJob } from '../mvcc/index.ts';

/*
 * etcd's apply loop (server.go applyAll: applySnapshot, applyEntries, apply, applyEntryNormal),
 * one committed entry at a time, on the member's state.
 */

/**
 * A DeleteRange applied in slices (config.applySliceKeys), one per turn of the member's loop:
 * its entry is applied (answered, the applied index moved, its events handed to the watchers as
 * one revision) only after the last slice, and the committed entries after it wait in `queued`.
 * Raft's own applied index runs ahead meanwhile, as etcd's does past its apply goroutine.
 */
export interface SlicedApply {
  readonly entry: Entry;
  readonly header: InternalRaftRequest['header'];
  readonly op: InternalOp;
  readonly job: DeleteRangeJob;
  /** The revision before the delete (StateMachine's check at the end). */
  readonly before: number;
  readonly queued: Entry[];
}

/** Applies a committed entry now, or queues it behind a range delete still being applied in slices. */
export function applyCommitted(server: EtcdServer, entry: Entry): void {
  if (server.slicedApply === null) applyEntry(server, entry);
  else {
    server.slicedApply.queued.push(entry);
    server.slicing.queuedEntries++;
  }
}

/** Applies one committed entry, exactly once, in order (a range delete of many keys may end in a later turn: see SlicedApply). */
function applyEntry(server: EtcdServer, entry: Entry): void {
  assert(entry.index === server.appliedIndex + 1, () => `node ${server.id} applies index ${entry.index} after ${server.appliedIndex}`);
  // An entry the backend already holds (replayed after a restart) changes nothing there: etcd's
  // idempotent replay. Its conf change still reconfigures Raft, which restarted from the WAL's
  // snapshot. Every other entry sets the consistent index BEFORE its apply, so every commit from
  // here on holds the index with the writes (after the apply would be etcd #13766).
  const replayed = entry.index <= server.state.consistentIndex;
  if (replayed) server.replayedEntries++;
  else server.state.backend.setConsistentIndex(entry.index, entry.term);
  if (entry.type === 'normal') {
    if (entry.data.byteLength > 0 && applyRequest(server, entry, server.requests.takeRequest(entry.data), replayed)) return;
    // etcd promotes its lessor when the leader applies the empty entry of its term: every lease
    // granted, revoked or checkpointed before is known, and each is extended by an election timeout.
    if (entry.data.byteLength === 0 && server.softState.role === 'leader' && entry.term === server.hardState.term) {
      server.state.lessor.promote(server.ticks, server.config.electionTicks);
      server.leaseLog.promoted(entry.index, server.ticks, server.config.electionTicks);
    }
  } else {
    server.confState = applyConfChangeEntry(server, entry, replayed);
    assertConfStateIsRafts(server.id, entry.index, server.confState, server.raft.status().config);
  }
  entryApplied(server, entry);
}

/**
 * The server's ConfState is what its snapshots carry (and what it counts commits and refuses
 * peers by): after every conf change it applies it must be Raft's own configuration, or a
 * snapshot made from here on would hand a stale membership to every member that installs it.
 * Checked at the apply, the first wrong step (a conf change is rare: Raft's status is cheap here).
 */
export function assertConfStateIsRafts(member: number, index: number, server: ConfState, raft: ConfState): void {
  assert(confStatesEqual(server, raft), () => `member ${member} applied the conf change at index ${index} but keeps ConfState ${describeConfState(server)}, not Raft's ${describeConfState(raft)}: its snapshots would carry a stale membership`);
}

function entryApplied(server: EtcdServer, entry: Entry): void {
  server.appliedIndex = entry.index;
  server.stateDigests.record(entry);
  if (server.replayMembership !== null && server.appliedIndex === server.state.consistentIndex) endReplay(server);
  server.checkRevisionForward(`applying index ${entry.index}`);
  for (const listener of server.applyListeners) listener.onApplied(server, entry.index);
}

/**
 * The next slice of the range delete being applied; after its last, the entry is applied and
 * the entries queued behind it follow (one of them may start another sliced delete).
 */
export function continueSlicedApply(server: EtcdServer): void {
  const sliced = server.slicedApply;
  assert(sliced !== null, () => `node ${server.id} continues a sliced apply it does not have`);
  server.slicing.laterSlices++;
  if (!sliced.job.step(server.config.applySliceKeys)) return;
  server.slicedApply = null;
  applied(server, sliced.entry.index, sliced.header, sliced.op, server.state.finishDeleteRange(sliced.job, sliced.before));
  entryApplied(server, sliced.entry);
  for (const entry of sliced.queued) applyCommitted(server, entry);
}

/** Applies a request's op; true when it is a range delete that goes on in later turns (see SlicedApply). */
function applyRequest(server: EtcdServer, entry: Entry, request: InternalRaftRequest, replayed: boolean): boolean {
  const { header, op } = request;
  if (replayed) {
    // Membership ops still move the replayed membership, so later conf changes are decided as before.
    if (server.replayMembership !== null) server.replayMembership = replayMembershipOp(server.replayMembership, op);
    return false;
  }
  // A duplicated entry (a proposal the network delivered twice) applies once; the copy is a no-op.
  if (!server.state.requests.admit(header)) return false;
  const sliceKeys = server.config.applySliceKeys;
  if (op.kind === 'deleteRange' && sliceKeys > 0) {
    // Events carry prevKv: a watcher asking for it may come while the slices go on.
    server.state.kv.eventsCarryPrevKv = true;
    const { job, before } = server.state.beginDeleteRange(op);
    if (!job.step(sliceKeys)) {
      server.slicedApply = { entry, header, op, job, before, queued: [] };
      server.slicing.applies++;
      return true;
    }
    applied(server, entry.index, header, op, server.state.finishDeleteRange(job, before));
    return false;
  }
  server.state.kv.eventsCarryPrevKv = listenersWantPrevKv(server);
  applied(server, entry.index, header, op, server.state.apply(op));
  return false;
}

/** What follows an op's apply: the lease log, the watchers, the quota alarm, the proposer's answer. */
function applied(server: EtcdServer, index: number, header: InternalRaftRequest['header'], op: InternalOp, outcome: ApplyOutcome): void {
  for (const listener of server.applyListeners) listener.onOutcome?.(server, index, op, outcome);
  if (op.kind === 'leaseRevoke' && outcome.error === null) server.leaseLog.revoked(op.ID, index, server.state.kv.revision, outcome.events.length, op.expired === true);
  else if (op.kind === 'leaseCheckpoint') server.leaseLog.checkpointed(server.state.consistentIndex, op.checkpoints, server.state.lessor.primary, header.member, header.id);
  else if (op.kind === 'leaseGrant' && outcome.error === null && server.state.lessor.primary) server.leaseLog.refreshed(op.ID, server.ticks, index);
  for (const listener of server.applyListeners) if (outcome.events.length > 0) listener.onEvents(server, outcome.events, server.state.kv.revision);
  if (outcome.overQuota && !server.state.alarms.has('NOSPACE')) server.raiseNoSpace();
  if (header.member !== server.id) return;
  if (op.kind === 'leaseCheckpoint') clearingCheckpointApplied(server, header.id);
  if (server.waiters.takeInternal(header.id)) return;
  const waiter = server.waiters.proposals.take(header.id);
  if (waiter === undefined) return; // expired, or proposed by an earlier incarnation
  if (outcome.error !== null) server.replyError(waiter, outcome.error);
  else answerApplied(server, waiter, outcome.response);
}

/** Whether the apply's events must carry prevKv: a listener reads it (etcd reads prevKv only for a watcher with prev_kv). */
function listenersWantPrevKv(server: EtcdServer): boolean {
  for (const listener of server.applyListeners) if (listener.wantsPrevKv?.() ?? true) return true;
  return false;
}

/** A snapshot from the leader: the backend is replaced by its image, and the state rebuilt from it. */
export function installSnapshot(server: EtcdServer, snapshot: Snapshot): void {
  const image = snapshotImage(snapshot);
  assert(snapshot.metadata.index > server.appliedIndex, () => `node ${server.id} installs a snapshot at ${snapshot.metadata.index}, not after its applied index ${server.appliedIndex}`);
  // A range delete still being applied is dropped with its write transaction (the snapshot holds
  // its outcome), and so are the entries queued behind it: Raft sends a snapshot past its commit.
  const sliced = server.slicedApply;
  if (sliced !== null) {
    const last = sliced.queued.length > 0 ? sliced.queued[sliced.queued.length - 1]!.index : sliced.entry.index;
    assert(last <= snapshot.metadata.index, () => `node ${server.id} installs a snapshot at ${snapshot.metadata.index} under queued entries up to ${last}`);
    server.slicedApply = null;
    server.slicing.dropped++;
  }
  server.state = StateMachine.fromSnapshot(image, server.stateOptions);
  server.appliedIndex = snapshot.metadata.index;
  server.confState = snapshot.metadata.confState;
  server.replayMembership = null;
  // The digests before the jump would never be pruned: the applied indexes continue from here.
  server.stateDigests.clear();
  server.checkRevisionForward('installing a snapshot');
  for (const listener of server.applyListeners) listener.onRestored(server);
  server.stopIfRemoved();
}

/** Replay done: the membership decided entry by entry from the WAL's snapshot must be the backend's. */
function endReplay(server: EtcdServer): void {
  const replayed = server.replayMembership!;
  const stored = server.state.membership;
  assert(
    JSON.stringify(replayed.members) === JSON.stringify(stored.members) && JSON.stringify(replayed.removed) === JSON.stringify(stored.removed),
    () => `node ${server.id}: the membership replayed from the WAL differs from the backend's at index ${server.appliedIndex}`,
  );
  server.replayMembership = null;
}

function replayMembershipOp(membership: Membership, op: InternalOp): Membership {
  if (op.kind !== 'memberUpdate' && op.kind !== 'memberAttributes') return membership;
  const changed = membershipAfter(membership, op);
  return 'error' in changed ? membership : changed.membership;
}

