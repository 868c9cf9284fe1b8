import { tornRecord, type DurableRecord } from '../../core/host/node.ts';
import { emptyHardState, isStorageError, MemoryStorage, type HardState } from '../../core/raft/index.ts';
import { replay, walFile, type WalRecord } from '../../core/replica/wal.ts';
import type { SimDisk } from '../../sim/disk.ts';

/**
 * What one node's disk holds durably, replayed into a storage as the node would replay it on
 * restart, and kept up to date record by record as syncs complete. Checkers ask it whether an
 * entry would survive a crash right now.
 */
export class DurableLog {
  private readonly disk: SimDisk;
  private version = -1;
  private file: readonly DurableRecord[] | null = null;
  private consumed = 0;
  private torn = false;
  storage = new MemoryStorage();
  hardState: HardState = emptyHardState;

  constructor(disk: SimDisk) {
    this.disk = disk;
  }

  /** Catches up with the disk (cheap when nothing became durable since the last call). */
  refresh(): void {
    if (this.disk.durableVersion === this.version) return;
    this.version = this.disk.durableVersion;
    const records = this.disk.durableRecords(walFile);
    if (records !== this.file) {
      // Replaced (compacted or repaired): replay from the start.
      this.file = records;
      this.consumed = 0;
      this.torn = false;
      this.storage = new MemoryStorage();
      this.hardState = emptyHardState;
    }
    while (!this.torn && this.consumed < records.length) {
      const record = records[this.consumed]!;
      if (record === tornRecord) {
        this.torn = true;
        break;
      }
      const walRecord = record as WalRecord;
      replay(this.storage, walRecord);
      if (walRecord.type === 'hardState') this.hardState = walRecord.hardState;
      this.consumed++;
    }
  }

  /** Whether the entry (index, term) is durable: in the durable log, or covered by a durable snapshot. */
  holds(index: number, term: number): boolean {
    if (index <= this.storage.snapshot().metadata.index) return true;
    const stored = this.storage.term(index);
    return !isStorageError(stored) && stored === term;
  }
}

/** One DurableLog per disk, shared by every checker of a run (each replays the WAL once). */
const logsByDisk = new WeakMap<SimDisk, DurableLog>();

/** The durable log of `disk`, caught up with it. */
export function durableLogOf(disk: SimDisk): DurableLog {
  let log = logsByDisk.get(disk);
  if (log === undefined) {
    log = new DurableLog(disk);
    logsByDisk.set(disk, log);
  }
  log.refresh();
  return log;
}
