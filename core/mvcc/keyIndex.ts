import type { Bytes } from '../api/bytes.ts';
import { assert, AssertionError } from '../base/assert.ts';
import { formatRevision, revisionGreater, zeroRevision, type Revision, type RevisionSet } from './revision.ts';

/**
 * Below this length a list grows by an exact-size copy, from it on by `push`. V8 gives an array
 * that grows from empty room for 17 elements (~150 bytes), and most keys keep their one or two
 * revisions and generations for life: under `etcdctl check perf` that slack was 12 MB of a
 * member's heap per 52k keys, marked and moved by every full collection (runtime8, heap
 * snapshot). A copy per append is cheap while lists are short; longer ones push (amortised).
 */
const exactGrowthBelow = 16;

function appended<Item>(list: Item[], item: Item): Item[] {
  // Array literals for the usual one to three items: as exact as `concat`, without its temporary
  // array and its generic path (`concat` was a quarter of tombstoning a 60k-key prefix, issue 10).
  switch (list.length) {
    case 0:
      return [item];
    case 1:
      return [list[0]!, item];
    case 2:
      return [list[0]!, list[1]!, item];
  }
  if (list.length >= exactGrowthBelow) {
    list.push(item);
    return list;
  }
  return list.concat([item]);
}

/**
 * One life of a key: from the put that created it to the delete (tombstone) that ended it.
 * `version` counts the puts of this life (a tombstone counts too, as in etcd, but is never read).
 */
export class Generation {
  version = 0;
  /** The revision of the put that created this generation (zero while empty). */
  created: Revision = zeroRevision;
  /** Ascending; the last one is the tombstone when this is not the key's last generation. */
  revisions: Revision[] = [];

  isEmpty(): boolean {
    return this.revisions.length === 0;
  }

  /** The index of the last revision whose main is at or before `atRev`, or -1. */
  lastAtOrBefore(atRev: number): number {
    const revisions = this.revisions;
    for (let i = revisions.length - 1; i >= 0; i--) if (revisions[i]!.main <= atRev) return i;
    return -1;
  }
}

/**
 * The empty generation a tombstone opens, one for every deleted key: deleting 50k keys made 50k
 * generations and 50k empty lists, all kept until a compaction and marked by every collection
 * (issue 10: check perf's cleanup delete). Frozen, so nothing can write to it: the put that
 * starts the key's next life puts a generation of its own in its place.
 */
const deletedGeneration: Generation = Object.freeze(Object.assign(new Generation(), { revisions: Object.freeze([]) as unknown as Revision[] }));

/** What a key was at a revision: the revision that wrote it, its creation, its version then. */
export interface KeyAt {
  readonly modified: Revision;
  readonly created: Revision;
  readonly version: number;
}

/**
 * Every revision of one key, grouped in generations (etcd's mvcc/key_index.go): a tombstone ends
 * the current generation and opens an empty one. For example put(2), put(3), delete(4), put(5),
 * delete(6) gives {2, 3, 4(t)}, {5, 6(t)}, {} — and compaction at revision r keeps, per
 * generation still alive at r, the last revision at or before r, dropping generations that ended
 * before r. Invariant: only the last generation may be empty.
 */
export class KeyIndex {
  readonly key: Bytes;
  /** The last revision that modified the key (put or tombstone). */
  modified: Revision = zeroRevision;
  generations: Generation[] = [];

  constructor(key: Bytes) {
    this.key = key;
  }

  put(rev: Revision): void {
    // Not assert(…, closure): this runs per key written (see assert's note).
    if (!revisionGreater(rev, this.modified)) throw new AssertionError(`put of ${this.key} at ${formatRevision(rev)}, not after ${formatRevision(this.modified)}`);
    if (this.generations.length === 0) this.generations = appended(this.generations, new Generation());
    let current = this.generations[this.generations.length - 1]!;
    if (current === deletedGeneration) {
      current = new Generation();
      this.generations[this.generations.length - 1] = current;
    }
    if (current.isEmpty()) current.created = rev;
    current.revisions = appended(current.revisions, rev);
    current.version++;
    this.modified = rev;
  }

  /** Rebuilds a key whose oldest surviving revision is a put (etcd's restore from the key bucket). */
  restore(created: Revision, modified: Revision, version: number): void {
    assert(this.generations.length === 0, () => `restore of ${this.key} into a key with generations`);
    const generation = new Generation();
    generation.created = created;
    generation.version = version;
    generation.revisions = [modified];
    this.generations = appended(this.generations, generation);
    this.modified = modified;
  }

  /**
   * Rebuilds a key whose oldest surviving revision is a tombstone: one kept at a compaction
   * revision (etcd main's restoreTombstone, with #18089). Without it the tombstone would never
   * be compacted away and members that restarted would hash differently.
   */
  restoreTombstone(rev: Revision): void {
    this.restore(zeroRevision, rev, 1);
    this.generations = appended(this.generations, deletedGeneration);
  }

  /** Ends the current generation at `rev`. False when the key is not live (etcd's ErrRevisionNotFound). */
  tombstone(rev: Revision): boolean {
    const generations = this.generations;
    const current = generations[generations.length - 1];
    if (current === undefined || current.isEmpty()) {
      if (this.isEmpty() || current === undefined) throw new AssertionError(`tombstone of ${this.key}, an empty key index`);
      return false;
    }
    // `put` on a live generation, inlined: this runs per key of a range delete (issue 10).
    if (!revisionGreater(rev, this.modified)) throw new AssertionError(`tombstone of ${this.key} at ${formatRevision(rev)}, not after ${formatRevision(this.modified)}`);
    current.revisions = appended(current.revisions, rev);
    current.version++;
    this.modified = rev;
    this.generations = appended(generations, deletedGeneration);
    return true;
  }

  /** The key as of main revision `atRev`, or null when it did not exist then. */
  get(atRev: number): KeyAt | null {
    const generation = this.findGeneration(atRev);
    if (generation === null) return null;
    const n = generation.lastAtOrBefore(atRev);
    if (n < 0) return null;
    return { modified: generation.revisions[n]!, created: generation.created, version: generation.version - (generation.revisions.length - n - 1) };
  }

  /** The revision that wrote the key's value as of `atRev`, or null (get without the allocation). */
  modifiedAt(atRev: number): Revision | null {
    const generation = this.findGeneration(atRev);
    if (generation === null) return null;
    const n = generation.lastAtOrBefore(atRev);
    return n < 0 ? null : generation.revisions[n]!;
  }

  /** The live generation (the key exists now), or null when it is deleted. */
  liveGeneration(): Generation | null {
    const last = this.generations[this.generations.length - 1];
    return last === undefined || last.isEmpty() ? null : last;
  }

  /**
   * The revisions from main revision `rev` on, keeping only the last change of each main revision
   * (etcd's `since`, which watchers catching up use).
   */
  since(rev: number): Revision[] {
    assert(!this.isEmpty(), () => `since on ${this.key}, an empty key index`);
    let start = this.generations.length - 1;
    for (; start > 0; start--) {
      const generation = this.generations[start]!;
      if (generation.isEmpty()) continue;
      if (rev > generation.created.main) break;
    }
    const out: Revision[] = [];
    let last = 0;
    for (let g = start; g < this.generations.length; g++) {
      for (const r of this.generations[g]!.revisions) {
        if (r.main < rev) continue;
        if (r.main === last) out[out.length - 1] = r;
        else out.push(r);
        last = r.main;
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
    const [generationIndex, revisionIndex] = this.doCompact(atRev, available);
    const generation = this.generations[generationIndex]!;
    if (!generation.isEmpty() && revisionIndex !== -1) generation.revisions = generation.revisions.slice(revisionIndex);
    if (generationIndex > 0) this.generations = this.generations.slice(generationIndex);
  }

  /**
   * Adds to `available` what compaction at `atRev` would keep, except a tombstone (etcd's keep,
   * used by HashKV: a tombstone at the compaction revision is kept on disk since #18089 but never
   * hashed, so members on either side of that fix agree).
   */
  keep(atRev: number, available: RevisionSet): void {
    if (this.isEmpty()) return;
    const [generationIndex, revisionIndex] = this.doCompact(atRev, available);
    const generation = this.generations[generationIndex]!;
    if (!generation.isEmpty() && revisionIndex === generation.revisions.length - 1 && generationIndex !== this.generations.length - 1) {
      available.delete(generation.revisions[revisionIndex]!);
    }
  }

  private doCompact(atRev: number, available: RevisionSet): [generationIndex: number, revisionIndex: number] {
    let generationIndex = 0;
    // The first generation still alive at atRev (its tombstone at or after atRev), or the last.
    while (generationIndex < this.generations.length - 1) {
      const revisions = this.generations[generationIndex]!.revisions;
      const tombstone = revisions[revisions.length - 1]!.main;
      if (tombstone >= atRev) break; // `>` here is etcd before #18089: it drops a tombstone at atRev
      generationIndex++;
    }
    // A generation that ended at atRev itself, followed by one that began in that same main
    // revision (a txn that deleted the key and put it again: a delete range ending in "\0" passes
    // etcd's duplicate-key check): the key's value at atRev is the later put, so compaction keeps
    // that one. Stopping at the tombstone (as etcd main does) kept it alone, and the backend lost
    // the put the index still pointed at (found by the mvcc model test, audit of issue 8).
    while (generationIndex < this.generations.length - 1) {
      const revisions = this.generations[generationIndex]!.revisions;
      const next = this.generations[generationIndex + 1]!.revisions;
      if (revisions[revisions.length - 1]!.main !== atRev || next.length === 0 || next[0]!.main > atRev) break;
      generationIndex++;
    }
    const generation = this.generations[generationIndex]!;
    const revisionIndex = generation.lastAtOrBefore(atRev);
    if (revisionIndex !== -1) available.add(generation.revisions[revisionIndex]!);
    return [generationIndex, revisionIndex];
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.isEmpty();
  }

  /** The generation holding the key's value at `rev`, or null when it did not exist then. */
  findGeneration(rev: number): Generation | null {
    const last = this.generations.length - 1;
    for (let g = last; g >= 0; g--) {
      const generation = this.generations[g]!;
      const revisions = generation.revisions;
      if (revisions.length === 0) continue;
      // A generation that ended (tombstone) at or before rev: the key did not exist at rev.
      if (g !== last && revisions[revisions.length - 1]!.main <= rev) return null;
      if (revisions[0]!.main <= rev) return generation;
    }
    return null;
  }

  toString(): string {
    return this.generations.map((g) => `{${g.revisions.map(formatRevision).join(', ')}}`).join(' ');
  }
}
