import type { Bytes } from '../api/bytes.ts';
import { assert, AssertionError } from '../base/assert.ts';
import { formatRevision, revision, type Revision, type RevisionSet } from './revision.ts';

/**
 * From this length a key's list grows by `push` (amortised), below it by an exact-size copy. V8
 * gives an array that grows from empty room for 17 elements (~150 bytes), and most keys keep their
 * one or two revisions and generations for life: under `etcdctl check perf` that slack was 12 MB
 * of a member's heap per 52k keys, marked and moved by every full collection (runtime8, heap
 * snapshot). A copy per append is cheap while lists are short; longer ones push.
 */
const exactGrowthBelow = 32;

/** A key index before its first put: one empty generation. Shared and frozen: every change replaces the list. */
const noGenerations: readonly number[] = Object.freeze([0]);

/** What a key was at a revision: the revision that wrote it, its creation's main revision, its version then. */
export interface KeyAt {
  readonly modified: Revision;
  readonly created: number;
  readonly version: number;
}

/** One generation as a test or a message sees it (`KeyIndex.generationList`). */
export interface GenerationView {
  /** The main revision of the put that created it (0 while empty). */
  readonly created: number;
  readonly version: number;
  readonly revisions: readonly Revision[];
}

/**
 * Every revision of one key, grouped in generations (etcd's mvcc/key_index.go): a tombstone ends
 * the current generation and opens an empty one. For example put(2), put(3), delete(4), put(5),
 * delete(6) gives {2, 3, 4(t)}, {5, 6(t)}, {} — and compaction at revision r keeps, per
 * generation still alive at r, the last revision at or before r, dropping generations that ended
 * before r. Invariant: only the last generation may be empty.
 *
 * The generations are one flat list of small integers (issue 10, heap): per generation its count
 * of revisions n, then, when n > 0, its version (the puts of this life, a tombstone counting too,
 * as in etcd; compaction keeps it), its creation's main revision and n (main, sub) pairs in
 * ascending order. An empty generation is its 0 alone. A key put once and deleted is 8 numbers
 * (one array, 112 bytes) where a list of generation objects, each with a list of {main, sub}
 * objects, took 256 bytes and 7 objects.
 */
export class KeyIndex {
  readonly key: Bytes;
  /** The generations, flat (see above); owned, written in place only once copied from `noGenerations`. */
  private list: number[];
  /** Where the last generation starts in `list`. */
  private last = 0;

  constructor(key: Bytes) {
    this.key = key;
    this.list = noGenerations as number[];
  }

  /** The main revision of the last change (put or tombstone), 0 before any. */
  get modifiedMain(): number {
    const list = this.list;
    const at = this.last;
    const n = list[at]!;
    return n !== 0 ? list[at + 1 + 2 * n]! : at === 0 ? 0 : list[at - 2]!;
  }

  /** The sub revision of the last change. */
  get modifiedSub(): number {
    const list = this.list;
    const at = this.last;
    const n = list[at]!;
    return n !== 0 ? list[at + 2 + 2 * n]! : at === 0 ? 0 : list[at - 1]!;
  }

  /** The last revision that modified the key (put or tombstone), as an object (made on each call). */
  get modified(): Revision {
    return revision(this.modifiedMain, this.modifiedSub);
  }

  put(rev: Revision): void {
    const { main, sub } = rev;
    const modifiedMain = this.modifiedMain;
    // Not assert(…, closure): this runs per key written (see assert's note).
    if (!(main > modifiedMain || (main === modifiedMain && sub > this.modifiedSub))) throw new AssertionError(`put of ${this.key} at ${formatRevision(rev)}, not after ${formatRevision(this.modified)}`);
    const at = this.last;
    const list = this.list;
    const n = list[at]!;
    if (n === 0) {
      // The empty last generation becomes the key's new life.
      this.list = at === 0 ? [1, 1, main, main, sub] : grown(list, at, 5, 1, 1, main, main, sub);
      return;
    }
    const longer = grown(list, list.length, 2, main, sub);
    longer[at] = n + 1;
    longer[at + 1]!++;
    this.list = longer;
  }

  /** Rebuilds a key whose oldest surviving revision is a put (etcd's restore from the key bucket). */
  restore(created: Revision, modified: Revision, version: number): void {
    assert(this.list === noGenerations, () => `restore of ${this.key} into a key with generations`);
    this.list = [1, version, created.main, modified.main, modified.sub];
  }

  /**
   * Rebuilds a key whose oldest surviving revision is a tombstone: one kept at a compaction
   * revision (etcd main's restoreTombstone, with #18089). Without it the tombstone would never
   * be compacted away and members that restarted would hash differently.
   */
  restoreTombstone(rev: Revision): void {
    assert(this.list === noGenerations, () => `restore of ${this.key} into a key with generations`);
    this.list = [1, 1, 0, rev.main, rev.sub, 0];
    this.last = 5;
  }

  /** Ends the current generation at `rev`. False when the key is not live (etcd's ErrRevisionNotFound). */
  tombstone(rev: Revision): boolean {
    const list = this.list;
    const at = this.last;
    const n = list[at]!;
    if (n === 0) {
      if (at === 0) throw new AssertionError(`tombstone of ${this.key}, an empty key index`);
      return false;
    }
    const { main, sub } = rev;
    const modifiedMain = list[at + 1 + 2 * n]!;
    // Not assert(…, closure): this runs per key of a range delete (issue 10).
    if (!(main > modifiedMain || (main === modifiedMain && sub > list[at + 2 + 2 * n]!))) throw new AssertionError(`tombstone of ${this.key} at ${formatRevision(rev)}, not after ${formatRevision(this.modified)}`);
    const longer = grown(list, list.length, 3, main, sub, 0);
    longer[at] = n + 1;
    longer[at + 1]!++;
    this.list = longer;
    this.last = longer.length - 1;
    return true;
  }

  /** The key as of main revision `atRev`, or null when it did not exist then. */
  get(atRev: number): KeyAt | null {
    const at = this.findGeneration(atRev);
    if (at < 0) return null;
    const i = this.lastAtOrBefore(at, atRev);
    if (i < 0) return null;
    const list = this.list;
    const n = list[at]!;
    return { modified: revision(list[at + 3 + 2 * i]!, list[at + 4 + 2 * i]!), created: list[at + 2]!, version: list[at + 1]! - (n - i - 1) };
  }

  /** The revision that wrote the key's value as of `atRev`, or null (made on each call). */
  modifiedAt(atRev: number): Revision | null {
    const at = this.positionAt(atRev);
    return at < 0 ? null : revision(this.list[at]!, this.list[at + 1]!);
  }

  /** Pushes onto `out` the main and sub revision that wrote the key's value as of `atRev`; false (nothing pushed) when there is none. */
  pushModifiedAt(atRev: number, out: number[]): boolean {
    const at = this.positionAt(atRev);
    if (at < 0) return false;
    out.push(this.list[at]!, this.list[at + 1]!);
    return true;
  }

  /** Whether the key existed at main revision `atRev` (`modifiedAt` is not null), without an object. */
  existsAt(atRev: number): boolean {
    return this.positionAt(atRev) >= 0;
  }

  /**
   * Where the revision that wrote the key's value as of `atRev` is, or -1 when the key did not
   * exist then: its main is `numberAt(position)`, its sub `numberAt(position + 1)` (a single-key
   * read takes them so, no object or list made).
   */
  positionAt(atRev: number): number {
    const at = this.findGeneration(atRev);
    if (at < 0) return -1;
    const i = this.lastAtOrBefore(at, atRev);
    return i < 0 ? -1 : at + 3 + 2 * i;
  }

  /** A number of the key's list, at a position `positionAt` gave (or the one after it). */
  numberAt(position: number): number {
    return this.list[position]!;
  }

  /** Whether the key exists now (its last generation is not ended). */
  isLive(): boolean {
    return this.list[this.last] !== 0;
  }

  /** The main revision that created the live generation (the key must be live). */
  liveCreated(): number {
    return this.list[this.last + 2]!;
  }

  /** The live generation's version (the key must be live). */
  liveVersion(): number {
    return this.list[this.last + 1]!;
  }

  /**
   * The revisions from main revision `rev` on, keeping only the last change of each main revision
   * (etcd's `since`, which watchers catching up use).
   */
  since(rev: number): Revision[] {
    assert(!this.isEmpty(), () => `since on ${this.key}, an empty key index`);
    const starts = this.generationStarts();
    let start = starts.length - 1;
    for (; start > 0; start--) {
      const at = starts[start]!;
      if (this.list[at] === 0) continue;
      if (rev > this.list[at + 2]!) break;
    }
    const out: Revision[] = [];
    let last = 0;
    for (let g = start; g < starts.length; g++) {
      const at = starts[g]!;
      for (let i = 0; i < this.list[at]!; i++) {
        const main = this.list[at + 3 + 2 * i]!;
        if (main < rev) continue;
        const r = revision(main, this.list[at + 4 + 2 * i]!);
        if (main === last) out[out.length - 1] = r;
        else out.push(r);
        last = main;
      }
    }
    return out;
  }

  /**
   * Drops what compaction at `atRev` makes unreachable, adding the revisions it keeps to
   * `available` (etcd main's compact: the tombstone at exactly `atRev` is kept, #18089, so a
   * watcher starting at the compaction revision still sees the delete).
   */
  compact(atRev: number, available: RevisionSet): void {
    assert(!this.isEmpty(), () => `compact of ${this.key}, an empty key index`);
    const [at, revisionIndex] = this.doCompact(atRev, available);
    const list = this.list;
    const n = list[at]!;
    // The revisions the generation at `at` loses from its front: those before the one kept.
    const dropped = revisionIndex === -1 ? 0 : revisionIndex;
    const trimmed = n !== 0 && dropped > 0;
    if (at === 0 && !trimmed) return;
    // The generation at `at`, less its dropped revisions, and every one after it.
    const kept = trimmed ? [n - dropped, list[at + 1]!, list[at + 2]!].concat(list.slice(at + 3 + 2 * dropped)) : list.slice(at);
    this.last = this.last === at ? 0 : this.last - (list.length - kept.length);
    this.list = kept;
  }

  /**
   * Adds to `available` what compaction at `atRev` would keep, except a tombstone (etcd's keep,
   * used by HashKV: a tombstone at the compaction revision is kept on disk since #18089 but never
   * hashed, so members on either side of that fix agree).
   */
  keep(atRev: number, available: RevisionSet): void {
    if (this.isEmpty()) return;
    const [at, revisionIndex] = this.doCompact(atRev, available);
    const n = this.list[at]!;
    if (n !== 0 && revisionIndex === n - 1 && at !== this.last) available.delete(this.list[at + 3 + 2 * revisionIndex]!, this.list[at + 4 + 2 * revisionIndex]!);
  }

  private doCompact(atRev: number, available: RevisionSet): [at: number, revisionIndex: number] {
    const list = this.list;
    let at = 0;
    // The first generation still alive at atRev (its tombstone at or after atRev), or the last.
    // A generation before the last is never empty; its last revision is its tombstone.
    while (at !== this.last) {
      const end = at + 3 + 2 * list[at]!;
      const tombstone = list[end - 2]!;
      if (tombstone >= atRev) break; // `>` here is etcd before #18089: it drops a tombstone at atRev
      at = end;
    }
    // A generation that ended at atRev itself, followed by one that began in that same main
    // revision (a txn that deleted the key and put it again: a delete range ending in "\0" passes
    // etcd's duplicate-key check): the key's value at atRev is the later put, so compaction keeps
    // that one. Stopping at the tombstone (as etcd main does) kept it alone, and the backend lost
    // the put the index still pointed at (found by the mvcc model test, audit of issue 8).
    while (at !== this.last) {
      const next = at + 3 + 2 * list[at]!;
      if (list[next - 2] !== atRev || list[next] === 0 || list[next + 3]! > atRev) break;
      at = next;
    }
    const revisionIndex = this.lastAtOrBefore(at, atRev);
    if (revisionIndex !== -1) available.add(list[at + 3 + 2 * revisionIndex]!, list[at + 4 + 2 * revisionIndex]!);
    return [at, revisionIndex];
  }

  isEmpty(): boolean {
    return this.last === 0 && this.list[0] === 0;
  }

  /** The index in the generation at `at` of its last revision whose main is at or before `atRev`, or -1. */
  private lastAtOrBefore(at: number, atRev: number): number {
    const list = this.list;
    for (let i = list[at]! - 1; i >= 0; i--) if (list[at + 3 + 2 * i]! <= atRev) return i;
    return -1;
  }

  /** Where the generation holding the key's value at `rev` starts, or -1 when the key did not exist then. */
  private findGeneration(rev: number): number {
    const list = this.list;
    const last = this.last;
    // The usual reads first: at or after the last generation's start, or after the key's last delete.
    if (list[last] !== 0) {
      if (list[last + 3]! <= rev) return last;
    } else if (last > 0 && list[last - 2]! <= rev) return -1;
    // The last generation whose first revision is at or before rev; none when it ended at or before rev.
    let found = -1;
    for (let at = 0; at < last; at += 3 + 2 * list[at]!) {
      if (list[at + 3]! > rev) break;
      found = at;
    }
    if (found < 0) return -1;
    const end = found + 3 + 2 * list[found]!;
    return list[end - 2]! <= rev ? -1 : found;
  }

  /** Where each generation starts. */
  private generationStarts(): number[] {
    const starts: number[] = [];
    for (let at = 0; at < this.list.length; at += this.list[at] === 0 ? 1 : 3 + 2 * this.list[at]!) starts.push(at);
    return starts;
  }

  /** The generations as objects, oldest first (tests, messages). */
  generationList(): GenerationView[] {
    return this.generationStarts().map((at) => {
      const n = this.list[at]!;
      const revisions = Array.from({ length: n }, (_, i) => revision(this.list[at + 3 + 2 * i]!, this.list[at + 4 + 2 * i]!));
      return n === 0 ? { created: 0, version: 0, revisions } : { created: this.list[at + 2]!, version: this.list[at + 1]!, revisions };
    });
  }

  toString(): string {
    return this.generationList()
      .map((g) => `{${g.revisions.map(formatRevision).join(', ')}}`)
      .join(' ');
  }
}

/**
 * `list`'s first `keep` numbers followed by `count` more (given after it, 2, 3 or 5): an exact-size
 * copy while short, `list` itself cut and grown by push from `exactGrowthBelow` numbers on.
 */
function grown(list: number[], keep: number, count: number, a: number, b: number, c?: number, d?: number, e?: number): number[] {
  if (list.length >= exactGrowthBelow) {
    // Long: cut in place (a revived key drops its trailing empty generation) and push.
    list.length = keep;
    list.push(a, b);
    if (count > 2) list.push(c!);
    if (count > 3) list.push(d!, e!);
    return list;
  }
  const extra = count === 2 ? [a, b] : count === 3 ? [a, b, c!] : [a, b, c!, d!, e!];
  return (keep === list.length ? list : list.slice(0, keep)).concat(extra);
}
