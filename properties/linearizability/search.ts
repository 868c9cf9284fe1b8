/**
 * The search for one partition: Wing & Gong's backtracking ("Testing and verifying concurrent
 * objects", 1993) with Lowe's cache of visited configurations, as in Porcupine, plus prunings
 * that keep every verdict the same:
 * - **Read-only operations are taken eagerly and never branched on.** If a pending operation
 *   may go next and, with its output, changes no state it is legal in (a read, a compare-and-set
 *   that reports failure: the model's `readOnly`), then some completion exists iff one exists
 *   that takes it right now: removing it from a later place changes no state there, and real
 *   time allows it here because everything that must precede it is already placed. So the
 *   search tries these first at each level, takes the first that is legal and, should that
 *   fail, gives up the whole level instead of trying the other candidates. (Merely leaving the
 *   state unchanged *here* is not enough: a write of the value already held may be needed
 *   later, where it does change the state.)
 * - An unknown-outcome operation is optional: it is only worth taking where it changes the
 *   state, and only after the operations that must be taken have been tried, newest first (see
 *   `SearchSpace`).
 * - With a sequence order (etcd revisions) only the lowest-keyed pending operations are offered,
 *   and unknown operations only where the sequence has a gap they could fill, and only those
 *   that fit what the responses say about the gap (`SequenceOrder.unknownCandidates`); an
 *   operation without a key is not offered before the floor it waits for (`earliestFloor`), and
 *   once the floor has reached the one from which its legality is settled (`settledFrom`), its
 *   refusal abandons the configuration: the search does not go on placing others around an
 *   operation that can no longer be placed. Where the model says what floors the responses
 *   show (`floorsOf`), a configuration is also given up once the state has passed the last floor
 *   of a pending operation without a key (rule 7), or fewer operations that may raise the floor
 *   are pending than floors ahead that no completed response may have made (rule 6).
 * - Candidates are offered earliest deadline first (see `SearchSpace`).
 * - A model's lookahead (`HistoryAnalysis.lookahead`) may abandon a configuration in which some
 *   pending operation can no longer take effect, and may search a state as a stand-in that
 *   nothing pending can tell from it (`Lookahead.canonical`: for kv, every value no get can read
 *   before the next put is one value), so that the cache merges those configurations.
 * - The search stops as soon as every completed operation is placed: the unknown ones left over
 *   are the ones that never took effect.
 *
 * It is a generator so that the checker can interleave partitions (see `checker.ts`): it yields
 * every `stepsPerSlice` model steps and returns its result.
 *
 * The loop is one function over typed arrays on purpose: it runs millions of times a second and
 * every indirection shows. `SearchSpace` holds the layout, `LinearizedSet` the configuration the
 * search is in (changed in place and undone on backtracking), `VisitedCache` the ones it has
 * been in. Everything it keeps is reserved from the memory budget first (`BudgetMeter`).
 */
import type { BudgetMeter, Exhaustion } from './budget.ts';
import type { Lookahead, Model, SequenceOrder } from './model.ts';
import { LinearizedSet } from './_internals/linearizedSet.ts';
import { PendingBits } from './_internals/pendingBits.ts';
import { bytesPerOperation, SearchSpace, type SearchOperation } from './_internals/searchSpace.ts';
import { added, outOfMemory, VisitedCache } from './_internals/visitedCache.ts';

export type { SearchOperation } from './_internals/searchSpace.ts';

/** Indexes are positions in the array given to `searchLinearization`. */
export type SearchResult =
  | { readonly kind: 'linearizable'; readonly order: readonly number[] }
  | {
      readonly kind: 'not-linearizable' | 'unknown';
      /** The longest sequence of operations the search managed to place. */
      readonly longestPrefix: readonly number[];
      /** The completed operations that were pending right after it and could not go next. */
      readonly stuck: readonly number[];
      /** For `unknown`: which part of the budget ran out. */
      readonly exhaustion?: Exhaustion;
      /**
       * When the stuck operations are ones the sequence order puts before `before` although they
       * were invoked after it completed (so `stuck` is `late`).
       */
      readonly outOfOrder?: { readonly late: readonly number[]; readonly before: number };
    };

// SearchSpace's markers, as local constants: the hot loop reads them on every iteration.
/** The end of a candidate list (`SearchSpace`'s endOfList). */
const endOfList = -1;
/** The sequence group of an operation without a sequence key (`SearchSpace`'s noGroup). */
const noGroup = -1;

/** How many model steps a search takes between yields. */
export const stepsPerSlice = 4096;

/** What a model state costs when the model does not say (`Model.stateBytes`). */
const defaultStateBytes = 64;

/** The passes over the candidates at one depth, in order. */
const readOnlyPass = 0;
const changingPass = 1;
const unknownPass = 2;
const levelDone = 3;

export function* searchLinearization<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  operations: readonly SearchOperation<Input, Output>[],
  meter: BudgetMeter,
  lookahead?: Lookahead<State>,
): Generator<void, SearchResult, void> {
  const fixedBytes = operations.length * bytesPerOperation;
  if (!meter.reserve(fixedBytes)) return { kind: 'unknown', longestPrefix: [], stuck: [], exhaustion: 'memory' };
  const cache = new VisitedCache<State>((a, b) => model.equal(a, b), (bytes) => meter.reserve(bytes), operations.length);
  let stateBytes = 0;
  try {
    if (!cache.usable) return { kind: 'unknown', longestPrefix: [], stuck: [], exhaustion: 'memory' };
    return yield* search(model, operations, meter, cache, lookahead, (bytes) => {
      if (!meter.reserve(bytes)) return false;
      stateBytes += bytes;
      return true;
    });
  } finally {
    // Also when the checker abandons the search (another partition refuted the history).
    cache.release();
    meter.reserve(-fixedBytes - stateBytes);
  }
}

function* search<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  operations: readonly SearchOperation<Input, Output>[],
  meter: BudgetMeter,
  cache: VisitedCache<State>,
  lookahead: Lookahead<State> | undefined,
  reserveState: (bytes: number) => boolean,
): Generator<void, SearchResult, void> {
  const sequence = model.sequence;
  // Per completed id: whether it is read-only, and the floor it waits for (SequenceOrder rule 4:
  // not even tried below it), worked out in the layout's pass over the operations.
  const readOnly = new Uint8Array(operations.length);
  const earliestFloor = new Float64Array(operations.length).fill(-Infinity);
  const floorOf = sequence?.earliestFloor;
  const space = new SearchSpace(operations, sequence === undefined ? undefined : (input, output) => sequence.keyOf(input, output), (id, input, output) => {
    readOnly[id] = model.readOnly?.(input, output) === true ? 1 : 0;
    if (floorOf !== undefined && output !== undefined) earliestFloor[id] = floorOf.call(sequence, input, output) ?? -Infinity;
  });
  const completedCount = space.completedCount;
  const original = (ids: ArrayLike<number>) => Array.from(ids, (id) => space.originalIndex[id]!);
  if (completedCount === 0) return { kind: 'linearizable', order: [] };
  // Identical completed operations (same input, same output), without a sequence order: of two
  // that may both go next, only the one that completes first is tried (see `completedTwins`).
  const completedTwin = sequence === undefined ? completedTwins(space.inputs, space.outputs, readOnly, completedCount) : undefined;
  const takenCompleted = new Uint8Array(completedTwin === undefined ? 0 : completedCount);

  const { invokedAt, completedAt, minInvokedFrom, inputs, outputs, sequenceGroup, groupKey, nextCompleted, previousCompleted, previousTwin } = space;
  // Without a sequence there is no sentinel in the list.
  const sentinel = sequence === undefined ? -1 : space.sentinel;
  // Whether a refusal of completed id at `floor` is final (rule 5), asked only on a refusal.
  const settles = sequence?.settledFrom !== undefined;
  const refusedForGood = (id: number, floor: number): boolean => {
    const output = outputs[id];
    const settled = output === undefined ? undefined : sequence?.settledFrom?.(inputs[id]!, output);
    return settled !== undefined && settled <= floor;
  };
  const pendingUnknown = new PendingBits(space.size - completedCount);
  const candidatesAt = sequence?.unknownCandidates?.(completedPairs(inputs, outputs, completedCount), inputs.slice(completedCount), groupKey);
  // Unknown operations that change the state without raising the floor need no gap (rule 3).
  const withoutRevision: number[] = [];
  for (let slot = 0; slot < space.size - completedCount; slot++) if (sequence?.changesWithoutRevision?.(inputs[completedCount + slot]!) === true) withoutRevision.push(slot);
  // The highest pending unknown slot at or below `below` that may take effect next in `current`:
  // with a gap in the sequence, among the model's candidates; without, among those that need none.
  const nextUnknown = (current: State, below: number): number => {
    const candidates = gapOpen(current) ? candidatesAt?.(current) : withoutRevision;
    if (candidates === undefined) return pendingUnknown.highestAtOrBelow(below);
    let at = lastAtOrBelow(candidates, below);
    while (at >= 0 && !pendingUnknown.has(candidates[at]!)) at--;
    return at >= 0 ? candidates[at]! : endOfList;
  };
  const floorsLeft = floorCount(sequence, inputs, outputs, completedCount, space.size, withoutRevision, sequenceGroup);
  const groupCount = space.groupKey.length;
  const groupRemaining = Int32Array.from(space.groupSize);
  let lowestGroup = 0;
  // Whether the sequence has room here for an unknown operation that raises the floor (rule 3).
  const gapOpen = (current: State): boolean => sequence === undefined || (lowestGroup < groupCount ? groupKey[lowestGroup]! : Infinity) >= sequence.floor(current) + 1;
  const bytesOf = model.stateBytes ?? (() => defaultStateBytes);
  const originalIndex = space.originalIndex;
  const canonical = lookahead?.canonical?.bind(lookahead);

  // Entry d of the stacks: the operation taken at depth d, how far it moved the frontier, and
  // whether it was forced; the state after d operations.
  const takenAt = new Int32Array(space.size);
  const movedAt = new Int32Array(space.size);
  const forcedAt = new Uint8Array(space.size);
  const set = new LinearizedSet(completedCount);
  let state: State = model.init();
  const stateAfter: State[] = [state];
  let depth = 0;
  cache.addIfAbsent(set, state, model.hash(state));

  // The longest prefix so far. The stack agrees with it below `agreeDepth`, so recording a longer
  // one copies only what changed since: a 100,000-operation search must not copy its whole stack
  // at every dead end.
  const longest = new Int32Array(space.size);
  let longestDepth = -1;
  let agreeDepth = 0;
  // What was pending right after it is worked out once, on failure (`witness`): at every new
  // dead end it cost a walk over every pending operation.
  let longestFrontier = 0;
  let longestLowestGroup = 0;
  const recordIfLongest = () => {
    if (depth <= longestDepth) return;
    longest.set(takenAt.subarray(agreeDepth, depth), agreeDepth);
    longestDepth = depth;
    agreeDepth = depth;
    longestFrontier = set.frontier;
    longestLowestGroup = lowestGroup;
  };
  const witness = (): { stuck: number[]; outOfOrder?: { late: number[]; before: number } } => {
    const taken = new Uint8Array(space.size);
    for (let index = 0; index < longestDepth; index++) taken[longest[index]!] = 1;
    const frontierTime = completedAt[longestFrontier]!;
    // When the sequence says the lowest pending group goes next but real time says its members
    // were invoked only after the frontier operation completed, they are the ones out of place
    // (a read that returned an older revision than a write it followed): blame them, not the
    // innocent operations that wait behind them.
    const late = longestLowestGroup < groupCount ? space.groupMembers(longestLowestGroup).filter((id) => taken[id] === 0 && invokedAt[id]! > frontierTime) : [];
    if (late.length > 0) return { stuck: late, outOfOrder: { late, before: longestFrontier } };
    const pending: number[] = [];
    for (let id = 0; id < completedCount; id++) if (taken[id] === 0 && invokedAt[id]! <= frontierTime) pending.push(id);
    return { stuck: pending.sort((a, b) => invokedAt[a]! - invokedAt[b]! || a - b) };
  };
  const failure = (kind: 'not-linearizable' | 'unknown', exhaustion?: Exhaustion): SearchResult => {
    const { stuck, outOfOrder } = witness();
    return {
      kind,
      longestPrefix: original(longest.subarray(0, longestDepth)),
      stuck: original(stuck),
      ...(outOfOrder === undefined ? {} : { outOfOrder: { late: original(outOfOrder.late), before: originalIndex[outOfOrder.before]! } }),
      ...(kind === 'unknown' ? { exhaustion: exhaustion ?? meter.exhaustion ?? 'steps' } : {}),
    };
  };

  // Where the scan for the next candidate at this depth resumes.
  let pass = readOnlyPass;
  let cursor = nextCompleted[completedCount]!;
  // The first candidate the read-only pass passed over because it changes the state: where the
  // changing pass starts, instead of scanning the same window again from the head (the same
  // candidates in the same order; a cold check spent a good part of its search in these scans).
  let firstChanging = endOfList;
  let untilYield = stepsPerSlice;
  for (;;) {
    const frontierTime = completedAt[set.frontier]!;
    const floor = sequence === undefined ? Infinity : sequence.floor(state);
    let candidate = endOfList;
    while (pass <= changingPass) {
      const wantReadOnly = pass === readOnlyPass ? 1 : 0;
      // Ungrouped ids until none invoked in time is left, then (after the sentinel) the lowest
      // pending group, stopping at the next one.
      while (cursor !== endOfList) {
        if (cursor === sentinel) {
          cursor = nextCompleted[cursor]!;
          continue;
        }
        if (minInvokedFrom[cursor]! > frontierTime) {
          cursor = sentinel >= 0 ? nextCompleted[sentinel]! : endOfList;
          continue;
        }
        const group = sequenceGroup[cursor]!;
        if (group !== noGroup && group !== lowestGroup) {
          cursor = endOfList;
          break;
        }
        if (invokedAt[cursor]! <= frontierTime && earliestFloor[cursor]! <= floor) {
          if (readOnly[cursor] === wantReadOnly) {
            const twin = completedTwin === undefined ? endOfList : completedTwin[cursor]!;
            if (twin === endOfList || takenCompleted[twin] === 1 || invokedAt[twin]! > frontierTime) break;
          }
          if (wantReadOnly === 1 && firstChanging === endOfList) firstChanging = cursor;
        }
        cursor = nextCompleted[cursor]!;
      }
      if (cursor !== endOfList) {
        candidate = cursor;
        cursor = nextCompleted[cursor]!;
        break;
      }
      pass++;
      // The read-only pass scanned the whole window (it ends only there), and nothing was taken
      // since it began: a level ends when a read-only operation taken at it is undone.
      cursor = pass === changingPass ? firstChanging : nextCompleted[completedCount]!;
      if (pass === unknownPass) {
        // An unknown operation that changes the state raises the floor past the lowest pending
        // key unless the sequence has a gap here, so it is not even tried (SequenceOrder rule 3).
        const invokedInTime = lastInvokedBy(invokedAt, completedCount, space.size, frontierTime) - completedCount;
        cursor = nextUnknown(state, invokedInTime);
      }
    }
    if (pass === unknownPass && candidate === endOfList) {
      // Skip a pending operation whose earlier twin is pending too (the twin stands for it), and
      // one the responses rule out here.
      while (cursor !== endOfList && previousTwin[cursor] !== endOfList && pendingUnknown.has(previousTwin[cursor]!)) {
        cursor = nextUnknown(state, cursor - 1);
      }
      if (cursor !== endOfList) {
        candidate = completedCount + cursor;
        cursor = nextUnknown(state, cursor - 1);
      } else {
        pass = levelDone;
      }
    }

    if (candidate === endOfList) {
      // Every candidate at this depth has been tried: backtrack.
      recordIfLongest();
      if (depth === 0) return failure('not-linearizable');
      depth--;
      agreeDepth = Math.min(agreeDepth, depth);
      const taken = takenAt[depth]!;
      state = stateAfter[depth] as State;
      lookahead?.track(originalIndex[taken]!, false);
      if (floorsLeft !== undefined) floorsLeft.take(taken, false);
      if (taken < completedCount) {
        if (completedTwin !== undefined) takenCompleted[taken] = 0;
        set.removeCompleted(taken, movedAt[depth]!);
        nextCompleted[previousCompleted[taken]!] = taken;
        if (nextCompleted[taken] !== endOfList) previousCompleted[nextCompleted[taken]!] = taken;
        const group = sequenceGroup[taken]!;
        if (group !== noGroup) {
          groupRemaining[group]!++;
          lowestGroup = group;
        }
        pass = changingPass;
        cursor = nextCompleted[taken]!;
      } else {
        const slot = taken - completedCount;
        set.removeUnknown(slot);
        pendingUnknown.add(slot);
        pass = unknownPass;
        cursor = nextUnknown(state, slot - 1);
      }
      if (forcedAt[depth] === 1) pass = levelDone;
      continue;
    }

    if (--untilYield === 0) {
      untilYield = stepsPerSlice;
      yield;
    }
    if (!meter.spend()) {
      recordIfLongest();
      return failure('unknown');
    }
    let next = model.step(state, inputs[candidate]!, outputs[candidate]);
    if (next === undefined) {
      // Refused for good: no completion of this configuration can take it (SequenceOrder rule 5).
      if (settles && candidate < completedCount && refusedForGood(candidate, floor)) pass = levelDone;
      continue;
    }
    // A state nothing pending can tell from another searched as that one (`Lookahead.canonical`).
    if (canonical !== undefined && next !== state) next = canonical(state, next, originalIndex[candidate]!);
    // An unknown operation that changes nothing here is the same as one that never happens.
    if (candidate >= completedCount && (next === state || model.equal(next, state))) continue;
    if (sequence !== undefined) {
      const group = candidate < completedCount ? sequenceGroup[candidate]! : noGroup;
      const lowestAfter = group !== noGroup && groupRemaining[group] === 1 ? group + 1 : lowestGroup;
      const lowestKeyAfter = lowestAfter < groupCount ? groupKey[lowestAfter]! : Infinity;
      const floorAfter = sequence.floor(next);
      if (floorAfter > lowestKeyAfter) continue;
      if (floorsLeft !== undefined) {
        // Too few operations left to make the floors ahead that no completed one may make (rule 6).
        if (floorsLeft.short(floorAfter, floorsLeft.raises[candidate] === 1)) continue;
        // A pending operation without a key whose last floor the state has passed (rule 7).
        if (floorsLeft.passed(floorAfter, candidate)) continue;
      }
    }
    if (lookahead !== undefined) {
      lookahead.track(originalIndex[candidate]!, true);
      if (next !== state && !lookahead.viable(next, originalIndex[candidate]!)) {
        // Some pending operation can no longer take effect after this step.
        lookahead.track(originalIndex[candidate]!, false);
        continue;
      }
    }
    const forced = candidate < completedCount && readOnly[candidate] === 1;
    const moved = candidate < completedCount ? set.addCompleted(candidate) : (set.addUnknown(candidate - completedCount), 0);
    const found = cache.addIfAbsent(set, next, model.hash(next));
    if (found === added && (next === state || reserveState(bytesOf(next, state)))) {
      // Take it.
      takenAt[depth] = candidate;
      movedAt[depth] = moved;
      forcedAt[depth] = forced ? 1 : 0;
      depth++;
      stateAfter[depth] = next;
      state = next;
      if (floorsLeft !== undefined) floorsLeft.take(candidate, true);
      if (candidate < completedCount) {
        if (completedTwin !== undefined) takenCompleted[candidate] = 1;
        nextCompleted[previousCompleted[candidate]!] = nextCompleted[candidate]!;
        if (nextCompleted[candidate] !== endOfList) previousCompleted[nextCompleted[candidate]!] = previousCompleted[candidate]!;
        const group = sequenceGroup[candidate]!;
        if (group !== noGroup && --groupRemaining[group]! === 0) lowestGroup = group + 1;
        if (set.frontier === completedCount) return { kind: 'linearizable', order: original(takenAt.subarray(0, depth)) };
      } else {
        pendingUnknown.delete(candidate - completedCount);
      }
      pass = readOnlyPass;
      cursor = nextCompleted[completedCount]!;
      firstChanging = endOfList;
      continue;
    }
    lookahead?.track(originalIndex[candidate]!, false);
    if (candidate < completedCount) set.removeCompleted(candidate, moved);
    else set.removeUnknown(candidate - completedCount);
    if (found === outOfMemory || found === added) {
      // The configuration or its state did not fit in the memory budget.
      recordIfLongest();
      return failure('unknown', 'memory');
    }
    // A read-only operation stands for its whole level, which is therefore done.
    if (forced) pass = levelDone;
  }
}

/**
 * Per completed id (ids ascend by completion): the nearest earlier one with the same input and
 * output, or `endOfList`. Of two identical operations A and B, A completing first, that may both go
 * next, only A needs trying: a linearization that takes B now and A later stays one with the two
 * swapped (the steps are the same; nothing that must follow A precedes B's new place, as A
 * completes first; nothing that must precede A could still be pending, as A may go now). For
 * reads it is plainer still: B is refused wherever A is, and A taken ends the level. With
 * repeated written values (`v1` put a hundred times) the search otherwise tried every order of
 * the overlapping puts of one value, and every pending get of a value at every step: 2,000
 * operations on 2 keys from 20 clients took 3,054,078 steps (now 641,031: the rest is the
 * interleavings of different values, which Porcupine searches too).
 */
function completedTwins<Input, Output>(inputs: readonly Input[], outputs: readonly (Output | undefined)[], readOnly: Uint8Array, completedCount: number): Int32Array {
  const twins = new Int32Array(completedCount).fill(endOfList);
  const last = new Map<string, number>();
  for (let id = 0; id < completedCount; id++) {
    const identity = JSON.stringify(inputs[id]) + (readOnly[id] === 1 ? '\u0000r' : '\u0000') + JSON.stringify(outputs[id] ?? null);
    twins[id] = last.get(identity) ?? endOfList;
    last.set(identity, id);
  }
  return twins;
}

/**
 * SequenceOrder rule 6, a count: the floor rises by one per operation that raises it, so every
 * floor from the state's up to the highest one a response says was reached must be made by some
 * operation not yet placed. A floor no completed response may have made can only be made by an
 * unknown operation (or a completed one without an output), each making at most one: with fewer
 * of those pending than such floors ahead, no completion exists. Sound whatever else the search
 * does (it counts, it never orders); undefined when the model says nothing about floors or nothing
 * is reached.
 */
function floorCount<State, Input, Output>(
  sequence: SequenceOrder<State, Input, Output> | undefined,
  inputs: readonly Input[],
  outputs: readonly (Output | undefined)[],
  completedCount: number,
  size: number,
  withoutRevision: readonly number[],
  sequenceGroup: Int32Array,
): { readonly raises: Uint8Array; take(id: number, taken: boolean): void; short(floor: number, takingOne: boolean): boolean; passed(floor: number, taking: number): boolean } | undefined {
  const floorsOf = sequence?.floorsOf;
  if (floorsOf === undefined) return undefined;
  let highest = -Infinity;
  const madeSet = new Set<number>();
  // Completed operations without a sequence key that a floor past theirs rules out, by that floor.
  const bounded: [number, number][] = [];
  // Per id: 1 for an operation that may make a floor no response accounts for.
  const raises = new Uint8Array(size);
  for (let id = 0; id < completedCount; id++) {
    const output = outputs[id];
    if (output === undefined) {
      raises[id] = sequence!.changesWithoutRevision?.(inputs[id]!) === true ? 0 : 1;
      continue;
    }
    const { reached, made, latest } = floorsOf.call(sequence, inputs[id]!, output);
    if (reached !== undefined && reached > highest) highest = reached;
    if (latest !== undefined && sequenceGroup[id] === noGroup) bounded.push([latest, id]);
    if (made !== undefined) madeSet.add(made);
  }
  if (highest === -Infinity) return undefined;
  const without = new Set(withoutRevision);
  for (let slot = 0; slot < size - completedCount; slot++) raises[completedCount + slot] = without.has(slot) ? 0 : 1;
  let left = 0;
  for (let id = 0; id < size; id++) left += raises[id]!;
  const made = Float64Array.from(madeSet).sort();
  const madeAboveUntilHighest = (floor: number) => firstAbove(made, highest) - firstAbove(made, floor);
  bounded.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const bounds = Float64Array.from(bounded, ([latest]) => latest);
  // Per id: its place among the bounded ones + 1 (0: not bounded); a Fenwick tree counts the
  // pending ones by place, so a step asks in O(log n) whether one below the floor is pending.
  const placeOf = new Int32Array(size);
  bounded.forEach(([, id], index) => (placeOf[id] = index + 1));
  const pending = new Int32Array(bounded.length + 1);
  const count = (place: number, delta: number) => {
    for (let at = place; at <= bounded.length; at += at & -at) pending[at]! += delta;
  };
  for (let place = 1; place <= bounded.length; place++) count(place, 1);
  const pendingUpTo = (places: number): number => {
    let sum = 0;
    for (let at = places; at > 0; at -= at & -at) sum += pending[at]!;
    return sum;
  };
  return {
    raises,
    take(id, isTaken) {
      if (placeOf[id] !== 0) count(placeOf[id]!, isTaken ? -1 : 1);
      if (raises[id] === 1) left += isTaken ? -1 : 1;
    },
    short(floor, takingOne) {
      if (floor >= highest) return false;
      const unaccounted = highest - floor - madeAboveUntilHighest(floor);
      return unaccounted > left - (takingOne ? 1 : 0);
    },
    passed(floor, taking) {
      if (bounds.length === 0 || bounds[0]! >= floor) return false;
      const low = firstAbove(bounds, floor, true);
      const below = pendingUpTo(low) - (placeOf[taking] !== 0 && placeOf[taking]! <= low ? 1 : 0);
      return below > 0;
    },
  };
}

/** The completed operations' inputs and outputs (undefined: an unknown operation that must have taken effect). */
function completedPairs<Input, Output>(inputs: readonly Input[], outputs: readonly (Output | undefined)[], completedCount: number): (readonly [Input, Output | undefined])[] {
  const pairs: (readonly [Input, Output | undefined])[] = [];
  for (let id = 0; id < completedCount; id++) pairs.push([inputs[id]!, outputs[id]]);
  return pairs;
}

/** The index of the last element of ascending `values` at or below `limit`, or -1. */
function lastAtOrBelow(values: readonly number[], limit: number): number {
  return firstAbove(values, limit) - 1;
}

/** The highest id in [from, to) invoked by `time` (ids there ascend by invocation), or from - 1. */
function lastInvokedBy(invokedAt: Float64Array, from: number, to: number, time: number): number {
  return firstAbove(invokedAt, time, false, from, to) - 1;
}

/** The first index in [from, to) of ascending `values` above `limit` (at or above it, `atLimit`), or `to`. */
function firstAbove(values: ArrayLike<number>, limit: number, atLimit = false, from = 0, to = values.length): number {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! < limit || (!atLimit && values[middle] === limit)) low = middle + 1;
    else high = middle;
  }
  return low;
}
