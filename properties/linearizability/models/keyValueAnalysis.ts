/**
 * What a key/value history says before any search (the kv model's `analyze`). Each get whose
 * returned value has one cut into written values (`ValueParts`) names the writes its state was
 * made of — its *parts* — and so the order of those writes and that they took effect. From that:
 *
 * - **Unknown outcomes.** An unknown-outcome write that no get's state can contain (no unique cut
 *   holds it, no other value contains its value) constrains nothing: in any linearization that
 *   takes it, no get lies between it and the next put (those gets would contain its value), so
 *   dropping it leaves a linearization. It is `unobserved`. One that is a part of some get took
 *   effect, before the first such get completed: `took-effect`.
 * - **Certain violations**, found without a search, each one a contradiction in every
 *   linearization:
 *   - a get returned a value no cut of the key's written values makes (a foreign read), or one
 *     that needs a write twice;
 *   - a get saw a write that was invoked only after the get completed;
 *   - a get saw two writes in an order that real time, or another get, rules out;
 *   - a stale read: some write W certainly precedes the get and certainly follows one of its
 *     parts, yet is not a part. (The get's state is its parts, so the last put before it is its
 *     first part; W after that put would be in the state, or a later put would be.)
 *   "Certainly precedes" is known from real time or from a get in between: W took effect by its
 *   completion, or by the completion of the first get that saw it (`firstSeen`).
 *
 * Gets with several cuts are left to the search; with unique written values there are none.
 */
import type { Operation } from '../history.ts';
import type { AnalyzedViolation, HistoryAnalysis, UnknownFate } from '../model.ts';
import type { KeyValueInput, KeyValueOutput, KeyValueState } from './keyValue.ts';
import { keyValueLookahead } from './keyValueLookahead.ts';
import { ValueParser, type ValueParts } from './keyValueParts.ts';
import { countAtOrBelow } from '../_internals/idArrays.ts';
import { sortIds } from '../_internals/sortIds.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** What the analysis learned, per position in the partition. */
export interface PartitionFacts {
  /** Per key: its writes, and its ok gets by completion. */
  readonly keys: readonly { readonly writes: readonly number[]; readonly gets: readonly number[] }[];
  /** Per ok get: what its value is made of. */
  readonly parts: readonly (ValueParts | undefined)[];
  /** Per write: the gets with a unique cut that hold it, by completion. */
  readonly readers: readonly (number[] | undefined)[];
  /** Per write: when it certainly had taken effect (Infinity: not known to take effect). */
  readonly firstSeen: Float64Array;
  /** Per position: its invocation and completion times (for sorting without a comparator). */
  readonly invokedAt: Float64Array;
  readonly completedAt: Float64Array;
}

export function analyzeKeyValue(operations: readonly KeyValueOperation[]): HistoryAnalysis<KeyValueState> {
  const facts = partitionFacts(operations);
  let violation: AnalyzedViolation | undefined;
  for (const key of facts.keys) violation ??= findViolation(operations, facts, key.gets, key.writes);
  if (violation !== undefined) return { violation };
  const fates: (UnknownFate | undefined)[] = new Array<UnknownFate | undefined>(operations.length);
  for (const key of facts.keys) settleUnknowns(operations, facts, key.gets, key.writes, fates);
  return { fates, lookahead: (kept) => keyValueLookahead(operations, facts, kept) };
}

function partitionFacts(operations: readonly KeyValueOperation[]): PartitionFacts {
  // Plain loops, and sorts over typed arrays rather than with a comparator: a one-shot check runs
  // this once, before the JIT has compiled it, where every call per operation shows.
  const count = operations.length;
  const keyIndex = new Map<string, number>();
  const keys: { writes: number[]; gets: number[] }[] = [];
  const inputs = new Array<KeyValueInput>(count);
  const invokedAt = new Float64Array(count);
  const completedAt = new Float64Array(count);
  for (let position = 0; position < count; position++) {
    const operation = operations[position]!;
    const input = operation.input;
    inputs[position] = input;
    invokedAt[position] = operation.invokedAt;
    completedAt[position] = operation.completedAt;
    let index = keyIndex.get(input.key);
    if (index === undefined) {
      index = keys.push({ writes: [], gets: [] }) - 1;
      keyIndex.set(input.key, index);
    }
    if (input.kind !== 'get') keys[index]!.writes.push(position);
    else if (operation.outcome === 'ok') keys[index]!.gets.push(position);
  }
  const parts: (ValueParts | undefined)[] = new Array<ValueParts | undefined>(count);
  const readers: (number[] | undefined)[] = new Array<number[] | undefined>(count);
  const firstSeen = new Float64Array(count).fill(Infinity);
  for (const key of keys) {
    const writes = key.writes;
    // By completion, ties by position (the positions were added ascending and the sort is stable).
    const gets = sortedBy(key.gets, completedAt);
    key.gets = gets;
    const parser = new ValueParser(inputs, writes);
    // Indexed loops, not for-of: before the JIT compiles them, each for-of step is an iterator call.
    for (let at = 0; at < writes.length; at++) {
      const write = writes[at]!;
      if (operations[write]!.outcome === 'ok') firstSeen[write] = completedAt[write]!;
    }
    for (let at = 0; at < gets.length; at++) {
      const get = gets[at]!;
      const found = parser.parse(operations[get]!.output!.value!);
      parts[get] = found;
      if (found.kind !== 'unique') continue;
      const readAt = completedAt[get]!;
      const partWrites = found.writes;
      for (let part = 0; part < partWrites.length; part++) {
        const write = partWrites[part]!;
        const list = readers[write];
        if (list === undefined) readers[write] = [get];
        else list.push(get);
        if (readAt < firstSeen[write]!) firstSeen[write] = readAt;
      }
    }
  }
  return { keys, parts, readers, firstSeen, invokedAt, completedAt };
}

/** `ids` stably sorted by `primary[id]`, as a new array. */
function sortedBy(ids: readonly number[], primary: Float64Array): number[] {
  const sorted = Int32Array.from(ids);
  sortIds(sorted, primary);
  return Array.from(sorted);
}

function settleUnknowns(operations: readonly KeyValueOperation[], facts: PartitionFacts, gets: readonly number[], writes: readonly number[], fates: (UnknownFate | undefined)[]): void {
  const ambiguous: number[] = [];
  for (let at = 0; at < gets.length; at++) if (facts.parts[gets[at]!]!.kind === 'ambiguous') ambiguous.push(gets[at]!);
  for (let at = 0; at < writes.length; at++) {
    const write = writes[at]!;
    const operation = operations[write]!;
    if (operation.outcome !== 'unknown' || operation.input.kind === 'get' || operation.input.value === '') continue;
    const firstReader = facts.readers[write]?.[0];
    if (firstReader !== undefined) {
      fates[write] = { kind: 'took-effect', by: operations[firstReader]!.completedAt };
      continue;
    }
    const value = operation.input.value;
    const maybeSeen = ambiguous.some((get) => operations[get]!.completedAt >= operation.invokedAt && operations[get]!.output!.value!.includes(value));
    if (!maybeSeen) fates[write] = { kind: 'unobserved' };
  }
}

/** The first certain violation among the key's gets, in completion order. */
function findViolation(operations: readonly KeyValueOperation[], facts: PartitionFacts, gets: readonly number[], writes: readonly number[]): AnalyzedViolation | undefined {
  const stale = new StaleWrites(operations, facts, writes);
  for (let at = 0; at < gets.length; at++) {
    const get = gets[at]!;
    const parts = facts.parts[get]!;
    const read = operations[get]!;
    if (parts.kind === 'impossible') {
      const shown = shownValue(read);
      if (parts.repeated !== undefined) return violation([get, parts.repeated], (at) => `#${at(get)} returned ${shown}, which holds the value of write #${at(parts.repeated!)} twice`);
      return violation([get], (at) => `#${at(get)} returned ${shown}, which no combination of the key's written values makes`);
    }
    if (parts.kind !== 'unique') continue;
    const early = invokedAfter(parts.writes, facts.invokedAt, read.completedAt);
    if (early !== undefined) return violation([get, early], (at) => `#${at(get)} returned the value of write #${at(early)}, which was invoked after #${at(get)} completed`);
    const reordered = misordered(operations, facts, parts.writes);
    if (reordered !== undefined) {
      const [before, after] = reordered;
      return violation([get, before, after], (at) => `#${at(get)} saw write #${at(after)} after #${at(before)}, but #${at(after)} had taken effect before #${at(before)} was invoked`);
    }
    const missing = stale.missing(get, parts.writes);
    if (missing !== undefined) {
      const shown = shownValue(read);
      const { write, after } = missing;
      if (after === undefined) {
        return violation([get, write], (at) => `#${at(get)} returned ${shown}, a stale value: write #${at(write)} took effect before #${at(get)} was invoked, yet is missing from it (no put began it, so it must show every write since the start)`);
      }
      return violation([get, write, after], (at) => `#${at(get)} returned ${shown}, a stale value: write #${at(write)} took effect after #${at(after)}, whose value it shows, and before #${at(get)} was invoked, yet is missing from it`);
    }
  }
  return undefined;
}

/** The first of `writes` invoked after `time` (a loop, not `find` with a closure per get). */
function invokedAfter(writes: readonly number[], invokedAt: Float64Array, time: number): number | undefined {
  for (let index = 0; index < writes.length; index++) if (invokedAt[writes[index]!]! > time) return writes[index];
  return undefined;
}

/** What a get returned, quoted and cut for a message. */
function shownValue(read: KeyValueOperation): string {
  const value = read.output!.value!;
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 59)}…` : value);
}

function violation(involved: number[], explanation: (at: (position: number) => number) => string): AnalyzedViolation {
  return { operations: involved, explanation };
}

/** Two parts, `before` then `after` in the cut, where `after` had taken effect before `before` was invoked. */
function misordered(operations: readonly KeyValueOperation[], facts: PartitionFacts, writes: readonly number[]): [number, number] | undefined {
  let earliest = Infinity;
  let earliestWrite = -1;
  for (let index = writes.length - 1; index >= 0; index--) {
    const write = writes[index]!;
    if (earliest < operations[write]!.invokedAt) return [write, earliestWrite];
    const seen = facts.firstSeen[write]!;
    if (seen < earliest) {
      earliest = seen;
      earliestWrite = write;
    }
  }
  return undefined;
}

/**
 * For the stale-read rule: the writes of a key that certainly precede a get (firstSeen before
 * its invocation) and certainly follow one of its parts (invoked after the earliest firstSeen of
 * its parts; after the start, when its state begins with no put). Gets are asked in completion
 * order; a Fenwick tree over the writes' invocation order counts, among the writes certainly
 * preceding the get, those invoked after a given time, and the get's own parts are subtracted.
 */
class StaleWrites {
  readonly #operations: readonly KeyValueOperation[];
  readonly #firstSeen: Float64Array;
  readonly #invokedAt: Float64Array;
  /** The key's writes that certainly take effect, by invocation, and by firstSeen. */
  readonly #byInvocation: number[];
  readonly #bySeen: number[];
  /** Per position: rank in `#byInvocation`, or -1. */
  readonly #rank: Int32Array;
  readonly #tree: Int32Array;
  #added = 0;

  constructor(operations: readonly KeyValueOperation[], facts: PartitionFacts, writes: readonly number[]) {
    this.#operations = operations;
    this.#invokedAt = facts.invokedAt;
    const firstSeen = (this.#firstSeen = facts.firstSeen);
    // `writes` ascend by position, and the sorts are stable: ties stay by position.
    const certain: number[] = [];
    for (const write of writes) if (firstSeen[write]! < Infinity) certain.push(write);
    this.#byInvocation = sortedBy(certain, facts.invokedAt);
    this.#rank = new Int32Array(operations.length).fill(-1);
    for (let rank = 0; rank < this.#byInvocation.length; rank++) this.#rank[this.#byInvocation[rank]!] = rank;
    this.#bySeen = sortedBy(certain, firstSeen);
    this.#tree = new Int32Array(certain.length + 1);
  }

  /**
   * A write that is not a part of `get` but certainly lies between a part (`after`, the one
   * known to take effect first; none when the get's state began with no put) and it.
   */
  missing(get: number, parts: readonly number[]): { write: number; after: number | undefined } | undefined {
    const operations = this.#operations;
    const firstSeen = this.#firstSeen;
    const invokedAt = operations[get]!.invokedAt;
    while (this.#added < this.#bySeen.length && firstSeen[this.#bySeen[this.#added]!]! < invokedAt) {
      this.#add(this.#rank[this.#bySeen[this.#added]!]!);
      this.#added++;
    }
    let after = -Infinity;
    let afterPart: number | undefined;
    if (parts.length > 0 && operations[parts[0]!]!.input.kind === 'put') {
      after = Infinity;
      for (let at = 0; at < parts.length; at++) {
        const part = parts[at]!;
        if (firstSeen[part]! < after) {
          after = firstSeen[part]!;
          afterPart = part;
        }
      }
    }
    const from = this.#firstInvokedAfter(after);
    const rank = this.#rank;
    let own = 0;
    for (let at = 0; at < parts.length; at++) if (rank[parts[at]!]! >= from && firstSeen[parts[at]!]! < invokedAt) own++;
    if (this.#countFrom(from) <= own) return undefined;
    for (let rank = from; rank < this.#byInvocation.length; rank++) {
      const write = this.#byInvocation[rank]!;
      if (!parts.includes(write) && firstSeen[write]! < invokedAt) return { write, after: afterPart };
    }
    return undefined;
  }

  /** The rank of the first write (by invocation) invoked strictly after `time`. */
  #firstInvokedAfter(time: number): number {
    return countAtOrBelow(this.#byInvocation, this.#invokedAt, time);
  }

  #add(rank: number): void {
    for (let index = rank + 1; index < this.#tree.length; index += index & -index) this.#tree[index]!++;
  }

  /** How many added writes have rank ≥ `from`. */
  #countFrom(from: number): number {
    return this.#prefix(this.#tree.length - 1) - this.#prefix(from);
  }

  /** How many added writes have rank < `end`. */
  #prefix(end: number): number {
    let sum = 0;
    for (let index = end; index > 0; index -= index & -index) sum += this.#tree[index]!;
    return sum;
  }
}
