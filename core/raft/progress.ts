import { assert } from '../base/assert.ts';
import { Inflights } from './inflights.ts';

/**
 * How the leader replicates to one follower (etcd-io/raft's tracker.StateType):
 * - `probe`: the leader does not know where the follower's log ends; it sends one MsgApp and
 *   waits for the answer (or a heartbeat response) before the next.
 * - `replicate`: the follower is known to match up to `match`; the leader streams entries
 *   optimistically, up to the inflight window.
 * - `snapshot`: the follower needs entries the leader has compacted; a snapshot is on its way and
 *   nothing else is sent until the follower acknowledges it.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * The leader's view of one follower's log (and of its own, for self-acknowledgements).
 *
 * Invariant: 0 <= match < next. Invariant: 0 <= sentCommit < next.
 */
export class Progress {
  /** The follower's log is known to match the leader's up to here. */
  match: number;
  /** The next index to send. Entries in (match, next) are in flight. */
  next: number;
  /** The highest commit index sent to the follower (bounded by next-1). */
  sentCommit = 0;
  state: ProgressState = 'probe';
  /** In `snapshot` state: the index of the snapshot sent. */
  pendingSnapshot = 0;
  /** In `snapshot` state: an election-timeout boundary passed since it was sent (see retryStaleSnapshots). */
  snapshotStale = false;
  /** Heard from within the current check-quorum interval. Always true for the leader itself. */
  recentActive: boolean;
  /** Set after each MsgApp; cleared by an answer or a heartbeat response (etcd's MsgAppProbesPaused). */
  msgAppProbesPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(init: { match: number; next: number; inflights: Inflights; isLearner: boolean; recentActive?: boolean }) {
    this.match = init.match;
    this.next = init.next;
    this.inflights = init.inflights;
    this.isLearner = init.isLearner;
    this.recentActive = init.recentActive ?? false;
    this.checkInvariants();
  }

  /** A copy for a configuration change, sharing the inflights window (the old Progress is dropped). */
  clone(): Progress {
    const copy = new Progress({
      match: this.match,
      next: this.next,
      inflights: this.inflights,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
    });
    copy.sentCommit = this.sentCommit;
    copy.state = this.state;
    copy.pendingSnapshot = this.pendingSnapshot;
    copy.snapshotStale = this.snapshotStale;
    copy.msgAppProbesPaused = this.msgAppProbesPaused;
    return copy;
  }

  private resetState(state: ProgressState): void {
    this.msgAppProbesPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotStale = false;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Back to probing from match+1, or, after a snapshot was sent, from just past the snapshot: the
   * follower most likely applied it.
   */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
    this.sentCommit = Math.min(this.sentCommit, this.match);
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
    // Applying the snapshot commits up to its index on the follower.
    this.sentCommit = snapshotIndex;
  }

  /** A MsgApp with `count` entries (starting at `next`) and `bytes` of payload was sent. */
  sentEntries(count: number, bytes: number): void {
    if (this.state === 'replicate' && count > 0) {
      this.next += count;
      this.inflights.add(this.next - 1, bytes);
    }
    this.msgAppProbesPaused = true;
  }

  sentCommitIndex(commit: number): void {
    this.sentCommit = Math.min(Math.max(this.sentCommit, commit), this.next - 1);
  }

  /** Sending `commit` could raise the follower's commit index. */
  canBumpCommit(commit: number): boolean {
    return this.sentCommit < Math.min(commit, this.next - 1);
  }

  /** Flow control lets at least one entry go (the leader's log reaches `lastIndex`). */
  canSendEntries(lastIndex: number): boolean {
    return this.next <= lastIndex && (this.state === 'probe' || !this.inflights.full());
  }

  /**
   * Whether the leader should send a MsgApp now. Probing sends one message per pause; replicating
   * sends while entries remain and the window has room, or an empty message to carry a newer commit
   * index or to re-probe after a heartbeat response (so a window whose messages were all lost
   * recovers). Nothing is sent while a snapshot is pending.
   */
  shouldSendMsgApp(lastIndex: number, commit: number): boolean {
    switch (this.state) {
      case 'probe':
        return !this.msgAppProbesPaused;
      case 'replicate':
        return (
          this.canBumpCommit(commit) ||
          (this.match < lastIndex && (!this.msgAppProbesPaused || this.canSendEntries(lastIndex)))
        );
      case 'snapshot':
        return false;
    }
  }

  /** A MsgAppResp acknowledged `index`. False if it told nothing new (a stale or duplicate answer). */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    return true;
  }

  /**
   * A MsgApp anchored at `rejected` was refused; `matchHint` is where the logs may match. False
   * if the rejection is stale (reordered or duplicated), which leaves the progress untouched.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.match);
      return true;
    }
    // Probes go out one at a time, so a genuine rejection answers the probe at next-1.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppProbesPaused = false;
    return true;
  }

  /** Whether replication to this follower is throttled (for status output). */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppProbesPaused;
      case 'replicate':
        return this.msgAppProbesPaused && this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  checkInvariants(): void {
    assert(this.match >= 0 && this.match < this.next, () => `progress: match ${this.match} must be < next ${this.next}`);
  }

  describe(): string {
    let text = `${stateNames[this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) text += ' learner';
    if (this.isPaused()) text += ' paused';
    if (this.pendingSnapshot > 0) text += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) text += ' inactive';
    if (this.inflights.count > 0) text += ` inflight=${this.inflights.count}${this.inflights.full() ? '[full]' : ''}`;
    return text;
  }
}

const stateNames: Record<ProgressState, string> = { probe: 'StateProbe', replicate: 'StateReplicate', snapshot: 'StateSnapshot' };
