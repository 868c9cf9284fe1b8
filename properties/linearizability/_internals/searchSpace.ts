/**
 * The immutable layout one partition's search runs over: operations renumbered so that the
 * completed ones come first in completion order (what `LinearizedSet` needs) and the
 * unknown-outcome ones after them in invocation order; the candidate lists, threaded in
 * invocation order as doubly linked lists so that taking and restoring an operation is O(1)
 * (Knuth's dancing links, which is what Wing & Gong's "lift" and "unlift" are); and, when the
 * model gives a sequence order, the operations grouped by sequence key.
 *
 * Unknown-outcome operations are kept apart, in invocation order, for the search to walk newest
 * first with a bitset. Each stays pending forever unless the search takes it, so in a long
 * history they would pile up at the front of invocation order and be walked at every step. And
 * where one did take effect, it was most likely invoked shortly before: the oldest pending ones
 * are the ones that never took effect.
 */
import { zobristWord } from './linearizedSet.ts';

/** What the search needs of an operation; `completedAt` is ignored for unknown outcomes. */
export interface SearchOperation<Input, Output> {
  readonly invokedAt: number;
  readonly completedAt: number;
  readonly input: Input;
  /** Undefined exactly when the outcome is unknown. */
  readonly output: Output | undefined;
}

/** Marks the end of a candidate list. */
export const endOfList = -1;
/** `sequenceGroup` of an operation without a sequence key. */
export const noGroup = -1;

export class SearchSpace<Input, Output> {
  /** Operations with a known outcome: ids 0 .. completedCount - 1, in completion order. */
  readonly completedCount: number;
  /** Unknown-outcome operations: ids completedCount .. size - 1, in invocation order. */
  readonly size: number;
  /** The index in the caller's array of each id. */
  readonly originalIndex: Int32Array;
  readonly invokedAt: Float64Array;
  /** Per completed id. */
  readonly completedAt: Float64Array;
  readonly inputs: Input[];
  readonly outputs: (Output | undefined)[];
  /**
   * Completed operations in invocation order. `nextCompleted[completedCount]` is the head;
   * `previousCompleted[id]` may be the head.
   */
  readonly nextCompleted: Int32Array;
  readonly previousCompleted: Int32Array;
  /**
   * Per unknown slot (id - completedCount): the nearest earlier slot with an identical input, or
   * `endOfList`. Identical unknown operations are interchangeable, and the earlier one is
   * available whenever the later one is, so the search only ever takes the earliest pending one.
   */
  readonly previousTwin: Int32Array;
  /** Per completed id: the index of its sequence group in key order, or `noGroup`. */
  readonly sequenceGroup: Int32Array;
  readonly groupKey: Float64Array;
  readonly groupSize: Int32Array;
  readonly zobristLow: Int32Array;
  readonly zobristHigh: Int32Array;

  /** `keyOf` is the model's sequence key, when it has a sequence order. */
  constructor(operations: readonly SearchOperation<Input, Output>[], keyOf?: (input: Input, output: Output) => number | undefined) {
    const completed: number[] = [];
    const unknown: number[] = [];
    operations.forEach((operation, index) => (operation.output === undefined ? unknown : completed).push(index));
    const at = (index: number) => operations[index]!;
    completed.sort((a, b) => at(a).completedAt - at(b).completedAt || at(a).invokedAt - at(b).invokedAt || a - b);
    unknown.sort((a, b) => at(a).invokedAt - at(b).invokedAt || a - b);
    const order = [...completed, ...unknown];

    this.completedCount = completed.length;
    this.size = order.length;
    this.originalIndex = Int32Array.from(order);
    this.invokedAt = Float64Array.from(order, (index) => at(index).invokedAt);
    this.completedAt = Float64Array.from(completed, (index) => at(index).completedAt);
    this.inputs = order.map((index) => at(index).input);
    this.outputs = order.map((index) => at(index).output);
    this.zobristLow = Int32Array.from(order, (_, id) => zobristWord(id, 0));
    this.zobristHigh = Int32Array.from(order, (_, id) => zobristWord(id, 1));

    const completedIds = completed.map((_, id) => id);
    const byInvocation = completedIds.sort((a, b) => this.invokedAt[a]! - this.invokedAt[b]! || a - b);
    [this.nextCompleted, this.previousCompleted] = linkedList(byInvocation, this.completedCount);

    const lastWithInput = new Map<string, number>();
    this.previousTwin = Int32Array.from(unknown, (index, slot) => {
      const identity = JSON.stringify(at(index).input);
      const twin = lastWithInput.get(identity) ?? endOfList;
      lastWithInput.set(identity, slot);
      return twin;
    });

    this.sequenceGroup = new Int32Array(this.completedCount).fill(noGroup);
    const groups = keyOf === undefined ? [] : this.#groupBySequenceKey(keyOf);
    this.groupKey = Float64Array.from(groups, (group) => group.key);
    this.groupSize = Int32Array.from(groups, (group) => group.members.length);
  }

  /** Groups completed operations with equal sequence keys, ascending by key. */
  #groupBySequenceKey(keyOf: (input: Input, output: Output) => number | undefined): { key: number; members: number[] }[] {
    const keyed: { id: number; key: number }[] = [];
    for (let id = 0; id < this.completedCount; id++) {
      const key = keyOf(this.inputs[id]!, this.outputs[id] as Output);
      if (key !== undefined) keyed.push({ id, key });
    }
    keyed.sort((a, b) => a.key - b.key || a.id - b.id);
    const groups: { key: number; members: number[] }[] = [];
    for (const { id, key } of keyed) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last.key === key) last.members.push(id);
      else groups.push({ key, members: [id] });
      this.sequenceGroup[id] = groups.length - 1;
    }
    return groups;
  }
}

/** A doubly linked list of `items` in the given order, with its head sentinel at `headSlot`. */
function linkedList(items: readonly number[], headSlot: number): [Int32Array, Int32Array] {
  const next = new Int32Array(headSlot + 1).fill(endOfList);
  const previous = new Int32Array(headSlot + 1).fill(endOfList);
  let last = headSlot;
  for (const item of items) {
    next[last] = item;
    previous[item] = last;
    last = item;
  }
  return [next, previous];
}
