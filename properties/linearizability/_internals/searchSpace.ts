/**
 * The immutable layout one partition's search runs over: operations renumbered so that the
 * ones that must be taken ("completed": a finite completion time) come first in completion order
 * (what `LinearizedSet` needs) and the optional unknown-outcome ones after them in invocation
 * order; the pending completed operations as a doubly linked list in that same order, so that
 * taking and restoring one is O(1) (Knuth's dancing links, which is what Wing & Gong's "lift"
 * and "unlift" are); and, when the model gives a sequence order, the operations grouped by
 * sequence key.
 *
 * Candidates are offered in completion order, earliest deadline first: the operation that must
 * return next is tried before the ones that may wait, which is Lowe's just-in-time linearization
 * in the shape of Wing & Gong's search, and halves the steps on histories checked as one
 * partition. A scan stops at the first operation from which none invoked by the frontier's
 * completion remains (`minInvokedFrom`), so it costs the window of overlapping operations, not
 * the history.
 *
 * Unknown-outcome operations are kept apart, in invocation order, for the search to walk newest
 * first with a bitset. Each stays pending forever unless the search takes it, so in a long
 * history they would pile up at the front of any order and be walked at every step. And where
 * one did take effect, it was most likely invoked shortly before: the oldest pending ones are the
 * ones that never took effect.
 */

/**
 * What the search needs of an operation. One with a finite `completedAt` must be taken, by then;
 * one with `Infinity` may be taken at any time after its invocation, or never. `output` is
 * undefined when unknown (always so for the latter; for the former when the model inferred that
 * it took effect, see `UnknownFate`).
 */
export interface SearchOperation<Input, Output> {
  readonly invokedAt: number;
  readonly completedAt: number;
  readonly input: Input;
  readonly output: Output | undefined;
}

import { sortIds } from './sortIds.ts';

/** Marks the end of a candidate list. */
export const endOfList = -1;
/** `sequenceGroup` of an operation without a sequence key. */
export const noGroup = -1;
/** A rough size of the per-operation arrays below, for the memory budget. */
export const bytesPerOperation = 96;

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
  /** Per completed id: the least `invokedAt` of the ids from it on in the candidate list (see the constructor). */
  readonly minInvokedFrom: Float64Array;
  readonly inputs: Input[];
  readonly outputs: (Output | undefined)[];
  /**
   * The pending completed operations in candidate order (see the constructor).
   * `nextCompleted[completedCount]` is the head; `previousCompleted[id]` may be the head.
   */
  readonly nextCompleted: Int32Array;
  readonly previousCompleted: Int32Array;
  /** The node between the ungrouped and the grouped ids in a sequence search (never removed). */
  readonly sentinel: number;
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

  /**
   * `keyOf` is the model's sequence key, when it has a sequence order. `eachCompleted` is called
   * once per completed id in the same pass (a cold 100,000-operation check paid tens of
   * milliseconds for every extra pass over the operations, most of it in memory traffic).
   */
  constructor(
    operations: readonly SearchOperation<Input, Output>[],
    keyOf?: (input: Input, output: Output) => number | undefined,
    eachCompleted?: (id: number, input: Input, output: Output | undefined) => void,
  ) {
    const count = operations.length;
    const starts = new Float64Array(count);
    const ends = new Float64Array(count);
    let completedCount = 0;
    for (let index = 0; index < count; index++) {
      const operation = operations[index]!;
      starts[index] = operation.invokedAt;
      ends[index] = operation.completedAt;
      if (operation.completedAt !== Infinity) completedCount++;
    }
    const order = new Int32Array(count);
    for (let index = 0, completed = 0, unknown = completedCount; index < count; index++) {
      order[ends[index] === Infinity ? unknown++ : completed++] = index;
    }
    // Ids ascend within each part, so the stable sorts break the last ties by index.
    sortIds(order.subarray(0, completedCount), ends, starts);
    sortIds(order.subarray(completedCount), starts);

    this.completedCount = completedCount;
    this.size = count;
    this.originalIndex = order;
    this.invokedAt = new Float64Array(count);
    this.completedAt = new Float64Array(completedCount);
    this.inputs = new Array<Input>(count);
    this.outputs = new Array<Output | undefined>(count);
    for (let id = 0; id < count; id++) {
      const index = order[id]!;
      this.invokedAt[id] = starts[index]!;
      if (id < completedCount) this.completedAt[id] = ends[index]!;
      this.inputs[id] = operations[index]!.input;
      this.outputs[id] = operations[index]!.output;
    }
    this.previousTwin = this.#twins();
    this.sequenceGroup = new Int32Array(completedCount).fill(noGroup);
    const { groupKey, groupSize, grouped } = this.#groupBySequenceKey(keyOf, eachCompleted);
    this.groupKey = groupKey;
    this.groupSize = groupSize;

    // The candidate list. Without a sequence: every completed id in completion order. With one:
    // the ids without a sequence key in completion order, then the sentinel, then the grouped
    // ids by group and completion — so that a scan meets the lowest pending group right after
    // the sentinel and stops at the next group, instead of walking the window of overlapping
    // operations of every group.
    this.sentinel = completedCount + 1;
    const candidates: number[] = [];
    for (let id = 0; id < completedCount; id++) if (this.sequenceGroup[id] === noGroup) candidates.push(id);
    const ungrouped = candidates.length;
    if (keyOf !== undefined) {
      candidates.push(this.sentinel);
      for (const id of grouped) candidates.push(id);
    }
    [this.nextCompleted, this.previousCompleted] = linkedList(candidates, completedCount, completedCount + 2);
    // Per id: the least invocation time from it on, along the ungrouped part of the list; grouped
    // ids (and the sentinel) never stop a scan by time (-Infinity): the groups do.
    this.minInvokedFrom = new Float64Array(completedCount + 2).fill(-Infinity);
    this.minInvokedFrom[completedCount] = Infinity;
    let least = Infinity;
    for (let at = ungrouped - 1; at >= 0; at--) {
      const id = candidates[at]!;
      least = Math.min(least, this.invokedAt[id]!);
      this.minInvokedFrom[id] = least;
    }
  }

  /** The completed ids in sequence group `group` (for witnesses: a scan, not for the search loop). */
  groupMembers(group: number): number[] {
    const members: number[] = [];
    for (let id = 0; id < this.completedCount; id++) if (this.sequenceGroup[id] === group) members.push(id);
    return members;
  }

  #twins(): Int32Array {
    const lastWithInput = new Map<string, number>();
    const twins = new Int32Array(this.size - this.completedCount);
    for (let slot = 0; slot < twins.length; slot++) {
      const identity = JSON.stringify(this.inputs[this.completedCount + slot]);
      twins[slot] = lastWithInput.get(identity) ?? endOfList;
      lastWithInput.set(identity, slot);
    }
    return twins;
  }

  /**
   * Groups completed operations with equal sequence keys, ascending by key (none without `keyOf`);
   * `grouped`: their ids by key, then id.
   */
  #groupBySequenceKey(
    keyOf: ((input: Input, output: Output) => number | undefined) | undefined,
    eachCompleted: ((id: number, input: Input, output: Output | undefined) => void) | undefined,
  ): { groupKey: Float64Array; groupSize: Int32Array; grouped: Int32Array } {
    const keys = new Float64Array(this.completedCount);
    const keyed = new Int32Array(this.completedCount);
    let keyedCount = 0;
    for (let id = 0; id < this.completedCount; id++) {
      const input = this.inputs[id]!;
      const output = this.outputs[id];
      eachCompleted?.(id, input, output);
      const key = output === undefined || keyOf === undefined ? undefined : keyOf(input, output);
      if (key === undefined) continue;
      keys[id] = key;
      keyed[keyedCount++] = id;
    }
    const order = keyed.slice(0, keyedCount);
    sortIds(order, keys);
    const groupKey = new Float64Array(keyedCount);
    const groupSize = new Int32Array(keyedCount);
    let groups = 0;
    for (const id of order) {
      if (groups === 0 || groupKey[groups - 1] !== keys[id]) groupKey[groups++] = keys[id]!;
      groupSize[groups - 1]!++;
      this.sequenceGroup[id] = groups - 1;
    }
    return { groupKey: groupKey.slice(0, groups), groupSize: groupSize.slice(0, groups), grouped: order };
  }
}

/** A doubly linked list of `items` in order, with its head at `head`, in arrays of `size`. */
function linkedList(items: readonly number[], head: number, size: number): [Int32Array, Int32Array] {
  const next = new Int32Array(size).fill(endOfList);
  const previous = new Int32Array(size).fill(endOfList);
  let last = head;
  for (let at = 0; at < items.length; at++) {
    const item = items[at]!;
    next[last] = item;
    previous[item] = last;
    last = item;
  }
  return [next, previous];
}
