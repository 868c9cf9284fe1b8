import { tornRecord, type DurableState, type DurableWrite } from '../host/node.ts';
import { emptyHardState, isEmptySnapshot, MemoryStorage, type ConfState, type Entry, type HardState, type Ready, type Snapshot } from '../raft/index.ts';

/** The file that holds a replica's write-ahead log. */
export const walFile = 'wal';

/**
 * One record of the write-ahead log (etcd's WAL holds the same three kinds). Recovery replays them
 * in order: a snapshot resets the log, entries overwrite from their first index on (a new leader
 * may replace an uncommitted tail), and the last hard state wins.
 */
export type WalRecord =
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'entries'; readonly entries: readonly Entry[] }
  | { readonly type: 'hardState'; readonly hardState: HardState };

/** The writes of a Ready that persists nothing (the type keeps it empty). */
const noWrites: readonly DurableWrite[] = [];

/** The WAL appends that persist a Ready: snapshot, then entries, then hard state (the order recovery replays). */
export function readyWrites(ready: Ready): readonly DurableWrite[] {
  // Most Readies persist nothing: they get the shared empty list, no arrays built.
  if (ready.snapshot === null && ready.entries.length === 0 && ready.hardState === null) return noWrites;
  const records: WalRecord[] = [];
  if (ready.snapshot !== null) records.push({ type: 'snapshot', snapshot: ready.snapshot });
  if (ready.entries.length > 0) records.push({ type: 'entries', entries: ready.entries });
  if (ready.hardState !== null) records.push({ type: 'hardState', hardState: ready.hardState });
  return [{ kind: 'append', file: walFile, records }];
}

/**
 * A compacted WAL: the latest snapshot, the hard state and the entries the storage still keeps,
 * written as one atomic replace. What it replaces says nothing more, so nothing is lost.
 */
export function compactedWal(storage: MemoryStorage, hardState: HardState): DurableWrite {
  const records: WalRecord[] = [];
  const snapshot = storage.snapshot();
  if (!isEmptySnapshot(snapshot)) records.push({ type: 'snapshot', snapshot });
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last >= first) {
    const entries = storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
    if (Array.isArray(entries)) records.push({ type: 'entries', entries });
  }
  records.push({ type: 'hardState', hardState });
  return { kind: 'replace', file: walFile, records };
}

export interface RecoveredWal {
  readonly storage: MemoryStorage;
  readonly hardState: HardState;
  /** How many records were read before the end or a torn record. */
  readonly records: number;
  /** The WAL ended in a torn record: the tail must be cut off before anything is appended. */
  readonly torn: boolean;
}

/** Rebuilds a replica's storage from its disk, stopping at a torn record (as a CRC mismatch would). */
export function recoverWal(durable: DurableState): RecoveredWal {
  const storage = new MemoryStorage();
  let hardState = emptyHardState;
  let records = 0;
  let torn = false;
  for (const record of durable.files.get(walFile) ?? []) {
    if (record === tornRecord) {
      torn = true;
      break;
    }
    const walRecord = record as WalRecord;
    replay(storage, walRecord);
    if (walRecord.type === 'hardState') hardState = walRecord.hardState;
    records++;
  }
  storage.setHardState(hardState);
  return { storage, hardState, records, torn };
}

/** Replays one record onto a storage. Exported for checkers that follow a disk record by record. */
export function replay(storage: MemoryStorage, record: WalRecord): void {
  switch (record.type) {
    case 'snapshot':
      // An older snapshot than the one in force is already covered by it.
      storage.applySnapshot(record.snapshot);
      break;
    case 'entries':
      storage.append(record.entries);
      break;
    case 'hardState':
      storage.setHardState(record.hardState);
      break;
  }
}

/** A Ready's snapshot, entries and hard state, into the in-memory storage Raft reads back (after they were written to the WAL). */
export function persistToStorage(storage: MemoryStorage, ready: Ready): void {
  if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
  if (ready.entries.length > 0) storage.append(ready.entries);
  if (ready.hardState !== null) storage.setHardState(ready.hardState);
}

/**
 * Snapshots the applied state at `index` and compacts the log behind it, keeping `catchUpEntries`
 * for followers a little behind; returns the WAL rewrite that makes it durable, or null when the
 * storage already has a snapshot that recent.
 */
export function snapshotAndCompact(storage: MemoryStorage, hardState: HardState, index: number, confState: ConfState, data: unknown, catchUpEntries: number): DurableWrite | null {
  const created = storage.createSnapshot(index, confState, data);
  if (created === 'snapshot-out-of-date') return null;
  const compactIndex = index - catchUpEntries;
  if (compactIndex > storage.firstIndex()) storage.compact(compactIndex);
  return compactedWal(storage, hardState);
}
