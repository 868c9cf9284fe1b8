import { AssertionError } from '../../core/base/assert.ts';
import { tornRecord, type NodeId } from '../../core/host/node.ts';
import { backendFile, isBackendImage, type BackendImage } from '../../core/mvcc/index.ts';
import { isStorageError } from '../../core/raft/index.ts';
import type { SimDisk } from '../../sim/disk.ts';
import { DurableLog } from '../raft/durableLog.ts';

/**
 * What a member's disk holds, checked whenever something becomes durable on it (so before any
 * crash needs to happen):
 *
 * - The backend never runs ahead of the WAL: the last backend commit records a consistent index
 *   that the durable WAL holds too (in its entries, with the same term, or under its snapshot). A
 *   crash at any moment then finds a backend whose entries the WAL can account for; a backend
 *   ahead of its WAL would hold writes of entries the restarted member could lose or re-commit
 *   differently.
 * - The durable consistent index and the durable revision never go back. The durable revision is
 *   the one a restart resumes from (etcd main's restore): the highest revision in the key bucket,
 *   or the finished or scheduled compaction revision when higher. A compaction that removes the
 *   latest revision's tombstone (pre-#18089) with a restore that ignores the scheduled mark (etcd
 *   #17780) moves it back the moment the batch is synced, long before a crash would show it.
 */
export class DurableOrder {
  private readonly logs = new Map<NodeId, { log: DurableLog; version: number; index: number; revision: number }>();

  check(member: NodeId, disk: SimDisk): void {
    let entry = this.logs.get(member);
    if (entry === undefined) this.logs.set(member, (entry = { log: new DurableLog(disk), version: -1, index: 0, revision: 0 }));
    if (disk.durableVersion === entry.version) return;
    entry.version = disk.durableVersion;
    const image = lastDurableImage(disk);
    if (image === null) return;
    const revision = Math.max(image.keys.maxKey() ?? 1, image.meta.finishedCompactRevision, image.meta.scheduledCompactRevision);
    if (image.meta.consistentIndex < entry.index) throw new AssertionError(`member ${member}'s durable consistent index went back from ${entry.index} to ${image.meta.consistentIndex}`);
    if (revision < entry.revision) throw new AssertionError(`member ${member}'s durable revision went back from ${entry.revision} to ${revision} (consistent index ${image.meta.consistentIndex})`);
    entry.index = image.meta.consistentIndex;
    entry.revision = revision;
    entry.log.refresh();
    const { storage } = entry.log;
    const index = image.meta.consistentIndex;
    const snapshotIndex = storage.snapshot().metadata.index;
    if (index <= snapshotIndex) return;
    const term = storage.term(index);
    if (isStorageError(term) || index > storage.lastIndex()) {
      throw new AssertionError(`member ${member}'s durable backend holds consistent index ${index}, beyond its durable WAL (last index ${Math.max(storage.lastIndex(), snapshotIndex)})`);
    }
    if (term !== image.meta.term) throw new AssertionError(`member ${member}'s durable backend holds index ${index} of term ${image.meta.term}, but its durable WAL has term ${term} there`);
  }
}

/** The last whole backend commit durable on a member's disk (a torn one after it is cut off on restart). */
export function lastDurableImage(disk: SimDisk): BackendImage | null {
  const records = disk.durableRecords(backendFile);
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (record !== tornRecord && isBackendImage(record)) return record;
  }
  return null;
}
