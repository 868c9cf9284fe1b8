import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';

/** What the ledger reads of a member: its store's revision and the index its backend holds. */
export interface AppliedState {
  readonly appliedIndex: number;
  /** The last Raft index the backend holds (etcd's consistent index). */
  readonly consistentIndex: number;
  readonly revision: number;
}

const indexesKept = 1 << 16;

/**
 * The revision at each consistent index, across every member and every incarnation: members that
 * applied the same entries hold the same revision, so the revision is a function of the index.
 * Checked whenever a member is observed (after every event that touched it), this catches at the
 * first wrong step:
 *
 * - an entry applied twice (after a restart whose backend lost its consistent index, etcd #13766,
 *   or during a defragmentation, #14685) or skipped: the member's revision at that index differs
 *   from what another member, or an earlier incarnation, had there;
 * - a revision that goes back, or a consistent index that does, within an incarnation;
 * - an apply that moves the revision by more than its entries can (each entry writes at most one
 *   revision: a txn is one, however many ops);
 * - a backend that does not record what was applied (the applied index past the consistent index;
 *   only while a restarted member replays entries its backend already holds is it below).
 */
export class RevisionLedger {
  private readonly revisionAt = new Map<number, { readonly revision: number; readonly member: NodeId }>();
  private readonly last = new Map<NodeId, { incarnation: number; index: number; revision: number }>();
  private highestIndex = 0;

  observe(member: NodeId, incarnation: number, state: AppliedState): void {
    const { appliedIndex, consistentIndex: index, revision } = state;
    if (appliedIndex > index) {
      throw new AssertionError(`member ${member} applied index ${appliedIndex} but its backend holds only up to index ${index}: what it applied is not recorded with its consistent index`);
    }
    const previous = this.last.get(member);
    if (previous !== undefined && previous.incarnation === incarnation) {
      if (index === previous.index && revision === previous.revision) return;
      if (index < previous.index) throw new AssertionError(`member ${member}'s consistent index went back from ${previous.index} to ${index}`);
      if (revision < previous.revision) throw new AssertionError(`member ${member}'s revision went back from ${previous.revision} to ${revision} (consistent index ${previous.index} → ${index})`);
      if (revision - previous.revision > index - previous.index) {
        throw new AssertionError(`member ${member}'s revision moved from ${previous.revision} to ${revision} over entries ${previous.index + 1}..${index}: more than one revision per entry`);
      }
    }
    this.last.set(member, { incarnation, index, revision });
    const recorded = this.revisionAt.get(index);
    if (recorded === undefined) {
      this.revisionAt.set(index, { revision, member });
      if (index > this.highestIndex) this.prune(index);
    } else if (recorded.revision !== revision) {
      throw new AssertionError(
        `member ${member} is at revision ${revision} with consistent index ${index}, where member ${recorded.member} was at revision ${recorded.revision}: ` +
          `they applied the same entries to different effect (an entry applied twice, or skipped?)`,
      );
    }
  }

  /** The revision some member had at `index`, if recorded. */
  revisionOf(index: number): number | undefined {
    return this.revisionAt.get(index)?.revision;
  }

  private prune(index: number): void {
    this.highestIndex = index;
    if (this.revisionAt.size <= indexesKept) return;
    for (const known of this.revisionAt.keys()) if (known < index - indexesKept / 2) this.revisionAt.delete(known);
  }
}
