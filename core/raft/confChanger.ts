import { Inflights } from './inflights.ts';
import { JointConfig } from './jointConfig.ts';
import { emptyMajorityConfig, MajorityConfig } from './majorityConfig.ts';
import { Progress } from './progress.ts';
import { type ProgressMap, TrackerConfig } from './progressTracker.ts';
import type { ConfChangeSingle } from './entry.ts';
import { type ConfState, None, type NodeId } from './state.ts';

/** What a change starts from: a configuration and its progress (a ProgressTracker fits). */
export interface ChangeBase {
  readonly config: TrackerConfig;
  readonly progress: ReadonlyMap<NodeId, Progress>;
  readonly maxInflight: number;
  readonly maxInflightBytes: number;
}

export type ChangeResult =
  | { readonly ok: true; readonly config: TrackerConfig; readonly progress: ProgressMap }
  | { readonly ok: false; readonly error: string };

/**
 * Computes configuration changes without touching the tracker it starts from (etcd-io/raft's
 * confchange.Changer): the caller installs the result only when it is valid.
 *
 * - `simple` changes at most one voter (§4.1, one server at a time), outside a joint config.
 * - `enterJoint` copies the voters into the outgoing half and changes the incoming half (§4.3).
 * - `leaveJoint` drops the outgoing half, turning staged learners into learners.
 */
export class ConfChanger {
  private readonly tracker: ChangeBase;
  private readonly lastIndex: number;

  constructor(tracker: ChangeBase, lastIndex: number) {
    this.tracker = tracker;
    this.lastIndex = lastIndex;
  }

  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const draft = this.draft();
    if (draft.outgoing.size > 0) return fail("can't apply simple config change in joint config");
    const applied = this.apply(draft, changes);
    if (applied !== null) return fail(applied);
    if (symmetricDifference(this.tracker.config.voters.incoming.ids, draft.incoming) > 1) {
      return fail('more than one voter changed without entering joint config');
    }
    return finish(draft);
  }

  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const draft = this.draft();
    if (draft.outgoing.size > 0) return fail('config is already joint');
    // An empty configuration may be built up with simple changes (bootstrap, tests), not joined.
    if (draft.incoming.size === 0) return fail("can't make a zero-voter config joint");
    for (const id of draft.incoming) draft.outgoing.add(id);
    const applied = this.apply(draft, changes);
    if (applied !== null) return fail(applied);
    draft.autoLeave = autoLeave;
    return finish(draft);
  }

  leaveJoint(): ChangeResult {
    const draft = this.draft();
    if (draft.outgoing.size === 0) return fail("can't leave a non-joint config");
    for (const id of draft.learnersNext) {
      draft.learners.add(id);
      draft.progress.get(id)!.isLearner = true;
    }
    draft.learnersNext.clear();
    for (const id of draft.outgoing) {
      if (!draft.incoming.has(id) && !draft.learners.has(id)) draft.progress.delete(id);
    }
    draft.outgoing.clear();
    draft.autoLeave = false;
    return finish(draft);
  }

  /** Applies single changes to the incoming half; by convention the outgoing half is never changed. */
  private apply(draft: Draft, changes: readonly ConfChangeSingle[]): string | null {
    for (const change of changes) {
      // etcd's server zeroes the node id of a change it decided not to apply.
      if (change.nodeId === None) continue;
      switch (change.type) {
        case 'addNode':
          this.makeVoter(draft, change.nodeId);
          break;
        case 'addLearner':
          this.makeLearner(draft, change.nodeId);
          break;
        case 'removeNode':
          remove(draft, change.nodeId);
          break;
      }
    }
    if (draft.incoming.size === 0) return 'removed all voters';
    return null;
  }

  private makeVoter(draft: Draft, id: NodeId): void {
    const progress = draft.progress.get(id);
    if (progress === undefined) {
      this.initProgress(draft, id, false);
      return;
    }
    progress.isLearner = false;
    draft.learners.delete(id);
    draft.learnersNext.delete(id);
    draft.incoming.add(id);
  }

  /**
   * Adds a learner, or demotes a voter. A voter that is still in the outgoing half cannot be a
   * learner at the same time: it is staged in learnersNext until the joint config is left.
   */
  private makeLearner(draft: Draft, id: NodeId): void {
    const progress = draft.progress.get(id);
    if (progress === undefined) {
      this.initProgress(draft, id, true);
      return;
    }
    if (progress.isLearner) return;
    remove(draft, id);
    draft.progress.set(id, progress);
    if (draft.outgoing.has(id)) {
      draft.learnersNext.add(id);
    } else {
      progress.isLearner = true;
      draft.learners.add(id);
    }
  }

  private initProgress(draft: Draft, id: NodeId, isLearner: boolean): void {
    if (isLearner) draft.learners.add(id);
    else draft.incoming.add(id);
    draft.progress.set(
      id,
      new Progress({
        // Probing from the last index is optimistic; a new member most likely needs a snapshot,
        // which the first rejection reveals.
        match: 0,
        next: Math.max(this.lastIndex, 1),
        inflights: new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes),
        isLearner,
        // A new member counts as active, or check-quorum could depose the leader before the
        // member had a chance to answer.
        recentActive: true,
      }),
    );
  }

  private draft(): Draft {
    const config = this.tracker.config;
    const progress: ProgressMap = new Map();
    for (const [id, entry] of this.tracker.progress) progress.set(id, entry.clone());
    return {
      incoming: new Set(config.voters.incoming.ids),
      outgoing: new Set(config.voters.outgoing.ids),
      learners: new Set(config.learners.ids),
      learnersNext: new Set(config.learnersNext.ids),
      autoLeave: config.autoLeave,
      progress,
    };
  }
}

/** A configuration being edited. */
interface Draft {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
  progress: ProgressMap;
}

/** Removes a voter or learner from the incoming half; its progress stays while it is an outgoing voter. */
function remove(draft: Draft, id: NodeId): void {
  if (!draft.progress.has(id)) return;
  draft.incoming.delete(id);
  draft.learners.delete(id);
  draft.learnersNext.delete(id);
  if (!draft.outgoing.has(id)) draft.progress.delete(id);
}

function fail(error: string): ChangeResult {
  return { ok: false, error };
}

function finish(draft: Draft): ChangeResult {
  const config = new TrackerConfig({
    voters: new JointConfig(new MajorityConfig(draft.incoming), draft.outgoing.size > 0 ? new MajorityConfig(draft.outgoing) : emptyMajorityConfig),
    autoLeave: draft.autoLeave,
    learners: new MajorityConfig(draft.learners),
    learnersNext: new MajorityConfig(draft.learnersNext),
  });
  const error = checkInvariants(config, draft.progress);
  if (error !== null) return fail(error);
  return { ok: true, config, progress: draft.progress };
}

function checkInvariants(config: TrackerConfig, progress: ProgressMap): string | null {
  for (const id of [...config.voters.ids(), ...config.learners.ids, ...config.learnersNext.ids]) {
    if (!progress.has(id)) return `no progress for ${id}`;
  }
  for (const id of config.learnersNext.ids) {
    if (!config.voters.outgoing.has(id)) return `${id} is in learnersNext, but not an outgoing voter`;
    if (progress.get(id)!.isLearner) return `${id} is in learnersNext, but is already marked as learner`;
  }
  for (const id of config.learners.ids) {
    if (config.voters.has(id)) return `${id} is both a learner and a voter`;
    if (!progress.get(id)!.isLearner) return `${id} is in learners, but is not marked as learner`;
  }
  if (!config.voters.isJoint) {
    if (config.learnersNext.size > 0) return 'learnersNext must be empty when not joint';
    if (config.autoLeave) return 'autoLeave must be false when not joint';
  }
  return null;
}

function symmetricDifference(before: readonly NodeId[], after: ReadonlySet<NodeId>): number {
  const old = new Set(before);
  let count = 0;
  for (const id of old) if (!after.has(id)) count++;
  for (const id of after) if (!old.has(id)) count++;
  return count;
}

/**
 * Rebuilds the configuration a ConfState describes, starting from an empty tracker: the outgoing
 * voters first (as simple adds, then entering a joint config with the incoming changes), so that
 * the result went through the same validated transitions as a live change (etcd's confchange.Restore).
 */
export function restoreConfState(base: ChangeBase, lastIndex: number, cs: ConfState): ChangeResult {
  const outgoing: ConfChangeSingle[] = [];
  const incoming: ConfChangeSingle[] = [];
  for (const id of cs.votersOutgoing) {
    // Reconstruct the outgoing config, then remove everyone from it in the incoming changes.
    outgoing.push({ type: 'addNode', nodeId: id });
    incoming.push({ type: 'removeNode', nodeId: id });
  }
  for (const id of cs.voters) incoming.push({ type: 'addNode', nodeId: id });
  for (const id of cs.learners) incoming.push({ type: 'addLearner', nodeId: id });
  // learnersNext are outgoing voters being demoted: adding them as learners stages them.
  for (const id of cs.learnersNext) incoming.push({ type: 'addLearner', nodeId: id });

  let current: ChangeBase = { ...limitsOf(base), config: TrackerConfig.empty(), progress: new Map() };
  const steps: ((changer: ConfChanger) => ChangeResult)[] = [];
  if (outgoing.length === 0) {
    for (const change of incoming) steps.push((changer) => changer.simple([change]));
  } else {
    for (const change of outgoing) steps.push((changer) => changer.simple([change]));
    steps.push((changer) => changer.enterJoint(cs.autoLeave, incoming));
  }
  let result: ChangeResult = { ok: true, config: current.config, progress: new Map() };
  for (const step of steps) {
    result = step(new ConfChanger(current, lastIndex));
    if (!result.ok) return result;
    current = { ...limitsOf(base), config: result.config, progress: result.progress };
  }
  return result;
}

function limitsOf(base: ChangeBase): { maxInflight: number; maxInflightBytes: number } {
  return { maxInflight: base.maxInflight, maxInflightBytes: base.maxInflightBytes };
}
