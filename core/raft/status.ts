import type { ProgressState } from './progress.ts';
import type { Raft } from './raft.ts';
import type { ConfState, HardState, NodeId, SoftState } from './state.ts';

/** A copy of one member's replication progress, as the leader sees it. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly paused: boolean;
  readonly pendingSnapshot: number;
  readonly inflight: number;
  /** The one-line form used in test output (`StateReplicate match=11 next=12`). */
  readonly description: string;
}

/** A snapshot of a node's state for observers (tests, status endpoints). Plain data. */
export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  readonly config: ConfState;
  /** The configuration in the `voters=(1 2 3)&&(1 2) learners=(4)` form. */
  readonly configDescription: string;
  /** Every member's progress, by ascending id; only on the leader (empty elsewhere). */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

export function getStatus(raft: Raft): Status {
  const progress = new Map<NodeId, ProgressStatus>();
  if (raft.role === 'leader') {
    raft.tracker.visit((id, entry) => {
      progress.set(id, {
        match: entry.match,
        next: entry.next,
        state: entry.state,
        isLearner: entry.isLearner,
        recentActive: entry.recentActive,
        paused: entry.isPaused(),
        pendingSnapshot: entry.pendingSnapshot,
        inflight: entry.inflights.count,
        description: entry.describe(),
      });
    });
  }
  return {
    id: raft.id,
    hardState: raft.hardState(),
    softState: raft.softState(),
    applied: raft.log.applied,
    lastIndex: raft.log.lastIndex(),
    leadTransferee: raft.leadTransferee,
    config: raft.tracker.config.confState(),
    configDescription: raft.tracker.config.describe(),
    progress,
  };
}
