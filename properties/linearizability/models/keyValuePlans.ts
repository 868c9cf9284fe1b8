/**
 * Plans for the replay of a key whose written values repeat (`keyValueReplay.ts`): the key's
 * pending writes by the value they write, and the *plans* made of them — the writes that lead from
 * the current value to the value a get returned: appends that spell what it adds, or a put that
 * begins it and appends after it. Of writes with equal values the one with the earliest deadline
 * is used (the others can wait longer), an unknown-outcome one only where no ok one fits.
 *
 * The replay and its plans share two marks per operation: `taken` (placed in the order) and
 * `reserved` (held by a plan being made); a plan never uses a write that is either.
 */
import type { Operation } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from './keyValue.ts';
import { countAtOrBelow } from '../_internals/idArrays.ts';
import { sortIds } from '../_internals/sortIds.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** How far a lookup scans a value's writes past ones it cannot use. */
export const scanLimit = 64;

/** One written value's writes of one kind: ok ones by deadline, unknown ones by invocation. */
interface Writers {
  readonly ok: number[];
  /** Ok ones before it are all taken. */
  okHead: number;
  readonly unknown: number[];
}

export class KeyValuePlans {
  readonly #operations: readonly KeyValueOperation[];
  readonly #invokedAt: Float64Array;
  readonly #completedAt: Float64Array;
  /** Placed in the replay's order. */
  readonly taken: Uint8Array;
  /** Held by the plan being made (or by the replay, while it judges a write). */
  readonly reserved: Uint8Array;
  /** The last plan made: positions of writes, in the order they go. */
  readonly plan: number[] = [];
  /** Plans of ok writes only (an unknown one may never have taken effect). */
  okOnly = false;
  // The key being replayed.
  #puts = new Map<string, Writers>();
  #appends = new Map<string, Writers>();
  #putLengths = new Set<number>();
  #appendLengths = new Set<number>();
  #sortedPutLengths: number[] = [];
  #sortedAppendLengths: number[] = [];
  /** Lookups left to the whole partition: a replay that costs more than a search would is dropped. */
  #lookupsLeft: number;

  constructor(operations: readonly KeyValueOperation[], invokedAt: Float64Array, completedAt: Float64Array) {
    const count = operations.length;
    this.#operations = operations;
    this.#invokedAt = invokedAt;
    this.#completedAt = completedAt;
    this.taken = new Uint8Array(count);
    this.reserved = new Uint8Array(count);
    this.#lookupsLeft = 64 * count + 4096;
  }

  /** Forgets the last key's writes; `addWrite` then each of the next key's, and `indexed`. */
  beginKey(): void {
    this.#puts = new Map();
    this.#appends = new Map();
    this.#putLengths.clear();
    this.#appendLengths.clear();
  }

  addWrite(position: number, input: { readonly kind: 'put' | 'append'; readonly value: string }, outcome: KeyValueOperation['outcome']): void {
    const byValue = input.kind === 'put' ? this.#puts : this.#appends;
    (input.kind === 'put' ? this.#putLengths : this.#appendLengths).add(input.value.length);
    let writers = byValue.get(input.value);
    if (writers === undefined) byValue.set(input.value, (writers = { ok: [], okHead: 0, unknown: [] }));
    (outcome === 'unknown' ? writers.unknown : writers.ok).push(position);
  }

  /** Every write of the key added: positions ascend by invocation (a history is sorted so); ok writes go by deadline. */
  indexed(): void {
    for (const writers of this.#puts.values()) byTime(writers.ok, this.#completedAt);
    for (const writers of this.#appends.values()) byTime(writers.ok, this.#completedAt);
    this.#sortedPutLengths = [...this.#putLengths].sort((a, b) => a - b);
    this.#sortedAppendLengths = [...this.#appendLengths].filter((length) => length > 0).sort((a, b) => a - b);
  }

  /**
   * Fills `plan` with pending writes that lead from `current` through `values`, each write invoked
   * by the completion of the first get that needs it (`horizons`); `write`, when not -1, is used
   * where its value fits first. With `restart`, only plans that begin with a put. False when none
   * is found.
   */
  make(current: string, values: readonly string[], horizons: readonly number[], write: number, restart: boolean): boolean {
    const plan = this.plan;
    plan.length = 0;
    const first = values[0]!;
    let found = !restart && first.startsWith(current) && this.#spell(first, current.length, horizons[0]!, write);
    for (let which = 0; which < this.#sortedPutLengths.length && !found; which++) {
      const length = this.#sortedPutLengths[which]!;
      if (length > first.length) break;
      const put = this.#writer(this.#puts, first.slice(0, length), horizons[0]!, write);
      if (put < 0) continue;
      this.reserved[put] = 1;
      plan.push(put);
      found = this.#spell(first, length, horizons[0]!, write);
      if (found) break;
      plan.pop();
      this.reserved[put] = 0;
    }
    for (let index = 1; index < values.length && found; index++) found = this.#spell(values[index]!, values[index - 1]!.length, horizons[index]!, write);
    for (let index = 0; index < plan.length; index++) this.reserved[plan[index]!] = 0;
    return found;
  }

  /**
   * Appends to `plan` pending appends that spell `value` from `at` on (a bounded depth-first
   * search over the cuts), reserving them; on failure it leaves `plan` as it found it.
   */
  #spell(value: string, at: number, horizon: number, write: number): boolean {
    if (at === value.length) return true;
    const lengths = this.#sortedAppendLengths;
    for (let which = 0; which < lengths.length; which++) {
      const end = at + lengths[which]!;
      if (end > value.length) break;
      if (--this.#lookupsLeft < 0) return false;
      const append = this.#writer(this.#appends, value.slice(at, end), horizon, write);
      if (append < 0) continue;
      this.reserved[append] = 1;
      this.plan.push(append);
      if (this.#spell(value, end, horizon, write)) return true;
      this.plan.pop();
      this.reserved[append] = 0;
    }
    return false;
  }

  /**
   * A pending, unreserved write of `value` invoked by `horizon`: `write` when it is one, else the
   * ok one with the earliest deadline, else the latest-invoked unknown one; -1 when none.
   */
  #writer(byValue: Map<string, Writers>, value: string, horizon: number, write: number): number {
    const writers = byValue.get(value);
    if (writers === undefined) return -1;
    const taken = this.taken;
    const reserved = this.reserved;
    const invokedAt = this.#invokedAt;
    if (write >= 0 && reserved[write] === 0 && taken[write] === 0 && (this.#operations[write]!.input as { value: string }).value === value && byValue === (this.#operations[write]!.input.kind === 'put' ? this.#puts : this.#appends)) return write;
    const ok = writers.ok;
    while (writers.okHead < ok.length && taken[ok[writers.okHead]!] === 1) writers.okHead++;
    for (let at = writers.okHead, end = Math.min(ok.length, writers.okHead + scanLimit); at < end; at++) {
      const candidate = ok[at]!;
      if (taken[candidate] === 0 && reserved[candidate] === 0 && invokedAt[candidate]! <= horizon) return candidate;
    }
    const unknown = writers.unknown;
    if (this.okOnly) return -1;
    const low = countAtOrBelow(unknown, invokedAt, horizon);
    for (let at = low - 1, end = Math.max(0, low - scanLimit); at >= end; at--) {
      const candidate = unknown[at]!;
      if (taken[candidate] === 0 && reserved[candidate] === 0) return candidate;
    }
    return -1;
  }
}

/** Sorts `list` (positions) by `times`, in place. */
export function byTime(list: number[], times: Float64Array): void {
  const ids = Int32Array.from(list);
  sortIds(ids, times);
  for (let at = 0; at < ids.length; at++) list[at] = ids[at]!;
}
