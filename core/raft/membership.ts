import { assert } from '../base/assert.ts';
import { ConfChanger, type ChangeResult, restoreConfState } from './confChanger.ts';
import { type ConfChange, enterJoint, isLeaveJoint } from './entry.ts';
import type { ProgressMap, TrackerConfig } from './progressTracker.ts';
import type { Raft } from './raft.ts';
import { bcastAppend, maybeSendAppend } from './replication.ts';
import { handOffLeadership } from './stepLeader.ts';
import { type ConfState, confStatesEqual, None, type Snapshot } from './state.ts';

/*
 * Membership: applying conf changes (§4.1 single changes, §4.3 joint consensus), installing a
 * configuration, and restoring one from a snapshot received from the leader.
 */

/**
 * Replaces the log with a snapshot from the leader. False if it is stale or redundant (our log
 * already has its last entry: then only the commit index moves).
 */
export function restore(raft: Raft, snapshot: Snapshot): boolean {
  const { index, term, confState } = snapshot.metadata;
  if (index <= raft.log.committed) return false;
  if (raft.role !== 'follower') {
    // Defense in depth: only followers receive snapshots.
    raft.logger?.warn(`${raft.id} attempted to restore snapshot as leader; should never happen`);
    raft.becomeFollower(raft.term + 1, None);
    return false;
  }
  const member = [...confState.voters, ...confState.learners, ...confState.votersOutgoing].includes(raft.id);
  if (!member) {
    raft.logger?.warn(`${raft.id} attempted to restore snapshot but it is not in the ConfState ${JSON.stringify(confState)}; should never happen`);
    return false;
  }
  if (raft.log.matchTerm(index, term)) {
    raft.logger?.info(
      `${raft.id} [commit: ${raft.log.committed}, lastindex: ${raft.log.lastIndex()}, lastterm: ${raft.log.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
    );
    raft.log.commitTo(index);
    return false;
  }
  raft.log.restore(snapshot);
  const restored = restoreConfState(raft.tracker, raft.log.lastIndex(), confState);
  assert(restored.ok, () => `unable to restore config ${JSON.stringify(confState)}: ${restored.ok ? '' : restored.error}`);
  assertConfStatesEquivalent(confState, switchToConfig(raft, restored.config, restored.progress));
  raft.logger?.info(
    `${raft.id} [commit: ${raft.log.committed}, lastindex: ${raft.log.lastIndex()}, lastterm: ${raft.log.lastTerm()}] restored snapshot [index: ${index}, term: ${term}]`,
  );
  return true;
}

/**
 * Applies a committed conf change (the application calls this when it applies the entry) and
 * returns the new configuration. A change the changer refuses is a programmer error here: the
 * application must first ask `checkConfChange` and skip a committed change that no longer fits
 * (the leader's checks at proposal time cannot see every change committed before it, as etcd's
 * server knows: it validates each change again when it applies it).
 */
export function applyConfChange(raft: Raft, change: ConfChange): ConfState {
  const result = changeResult(raft, change);
  assert(result.ok, () => `conf change ${JSON.stringify(change.changes)} refused: ${result.ok ? '' : result.error}`);
  return switchToConfig(raft, result.config, result.progress);
}

/** Why `change` cannot be applied to the configuration in force (e.g. it removes every voter), or null. */
export function checkConfChange(raft: Raft, change: ConfChange): string | null {
  const result = changeResult(raft, change);
  return result.ok ? null : result.error;
}

function changeResult(raft: Raft, change: ConfChange): ChangeResult {
  const changer = new ConfChanger(raft.tracker, raft.log.lastIndex());
  if (isLeaveJoint(change)) return changer.leaveJoint();
  const joint = enterJoint(change);
  return joint.enter ? changer.enterJoint(joint.autoLeave, change.changes) : changer.simple(change.changes);
}

/** Installs a configuration and reacts to it: step down if removed, commit or probe if leader. */
export function switchToConfig(raft: Raft, config: TrackerConfig, progress: ProgressMap): ConfState {
  raft.tracker.switchTo(config, progress);
  raft.tracker.checkInvariants();
  raft.logger?.info(`${raft.id} switched to configuration ${config.describe()}`);
  const confState = config.confState();
  const self = progress.get(raft.id);
  raft.isLearner = self !== undefined && self.isLearner;
  if ((self === undefined || raft.isLearner) && raft.role === 'leader' && raft.stepDownOnRemoval) {
    // Removed or demoted while leading: hand leadership on (see handOffLeadership), or, with no
    // voter left to take it, step down.
    if (!handOffLeadership(raft)) {
      raft.becomeFollower(raft.term, None);
      return confState;
    }
  }
  if (raft.role !== 'leader' || confState.voters.length === 0) return confState;
  // A smaller quorum may commit more now; new members get probed without waiting.
  if (raft.maybeCommit()) bcastAppend(raft);
  else raft.tracker.visit((id) => id !== raft.id && maybeSendAppend(raft, id));
  if (raft.leadTransferee !== None && !config.voters.has(raft.leadTransferee)) raft.abortLeaderTransfer();
  return confState;
}

export function assertConfStatesEquivalent(expected: ConfState, actual: ConfState): void {
  assert(confStatesEqual(expected, actual), () => `conf state ${JSON.stringify(actual)} differs from the one restored ${JSON.stringify(expected)}`);
}
