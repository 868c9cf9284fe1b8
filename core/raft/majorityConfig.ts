import type { NodeId } from './state.ts';

/** The outcome of an election (or of any yes/no poll) so far. */
export type VoteResult = 'pending' | 'lost' | 'won';

/** Looks up the log index a voter is known to have acknowledged; undefined if none. */
export type AckedIndexer = (id: NodeId) => number | undefined;

/**
 * The committed index of an empty configuration: larger than any index, so that in a joint
 * configuration an empty half never holds the other back (etcd's math.MaxUint64).
 */
export const unboundedIndex = Number.MAX_SAFE_INTEGER;

/** A set of voters that decides by simple majority. Immutable. */
export class MajorityConfig {
  /** Ascending, duplicate-free. */
  readonly ids: readonly NodeId[];
  private readonly members: ReadonlySet<NodeId>;
  /**
   * Where `committedIndex` sorts: a leader asks after every acknowledgement, and a fresh array
   * and comparator each time were a few per cent of a simulated run's garbage.
   */
  private readonly sorted: Float64Array;

  constructor(ids: Iterable<NodeId> = []) {
    this.members = new Set(ids);
    this.ids = Object.freeze([...this.members].sort((a, b) => a - b));
    this.sorted = new Float64Array(this.ids.length);
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: NodeId): boolean {
    return this.members.has(id);
  }

  /**
   * The largest index that a majority of the voters has acknowledged: sort the acknowledged
   * indexes (missing ones count as 0) and take the one that the smallest majority reaches.
   */
  committedIndex(acked: AckedIndexer): number {
    const n = this.ids.length;
    if (n === 0) return unboundedIndex;
    // Insertion sort, ascending: a handful of voters.
    const sorted = this.sorted;
    for (let i = 0; i < n; i++) {
      const index = acked(this.ids[i]!) ?? 0;
      let j = i;
      for (; j > 0 && sorted[j - 1]! > index; j--) sorted[j] = sorted[j - 1]!;
      sorted[j] = index;
    }
    // With n voters a majority is n/2+1 of them; the (n/2+1)-th largest sits at n-(n/2+1).
    return sorted[n - (Math.floor(n / 2) + 1)]!;
  }

  /**
   * Won when a majority voted yes, lost when a majority can no longer be reached, pending
   * otherwise. An empty configuration wins every vote (the convention joint quorums rely on).
   */
  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    const n = this.ids.length;
    if (n === 0) return 'won';
    let yes = 0;
    let missing = 0;
    for (const id of this.ids) {
      const vote = votes.get(id);
      if (vote === undefined) missing++;
      else if (vote) yes++;
    }
    const quorum = Math.floor(n / 2) + 1;
    if (yes >= quorum) return 'won';
    if (yes + missing >= quorum) return 'pending';
    return 'lost';
  }

  describe(): string {
    return `(${this.ids.join(' ')})`;
  }
}

export const emptyMajorityConfig = new MajorityConfig();
