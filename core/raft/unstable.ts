import { AssertionError } from '../base/assert.ts';
import { type Entry, noEntries } from './entry.ts';
import type { Snapshot } from './state.ts';

/**
 * The part of the log not yet known to be durable: entries (and perhaps a snapshot) that Raft
 * has accepted but the host has not yet persisted (etcd-io/raft's unstable).
 *
 * A Ready hands out what is new here and marks it "in progress"; after the host persisted it,
 * `advance()` reports it stable and it leaves this structure (Storage has it by then).
 *
 * Invariant: entries[i] has index offset + i. Invariant: offset <= offsetInProgress <=
 * offset + entries.length. Invariant: if snapshot is set, offset === snapshot.index + 1.
 */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: number;
  /** The snapshot has been handed to the host in a Ready. */
  snapshotInProgress = false;
  /** Entries before this index have been handed to the host in a Ready. */
  offsetInProgress: number;
  /**
   * How often this log did what no ordinary run asks of it, for coverage counts (read by checkers,
   * never by Raft): `cutsInFlight` — a new leader's entries cut entries handed to the host whose
   * write is still in flight; `midTailCuts` — such a cut past the stable part (offset < cut); and
   * `staleAcks` — the host reported stable an index whose entry has another term by now.
   */
  readonly counts = { cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 };

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** The first index, if a snapshot is pending (the log then starts right after it). */
  maybeFirstIndex(): number | null {
    return this.snapshot === null ? null : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.metadata.index;
  }

  maybeTerm(index: number): number | null {
    if (index < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return null;
    }
    const last = this.maybeLastIndex();
    if (last === null || index > last) return null;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries not yet handed to the host. A fresh array. */
  nextEntries(): readonly Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    if (this.entries.length === inProgress) return noEntries;
    return this.entries.slice(inProgress);
  }

  hasNextEntries(): boolean {
    return this.entries.length > this.offsetInProgress - this.offset;
  }

  /** The snapshot, if it has not been handed to the host yet. */
  nextSnapshot(): Snapshot | null {
    return this.snapshot === null || this.snapshotInProgress ? null : this.snapshot;
  }

  /** Everything currently here has been handed to the host in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /**
   * The host persisted entries up to (index, term). Ignored when that entry is no longer here with
   * that term: the tail was replaced meanwhile, and the replacement is still to be written.
   */
  stableTo(index: number, term: number): void {
    const found = this.maybeTerm(index);
    if (found === null || index < this.offset) return;
    if (found !== term) {
      this.counts.staleAcks++;
      return;
    }
    const count = index + 1 - this.offset;
    this.entries = this.entries.slice(count);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  /** Appends `entries`, first cutting off any unstable entries at or after the first new index. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const from = entries[0]!.index;
    if (from === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (from <= this.offset) {
      if (this.offsetInProgress > from) this.counts.cutsInFlight++;
      // Replaces everything unstable, and some entries already stable: the host will overwrite them.
      this.entries = [...entries];
      this.offset = from;
      this.offsetInProgress = from;
    } else {
      if (this.offsetInProgress > from) {
        this.counts.cutsInFlight++;
        this.counts.midTailCuts++;
      }
      this.entries = [...this.slice(this.offset, from), ...entries];
      // Only what precedes the cut is still being written.
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    }
  }

  /** Entries in [lo, hi). A fresh array. */
  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    if (!(this.offset <= lo && lo <= hi && hi <= upper)) throw new AssertionError(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
