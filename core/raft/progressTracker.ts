import { assert } from '../base/assert.ts';
import { JointConfig } from './jointConfig.ts';
import { emptyMajorityConfig, MajorityConfig, type VoteResult } from './majorityConfig.ts';
import type { Progress } from './progress.ts';
import type { ConfState, NodeId } from './state.ts';

/**
 * The active membership: who votes (possibly as a joint configuration) and who learns.
 * Immutable; a conf change produces a new one.
 *
 * Invariant: learners are disjoint from both voter halves; `learnersNext` ⊆ outgoing voters (a
 * voter demoted to learner while the joint configuration lasts becomes a learner on leaving it);
 * outside a joint configuration `learnersNext` is empty and `autoLeave` is false.
 */
export class TrackerConfig {
  readonly voters: JointConfig;
  /** Leave the joint configuration on its own once the entering change is applied. */
  readonly autoLeave: boolean;
  readonly learners: MajorityConfig;
  readonly learnersNext: MajorityConfig;

  constructor(init: { voters: JointConfig; autoLeave?: boolean; learners?: MajorityConfig; learnersNext?: MajorityConfig }) {
    this.voters = init.voters;
    this.autoLeave = init.autoLeave ?? false;
    this.learners = init.learners ?? emptyMajorityConfig;
    this.learnersNext = init.learnersNext ?? emptyMajorityConfig;
  }

  static empty(): TrackerConfig {
    return new TrackerConfig({ voters: new JointConfig(emptyMajorityConfig) });
  }

  confState(): ConfState {
    return {
      voters: this.voters.incoming.ids,
      learners: this.learners.ids,
      votersOutgoing: this.voters.outgoing.ids,
      learnersNext: this.learnersNext.ids,
      autoLeave: this.autoLeave,
    };
  }

  describe(): string {
    let text = `voters=${this.voters.describe()}`;
    if (this.learners.size > 0) text += ` learners=${this.learners.describe()}`;
    if (this.learnersNext.size > 0) text += ` learners_next=${this.learnersNext.describe()}`;
    if (this.autoLeave) text += ' autoleave';
    return text;
  }
}

/** Progress per member, by id. */
export type ProgressMap = Map<NodeId, Progress>;

/**
 * The leader's (and candidate's) bookkeeping over the configuration: each member's replication
 * progress and, during an election, the votes received.
 */
export class ProgressTracker {
  config: TrackerConfig = TrackerConfig.empty();
  progress: ProgressMap = new Map();
  /** Votes received in the current election, by voter. */
  readonly votes = new Map<NodeId, boolean>();
  readonly maxInflight: number;
  readonly maxInflightBytes: number;
  private sortedIds: NodeId[] = [];
  /** A voter's acknowledged index, as `committed()` asks it: made once rather than per call. */
  private readonly matchOf = (id: NodeId): number | undefined => this.progress.get(id)?.match;

  constructor(maxInflight: number, maxInflightBytes: number) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
  }

  /** Installs a configuration and its progress map (from the Changer). */
  switchTo(config: TrackerConfig, progress: ProgressMap): void {
    this.config = config;
    this.progress = progress;
    this.sortedIds = [...progress.keys()].sort((a, b) => a - b);
  }

  /** Every tracked member (voters and learners), ascending. Do not mutate. */
  ids(): readonly NodeId[] {
    return this.sortedIds;
  }

  /** Calls `visit` for each member in ascending id order, so that output and sends are deterministic. */
  visit(visit: (id: NodeId, progress: Progress) => void): void {
    for (const id of this.sortedIds) visit(id, this.progress.get(id)!);
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  /** A single voter and no joint configuration: the leader alone decides. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.config.voters.isJoint;
  }

  /** The largest index a quorum of voters has durably acknowledged. */
  committed(): number {
    return this.config.voters.committedIndex(this.matchOf);
  }

  /** Whether a quorum of voters was heard from within the last election timeout (check-quorum). */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    this.visit((id, progress) => {
      if (!progress.isLearner) votes.set(id, progress.recentActive);
    });
    return this.config.voters.voteResult(votes) === 'won';
  }

  voterIds(): NodeId[] {
    return this.config.voters.ids();
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a voter's answer; the first answer in an election counts, repeats are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    this.visit((id, progress) => {
      if (progress.isLearner) return;
      const vote = this.votes.get(id);
      if (vote === undefined) return;
      if (vote) granted++;
      else rejected++;
    });
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }

  checkInvariants(): void {
    const config = this.config;
    for (const id of [...config.voters.ids(), ...config.learners.ids, ...config.learnersNext.ids]) {
      assert(this.progress.has(id), () => `no progress for member ${id}`);
    }
    for (const id of config.learnersNext.ids) {
      assert(config.voters.outgoing.has(id), () => `${id} is in learnersNext but not an outgoing voter`);
      assert(!this.progress.get(id)!.isLearner, () => `${id} is in learnersNext but already a learner`);
    }
    for (const id of config.learners.ids) {
      assert(!config.voters.has(id), () => `${id} is both a learner and a voter`);
      assert(this.progress.get(id)!.isLearner, () => `${id} is a learner but its progress is not`);
    }
    if (!config.voters.isJoint) {
      assert(config.learnersNext.size === 0, 'learnersNext must be empty outside a joint config');
      assert(!config.autoLeave, 'autoLeave must be false outside a joint config');
    }
  }
}
