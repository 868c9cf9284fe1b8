import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import { changeAt, changeCount, type BackendImage } from '../../core/mvcc/index.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import type { SimDisk } from '../../sim/disk.ts';
import { lastDurableImage } from './durableOrder.ts';

/** Durable commits per member waiting for their revision's apply to end (bounded: the oldest go first). */
const pendingMax = 16;

interface Pending {
  readonly image: BackendImage;
  readonly incarnation: number;
  /** The image's highest main revision and how many changes it holds there. */
  readonly revision: number;
  readonly changes: number;
}

/**
 * A backend commit never holds part of a revision. Every change of one main revision comes from
 * one entry's apply (a range delete's may span turns of the loop: SlicedApply), and a commit
 * made inside that apply would make durable a revision that a crash then leaves half done, with
 * the consistent index saying the entry was applied (set before its apply). The backend asserts
 * it at the commit; this checks the consequence on the disk: each backend commit that becomes
 * durable is compared, once its member has no apply open, with the member's own key bucket at
 * the commit's highest revision, which must hold no more changes than the commit did (compaction
 * only ever removes some).
 */
export class WholeRevisions {
  private readonly seen = new Map<NodeId, { version: number; image: BackendImage | null; pending: Pending[] }>();

  check(member: NodeId, disk: SimDisk, server: EtcdServer | null, incarnation: number): void {
    let entry = this.seen.get(member);
    if (entry === undefined) this.seen.set(member, (entry = { version: -1, image: null, pending: [] }));
    if (disk.durableVersion !== entry.version) {
      entry.version = disk.durableVersion;
      const image = lastDurableImage(disk);
      if (image !== null && image !== entry.image) {
        entry.image = image;
        const revision = image.keys.maxKey();
        if (revision !== undefined) {
          if (entry.pending.length === pendingMax) entry.pending.shift();
          entry.pending.push({ image, incarnation, revision, changes: heldAt(image, revision) });
        }
      }
    }
    if (entry.pending.length === 0 || server === null || server.slicedApply !== null) return;
    for (const pending of entry.pending) {
      if (pending.incarnation !== incarnation) continue;
      const live = server.state.backend.scan(pending.revision, 0, pending.revision, () => true);
      if (live > pending.changes) {
        throw new AssertionError(
          `member ${member}'s durable backend commit (consistent index ${pending.image.meta.consistentIndex}) holds ${pending.changes} of the ${live} changes of revision ${pending.revision}: a commit made inside that revision's apply`,
        );
      }
    }
    entry.pending.length = 0;
  }
}

function heldAt(image: BackendImage, revision: number): number {
  const changes = image.keys.get(revision);
  if (changes === undefined) return 0;
  let held = 0;
  for (let sub = 0; sub < changeCount(changes); sub++) if (changeAt(changes, sub) !== undefined) held++;
  return held;
}
