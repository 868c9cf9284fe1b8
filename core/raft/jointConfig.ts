import { type AckedIndexer, MajorityConfig, emptyMajorityConfig, type VoteResult } from './majorityConfig.ts';
import type { NodeId } from './state.ts';

/**
 * Two majority configurations that must both agree (Raft thesis §4.3, C_old,new). Outside a joint
 * configuration `outgoing` is empty and the incoming majority alone decides. Immutable.
 */
export class JointConfig {
  readonly incoming: MajorityConfig;
  readonly outgoing: MajorityConfig;

  constructor(incoming: MajorityConfig, outgoing: MajorityConfig = emptyMajorityConfig) {
    this.incoming = incoming;
    this.outgoing = outgoing;
  }

  get isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half, ascending. */
  ids(): NodeId[] {
    const all = new Set([...this.incoming.ids, ...this.outgoing.ids]);
    return [...all].sort((a, b) => a - b);
  }

  has(id: NodeId): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  /** The largest index both majorities have acknowledged. */
  committedIndex(acked: AckedIndexer): number {
    return Math.min(this.incoming.committedIndex(acked), this.outgoing.committedIndex(acked));
  }

  /** Won only when both halves won; lost as soon as either lost. */
  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    const incoming = this.incoming.voteResult(votes);
    const outgoing = this.outgoing.voteResult(votes);
    if (incoming === outgoing) return incoming;
    if (incoming === 'lost' || outgoing === 'lost') return 'lost';
    return 'pending';
  }

  describe(): string {
    return this.isJoint ? `${this.incoming.describe()}&&${this.outgoing.describe()}` : this.incoming.describe();
  }
}
