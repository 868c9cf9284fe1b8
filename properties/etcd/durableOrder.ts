import { AssertionError } from '../../core/base/assert.ts';
import { tornRecord, type NodeId } from '../../core/host/node.ts';
import { backendFile, isBackendImage, type BackendImage } from '../../core/mvcc/index.ts';
import { isStorageError } from '../../core/raft/index.ts';
import type { SimDisk } from '../../sim/disk.ts';
import { DurableLog } from '../raft/durableLog.ts';

/**
 * The backend never runs ahead of the WAL, on disk: whenever something becomes durable on a
 * member, the last backend commit it holds records a consistent index that the durable WAL holds
 * too (in its entries, with the same term, or under its snapshot). A crash at any moment then
 * finds a backend whose entries the WAL can account for; a backend ahead of its WAL would hold
 * writes of entries the restarted member could lose or re-commit differently. Checked on the
 * disk itself, as syncs complete (so before any crash needs to happen).
 */
export class DurableOrder {
  private readonly logs = new Map<NodeId, { log: DurableLog; version: number }>();

  check(member: NodeId, disk: SimDisk): void {
    let entry = this.logs.get(member);
    if (entry === undefined) this.logs.set(member, (entry = { log: new DurableLog(disk), version: -1 }));
    if (disk.durableVersion === entry.version) return;
    entry.version = disk.durableVersion;
    const image = lastImage(disk);
    if (image === null) return;
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

/** The last whole backend commit on disk (a torn one after it is cut off on restart). */
function lastImage(disk: SimDisk): BackendImage | null {
  const records = disk.durableRecords(backendFile);
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (record !== tornRecord && isBackendImage(record)) return record;
  }
  return null;
}
