/**
 * Lowe's cache ("Testing for linearizability", 2017): the configurations (set of linearized
 * operations, model state) the search has already entered. Reaching one again means repeating
 * work whose outcome is known (it failed, or it is on the stack now), so the search prunes it.
 * Without it, Wing & Gong's backtracking explores every interleaving of commuting operations.
 *
 * It prunes by dominance, not only by equality: a configuration that has taken the same
 * completed operations and reached the same state as a visited one, with a superset of its
 * unknown-outcome operations, can do nothing the visited one could not — the extra unknown
 * operations only ever add options by being taken later, and from the visited configuration
 * they may simply never take effect. So such a configuration is pruned too, which stops the
 * search from trying every subset of optional operations that lead to the same place.
 *
 * A chained hash table over typed arrays, with each entry's set copied into one pool of ids: the
 * search inserts one entry per step it takes, so entries must cost a few dozen bytes and no
 * object each. Entries are compared exactly (set, then state) after their hashes match, so a
 * hash collision costs time, never a wrong verdict.
 *
 * Every array it allocates is first reserved from the memory budget (the states are the
 * model's to count), and released when it is replaced by a larger one or the search ends; when
 * the budget refuses, the configuration is not stored and the search stops.
 */
import type { LinearizedSet, UnknownTaken } from './linearizedSet.ts';

const initialCapacity = 1024;
/** Per entry: next, combined hash, state hash, frontier, pool start, ahead count, unknown count. */
const int32PerEntry = 7;
/** Pointers in the states and unknown-list arrays, and a share of a list node (the set allocates one per unknown operation taken). */
const bytesPerStateSlot = 8 + 8 + 32;

/** Reserves bytes (false: over budget, nothing reserved) or, with a negative count, releases them. */
export type Reserve = (bytes: number) => boolean;

/** What `addIfAbsent` found. */
export const added = 1;
export const present = 0;
export const outOfMemory = -1;

export class VisitedCache<State> {
  readonly #equal: (a: State, b: State) => boolean;
  readonly #reserve: Reserve;
  /** Per bucket: 1 + index of the first entry, or 0. */
  #buckets: Int32Array;
  /** Per entry: 1 + index of the next entry in the bucket, or 0. */
  #next: Int32Array;
  #combinedHash: Int32Array;
  #stateHash: Int32Array;
  #frontier: Int32Array;
  #poolStart: Int32Array;
  #aheadCount: Int32Array;
  #unknownCount: Int32Array;
  /** The ahead ids of every entry. */
  #pool = new Int32Array(initialCapacity);
  #poolUsed = 0;
  readonly #states: State[] = [];
  /** The unknown-outcome part of each entry's set, by reference (see LinearizedSet). */
  readonly #unknownTaken: (UnknownTaken | undefined)[] = [];
  /** The set's unknown slots as a Set, made at most once per lookup (when a tail walk cannot tell). */
  #theirs: Set<number> | undefined;

  /** Throws nothing: a constructor whose first reservation fails leaves `usable` false. */
  readonly usable: boolean;

  /** `expected`: about how many configurations to make room for at first (grown as needed). */
  constructor(equal: (a: State, b: State) => boolean, reserve: Reserve, expected = 0) {
    this.#equal = equal;
    this.#reserve = reserve;
    // The arrays are made once, at their first size (not at a default size, then again).
    let capacity = initialCapacity;
    while (capacity < expected && capacity < 1 << 20) capacity *= 2;
    this.#buckets = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
    this.#combinedHash = new Int32Array(capacity);
    this.#stateHash = new Int32Array(capacity);
    this.#frontier = new Int32Array(capacity);
    this.#poolStart = new Int32Array(capacity);
    this.#aheadCount = new Int32Array(capacity);
    this.#unknownCount = new Int32Array(capacity);
    this.usable = reserve(this.bytes);
  }

  get size(): number {
    return this.#states.length;
  }

  /** The bytes the table's arrays take (capacity, not use: that is what the heap holds). */
  get bytes(): number {
    return (this.#buckets.length + this.#next.length * int32PerEntry + this.#pool.length) * 4 + this.#next.length * bytesPerStateSlot;
  }

  /** Gives back everything reserved; the cache must not be used afterwards. */
  release(): void {
    this.#reserve(-this.bytes);
  }

  /**
   * Adds the configuration: `added`; `present` when it, or one that dominates it, was already
   * there; `outOfMemory` when storing it would pass the budget.
   */
  addIfAbsent(set: LinearizedSet, state: State, stateHash: number): number {
    this.#theirs = undefined;
    const combined = set.hashLow ^ Math.imul(stateHash ^ set.hashHigh, 0x9e3779b1);
    const mask = this.#buckets.length - 1;
    for (let entry = this.#buckets[combined & mask]!; entry !== 0; entry = this.#next[entry - 1]!) {
      const index = entry - 1;
      if (this.#combinedHash[index] === combined && this.#stateHash[index] === stateHash && this.#sameCompleted(index, set) && this.#unknownIncluded(index, set) && this.#equal(this.#states[index]!, state)) {
        return present;
      }
    }
    return this.#insert(combined, stateHash, set, state) ? added : outOfMemory;
  }

  #insert(combined: number, stateHash: number, set: LinearizedSet, state: State): boolean {
    const index = this.#states.length;
    if (index === this.#next.length && !this.#grow()) return false;
    const length = set.aheadCount;
    if (this.#poolUsed + length > this.#pool.length) {
      const capacity = Math.max(this.#pool.length * 2, this.#poolUsed + length);
      if (!this.#reserve(capacity * 4)) return false;
      this.#reserve(-this.#pool.length * 4);
      this.#pool = resized(this.#pool, capacity);
    }
    const start = this.#poolUsed;
    // Copied by hand: a subarray view per insert would be an allocation per search step.
    const pool = this.#pool;
    for (let i = 0; i < set.aheadCount; i++) pool[start + i] = set.ahead[i]!;
    this.#poolUsed += length;
    this.#states.push(state);
    this.#unknownTaken.push(set.unknownTaken);
    this.#combinedHash[index] = combined;
    this.#stateHash[index] = stateHash;
    this.#frontier[index] = set.frontier;
    this.#poolStart[index] = start;
    this.#aheadCount[index] = set.aheadCount;
    this.#unknownCount[index] = set.unknownCount;
    const bucket = combined & (this.#buckets.length - 1);
    this.#next[index] = this.#buckets[bucket]!;
    this.#buckets[bucket] = index + 1;
    return true;
  }

  #sameCompleted(index: number, set: LinearizedSet): boolean {
    const count = set.aheadCount;
    if (this.#frontier[index] !== set.frontier || this.#aheadCount[index] !== count) return false;
    const pool = this.#pool;
    const start = this.#poolStart[index]!;
    for (let i = 0; i < count; i++) if (pool[start + i] !== set.ahead[i]) return false;
    return true;
  }

  /** Whether every unknown-outcome operation of the entry is also in `set`. */
  #unknownIncluded(index: number, set: LinearizedSet): boolean {
    const count = this.#unknownCount[index]!;
    if (count === 0) return true;
    if (count > set.unknownCount) return false;
    const mine = this.#unknownTaken[index];
    // Lists are built by consing: the entry's list is most often a tail of the set's (the same
    // operations taken earlier on this path), found by walking past the set's newer ones.
    let tail = set.unknownTaken;
    for (let extra = set.unknownCount - count; extra > 0 && tail !== undefined; extra--) tail = tail.next;
    if (tail === mine) return true;
    if (this.#theirs === undefined) {
      this.#theirs = new Set();
      for (let node = set.unknownTaken; node !== undefined; node = node.next) this.#theirs.add(node.slot);
    }
    for (let node = mine; node !== undefined; node = node.next) if (!this.#theirs.has(node.slot)) return false;
    return true;
  }

  /** Doubles the entry arrays and the bucket table (load factor stays at most 1); false when over budget. */
  #grow(): boolean {
    const before = this.bytes;
    const capacity = this.#next.length * 2;
    const after = before + (capacity - this.#next.length) * (int32PerEntry * 4 + 4 + bytesPerStateSlot);
    // The old arrays are garbage only once copied: both are held for a moment.
    if (!this.#reserve(after)) return false;
    this.#reserve(-before);
    this.#next = resized(this.#next, capacity);
    this.#combinedHash = resized(this.#combinedHash, capacity);
    this.#stateHash = resized(this.#stateHash, capacity);
    this.#frontier = resized(this.#frontier, capacity);
    this.#poolStart = resized(this.#poolStart, capacity);
    this.#aheadCount = resized(this.#aheadCount, capacity);
    this.#unknownCount = resized(this.#unknownCount, capacity);
    this.#buckets = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let index = 0; index < this.#states.length; index++) {
      const bucket = this.#combinedHash[index]! & mask;
      this.#next[index] = this.#buckets[bucket]!;
      this.#buckets[bucket] = index + 1;
    }
    return true;
  }
}

function resized(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const result = new Int32Array(capacity);
  result.set(array);
  return result;
}
