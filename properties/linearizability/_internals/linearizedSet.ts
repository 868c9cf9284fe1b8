/**
 * The set of operations a partial linearization contains, in a form that stays small however
 * long the history is. Porcupine keeps a full bitset per cache entry, which costs n/8 bytes per
 * entry: 12 KB per entry for a 100,000-operation history. Here the operations with a known
 * completion are numbered in completion order, and a linearization that is consistent with real
 * time contains every such operation below its *frontier* (the first one it lacks): the frontier
 * operation must precede all operations invoked after it completed. So a set is the frontier,
 * the few completed operations above it that overlap it ("ahead"), and the unknown-outcome
 * operations taken so far. Each set carries a 64-bit Zobrist hash (XOR of per-operation random
 * words) of its completed operations, updated in O(1) per added operation; the unknown-outcome
 * part is left out of the hash because the cache compares it by inclusion (see VisitedCache).
 *
 * Snapshots are immutable and share their arrays, so the backtracking stack and the cache can
 * hold them without copying.
 */
import { finalize32, mix32 } from '../../../core/base/hash.ts';

export interface LinearizedSet {
  /** The lowest-numbered completed operation not in the set; all below it are in. */
  readonly frontier: number;
  /** Completed operations above the frontier that are in the set, ascending. */
  readonly ahead: readonly number[];
  /** Unknown-outcome operations in the set (numbered from the completed count), ascending. */
  readonly unknown: readonly number[];
  /** Zobrist hash of the completed operations in the set (`frontier` and `ahead`). */
  readonly hashLow: number;
  readonly hashHigh: number;
}

const none: readonly number[] = [];

export const emptyLinearizedSet: LinearizedSet = { frontier: 0, ahead: none, unknown: none, hashLow: 0, hashHigh: 0 };

/** The Zobrist word of an operation in one of two independent lanes. */
export function zobristWord(operation: number, lane: 0 | 1): number {
  return finalize32(mix32(lane === 0 ? 0x5bd1e995 : 0x27d4eb2f, operation)) | 0;
}

/**
 * The set plus `operation`. Operations below `completedCount` are completed ones; the caller
 * guarantees the operation is not in the set yet.
 */
export function withOperation(
  set: LinearizedSet,
  operation: number,
  completedCount: number,
  zobristLow: Int32Array,
  zobristHigh: Int32Array,
): LinearizedSet {
  if (operation >= completedCount) {
    return { frontier: set.frontier, ahead: set.ahead, unknown: insertSorted(set.unknown, operation), hashLow: set.hashLow, hashHigh: set.hashHigh };
  }
  const hashLow = set.hashLow ^ zobristLow[operation]!;
  const hashHigh = set.hashHigh ^ zobristHigh[operation]!;
  if (operation !== set.frontier) {
    return { frontier: set.frontier, ahead: insertSorted(set.ahead, operation), unknown: set.unknown, hashLow, hashHigh };
  }
  // The frontier moves past the operation and past every operation already taken ahead of it.
  let frontier = operation + 1;
  let skipped = 0;
  while (skipped < set.ahead.length && set.ahead[skipped] === frontier) {
    skipped++;
    frontier++;
  }
  const ahead = skipped === 0 ? set.ahead : skipped === set.ahead.length ? none : set.ahead.slice(skipped);
  return { frontier, ahead, unknown: set.unknown, hashLow, hashHigh };
}

export function sameLinearizedSet(a: LinearizedSet, b: LinearizedSet): boolean {
  return sameCompletedPart(a, b) && sameNumbers(a.unknown, b.unknown);
}

export function sameCompletedPart(a: LinearizedSet, b: LinearizedSet): boolean {
  return a.hashLow === b.hashLow && a.hashHigh === b.hashHigh && a.frontier === b.frontier && sameNumbers(a.ahead, b.ahead);
}

/** Whether every unknown-outcome operation in `a` is also in `b`. */
export function unknownPartIncluded(a: LinearizedSet, b: LinearizedSet): boolean {
  const small = a.unknown;
  const large = b.unknown;
  if (small === large || small.length === 0) return true;
  if (small.length > large.length) return false;
  let at = 0;
  for (const member of small) {
    while (at < large.length && large[at]! < member) at++;
    if (large[at] !== member) return false;
    at++;
  }
  return true;
}

/** The operations in the set, ascending (for witnesses and tests, not the search). */
export function linearizedMembers(set: LinearizedSet): number[] {
  return [...Array.from({ length: set.frontier }, (_, index) => index), ...set.ahead, ...set.unknown];
}

function insertSorted(values: readonly number[], value: number): readonly number[] {
  let index = values.length;
  while (index > 0 && values[index - 1]! > value) index--;
  const result = values.slice(0, index);
  result.push(value);
  for (let i = index; i < values.length; i++) result.push(values[i]!);
  return result;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
