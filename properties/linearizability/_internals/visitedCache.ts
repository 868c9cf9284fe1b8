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
 * A chained hash table over typed arrays: the search inserts one entry per step it takes, so the
 * table must not allocate per lookup. Entries are compared exactly (set, then state) after their
 * hashes match, so a hash collision costs time, never a wrong verdict.
 */
import { sameCompletedPart, unknownPartIncluded, type LinearizedSet } from './linearizedSet.ts';

const initialCapacity = 1024;

export class VisitedCache<State> {
  readonly #equal: (a: State, b: State) => boolean;
  /** Per bucket: 1 + index of the first entry, or 0. */
  #buckets = new Int32Array(initialCapacity);
  /** Per entry: 1 + index of the next entry in the bucket, or 0. */
  #next = new Int32Array(initialCapacity);
  #combinedHash = new Int32Array(initialCapacity);
  #stateHash = new Int32Array(initialCapacity);
  readonly #sets: LinearizedSet[] = [];
  readonly #states: State[] = [];

  constructor(equal: (a: State, b: State) => boolean) {
    this.#equal = equal;
  }

  get size(): number {
    return this.#sets.length;
  }

  /** Adds the configuration; false when it, or one that dominates it, was already there. */
  addIfAbsent(set: LinearizedSet, state: State, stateHash: number): boolean {
    const combined = set.hashLow ^ Math.imul(stateHash ^ set.hashHigh, 0x9e3779b1);
    const mask = this.#buckets.length - 1;
    for (let entry = this.#buckets[combined & mask]!; entry !== 0; entry = this.#next[entry - 1]!) {
      const index = entry - 1;
      if (
        this.#combinedHash[index] === combined &&
        this.#stateHash[index] === stateHash &&
        sameCompletedPart(this.#sets[index]!, set) &&
        unknownPartIncluded(this.#sets[index]!, set) &&
        this.#equal(this.#states[index]!, state)
      ) {
        return false;
      }
    }
    const index = this.#sets.length;
    if (index === this.#next.length) this.#grow();
    const bucket = combined & (this.#buckets.length - 1);
    this.#sets.push(set);
    this.#states.push(state);
    this.#combinedHash[index] = combined;
    this.#stateHash[index] = stateHash;
    this.#next[index] = this.#buckets[bucket]!;
    this.#buckets[bucket] = index + 1;
    return true;
  }

  /** Doubles the entry arrays and the bucket table (load factor stays at most 1). */
  #grow(): void {
    const capacity = this.#next.length * 2;
    this.#next = resized(this.#next, capacity);
    this.#combinedHash = resized(this.#combinedHash, capacity);
    this.#stateHash = resized(this.#stateHash, capacity);
    this.#buckets = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let index = 0; index < this.#sets.length; index++) {
      const bucket = this.#combinedHash[index]! & mask;
      this.#next[index] = this.#buckets[bucket]!;
      this.#buckets[bucket] = index + 1;
    }
  }
}

function resized(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const result = new Int32Array(capacity);
  result.set(array);
  return result;
}
