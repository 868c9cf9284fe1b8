import { assert } from '../base/assert.ts';
import { type Entry, payloadsSize } from './entry.ts';
import type { Progress } from './progress.ts';
import type { Raft } from './raft.ts';
import { isStorageError } from './storage.ts';
import type { NodeId } from './state.ts';

/**
 * Sends `to` what its progress allows: a MsgApp with the entries it lacks (cut to the maximum
 * message size, within the inflight window) and the commit index, or a snapshot when the entries
 * it needs are compacted. Returns whether a message was sent. An empty MsgApp is still sent when
 * the follower's commit index can move or its flow must be re-probed.
 */
export function maybeSendAppend(raft: Raft, to: NodeId): boolean {
  const progress = raft.tracker.get(to)!;
  const lastIndex = raft.log.lastIndex();
  const commit = raft.log.committed;
  if (!progress.shouldSendMsgApp(lastIndex, commit)) return false;

  const prevIndex = progress.next - 1;
  const prevTerm = raft.log.term(prevIndex);
  // The log was compacted past what the follower has: only a snapshot can catch it up.
  if (isStorageError(prevTerm)) return maybeSendSnapshot(raft, to, progress);

  let entries: readonly Entry[] = [];
  if (progress.canSendEntries(lastIndex)) {
    const found = raft.log.entries(progress.next, raft.maxMsgSize);
    if (isStorageError(found)) return maybeSendSnapshot(raft, to, progress);
    entries = found;
  }
  raft.send({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries, commit });
  progress.sentEntries(entries.length, payloadsSize(entries));
  progress.sentCommitIndex(commit);
  return true;
}

function maybeSendSnapshot(raft: Raft, to: NodeId, progress: Progress): boolean {
  // A follower that has not answered lately may be down: do not ship it a snapshot blindly.
  if (!progress.recentActive) {
    raft.logger?.debug(`ignore sending snapshot to ${to} since it is not recently active`);
    return false;
  }
  const snapshot = raft.log.snapshot();
  if (isStorageError(snapshot)) {
    raft.logger?.debug(`${raft.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
    return false;
  }
  const { index, term } = snapshot.metadata;
  assert(index !== 0, 'need non-empty snapshot');
  raft.logger?.debug(
    `${raft.id} [firstindex: ${raft.log.firstIndex()}, commit: ${raft.log.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${progress.describe()}]`,
  );
  progress.becomeSnapshot(index);
  raft.logger?.debug(`${raft.id} paused sending replication messages to ${to} [${progress.describe()}]`);
  raft.send({ type: 'MsgSnap', to, snapshot });
  return true;
}

/**
 * A heartbeat carries the commit index, but never past what the follower is known to match:
 * the follower must not commit an index its log may not hold (or hold differently).
 */
export function sendHeartbeat(raft: Raft, to: NodeId, context: string): void {
  const progress = raft.tracker.get(to)!;
  const commit = Math.min(progress.match, raft.log.committed);
  raft.send({ type: 'MsgHeartbeat', to, commit, context });
  progress.sentCommitIndex(commit);
}

export function bcastAppend(raft: Raft): void {
  raft.tracker.visit((id) => {
    if (id !== raft.id) maybeSendAppend(raft, id);
  });
}

/** Heartbeats to every member; they carry the newest pending ReadIndex context, if any. */
export function bcastHeartbeat(raft: Raft, context: string = raft.readOnly.lastPendingRequestContext()): void {
  raft.tracker.visit((id) => {
    if (id !== raft.id) sendHeartbeat(raft, id, context);
  });
}

export function sendTimeoutNow(raft: Raft, to: NodeId): void {
  raft.send({ type: 'MsgTimeoutNow', to });
}
