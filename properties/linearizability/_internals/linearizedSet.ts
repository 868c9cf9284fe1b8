/**
 * The set of operations a partial linearization contains, in a form that stays small however
 * long the history is. Porcupine keeps a full bitset per cache entry, which costs n/8 bytes per
 * entry: 12 KB per entry for a 100,000-operation history. Here the operations with a known
 * completion are numbered in completion order, and a linearization that is consistent with real
 * time contains every such operation below its *frontier* (the first one it lacks): the frontier
 * operation must precede all operations invoked after it completed. So a set is the frontier,
 * the few completed operations above it that overlap it ("ahead"), and the unknown-outcome
 * operations taken so far — a persistent list, newest first, that the cache keeps by reference:
 * in a long history hundreds of unknown writes may have taken effect, and copying them into every
 * cache entry would cost more than the search. The set carries a 64-bit Zobrist hash (XOR of
 * per-operation random words) of its completed operations, updated in O(1) per operation; the
 * unknown-outcome part is left out of the hash because the cache compares it by inclusion (see
 * VisitedCache).
 *
 * There is one set per search, changed in place as the search takes an operation and undone as
 * it backtracks; the cache copies what it keeps into its own pool. Nothing is allocated per step.
 */
import { finalize32, mix32 } from '../../../core/base/hash.ts';

export class LinearizedSet {
  /** The lowest-numbered completed operation not in the set; all below it are in. */
  frontier = 0;
  /** Completed operations above the frontier that are in the set, ascending, in [0, aheadCount). */
  readonly ahead: Int32Array;
  aheadCount = 0;
  /** Unknown-outcome operations in the set (as slots: id - completedCount), newest first. */
  unknownTaken: UnknownTaken | undefined = undefined;
  unknownCount = 0;
  /** Zobrist hash of the completed operations in the set. */
  hashLow = 0;
  hashHigh = 0;
  readonly #zobristLow: Int32Array;
  readonly #zobristHigh: Int32Array;

  constructor(completedCount: number) {
    this.ahead = new Int32Array(Math.max(1, completedCount));
    [this.#zobristLow, this.#zobristHigh] = zobristWords(completedCount);
  }

  /**
   * Adds a completed operation not in the set. Returns how far the frontier moved: 0 when the
   * operation went ahead of it, else 1 plus the number of ahead operations it absorbed.
   */
  addCompleted(id: number): number {
    this.hashLow ^= this.#zobristLow[id]!;
    this.hashHigh ^= this.#zobristHigh[id]!;
    const ahead = this.ahead;
    if (id !== this.frontier) {
      let at = this.aheadCount++;
      while (at > 0 && ahead[at - 1]! > id) {
        ahead[at] = ahead[at - 1]!;
        at--;
      }
      ahead[at] = id;
      return 0;
    }
    let frontier = id + 1;
    let absorbed = 0;
    while (absorbed < this.aheadCount && ahead[absorbed] === frontier) {
      absorbed++;
      frontier++;
    }
    if (absorbed > 0) {
      ahead.copyWithin(0, absorbed, this.aheadCount);
      this.aheadCount -= absorbed;
    }
    this.frontier = frontier;
    return frontier - id;
  }

  /** Undoes `addCompleted(id)`, which returned `moved`. */
  removeCompleted(id: number, moved: number): void {
    this.hashLow ^= this.#zobristLow[id]!;
    this.hashHigh ^= this.#zobristHigh[id]!;
    const ahead = this.ahead;
    if (moved === 0) {
      let at = this.aheadCount - 1;
      while (ahead[at] !== id) at--;
      ahead.copyWithin(at, at + 1, this.aheadCount);
      this.aheadCount--;
      return;
    }
    const absorbed = moved - 1;
    if (absorbed > 0) {
      ahead.copyWithin(absorbed, 0, this.aheadCount);
      for (let i = 0; i < absorbed; i++) ahead[i] = id + 1 + i;
      this.aheadCount += absorbed;
    }
    this.frontier = id;
  }

  addUnknown(slot: number): void {
    this.unknownTaken = { slot, next: this.unknownTaken };
    this.unknownCount++;
  }

  /** Undoes the last `addUnknown` (the search backtracks in the order it took). */
  removeUnknown(slot: number): void {
    if (this.unknownTaken?.slot !== slot) throw new Error(`unknown operation ${slot} is not the last one taken`);
    this.unknownTaken = this.unknownTaken.next;
    this.unknownCount--;
  }

  /** The unknown-outcome slots in the set, ascending. */
  unknownSlots(): number[] {
    return unknownSlotsOf(this.unknownTaken);
  }

  /** The operations in the set as search ids, ascending (for tests and witnesses). */
  members(completedCount: number): number[] {
    return [
      ...Array.from({ length: this.frontier }, (_, id) => id),
      ...this.ahead.subarray(0, this.aheadCount),
      ...this.unknownSlots().map((slot) => completedCount + slot),
    ];
  }
}

/** A persistent list of unknown-outcome slots, newest first, shared between sets and cache entries. */
export interface UnknownTaken {
  readonly slot: number;
  readonly next: UnknownTaken | undefined;
}

export function unknownSlotsOf(list: UnknownTaken | undefined): number[] {
  const slots: number[] = [];
  for (let node = list; node !== undefined; node = node.next) slots.push(node.slot);
  return slots.sort((a, b) => a - b);
}

/** The Zobrist word of an operation in one of two independent lanes. */
export function zobristWord(operation: number, lane: 0 | 1): number {
  return finalize32(mix32(lane === 0 ? 0x5bd1e995 : 0x27d4eb2f, operation)) | 0;
}

/** Words for ids 0 .. count - 1, computed once per process and shared by every search. */
let sharedLow = new Int32Array(0);
let sharedHigh = new Int32Array(0);

function zobristWords(count: number): [Int32Array, Int32Array] {
  if (sharedLow.length < count) {
    const size = Math.max(count, sharedLow.length * 2, 1024);
    const low = new Int32Array(size);
    const high = new Int32Array(size);
    low.set(sharedLow);
    high.set(sharedHigh);
    for (let id = sharedLow.length; id < size; id++) {
      low[id] = zobristWord(id, 0);
      high[id] = zobristWord(id, 1);
    }
    sharedLow = low;
    sharedHigh = high;
  }
  return [sharedLow, sharedHigh];
}
