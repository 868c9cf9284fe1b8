import type { Entry } from './entry.ts';
import type { ConfState, HardState, Snapshot } from './state.ts';

/**
 * Why storage could not answer:
 * - `compacted`: the index lies before the first entry still kept (compacted into a snapshot).
 * - `unavailable`: the index lies past the last entry.
 * - `snapshot-temporarily-unavailable`: the snapshot is being produced; the leader retries later.
 */
export type StorageError = 'compacted' | 'unavailable' | 'snapshot-temporarily-unavailable';

export function isStorageError(value: unknown): value is StorageError {
  return typeof value === 'string';
}

/**
 * The node's view of its durable log: read-only, like etcd-io/raft's Storage. Raft never writes
 * to it; the host writes what each Ready asks for (hard state, entries, snapshot) and only then
 * calls `advance()`, after which Raft reads those entries back from here.
 *
 * Invariant: firstIndex() - 1 is the index of the last snapshot (or 0); term(firstIndex() - 1)
 * is still answered, for matching appends right after a snapshot.
 */
export interface Storage {
  /** The persisted hard state and the configuration as of the last snapshot. */
  initialState(): { readonly hardState: HardState; readonly confState: ConfState };
  /**
   * Entries in [lo, hi), cut to `maxSize` payload bytes (but at least one entry when lo < hi).
   * The returned array belongs to the caller.
   */
  entries(lo: number, hi: number, maxSize: number): readonly Entry[] | StorageError;
  /** The term of the entry at `index`, for index in [firstIndex()-1, lastIndex()]. */
  term(index: number): number | StorageError;
  lastIndex(): number;
  firstIndex(): number;
  /**
   * The most recent snapshot, sent to followers that need compacted entries. A member added after
   * the snapshot was made is not in its configuration and cannot restore it, so a host should make
   * snapshots of its applied state when asked (or often enough).
   */
  snapshot(): Snapshot | StorageError;
}
