import { assert, AssertionError } from '../base/assert.ts';
import { type Entry, payloadSize } from './entry.ts';
import {
  type ConfState,
  emptyHardState,
  emptySnapshot,
  type HardState,
  type Snapshot,
} from './state.ts';
import type { Storage, StorageError } from './storage.ts';

/**
 * A Storage held in memory, with the write methods a host needs (etcd-io/raft's MemoryStorage).
 * The simulator keeps one per node and rebuilds it from the simulated disk on restart; tests use
 * it directly.
 *
 * Invariant: `log[0]` is a dummy entry standing for the snapshot point (its index and term are
 * the snapshot's); the real entries follow with consecutive indexes.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState;
  private currentSnapshot: Snapshot = emptySnapshot;
  private log: { term: number; index: number; entry: Entry | null }[] = [{ term: 0, index: 0, entry: null }];

  /**
   * A storage for a node's first boot: empty log, with `confState` as the configuration (recorded
   * as the metadata of an empty snapshot at index 0).
   */
  static bootstrap(confState: ConfState): MemoryStorage {
    const storage = new MemoryStorage();
    storage.currentSnapshot = { metadata: { index: 0, term: 0, confState }, data: null };
    return storage;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.currentSnapshot.metadata.confState };
  }

  entries(lo: number, hi: number, maxSize: number): readonly Entry[] | StorageError {
    const offset = this.log[0]!.index;
    if (lo <= offset) return 'compacted';
    if (hi > this.lastIndex() + 1) throw new AssertionError(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    // Only the dummy entry: nothing stored.
    if (this.log.length === 1) return 'unavailable';
    // Cut to `maxSize` while copying (etcd's limitSize: at least one entry): a follower far
    // behind asks for the whole rest of the log, and copying it all to keep a few was most of
    // the garbage this method made.
    const log = this.log;
    const end = hi - offset;
    const entries: Entry[] = [];
    let size = 0;
    for (let i = lo - offset; i < end; i++) {
      const entry = log[i]!.entry!;
      size += payloadSize(entry);
      if (size > maxSize && entries.length > 0) break;
      entries.push(entry);
    }
    return entries;
  }

  /** The entry at `index`, or null when it is compacted or beyond the log: for checkers, no copy. */
  entryAt(index: number): Entry | null {
    const position = index - this.log[0]!.index;
    if (position < 1 || position >= this.log.length) return null;
    return this.log[position]!.entry;
  }

  term(index: number): number | StorageError {
    const offset = this.log[0]!.index;
    if (index < offset) return 'compacted';
    if (index - offset >= this.log.length) return 'unavailable';
    return this.log[index - offset]!.term;
  }

  lastIndex(): number {
    return this.log[0]!.index + this.log.length - 1;
  }

  firstIndex(): number {
    return this.log[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.currentSnapshot;
  }

  setHardState(state: HardState): void {
    this.hardState = state;
  }

  /** Replaces the whole contents with a snapshot received from the leader (Ready.snapshot). */
  applySnapshot(snapshot: Snapshot): 'snapshot-out-of-date' | null {
    const { index, term } = snapshot.metadata;
    if (this.currentSnapshot.metadata.index >= index) return 'snapshot-out-of-date';
    this.currentSnapshot = snapshot;
    this.log = [{ term, index, entry: null }];
    return null;
  }

  /**
   * Records a snapshot the application made of its state after applying `index`. The log is not
   * compacted here: `compact` does that, so a host may keep some entries for slow followers.
   */
  createSnapshot(index: number, confState: ConfState, data: unknown): Snapshot | 'snapshot-out-of-date' {
    if (index <= this.currentSnapshot.metadata.index) return 'snapshot-out-of-date';
    const offset = this.log[0]!.index;
    assert(index <= this.lastIndex(), () => `snapshot ${index} is out of bound lastindex(${this.lastIndex()})`);
    this.currentSnapshot = { metadata: { index, term: this.log[index - offset]!.term, confState }, data };
    return this.currentSnapshot;
  }

  /** Discards entries up to and including `compactIndex`, which must have been applied. */
  compact(compactIndex: number): 'compacted' | null {
    const offset = this.log[0]!.index;
    if (compactIndex <= offset) return 'compacted';
    assert(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const dummy = this.log[compactIndex - offset]!;
    this.log = [{ term: dummy.term, index: dummy.index, entry: null }, ...this.log.slice(compactIndex - offset + 1)];
    return null;
  }

  /**
   * Appends entries (Ready.entries), first discarding any stored entries at or after the first new
   * index: a new leader may overwrite an uncommitted tail.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    // Entries already compacted away are dropped.
    if (last < first) return;
    const start = Math.max(0, first - entries[0]!.index);
    const offset = entries[start]!.index - this.log[0]!.index;
    assert(offset <= this.log.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${entries[start]!.index}]`);
    this.log.length = offset;
    for (let i = start; i < entries.length; i++) {
      const entry = entries[i]!;
      this.log.push({ term: entry.term, index: entry.index, entry });
    }
  }
}
