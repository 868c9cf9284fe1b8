import { AssertionError } from '../core/base/assert.ts';
import { BTree } from '../core/mvcc/btree.ts';
import { SlabKeyValue } from '../core/mvcc/valueSlabs.ts';

/**
 * Makes what a write hands the simulated disk unchangeable, so that a node that edits a record
 * after writing it fails at the edit (records are immutable once written: core/base/durable.ts).
 * The simulator keeps records as objects, by reference: without this, an edit made after the
 * write (a later slice of a range delete completing an array a forced commit's image holds) also
 * changes what the disk "holds", and a restart reads state that was never written — where a real
 * disk holds the bytes encoded at the write.
 *
 * Objects and arrays are frozen, deeply (an edit then throws a TypeError in strict code: every
 * module is one); Maps and Sets get mutators that throw; a B-tree (the backend's key bucket) is
 * frozen through its own `freeze()` and its values walked; a typed array with elements cannot be
 * frozen, so its checksum is kept and `verify` compares it when the disk is read. A KeyValue whose
 * value is in a slab (core/mvcc/valueSlabs.ts) is frozen and its region's checksum kept, not the
 * slab's: a slab is written on after the write (the values appended later), never in the region.
 *
 * Cost: what is already frozen is walked again (core freezes some containers itself, shallowly:
 * being frozen does not say the children are), but no set remembers walked objects — a WeakSet
 * entry per object written cost more than the freezing (a few us an object in a microbench on a
 * loaded machine, and its GC). Only B-tree nodes are remembered: each commit's image is a clone
 * sharing every unchanged node with the image before, so only the changed nodes are walked.
 */
export class RecordFreezer {
  /** B-tree nodes walked: never changed in place once a clone shares them (sorted-btree copies a shared node to change it). */
  private readonly walkedNodes = new WeakSet<object>();
  private readonly byteSums = new WeakMap<ArrayBufferView, number>();
  /** Per slab KeyValue, its value's bytes' checksum (once: its region is written once). */
  private readonly regionSums = new WeakMap<SlabKeyValue, number>();

  /** Freezes `value` and everything it reaches. */
  freeze(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      // Loops, not `children`: this runs for every change and entry written.
      for (let i = 0; i < value.length; i++) this.freeze(value[i]);
      if (!Object.isFrozen(value)) Object.freeze(value);
    } else if (ArrayBuffer.isView(value)) {
      if (!this.byteSums.has(value)) this.byteSums.set(value, checksum(value));
    } else if (value instanceof SlabKeyValue) {
      if (!this.regionSums.has(value)) {
        this.regionSums.set(value, checksum(regionOf(value)));
        Object.freeze(value);
      }
    } else if (value instanceof BTree) {
      const root = (value as unknown as { readonly _root?: TreeNode })._root;
      if (root !== undefined) this.freezeNode(root);
      else for (const child of children(value)) this.freeze(child);
      if (!value.isFrozen) value.freeze();
    } else if (value instanceof Map || value instanceof Set) {
      for (const child of children(value)) this.freeze(child);
      if (!Object.isFrozen(value)) {
        for (const mutator of ['set', 'add', 'delete', 'clear']) Object.defineProperty(value, mutator, { value: refuseCollectionEdit });
        Object.freeze(value);
      }
    } else {
      for (const key in value) this.freeze((value as Record<string, unknown>)[key]);
      if (!Object.isFrozen(value)) Object.freeze(value);
    }
  }

  /** Throws if a byte array that `value` reaches changed since it was frozen (`where` names the file). */
  verify(value: unknown, where: string, seenNodes = new WeakSet<object>()): void {
    if (typeof value !== 'object' || value === null) return;
    if (ArrayBuffer.isView(value)) {
      const sum = this.byteSums.get(value);
      if (sum !== undefined && sum !== checksum(value)) throw new AssertionError(`${where}: a byte array of a record was edited in place after it was written to the disk (records are immutable once written)`);
    } else if (value instanceof SlabKeyValue) {
      const sum = this.regionSums.get(value);
      if (sum !== undefined && sum !== checksum(regionOf(value))) throw new AssertionError(`${where}: a slab value of a record was edited in place after it was written to the disk (slab regions are written once)`);
    } else if (value instanceof BTree) {
      const root = (value as unknown as { readonly _root?: TreeNode })._root;
      if (root === undefined) for (const child of children(value)) this.verify(child, where, seenNodes);
      else this.verifyNode(root, where, seenNodes);
    } else {
      for (const child of children(value)) this.verify(child, where, seenNodes);
    }
  }

  /**
   * A B-tree node and what it reaches, by sorted-btree's own fields (walking the entries would
   * walk the whole tree at every commit). Nodes are left unfrozen: the library marks shared ones.
   */
  private freezeNode(node: TreeNode): void {
    if (this.walkedNodes.has(node)) return;
    this.walkedNodes.add(node);
    const { keys, values, children } = node;
    if (children !== undefined) {
      for (let i = 0; i < children.length; i++) this.freezeNode(children[i]!);
      return;
    }
    for (let i = 0; i < keys.length; i++) {
      this.freeze(keys[i]);
      if (values !== undefined) this.freeze(values[i]);
    }
  }

  private verifyNode(node: TreeNode, where: string, seen: WeakSet<object>): void {
    if (seen.has(node)) return;
    seen.add(node);
    const { keys, values, children } = node;
    if (children !== undefined) {
      for (let i = 0; i < children.length; i++) this.verifyNode(children[i]!, where, seen);
      return;
    }
    for (let i = 0; i < keys.length; i++) {
      this.verify(keys[i], where, seen);
      if (values !== undefined) this.verify(values[i], where, seen);
    }
  }
}

/** sorted-btree's node (2.x): a leaf holds keys and values, an inner node keys and children. */
interface TreeNode {
  readonly keys: readonly unknown[];
  readonly values?: readonly unknown[];
  readonly children?: readonly TreeNode[];
}

/** What a record's object holds: a B-tree's and a Map's keys and values, a Set's, an array's or an object's values. */
function* children(value: object): Iterable<unknown> {
  if (value instanceof BTree) {
    for (const [key, child] of (value as BTree<unknown, unknown>).entries()) {
      yield key;
      yield child;
    }
  } else if (value instanceof Map) {
    for (const [key, child] of value) {
      yield key;
      yield child;
    }
  } else if (value instanceof Set) {
    yield* value;
  } else if (Array.isArray(value)) {
    yield* value;
  } else {
    for (const key of Object.keys(value)) yield (value as Record<string, unknown>)[key];
  }
}

function refuseCollectionEdit(): never {
  throw new AssertionError('a Map or Set of a record was changed in place after it was written to the disk (records are immutable once written)');
}

function regionOf(kv: SlabKeyValue): Uint8Array {
  return kv.slab.subarray(kv.offset, kv.offset + kv.length);
}

/** FNV-1a over the bytes. */
function checksum(view: ArrayBufferView): number {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/**
 * The edit of a frozen object throws a bare TypeError ("Cannot add property 3, object is not
 * extensible"): the line a run's violation prints then says what most likely happened. Null for
 * any other error.
 */
export function explainFrozenEdit(error: unknown): string | null {
  if (!(error instanceof TypeError) || !/read.only|not extensible|Cannot (assign|add|delete|define|redefine)|frozen/i.test(error.message)) return null;
  return `${error.message}: an in-place edit of a frozen object (the simulated disk freezes every record a write hands it; records are immutable once written), see the stack`;
}
