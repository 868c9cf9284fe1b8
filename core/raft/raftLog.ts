import { assert, AssertionError } from '../base/assert.ts';
import { type Entry, limitSize, noEntries } from './entry.ts';
import type { RaftLogger } from './logger.ts';
import type { Snapshot } from './state.ts';
import { isStorageError, type Storage, type StorageError } from './storage.ts';
import { Unstable } from './unstable.ts';

/** No size limit. */
export const noLimit = Number.MAX_SAFE_INTEGER;

/**
 * The Raft log as one sequence: the durable part in Storage followed by the unstable part
 * (etcd-io/raft's raftLog), with the commit and apply cursors.
 *
 * Invariant: applied <= applying <= committed <= lastIndex().
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** The highest index known to be durable on a quorum. */
  committed: number;
  /** The highest index handed to the application to apply (in a Ready). */
  applying: number;
  /** The highest index the application reported applied (by calling advance). */
  applied: number;
  /** Bounds the payload of committed entries handed out but not yet applied. */
  private readonly maxApplyingSize: number;
  private applyingSize = 0;
  private applyingPaused = false;
  private readonly logger: RaftLogger | null;

  constructor(storage: Storage, maxApplyingSize: number, logger: RaftLogger | null) {
    this.storage = storage;
    this.maxApplyingSize = maxApplyingSize;
    this.logger = logger;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot is committed and applied.
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    if (isStorageError(term)) throw new AssertionError(`unexpected error getting the last term: ${String(term)}`);
    return term;
  }

  /** The term at `index`, for index in [firstIndex()-1, lastIndex()]. */
  term(index: number): number | StorageError {
    const unstable = this.unstable.maybeTerm(index);
    if (unstable !== null) return unstable;
    if (index + 1 < this.firstIndex()) return 'compacted';
    if (index > this.lastIndex()) return 'unavailable';
    return this.storage.term(index);
  }

  /** The term at `index`, or 0 when it is compacted or not there. */
  termOrZero(index: number): number {
    const term = this.term(index);
    return isStorageError(term) ? 0 : term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** The log ending at (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends entries that follow (prevIndex, prevTerm) in the leader's log, if our log has that
   * entry (§5.3). Entries we already have are skipped; the first conflicting one and all after it
   * are replaced. Returns the index of the last new entry, or null if our log does not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) throw new AssertionError(`entry ${conflict} conflicts with committed entry [committed(${this.committed})]`);
      this.append(entries.slice(conflict - (prevIndex + 1)));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends entries after truncating at their first index. Returns the new last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    if (after < this.committed) throw new AssertionError(`after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry that is new or conflicts (same index, other term), or 0 if we
   * already have all of them.
   */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) {
        if (entry.index <= this.lastIndex()) {
          this.logger?.info(
            `found conflict at index ${entry.index} [existing term: ${this.termOrZero(entry.index)}, conflicting term: ${entry.term}]`,
          );
        }
        return entry.index;
      }
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or unknown), with its term (0 if
   * unknown). Given that another log has `term` at `index`, our logs cannot match past it: every
   * entry after it in our log has a larger term. Used for fast backtracking on both sides.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const ours = this.term(index);
      if (isStorageError(ours)) return { index, term: 0 };
      if (ours <= term) return { index, term: ours };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(
      index <= this.lastIndex(),
      () => `tocommit(${index}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
    );
    this.committed = index;
  }

  /** Commits up to `index` if that entry is from `term` — the leader's current term (§5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && term !== 0 && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** The application applied up to `index` (with `size` payload bytes of the entries). */
  appliedTo(index: number, size: number): void {
    assert(
      index <= this.committed && index >= this.applied,
      () => `applied(${index}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
    );
    this.applied = index;
    this.applying = Math.max(this.applying, index);
    this.applyingSize = Math.max(0, this.applyingSize - size);
    this.applyingPaused = this.applyingSize >= this.maxApplyingSize;
  }

  /** The entries up to `index` were handed to the application in a Ready. */
  acceptApplying(index: number, size: number): void {
    if (index > this.committed) throw new AssertionError(`applying(${index}) is out of range [committed(${this.committed})]`);
    this.applying = index;
    this.applyingSize += size;
    // Pause when the budget is spent, or when the last batch was cut short by it.
    this.applyingPaused = this.applyingSize >= this.maxApplyingSize || index < this.committed;
  }

  hasNextCommittedEntries(): boolean {
    // While a snapshot is pending, applying entries too would leave the order ambiguous.
    if (this.applyingPaused || this.unstable.snapshot !== null) return false;
    return this.applying < this.committed;
  }

  /**
   * Committed entries not yet handed to the application. They may still be unstable here: the
   * host persists a Ready's entries before applying its committed entries.
   */
  nextCommittedEntries(): readonly Entry[] {
    if (!this.hasNextCommittedEntries()) return noEntries;
    const maxSize = this.maxApplyingSize - this.applyingSize;
    if (maxSize <= 0) throw new AssertionError(`applying entry size (${this.maxApplyingSize}-${this.applyingSize}) not positive`);
    const entries = this.slice(this.applying + 1, this.committed + 1, maxSize);
    if (isStorageError(entries)) throw new AssertionError(`unexpected error getting unapplied entries: ${String(entries)}`);
    return entries;
  }

  /** The snapshot to send to a follower: a pending one, else Storage's. */
  snapshot(): Snapshot | StorageError {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from `index` to the end, cut to `maxSize` payload bytes. */
  entries(index: number, maxSize: number): readonly Entry[] | StorageError {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxSize);
  }

  /** Entries in [lo, hi), from Storage and then the unstable part, cut to `maxSize`. */
  slice(lo: number, hi: number, maxSize: number): readonly Entry[] | StorageError {
    if (lo === hi) return [];
    const bound = this.checkBounds(lo, hi);
    if (bound !== null) return bound;
    const offset = this.unstable.offset;
    let result: readonly Entry[] = [];
    if (lo < offset) {
      const stored = this.storage.entries(lo, Math.min(hi, offset), maxSize);
      if (isStorageError(stored)) {
        if (stored === 'unavailable') throw new AssertionError(`entries[${lo}:${Math.min(hi, offset)}) is unavailable from storage`);
        return stored;
      }
      // Storage cut the range short for size: the unstable part cannot follow.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      result = stored;
    }
    if (hi > offset) {
      const unstable = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length > 0 ? [...result, ...unstable] : unstable;
    }
    return limitSize(result, maxSize);
  }

  private checkBounds(lo: number, hi: number): StorageError | null {
    if (lo > hi) throw new AssertionError(`invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) return 'compacted';
    const length = this.lastIndex() + 1 - first;
    if (hi > first + length) throw new AssertionError(`slice[${lo},${hi}) out of bound [${first},${this.lastIndex()}]`);
    return null;
  }

  /** Every entry still in the log (tests and status output). */
  allEntries(): readonly Entry[] {
    const entries = this.entries(this.firstIndex(), noLimit);
    if (isStorageError(entries)) throw new AssertionError(`unexpected error reading the log: ${String(entries)}`);
    return entries;
  }

  /** Replaces the log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.logger?.info(`log [${this.describe()}] starts to restore snapshot [index: ${snapshot.metadata.index}, term: ${snapshot.metadata.term}]`);
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  describe(): string {
    return `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, unstable.offset=${this.unstable.offset}, unstable.offsetInProgress=${this.unstable.offsetInProgress}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }
}
