import { AssertionError } from '../core/base/assert.ts';
import { BTree } from '../core/mvcc/btree.ts';

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
 * frozen through its own `freeze()` and its values walked (its nodes are shared copy-on-write
 * with later clones, which mark them, so they are not frozen); a typed array with elements cannot
 * be frozen, so its checksum is kept and `verify` compares it when the disk is read. A record
 * shares most of itself with earlier ones (a backend image shares every unchanged node and
 * revision array with the image before it): each object is walked once.
 */
export class RecordFreezer {
  private readonly walked = new WeakSet<object>();
  /** The walked objects that reach a byte array: `verify` looks only inside these. */
  private readonly reachBytes = new WeakSet<object>();
  private readonly byteSums = new WeakMap<ArrayBufferView, number>();

  /** Freezes `value` and everything it reaches. */
  freeze(value: unknown): void {
    this.walk(value);
  }

  /** Throws if a byte array that `value` reaches changed since it was frozen (`where` names the file). */
  verify(value: unknown, where: string): void {
    if (typeof value !== 'object' || value === null || !this.reachBytes.has(value)) return;
    if (ArrayBuffer.isView(value)) {
      if (this.byteSums.get(value) !== checksum(value)) throw new AssertionError(`${where}: a byte array of a record was edited in place after it was written to the disk (records are immutable once written)`);
      return;
    }
    for (const child of children(value)) this.verify(child, where);
  }

  /** Freezes `value` deeply; returns whether it reaches a byte array. */
  private walk(value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (this.walked.has(value)) return this.reachBytes.has(value);
    this.walked.add(value);
    let bytes = false;
    if (ArrayBuffer.isView(value)) {
      this.byteSums.set(value, checksum(value));
      bytes = true;
    } else if (Array.isArray(value)) {
      // Loops, not `children`: this runs for every change and entry written.
      for (let i = 0; i < value.length; i++) if (this.walk(value[i])) bytes = true;
      Object.freeze(value);
    } else if (value instanceof BTree) {
      const root = (value as unknown as { readonly _root?: TreeNode })._root;
      if (root !== undefined) bytes = this.walkNode(root);
      else for (const child of children(value)) if (this.walk(child)) bytes = true;
      if (!value.isFrozen) value.freeze();
    } else if (value instanceof Map || value instanceof Set) {
      for (const child of children(value)) if (this.walk(child)) bytes = true;
      for (const mutator of ['set', 'add', 'delete', 'clear']) Object.defineProperty(value, mutator, { value: refuseCollectionEdit });
      Object.freeze(value);
    } else {
      for (const key in value) if (this.walk((value as Record<string, unknown>)[key])) bytes = true;
      Object.freeze(value);
    }
    if (bytes) this.reachBytes.add(value);
    return bytes;
  }

  /**
   * A B-tree node and what it reaches. Each commit's image is a new tree (a clone) sharing every
   * unchanged node with the image before: walking the nodes (sorted-btree's own fields), not the
   * entries, walks only the changed ones. Nodes are left unfrozen — the library marks shared ones —
   * and are never changed in place once a clone shares them (it copies a shared node to change it).
   */
  private walkNode(node: TreeNode): boolean {
    if (this.walked.has(node)) return this.reachBytes.has(node);
    this.walked.add(node);
    let bytes = false;
    const { keys, values, children } = node;
    if (children !== undefined) {
      for (let i = 0; i < children.length; i++) if (this.walkNode(children[i]!)) bytes = true;
    } else {
      for (let i = 0; i < keys.length; i++) {
        if (this.walk(keys[i])) bytes = true;
        if (values !== undefined && this.walk(values[i])) bytes = true;
      }
    }
    if (bytes) this.reachBytes.add(node);
    return bytes;
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
