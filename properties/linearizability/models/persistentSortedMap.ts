/**
 * An immutable sorted map from strings to values, as an AVL tree with path copying: an update
 * copies the O(log n) nodes on one path and shares the rest with the old version. The etcd model
 * needs this because the checker keeps every state it visits, and a state is the whole key space.
 *
 * Every node carries the XOR of the hashes of its subtree's entries, so the hash of a map is
 * read at the root and maintained in O(log n) per update.
 */
import { finalize32, hashString32, mix32 } from '../../../core/base/hash.ts';

/** Values hash themselves (once, when created). */
export interface Hashed {
  readonly hash: number;
}

interface MapNode<V extends Hashed> {
  readonly key: string;
  readonly value: V;
  /** The hash of this entry alone: key and value. */
  readonly entryHash: number;
  readonly left: MapNode<V> | undefined;
  readonly right: MapNode<V> | undefined;
  readonly height: number;
  /** XOR of `entryHash` over the subtree. */
  readonly subtreeHash: number;
}

export type SortedMap<V extends Hashed> = MapNode<V> | undefined;

export function mapGet<V extends Hashed>(map: SortedMap<V>, key: string): V | undefined {
  let node = map;
  while (node !== undefined) {
    if (key === node.key) return node.value;
    node = key < node.key ? node.left : node.right;
  }
  return undefined;
}

export function mapHash<V extends Hashed>(map: SortedMap<V>): number {
  return map === undefined ? 0 : map.subtreeHash;
}

/** The map with `key` bound to `value`. */
export function mapSet<V extends Hashed>(map: SortedMap<V>, key: string, value: V): MapNode<V> {
  if (map === undefined) return node(key, value, entryHashOf(key, value), undefined, undefined);
  if (key === map.key) return node(key, value, entryHashOf(key, value), map.left, map.right);
  if (key < map.key) return balance(map.key, map.value, map.entryHash, mapSet(map.left, key, value), map.right);
  return balance(map.key, map.value, map.entryHash, map.left, mapSet(map.right, key, value));
}

/** The map without `key` (the same map when the key is absent). */
export function mapDelete<V extends Hashed>(map: SortedMap<V>, key: string): SortedMap<V> {
  if (map === undefined) return undefined;
  if (key < map.key) {
    const left = mapDelete(map.left, key);
    return left === map.left ? map : balance(map.key, map.value, map.entryHash, left, map.right);
  }
  if (key > map.key) {
    const right = mapDelete(map.right, key);
    return right === map.right ? map : balance(map.key, map.value, map.entryHash, map.left, right);
  }
  if (map.left === undefined) return map.right;
  if (map.right === undefined) return map.left;
  let successor = map.right;
  while (successor.left !== undefined) successor = successor.left;
  return balance(successor.key, successor.value, successor.entryHash, map.left, mapDelete(map.right, successor.key));
}

/**
 * Calls `visit` for each entry with `low <= key < high` in key order, until it returns false.
 * `high` undefined means no upper bound.
 */
export function mapForRange<V extends Hashed>(
  map: SortedMap<V>,
  low: string,
  high: string | undefined,
  visit: (key: string, value: V) => boolean,
): boolean {
  if (map === undefined) return true;
  if (low < map.key && !mapForRange(map.left, low, high, visit)) return false;
  if (map.key >= low && (high === undefined || map.key < high)) {
    if (!visit(map.key, map.value)) return false;
  }
  if (high === undefined || map.key < high) return mapForRange(map.right, low, high, visit);
  return true;
}

/** Entries in key order. */
export function mapEntries<V extends Hashed>(map: SortedMap<V>): [string, V][] {
  const entries: [string, V][] = [];
  mapForRange(map, '', undefined, (key, value) => entries.push([key, value]) > 0);
  return entries;
}

/**
 * Calls `visit` for each key bound differently in `after` than in `before` (to undefined when
 * removed), until it returns false. Subtrees the two versions share are skipped, so after an
 * update this costs the path it copied (and the subtrees a rotation reshaped).
 */
export function mapChangedKeys<V extends Hashed>(before: SortedMap<V>, after: SortedMap<V>, visit: (key: string, value: V | undefined) => boolean): boolean {
  if (before === after) return true;
  if (before !== undefined && after !== undefined && before.key === after.key) {
    if (!mapChangedKeys(before.left, after.left, visit)) return false;
    if (before.value !== after.value && !visit(after.key, after.value)) return false;
    return mapChangedKeys(before.right, after.right, visit);
  }
  // Different shapes here: compare the two subtrees' entries in key order.
  const left = mapEntries(before);
  const right = mapEntries(after);
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const a = left[i];
    const b = right[j];
    if (b === undefined || (a !== undefined && a[0] < b[0])) {
      if (!visit(a![0], undefined)) return false;
      i++;
    } else if (a === undefined || b[0] < a[0]) {
      if (!visit(b[0], b[1])) return false;
      j++;
    } else {
      if (a[1] !== b[1] && !visit(b[0], b[1])) return false;
      i++;
      j++;
    }
  }
  return true;
}

/** Equal keys bound to equal values (`sameValue`), whatever the tree shapes. */
export function mapEqual<V extends Hashed>(a: SortedMap<V>, b: SortedMap<V>, sameValue: (x: V, y: V) => boolean): boolean {
  if (a === b) return true;
  if (mapHash(a) !== mapHash(b)) return false;
  const left = mapEntries(a);
  const right = mapEntries(b);
  return left.length === right.length && left.every(([key, value], i) => key === right[i]![0] && sameValue(value, right[i]![1]));
}

function entryHashOf(key: string, value: Hashed): number {
  return finalize32(mix32(hashString32(key), value.hash)) | 0;
}

function heightOf<V extends Hashed>(map: SortedMap<V>): number {
  return map === undefined ? 0 : map.height;
}

function node<V extends Hashed>(key: string, value: V, entryHash: number, left: SortedMap<V>, right: SortedMap<V>): MapNode<V> {
  return {
    key,
    value,
    entryHash,
    left,
    right,
    height: Math.max(heightOf(left), heightOf(right)) + 1,
    subtreeHash: entryHash ^ mapHash(left) ^ mapHash(right),
  };
}

/** A node whose subtrees differ in height by at most 2, rebalanced by AVL rotations. */
function balance<V extends Hashed>(key: string, value: V, entryHash: number, left: SortedMap<V>, right: SortedMap<V>): MapNode<V> {
  const difference = heightOf(left) - heightOf(right);
  if (difference > 1) {
    const leftChild = left!;
    if (heightOf(leftChild.left) >= heightOf(leftChild.right)) {
      return node(leftChild.key, leftChild.value, leftChild.entryHash, leftChild.left, node(key, value, entryHash, leftChild.right, right));
    }
    const leftRight = leftChild.right!;
    return node(leftRight.key, leftRight.value, leftRight.entryHash, node(leftChild.key, leftChild.value, leftChild.entryHash, leftChild.left, leftRight.left), node(key, value, entryHash, leftRight.right, right));
  }
  if (difference < -1) {
    const rightChild = right!;
    if (heightOf(rightChild.right) >= heightOf(rightChild.left)) {
      return node(rightChild.key, rightChild.value, rightChild.entryHash, node(key, value, entryHash, left, rightChild.left), rightChild.right);
    }
    const rightLeft = rightChild.left!;
    return node(rightLeft.key, rightLeft.value, rightLeft.entryHash, node(key, value, entryHash, left, rightLeft.left), node(rightChild.key, rightChild.value, rightChild.entryHash, rightLeft.right, rightChild.right));
  }
  return node(key, value, entryHash, left, right);
}
