import { BTree } from './btree.ts';
import type { Bytes } from '../api/bytes.ts';
import { assert, AssertionError } from '../base/assert.ts';
import { runToEnd, type Steps } from '../base/steps.ts';
import { KeyIndex, type KeyAt } from './keyIndex.ts';
import { RevisionSet, type Revision } from './revision.ts';

/**
 * A range of keys as the index takes it (etcd's internal form): `end` null is the single key,
 * '' is every key from `key` on, anything else is [key, end).
 */
export type IndexEnd = Bytes | null;

/** Above every byte string: chars of Bytes are at most 0xff. */
const aboveAllKeys = '\u0100';

/** What a `forRange` callback returns to stop the walk. */
const stopWalk = Object.freeze({ break: true });

const compareKeys = (a: Bytes, b: Bytes): number => (a < b ? -1 : a > b ? 1 : 0);

/** The request's `rangeEnd` in the index's form: '' (absent) is one key, "\0" is everything from the key on. */
export function indexEnd(rangeEnd: Bytes | undefined): IndexEnd {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  return rangeEnd === '\0' ? '' : rangeEnd;
}

/** What tombstones the live keys of a range for `TreeIndex.tombstoneLive`: a write transaction. */
export interface TombstoneWriter {
  /** Writes the key's tombstone (key bucket, event) and returns its revision, which the index then records. */
  writeTombstone(keyIndex: KeyIndex): Revision;
}

/**
 * The ordered in-memory index of every key's revisions (etcd's mvcc/index.go treeIndex), on a
 * B+ tree from sorted-btree. The key bucket holds the values; this says which revision of each
 * key a read at a revision must fetch.
 *
 * Beside it, a second tree of the live keys alone (those whose last generation is not ended by a
 * tombstone). A read or a delete at or above every revision the index holds (any write
 * transaction's, any read at the current revision) walks that one: a key deleted and not yet
 * compacted is not visited at all. `etcdctl check perf`'s second run's cleanup DeleteRange walked
 * the first run's 55k tombstoned keys too, each a chain of loads (issue 10). Invariant: `live`
 * holds exactly the key indexes of `tree` that are `isLive()`; only this class
 * changes a key index's generations, so it keeps both.
 */
export class TreeIndex {
  private readonly tree: BTree<Bytes, KeyIndex> = new BTree<Bytes, KeyIndex>(undefined, compareKeys);
  private live: BTree<Bytes, KeyIndex> = new BTree<Bytes, KeyIndex>(undefined, compareKeys);
  /** The highest main revision any key index holds (0: none): reads at or above it are reads of the live keys. */
  private highestMain = 0;

  get size(): number {
    return this.tree.size;
  }

  /** Keys live now. */
  get liveCount(): number {
    return this.live.size;
  }

  keyIndex(key: Bytes): KeyIndex | undefined {
    return this.tree.get(key);
  }

  get(key: Bytes, atRev: number): KeyAt | null {
    const keyIndex = this.tree.get(key);
    return keyIndex === undefined ? null : keyIndex.get(atRev);
  }

  /** Records a put; returns the key's index (created when new). */
  put(key: Bytes, rev: Revision): KeyIndex {
    const keyIndex = this.tree.get(key);
    if (keyIndex !== undefined) this.putExisting(keyIndex, rev);
    return keyIndex ?? this.putNew(key, rev);
  }

  /** Records the first put of a key the index does not hold (the caller looked it up already). */
  putNew(key: Bytes, rev: Revision): KeyIndex {
    const keyIndex = new KeyIndex(key);
    keyIndex.put(rev);
    if (!this.tree.set(key, keyIndex, false)) throw new AssertionError(`a new key index for ${key}, which the index holds`);
    this.live.set(key, keyIndex);
    this.saw(rev);
    return keyIndex;
  }

  /** Records a put of a key this index holds (`keyIndex` is its index). */
  putExisting(keyIndex: KeyIndex, rev: Revision): void {
    const revived = !keyIndex.isLive();
    keyIndex.put(rev);
    if (revived) this.live.set(keyIndex.key, keyIndex);
    this.saw(rev);
  }

  /** Ends the key's generation; false when the key is not live. */
  tombstone(key: Bytes, rev: Revision): boolean {
    const keyIndex = this.tree.get(key);
    return keyIndex !== undefined && this.tombstoneExisting(keyIndex, rev);
  }

  /** Ends the generation of a key this index holds; false when it is not live. */
  tombstoneExisting(keyIndex: KeyIndex, rev: Revision): boolean {
    if (!keyIndex.tombstone(rev)) return false;
    if (!this.live.delete(keyIndex.key)) throw new AssertionError(`the live key ${keyIndex.key} was not in the live index`);
    this.saw(rev);
    return true;
  }

  /**
   * Tombstones every key of the range that is live at `atRev` (a write transaction's read
   * revision: at or above every revision here, so the live keys now), in key order, each at the
   * revision `writer.writeTombstone(keyIndex)` returns (called once per key, in that order, before
   * the index records the tombstone; it must not read the index). Returns how many. The live
   * index drops the range's keys at the end, all at once (a `delete` per key, a descent of the
   * tree each, cost as much as the rest of the delete: issue 10).
   */
  tombstoneLive(key: Bytes, end: IndexEnd, atRev: number, writer: TombstoneWriter, limit = Infinity): number {
    if (atRev < this.highestMain) throw new AssertionError(`a delete range at revision ${atRev}, below the index's ${this.highestMain}`);
    const live = limit === Infinity || end === null ? this.liveAt(key, end, atRev) : this.firstLive(key, end, limit);
    // A slice (`limit` keys found, more may follow): the live index drops [key, the slice's last
    // key] alone, and the next slice starts from `key` again (nothing before it is live any more).
    if (end !== null && live.length === limit) end = live[live.length - 1]!.key + '\0';
    for (const keyIndex of live) {
      const rev = writer.writeTombstone(keyIndex);
      if (!keyIndex.tombstone(rev)) throw new AssertionError(`delete of ${keyIndex.key}, which is not live`);
      this.saw(rev);
    }
    if (live.length === 0) return 0;
    const before = this.live.size;
    if (end === null) this.live.delete(key);
    else this.dropLive(key, end.length === 0 ? aboveAllKeys : end, live.length);
    if (this.live.size !== before - live.length) throw new AssertionError(`a delete of ${live.length} live keys took ${before - this.live.size} from the live index`);
    return live.length;
  }

  /**
   * Removes [key, high) from the live index, which holds `count` keys there. sorted-btree's
   * `deleteRange` splices each key out of its leaf (~1 us a key: as much as the rest of the
   * delete); when the range holds most of the live keys, a new tree of the others is cheaper
   * (check perf's cleanup: every live key, so nothing to copy).
   */
  private dropLive(key: Bytes, high: Bytes, count: number): void {
    const others = this.live.size - count;
    if (others >= count) {
      this.live.deleteRange(key, high, false);
      return;
    }
    const kept = new BTree<Bytes, KeyIndex>(undefined, compareKeys);
    if (others > 0) {
      const keep = (liveKey: Bytes, keyIndex: KeyIndex) => {
        kept.set(liveKey, keyIndex);
      };
      this.live.forRange(this.live.minKey()!, key, false, keep);
      const last = this.live.maxKey()!;
      if (!(last < high)) this.live.forRange(high, last, true, keep);
    }
    this.live = kept;
  }

  /**
   * Adds a key index rebuilt from the backend (restore); the key must be new here. Restore then
   * changes key indexes directly, in revision order, and ends with `indexLiveKeys`: the live index
   * is built once, in key order, not kept key by key through a scan of every revision.
   */
  insert(keyIndex: KeyIndex): void {
    if (!this.tree.set(keyIndex.key, keyIndex, false)) throw new AssertionError(`a restored key index for ${keyIndex.key}, which the index holds`);
  }

  /**
   * Builds the live keys' index (and the highest revision) anew from every key index: the end of
   * a restore. A tree insert is a descent of ~17 comparisons of keys (~100 ns each for check perf's
   * 276-byte keys): 110k live keys took ~0.5 s. So when most keys are live, the live index starts
   * as a copy-on-write clone of the whole tree (O(1), nodes copied as either side writes them)
   * less the dead keys; otherwise as the live keys inserted.
   */
  indexLiveKeys(): void {
    runToEnd(this.indexLiveKeysInSteps(Number.POSITIVE_INFINITY));
  }

  /** `indexLiveKeys`, a step after every `perStep` keys visited, inserted or removed (a snapshot's index prepared in turns). */
  *indexLiveKeysInSteps(perStep: number): Steps<void> {
    const live: KeyIndex[] = [];
    const dead: Bytes[] = [];
    let highest = 0;
    let inStep = 0;
    for (const keyIndex of this.tree.values()) {
      const modified = keyIndex.modifiedMain;
      if (modified > highest) highest = modified;
      if (keyIndex.isLive()) live.push(keyIndex);
      else dead.push(keyIndex.key);
      if (++inStep < perStep) continue;
      inStep = 0;
      yield;
    }
    let building: BTree<Bytes, KeyIndex>;
    if (live.length > dead.length) {
      building = this.tree.clone();
      for (const key of dead) {
        building.delete(key);
        if (++inStep < perStep) continue;
        inStep = 0;
        yield;
      }
    } else {
      building = new BTree<Bytes, KeyIndex>(undefined, compareKeys);
      for (const keyIndex of live) {
        building.set(keyIndex.key, keyIndex);
        if (++inStep < perStep) continue;
        inStep = 0;
        yield;
      }
    }
    this.live = building;
    this.highestMain = highest;
  }

  private saw(rev: Revision): void {
    if (rev.main > this.highestMain) this.highestMain = rev.main;
  }

  /** The tree to walk for reads at `atRev`: the live keys' when nothing in the index is above it. */
  private treeAt(atRev: number): BTree<Bytes, KeyIndex> {
    return atRev >= this.highestMain ? this.live : this.tree;
  }

  /** Calls `visit` for each key index in the range (of `tree`: all keys, or the live ones), in key order. */
  visit(key: Bytes, end: IndexEnd, visit: (keyIndex: KeyIndex) => void, tree: BTree<Bytes, KeyIndex> = this.tree): void {
    if (end === null) {
      const keyIndex = tree.get(key);
      if (keyIndex !== undefined) visit(keyIndex);
      return;
    }
    const high = end.length === 0 ? aboveAllKeys : end;
    if (!(key < high)) return;
    tree.forRange(key, high, false, (_key, keyIndex) => visit(keyIndex));
  }

  /** The revision of each key in the range as of `atRev`, in key order (etcd's Revisions, without a limit). */
  revisions(key: Bytes, end: IndexEnd, atRev: number): Revision[] {
    const tree = this.treeAt(atRev);
    if (end === null) {
      const modified = tree.get(key)?.modifiedAt(atRev) ?? null;
      return modified === null ? [] : [modified];
    }
    const out: Revision[] = [];
    if (tree === this.live) this.visit(key, end, (keyIndex) => out.push(keyIndex.modified), tree);
    else {
      this.visit(key, end, (keyIndex) => {
        const modified = keyIndex.modifiedAt(atRev);
        if (modified !== null) out.push(modified);
      });
    }
    return out;
  }

  /**
   * How many keys of the range exist at `atRev` (`revisions`' length), pushing onto `out` the
   * revisions of the first `limit` of them, each its main then its sub: no object per key, and none
   * looked up past the limit (a range's hot path, mvccState.rangeKeys: a limited read of a large
   * prefix still counts every key, as etcd's does).
   */
  revisionPairs(key: Bytes, end: IndexEnd, atRev: number, limit: number, out: number[]): number {
    const tree = this.treeAt(atRev);
    if (end === null) {
      const keyIndex = tree.get(key);
      if (keyIndex === undefined) return 0;
      if (limit > 0) return keyIndex.pushModifiedAt(atRev, out) ? 1 : 0;
      return keyIndex.existsAt(atRev) ? 1 : 0;
    }
    let count = 0;
    if (tree === this.live) {
      this.visit(key, end, (keyIndex) => {
        if (count++ < limit) out.push(keyIndex.modifiedMain, keyIndex.modifiedSub);
      }, tree);
    } else {
      this.visit(key, end, (keyIndex) => {
        if (count < limit ? keyIndex.pushModifiedAt(atRev, out) : keyIndex.existsAt(atRev)) count++;
      });
    }
    return count;
  }

  /** The index of each key in the range that exists at `atRev`, in key order. */
  liveAt(key: Bytes, end: IndexEnd, atRev: number): KeyIndex[] {
    const out: KeyIndex[] = [];
    const tree = this.treeAt(atRev);
    if (tree === this.live) this.visit(key, end, (keyIndex) => out.push(keyIndex), tree);
    else {
      this.visit(key, end, (keyIndex) => {
        if (keyIndex.modifiedAt(atRev) !== null) out.push(keyIndex);
      });
    }
    return out;
  }

  /** The first `limit` live keys' indexes of a range (`end` not null), in key order. */
  private firstLive(key: Bytes, end: Bytes, limit: number): KeyIndex[] {
    const out: KeyIndex[] = [];
    const high = end.length === 0 ? aboveAllKeys : end;
    if (!(key < high) || limit <= 0) return out;
    this.live.forRange(key, high, false, (_key, keyIndex) => {
      out.push(keyIndex);
      return out.length >= limit ? stopWalk : undefined;
    });
    return out;
  }

  /** The live keys' indexes in key order, lazily (the index must not change while they are taken). */
  liveKeys(): IterableIterator<KeyIndex> {
    return this.live.values();
  }

  /**
   * Whether the live index holds exactly the live keys of the full one (the invariant above); for
   * tests: it walks both trees.
   */
  liveIndexAgrees(): boolean {
    const expected: KeyIndex[] = [];
    this.tree.forEach((keyIndex) => {
      if (keyIndex.isLive()) expected.push(keyIndex);
    });
    const actual = this.live.valuesArray();
    return actual.length === expected.length && actual.every((keyIndex, i) => keyIndex === expected[i]);
  }

  /**
   * Compacts every key at `rev` and removes the keys left empty; returns the revisions the key
   * bucket must keep at or below `rev` (etcd's treeIndex.Compact). All at once: a compaction in
   * slices calls `compactKeys` (see Compactor).
   */
  compact(rev: number): RevisionSet {
    const available = new RevisionSet();
    this.compactKeys(rev, '', Number.POSITIVE_INFINITY, available);
    return available;
  }

  /**
   * Compacts at `rev` the first `keys` keys from `from` on (inclusive, key order), adding the
   * revisions they keep to `available`, and removes those left empty; returns the key to go on
   * from, or null once the last key is done. Between slices the index answers every read at or
   * above `rev` as before: compaction drops only revisions below the one in effect at `rev`, and
   * a key it empties exists at no revision from `rev` on. A key written meanwhile only gains
   * revisions above `rev`, which compaction at `rev` keeps wherever the slice finds them.
   */
  compactKeys(rev: number, from: Bytes, keys: number, available: RevisionSet): Bytes | null {
    const emptied: Bytes[] = [];
    let visited = 0;
    let last = from;
    this.tree.forRange(from, aboveAllKeys, false, (key, keyIndex) => {
      keyIndex.compact(rev, available);
      if (keyIndex.isEmpty()) emptied.push(key);
      last = key;
      return ++visited >= keys ? stopWalk : undefined;
    });
    for (const key of emptied) assert(this.tree.delete(key), () => `compaction lost key ${key}`);
    // The next key after `last`: the least string above it.
    return visited < keys ? null : last + '\0';
  }

  /** The revisions at or below `rev` that a hash at `rev` covers (etcd's treeIndex.Keep). */
  keep(rev: number): RevisionSet {
    const available = new RevisionSet();
    this.tree.forEach((keyIndex) => keyIndex.keep(rev, available));
    return available;
  }

  forEach(visit: (keyIndex: KeyIndex) => void): void {
    this.tree.forEach(visit);
  }
}
