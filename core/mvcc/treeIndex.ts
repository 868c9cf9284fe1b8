import { BTree } from './btree.ts';
import type { Bytes } from '../api/bytes.ts';
import { assert } from '../base/assert.ts';
import { KeyIndex, type KeyAt } from './keyIndex.ts';
import { RevisionSet, type Revision } from './revision.ts';

/**
 * A range of keys as the index takes it (etcd's internal form): `end` null is the single key,
 * '' is every key from `key` on, anything else is [key, end).
 */
export type IndexEnd = Bytes | null;

/** Above every byte string: chars of Bytes are at most 0xff. */
const aboveAllKeys = '\u0100';

const compareKeys = (a: Bytes, b: Bytes): number => (a < b ? -1 : a > b ? 1 : 0);

/** The request's `rangeEnd` in the index's form: '' (absent) is one key, "\0" is everything from the key on. */
export function indexEnd(rangeEnd: Bytes | undefined): IndexEnd {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  return rangeEnd === '\0' ? '' : rangeEnd;
}

/**
 * The ordered in-memory index of every key's revisions (etcd's mvcc/index.go treeIndex), on a
 * B+ tree from sorted-btree. The key bucket holds the values; this says which revision of each
 * key a read at a revision must fetch.
 */
export class TreeIndex {
  private readonly tree: BTree<Bytes, KeyIndex> = new BTree<Bytes, KeyIndex>(undefined, compareKeys);

  get size(): number {
    return this.tree.size;
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
    let keyIndex = this.tree.get(key);
    if (keyIndex === undefined) {
      keyIndex = new KeyIndex(key);
      this.tree.set(key, keyIndex);
    }
    keyIndex.put(rev);
    return keyIndex;
  }

  /** Ends the key's generation; false when the key is not live. */
  tombstone(key: Bytes, rev: Revision): boolean {
    const keyIndex = this.tree.get(key);
    return keyIndex !== undefined && keyIndex.tombstone(rev);
  }

  insert(keyIndex: KeyIndex): void {
    this.tree.set(keyIndex.key, keyIndex);
  }

  /** Calls `visit` for each key index in the range, in key order. */
  visit(key: Bytes, end: IndexEnd, visit: (keyIndex: KeyIndex) => void): void {
    if (end === null) {
      const keyIndex = this.tree.get(key);
      if (keyIndex !== undefined) visit(keyIndex);
      return;
    }
    const high = end.length === 0 ? aboveAllKeys : end;
    if (!(key < high)) return;
    this.tree.forRange(key, high, false, (_key, keyIndex) => visit(keyIndex));
  }

  /** The revision of each key in the range as of `atRev`, in key order (etcd's Revisions, without a limit). */
  revisions(key: Bytes, end: IndexEnd, atRev: number): Revision[] {
    if (end === null) {
      const modified = this.tree.get(key)?.modifiedAt(atRev) ?? null;
      return modified === null ? [] : [modified];
    }
    const out: Revision[] = [];
    this.visit(key, end, (keyIndex) => {
      const modified = keyIndex.modifiedAt(atRev);
      if (modified !== null) out.push(modified);
    });
    return out;
  }

  /** The index of each key in the range that exists at `atRev`, in key order. */
  liveAt(key: Bytes, end: IndexEnd, atRev: number): KeyIndex[] {
    const out: KeyIndex[] = [];
    this.visit(key, end, (keyIndex) => {
      if (keyIndex.modifiedAt(atRev) !== null) out.push(keyIndex);
    });
    return out;
  }

  /**
   * Compacts every key at `rev` and removes the keys left empty; returns the revisions the key
   * bucket must keep at or below `rev` (etcd's treeIndex.Compact).
   */
  compact(rev: number): RevisionSet {
    const available = new RevisionSet();
    const emptied: Bytes[] = [];
    this.tree.forEach((keyIndex) => {
      keyIndex.compact(rev, available);
      if (keyIndex.isEmpty()) emptied.push(keyIndex.key);
    });
    for (const key of emptied) assert(this.tree.delete(key), () => `compaction lost key ${key}`);
    return available;
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
