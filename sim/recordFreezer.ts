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
 * slab's: a slab is written on after the write (the values appended later), never in the region;
 * the region is watched by `checkEdits` as a byte array is.
 *
 * A byte array is also checked soon after its write, not only at the read (which may never come, or
 * come long after the edit): `checkEdits`, called after every event a simulation delivers, compares
 * the byte arrays written lately, by their length and ends (`endsChecksum`: a buffer used again
 * is written from its start): after every event for the first `everyEventWindow` events after the
 * write, then at doubling intervals (level k, every 2^k events, holds the arrays aged
 * [2^k, 2^(k+1)) events); and whole (`checksum`) as they reach 16, 256, 4096, ... events of age.
 * So an edit of an array's ends in the writing event or the next few is caught at the event that
 * made it, one made d events after the write within about d events, and one of its middle only
 * within about 16 d. An array is read whole 3 times in a run of 40,000 events, and its ends some
 * 25 times (whole at every level, the checks cost 5 times as much: `checkEdits` was 2 % of the
 * simulator's CPU, as much as the freeze). After 2^(levelMax+1) events, or past
 * `watchedPerLevelMax`, it is left to the read's check.
 *
 * Cost: what is already frozen is walked again (core freezes some containers itself, shallowly:
 * being frozen does not say the children are), but no set remembers walked objects — a WeakSet
 * entry per object written cost more than the freezing (a few us an object in a microbench on a
 * loaded machine, and its GC). Only B-tree nodes and their leaves' values are remembered: each
 * commit's image is a clone sharing every unchanged node with the image before, so only the
 * changed nodes are walked, and in them only the values not walked before.
 */
export class RecordFreezer {
  /**
   * B-tree nodes walked (never changed in place once a clone shares them: sorted-btree copies a
   * shared node to change it), and the values of their leaves (frozen deeply by the walk).
   */
  private readonly walkedNodes = new WeakSet<object>();
  private readonly byteSums = new WeakMap<ArrayBufferView, number>();
  /** Byte arrays written lately, by level: level 0 checked after every event, level k every 2^k events. */
  private readonly watched: WatchedBytes[][] = Array.from({ length: levelMax + 1 }, () => []);
  /** The event being delivered (the simulation's trace index): writes now are written at it. */
  private event = 0;
  /** Where the records being frozen now go, for the message of an edit caught by `checkEdits`. */
  private where = 'the disk';

  /** Freezes what a write to `where` (a disk's file) hands over, and watches its byte arrays. */
  freezeWrite(value: unknown, where: string): void {
    this.where = where;
    this.freeze(value);
  }

  /**
   * Checks the byte arrays written lately (see the class comment); call it after event `event`
   * is delivered. Throws, naming the file and the events between which the edit came, at the
   * first one changed.
   */
  checkEdits(event: number): void {
    this.event = event + 1;
    for (let level = 0; level <= levelMax; level++) {
      if (level > 0 && (event & ((1 << level) - 1)) !== 0) return;
      const list = this.watched[level]!;
      if (list.length === 0) continue;
      let kept = 0;
      const ageMax = level === 0 ? everyEventWindow : 1 << (level + 1);
      for (let i = 0; i < list.length; i++) {
        const watch = list[i]!;
        // The ends at every check (a buffer used again is written from its start); the whole array
        // as it reaches 16, 256, 4096, ... events of age (each whole read costs ten times as much).
        const age = event - watch.writtenAt;
        const whole = age >= ageMax && (level === 0 || (level + 1) % 4 === 0 || level === levelMax);
        if (whole ? checksum(watch.bytes) !== watch.sum : endsChecksum(watch.bytes) !== watch.ends) {
          const unchanged = whole ? `whole after event ${watch.checkedAt}` : `its ends unchanged after event ${watch.endsCheckedAt}`;
          throw new AssertionError(
            `${watch.where}: ${watch.what} of a record was edited in place after it was written to the disk (written at event ${watch.writtenAt}, ${unchanged}, changed by event ${event}; records are immutable once written)`,
          );
        }
        watch.endsCheckedAt = event;
        if (whole) watch.checkedAt = event;
        if (age < ageMax) list[kept++] = watch;
        else this.promote(watch, age);
      }
      if (kept !== list.length) list.length = kept;
    }
  }
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
      if (!this.byteSums.has(value)) this.watch(value);
    } else if (value instanceof SlabKeyValue) {
      if (!this.regionSums.has(value)) {
        const region = regionOf(value);
        const sum = checksum(region);
        this.regionSums.set(value, sum);
        // Watched as a byte array is (`checkEdits`): an edit of the region is caught soon after it, not only at a read.
        this.watchLately(region, sum, 'a slab value');
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

  private watch(bytes: ArrayBufferView): void {
    const sum = checksum(bytes);
    this.byteSums.set(bytes, sum);
    this.watchLately(bytes, sum, 'a byte array');
  }

  /** Puts `bytes` (checksum `sum`) on level 0 of the arrays `checkEdits` compares. */
  private watchLately(bytes: ArrayBufferView, sum: number, what: WatchedBytes['what']): void {
    if (bytes.byteLength > 0) this.watched[0]!.push({ bytes, sum, ends: endsChecksum(bytes), what, where: this.where, writtenAt: this.event, checkedAt: this.event - 1, endsCheckedAt: this.event - 1 });
  }

  /** Moves a watched array `age` events old to its level (ages [2^k, 2^(k+1))), or leaves it to the read's check past the last level or a full one. */
  private promote(watch: WatchedBytes, age: number): void {
    if (age >= 1 << (levelMax + 1)) return;
    let level = 1;
    while (age >= 1 << (level + 1)) level++;
    const list = this.watched[level]!;
    if (list.length < watchedPerLevelMax) list.push(watch);
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
      if (values !== undefined) this.freezeValue(values[i]);
    }
  }

  /**
   * A B-tree leaf's value (the key bucket's changes of one revision), walked once: a leaf changed
   * by a commit is a new node holding mostly the values of the one it replaced, and walking those
   * again (each revision's array and its KeyValues) was most of the freeze's objects. A value
   * walked is deeply frozen for good; its byte arrays stay watched by their checksums.
   */
  private freezeValue(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    if (this.walkedNodes.has(value)) return;
    this.freeze(value);
    this.walkedNodes.add(value);
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

/** Events after its write during which a byte array is checked after every event. */
const everyEventWindow = 16;
/** The last level: an array is watched for 2^(levelMax+1) events after its write (then only the read checks it). */
const levelMax = 20;
/** A bound on each level's list (memory: the watched arrays are kept alive); the ones over it are left to the read. */
const watchedPerLevelMax = 1 << 16;

interface WatchedBytes {
  readonly bytes: ArrayBufferView;
  readonly sum: number;
  /** `endsChecksum`'s, for the checks after every event. */
  readonly ends: number;
  /** What it is, for the message: a record's own byte array, or a slab value's region (its slab's bytes of one SlabKeyValue). */
  readonly what: 'a byte array' | 'a slab value';
  /** The file it was written to (`node N file F`). */
  readonly where: string;
  /** The event whose delivery wrote it (0 for a write before the first event: a boot). */
  readonly writtenAt: number;
  /** The last event after which it was found whole (its checksum unchanged; the write's event - 1 until then). */
  checkedAt: number;
  /** The last event after which its ends were found unchanged (or whole). */
  endsCheckedAt: number;
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

/**
 * FNV-1a over the bytes taken four at a time (a multiply per word, not per byte: four times as
 * fast, and `checkEdits` checksums every byte written some 20 times), a shift folding the high
 * bits down, and the length: any edit of a byte changes it but with a chance of 2^-32.
 */
function checksum(view: ArrayBufferView): number {
  const bytes = view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const length = bytes.length;
  let hash = 0x811c9dc5;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    hash = Math.imul(hash ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)), 0x01000193);
    hash ^= hash >>> 15;
  }
  for (; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return (hash ^ length) >>> 0;
}

/** Bytes at each end that `endsChecksum` reads; an array of up to twice as many is read whole. */
const endBytes = 16;

/**
 * The checksum of an array's length and its first and last `endBytes` bytes: what `checkEdits`
 * compares after every event of an array's first ones, at a cost that does not grow with it.
 */
function endsChecksum(view: ArrayBufferView): number {
  const length = view.byteLength;
  if (length <= 2 * endBytes) return checksum(view);
  const bytes = view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, length);
  let hash = 0x811c9dc5 ^ length;
  for (let i = 0; i < endBytes; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  for (let i = length - endBytes; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
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
