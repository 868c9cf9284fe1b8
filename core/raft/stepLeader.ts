import { assert } from '../base/assert.ts';
import { describeConfChange } from './describe.ts';
import { type Entry, isLeaveJoint, normalEntry } from './entry.ts';
import { makeMessage, type Message } from './message.ts';
import type { Progress } from './progress.ts';
import type { Raft, StepResult } from './raft.ts';
import { bcastAppend, bcastHeartbeat, maybeSendAppend, sendTimeoutNow } from './replication.ts';
import { None } from './state.ts';

/** A leader's tick: heartbeats every heartbeatTimeout; check-quorum and transfer timeouts every electionTimeout. */
export function tickHeartbeat(raft: Raft): void {
  raft.heartbeatElapsed++;
  raft.electionElapsed++;
  if (raft.electionElapsed >= raft.electionTimeout) {
    raft.electionElapsed = 0;
    if (!raft.snapshotStatusReported) retryStaleSnapshots(raft);
    if (raft.checkQuorum) checkQuorum(raft);
    // A transfer that has not completed within an election timeout is given up (thesis §3.10);
    // a leader outside its own configuration then tries again, to whoever is best placed now.
    if (raft.role === 'leader' && raft.leadTransferee !== None) {
      raft.abortLeaderTransfer();
      if (isOutsideConfig(raft) && raft.stepDownOnRemoval) handOffLeadership(raft);
    }
  }
  if (raft.role !== 'leader') return;
  if (raft.heartbeatElapsed >= raft.heartbeatTimeout) {
    raft.heartbeatElapsed = 0;
    bcastHeartbeat(raft);
  }
}

/**
 * A snapshot still unanswered after a full election timeout is presumed lost, and the follower is
 * probed again (which sends a new one if it still needs it). etcd-io/raft leaves this to the
 * application's ReportSnapshot; a network that reports nothing needs this (the simulator's Raft
 * family: its etcd family's network reports, as the runtime's transport does). Not
 * when the host reports every snapshot (`snapshotStatusReported`, the runtime): a large snapshot
 * takes longer than that to encode, send, decode and install (200 MiB: 2-40 s), and each retry
 * was another whole snapshot for the follower (the leader sent one 2-4 times per catch-up).
 */
function retryStaleSnapshots(raft: Raft): void {
  raft.tracker.visit((id, progress) => {
    if (progress.state !== 'snapshot') return;
    if (!progress.snapshotStale) {
      progress.snapshotStale = true;
      return;
    }
    raft.logger?.debug(`${raft.id} snapshot to ${id} unanswered for an election timeout; probing again [${progress.describe()}]`);
    progress.pendingSnapshot = 0;
    progress.becomeProbe();
  });
}

/** Steps down unless a quorum was heard from since the last check; then starts a new interval. */
function checkQuorum(raft: Raft): void {
  // A leader outside its configuration keeps handing off instead: stepping down would leave it a
  // non-promotable follower with perhaps the longest log, whose vote the others may still need.
  if (!raft.tracker.quorumActive() && !(isOutsideConfig(raft) && raft.stepDownOnRemoval)) {
    raft.logger?.warn(`${raft.id} stepped down to follower since quorum is not active`);
    raft.becomeFollower(raft.term, None);
  }
  raft.tracker.visit((id, progress) => {
    if (id !== raft.id) progress.recentActive = false;
  });
}

/** This node was removed from (or demoted in) the configuration it leads. */
export function isOutsideConfig(raft: Raft): boolean {
  const self = raft.tracker.get(raft.id);
  return self === undefined || self.isLearner;
}

/**
 * A leader that removed or demoted itself hands leadership to the remaining voter with the most
 * of its log, rather than stepping down at once: the others learn that the change is committed
 * only from the leader, and until they do they still count this node in their quorum; as a
 * non-promotable follower with perhaps the longest log it would refuse them its vote and never
 * campaign itself. (The 2,000-seed raft-membership sweep found that deadlock at seed 1632.) It
 * keeps leading, proposals refused, until the transferee takes over. False when no voter remains.
 */
export function handOffLeadership(raft: Raft): boolean {
  let best = None;
  let bestMatch = -1;
  raft.tracker.visit((id, progress) => {
    if (id === raft.id || progress.isLearner || progress.match <= bestMatch) return;
    best = id;
    bestMatch = progress.match;
  });
  if (best === None) return false;
  transferLeadership(raft, makeMessage({ type: 'MsgTransferLeader', from: raft.id, to: raft.id, index: best }));
  return true;
}

export function stepLeader(raft: Raft, m: Message): StepResult {
  switch (m.type) {
    case 'MsgProp':
      return propose(raft, m);
    case 'MsgReadIndex':
      readIndex(raft, m);
      return 'ok';
    case 'MsgTransferLeader':
      transferLeadership(raft, m);
      return 'ok';
    default:
      break;
  }
  // Everything else is from a member and needs its progress.
  const progress = raft.tracker.get(m.from);
  if (progress === undefined) {
    raft.logger?.debug(`${raft.id} no progress available for ${m.from}`);
    return 'ok';
  }
  switch (m.type) {
    case 'MsgAppResp':
      progress.recentActive = true;
      if (m.reject) handleAppendRejection(raft, m, progress);
      else handleAppendAck(raft, m, progress);
      break;
    case 'MsgHeartbeatResp':
      handleHeartbeatResponse(raft, m, progress);
      break;
    default:
      break;
  }
  return 'ok';
}

function propose(raft: Raft, m: Message): StepResult {
  assert(m.entries.length > 0, () => `${raft.id} stepped empty MsgProp`);
  // Removed from the configuration while leading: accept nothing new.
  if (raft.tracker.get(raft.id) === undefined) return 'proposal-dropped';
  if (raft.leadTransferee !== None) {
    raft.logger?.debug(`${raft.id} [term ${raft.term}] transfer leadership to ${raft.leadTransferee} is in progress; dropping proposal`);
    return 'proposal-dropped';
  }
  const entries = m.entries.map((entry, i) => checkConfChangeProposal(raft, entry, i));
  if (!raft.appendEntries(entries)) return 'proposal-dropped';
  bcastAppend(raft);
  return 'ok';
}

/**
 * A conf change may be proposed only when no other is pending, and must fit the joint state
 * (enter only from a simple config, leave only from a joint one). A refused change is replaced
 * by an empty entry, so that the proposal's other entries keep their places (etcd's behaviour).
 */
function checkConfChangeProposal(raft: Raft, entry: Entry, position: number): Entry {
  if (entry.type !== 'confChange') return entry;
  const alreadyPending = raft.pendingConfIndex > raft.log.applied;
  const alreadyJoint = raft.tracker.config.voters.isJoint;
  const wantsLeaveJoint = isLeaveJoint(entry.change);
  let failedCheck = '';
  if (alreadyPending) failedCheck = `possible unapplied conf change at index ${raft.pendingConfIndex} (applied to ${raft.log.applied})`;
  else if (alreadyJoint && !wantsLeaveJoint) failedCheck = 'must transition out of joint config first';
  else if (!alreadyJoint && wantsLeaveJoint) failedCheck = 'not in joint state; refusing empty conf change';
  if (failedCheck !== '' && !raft.disableConfChangeValidation) {
    raft.logger?.info(`${raft.id} ignoring conf change ${describeConfChange(entry.change)} at config ${raft.tracker.config.describe()}: ${failedCheck}`);
    return normalEntry(new Uint8Array(0));
  }
  raft.pendingConfIndex = raft.log.lastIndex() + position + 1;
  return entry;
}

/**
 * ReadIndex (thesis §6.4): the read index is the commit index now, confirmed by a heartbeat round
 * (or the lease). A new leader must first commit an entry of its own term, or its commit index
 * could lag what earlier leaders committed; until then requests wait.
 */
function readIndex(raft: Raft, m: Message): void {
  // Alone only if the one voter is this leader: a leader that removed itself and is handing
  // leadership to the one voter left must confirm with it like any other, or it answers at its own
  // commit after that voter has led and committed more (a stale read: raft-membership-admins seed 102).
  if (raft.tracker.isSingleton() && !isOutsideConfig(raft)) {
    raft.respondToReadIndex(m, raft.log.committed);
    return;
  }
  if (!raft.committedEntryInCurrentTerm()) {
    raft.pendingReadIndexMessages.push(m);
    return;
  }
  sendReadIndexResponse(raft, m);
}

export function sendReadIndexResponse(raft: Raft, m: Message): void {
  switch (raft.readOnly.option) {
    case 'safe':
      raft.readOnly.addRequest(raft.log.committed, m);
      // The leader acknowledges its own heartbeat round.
      raft.readOnly.recvAck(raft.id, m.context);
      bcastHeartbeat(raft, m.context);
      break;
    case 'lease-based':
      raft.respondToReadIndex(m, raft.log.committed);
      break;
  }
}

/** Releases the ReadIndex requests that waited for an entry of this term to commit. */
export function releasePendingReadIndexMessages(raft: Raft): void {
  if (raft.pendingReadIndexMessages.length === 0) return;
  if (!raft.committedEntryInCurrentTerm()) return;
  const pending = raft.pendingReadIndexMessages;
  raft.pendingReadIndexMessages = [];
  for (const m of pending) sendReadIndexResponse(raft, m);
}

/**
 * Fast backtracking: the follower's hint (rejectHint, logTerm) says where its log might match.
 * Every index in our log whose term exceeds the hint's term cannot match (terms only grow along
 * a log), so the next probe skips all of them: at most one probe per term in our log.
 */
function handleAppendRejection(raft: Raft, m: Message, progress: Progress): void {
  raft.logger?.debug(`${raft.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`);
  let nextProbeIndex = m.rejectHint;
  if (m.logTerm > 0) nextProbeIndex = raft.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
  if (progress.maybeDecrTo(m.index, nextProbeIndex)) {
    raft.logger?.debug(`${raft.id} decreased progress of ${m.from} to [${progress.describe()}]`);
    if (progress.state === 'replicate') progress.becomeProbe();
    maybeSendAppend(raft, m.from);
  }
}

function handleAppendAck(raft: Raft, m: Message, progress: Progress): void {
  const updated = progress.maybeUpdate(m.index);
  // A probe answered at the known match index still proves the follower is reachable and matched;
  // so does an answer covering the pending snapshot (it may have been ignored as already covered).
  const probeMatched = progress.match === m.index && progress.state === 'probe';
  const snapshotCovered = progress.state === 'snapshot' && m.index >= progress.pendingSnapshot;
  if (!updated && !probeMatched && !snapshotCovered) return;
  switch (progress.state) {
    case 'probe':
      progress.becomeReplicate();
      break;
    case 'snapshot':
      if (progress.match + 1 >= raft.log.firstIndex()) {
        // Whatever index the follower reached, once our log can continue from it, replicate.
        raft.logger?.debug(`${raft.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${progress.describe()}]`);
        progress.becomeProbe();
        progress.becomeReplicate();
      } else if (snapshotCovered) {
        // The follower has what the snapshot held, but the log was compacted further meanwhile
        // (etcd-io/raft stays in StateSnapshot here until ReportSnapshot): probe again, which
        // sends a newer snapshot.
        raft.logger?.debug(`${raft.id} snapshot to ${m.from} is covered but the log moved on; probing again [${progress.describe()}]`);
        progress.becomeProbe();
      }
      break;
    case 'replicate':
      progress.inflights.freeLE(m.index);
      break;
  }
  if (raft.maybeCommit()) {
    // An entry of this term is committed: waiting ReadIndex requests may proceed.
    releasePendingReadIndexMessages(raft);
    bcastAppend(raft);
  }
  if (m.from !== raft.id) {
    // The window may have room for several messages now.
    while (maybeSendAppend(raft, m.from)) {
      // keep sending
    }
  }
  if (m.from === raft.leadTransferee && progress.match === raft.log.lastIndex()) {
    raft.logger?.info(`${raft.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
    sendTimeoutNow(raft, m.from);
  }
}

function handleHeartbeatResponse(raft: Raft, m: Message, progress: Progress): void {
  progress.recentActive = true;
  // An answer proves the follower is reachable: resume probing (this also recovers a window
  // whose messages were all lost).
  progress.msgAppProbesPaused = false;
  maybeSendAppend(raft, m.from);
  if (raft.readOnly.option !== 'safe' || m.context === '') return;
  const acks = raft.readOnly.recvAck(m.from, m.context);
  if (raft.tracker.config.voters.voteResult(acks) !== 'won') return;
  for (const status of raft.readOnly.advance(m.context)) raft.respondToReadIndex(status.request, status.index);
}

/**
 * Thesis §3.10: bring the transferee up to date, then tell it to campaign at once (MsgTimeoutNow).
 * Proposals are refused meanwhile; the transfer is given up after an election timeout.
 */
function transferLeadership(raft: Raft, m: Message): void {
  const transferee = m.index;
  const progress = raft.tracker.get(transferee);
  if (progress === undefined) {
    raft.logger?.debug(`${raft.id} no progress available for ${transferee}`);
    return;
  }
  if (progress.isLearner) {
    raft.logger?.debug(`${raft.id} is learner. Ignored transferring leadership`);
    return;
  }
  const last = raft.leadTransferee;
  if (last !== None) {
    if (last === transferee) {
      raft.logger?.info(`${raft.id} [term ${raft.term}] transfer leadership to ${transferee} is in progress, ignores request to same node ${transferee}`);
      return;
    }
    raft.abortLeaderTransfer();
    raft.logger?.info(`${raft.id} [term ${raft.term}] abort previous transferring leadership to ${last}`);
  }
  if (transferee === raft.id) {
    raft.logger?.debug(`${raft.id} is already leader. Ignored transferring leadership to self`);
    return;
  }
  raft.logger?.info(`${raft.id} [term ${raft.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within one election timeout, counted from now.
  raft.electionElapsed = 0;
  raft.leadTransferee = transferee;
  if (progress.match === raft.log.lastIndex()) {
    sendTimeoutNow(raft, transferee);
    raft.logger?.info(`${raft.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
  } else {
    maybeSendAppend(raft, transferee);
  }
}

/** The application reports that a snapshot sent to `id` was applied (or failed). */
export function reportSnapshot(raft: Raft, id: number, failed: boolean): void {
  const progress = raft.tracker.get(id);
  if (raft.role !== 'leader' || progress === undefined || progress.state !== 'snapshot') return;
  // On failure forget the snapshot, or probing would start past it.
  if (failed) progress.pendingSnapshot = 0;
  progress.becomeProbe();
  raft.logger?.debug(`${raft.id} snapshot ${failed ? 'failed' : 'succeeded'}, resumed sending replication messages to ${id} [${progress.describe()}]`);
  // Wait for the follower's answer (or, after a failure, a heartbeat interval) before the next MsgApp.
  progress.msgAppProbesPaused = true;
}

/** The transport could not deliver to `id`: an optimistic stream most likely lost messages. */
export function reportUnreachable(raft: Raft, id: number): void {
  const progress = raft.tracker.get(id);
  if (raft.role !== 'leader' || progress === undefined) return;
  if (progress.state === 'replicate') progress.becomeProbe();
  raft.logger?.debug(`${raft.id} failed to send message to ${id} because it is unreachable [${progress.describe()}]`);
}
