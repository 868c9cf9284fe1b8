/**
 * The key/value model's lookahead (`HistoryAnalysis.lookahead`): it abandons a configuration as
 * soon as some pending get can no longer read what it returned, instead of going on until that
 * get's turn comes (after trying every order of the operations in between).
 *
 * A key's later states are its current value s followed by appended values, until a put restarts
 * it. Call the put that begins what a get returned (w) its *restarter*: its first part, for a get
 * whose cut is unique (the others are not looked ahead for). Once it cannot still be
 * taken the get is *exposed*, and it can still read w only if w starts with s — and, when its cut
 * is unique, only if s ends where one of its parts ends and all the parts after it are still
 * pending. That is checked after each write to a key for its exposed pending gets (those that
 * read the current put's run of appends; the first and last by value stand for all, see
 * `ExposedGets`) and for the pending gets that hold the write just taken as a part (its state
 * must now be their value up to it).
 */
import type { Operation } from '../history.ts';
import type { Lookahead } from '../model.ts';
import { valueOf, type KeyValueInput, type KeyValueOutput, type KeyValueState } from './keyValue.ts';
import type { PartitionFacts } from './keyValueAnalysis.ts';
import { DeadValues } from './keyValueDeadValues.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** Per get (by index in `kept`): what it needs. */
interface GetNeeds {
  readonly value: string;
  /** Unique cut: its parts (as kept indexes) and where each ends in the value. */
  readonly parts: Int32Array | undefined;
  readonly partEnds: Int32Array | undefined;
}

export function keyValueLookahead(operations: readonly KeyValueOperation[], facts: PartitionFacts, kept: readonly number[]): Lookahead<KeyValueState> {
  const count = kept.length;
  const indexOf = new Int32Array(operations.length).fill(-1);
  const keyOf = new Array<string>(count);
  for (let index = 0; index < count; index++) {
    indexOf[kept[index]!] = index;
    keyOf[index] = operations[kept[index]!]!.input.key;
  }
  const taken = new Uint8Array(count);
  const needs: (GetNeeds | undefined)[] = new Array<GetNeeds | undefined>(count);
  // Per get: restarters still pending; -1 for operations that are not gets.
  const pendingRestarters = new Int32Array(count).fill(-1);
  const restarted = new Lists(count);
  const readers = new Lists(count);

  for (const key of facts.keys) {
    const gets = key.gets;
    for (let at = 0; at < gets.length; at++) {
      const get = gets[at]!;
      const index = indexOf[get]!;
      if (index < 0) continue;
      const value = operations[get]!.output!.value!;
      const parts = facts.parts[get]!;
      if (parts.kind === 'unique') {
        const unique = new Int32Array(parts.writes.length);
        for (let part = 0; part < unique.length; part++) unique[part] = indexOf[parts.writes[part]!]!;
        needs[index] = { value, parts: unique, partEnds: partEnds(operations, parts.writes) };
        const first = unique[0];
        const restarter = first !== undefined && operations[kept[first]!]!.input.kind === 'put';
        pendingRestarters[index] = restarter ? 1 : 0;
        if (restarter) restarted.add(first!, index);
        for (let part = 0; part < unique.length; part++) readers.add(unique[part]!, index);
      }
      // A get with several cuts is left out: any put whose value begins what it returned could
      // restart it, and tracking them all would cost more than it prunes (with repeated values,
      // puts of one value begin most gets).
    }
  }
  const returned = new Array<string>(count);
  for (let index = 0; index < count; index++) returned[index] = needs[index]?.value ?? '';
  // Per index, its key's exposed gets: looked up once here, not by key at every step.
  const exposedByKey = new Map<string, ExposedGets>();
  const exposedAt = new Array<ExposedGets>(count);
  for (let index = 0; index < count; index++) {
    const key = keyOf[index]!;
    let gets = exposedByKey.get(key);
    if (gets === undefined) exposedByKey.set(key, (gets = new ExposedGets(returned)));
    exposedAt[index] = gets;
  }
  for (let index = 0; index < count; index++) if (pendingRestarters[index] === 0) exposedAt[index]!.add(index);

  const canStillRead = (get: number, current: string): boolean => {
    const need = needs[get]!;
    if (!need.value.startsWith(current)) return false;
    if (need.parts === undefined) return true;
    const ends = need.partEnds!;
    // The parts up to `current` are taken; all after it must still be pending.
    let low = 0;
    let high = ends.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (ends[middle]! <= current.length) low = middle + 1;
      else high = middle;
    }
    if (low > 0 ? ends[low - 1] !== current.length : current.length !== 0) return false;
    for (let part = low; part < ends.length; part++) if (taken[need.parts[part]!] === 1) return false;
    return true;
  };
  // Per append: the one put that begins every get holding it, when there is one (else -1), so
  // that the readers' check is one look at whether that put is taken (see `viable`).
  const epochPut = new Int32Array(count).fill(-2);
  for (let index = 0; index < count; index++) {
    if (operations[kept[index]!]!.input.kind !== 'append') continue;
    for (let at = readers.start(index), end = readers.end(index); at < end; at++) {
      const parts = needs[readers.item(at)]!.parts!;
      const put = operations[kept[parts[0]!]!]!.input.kind === 'put' ? parts[0]! : -1;
      epochPut[index] = epochPut[index] === -2 || epochPut[index] === put ? put : -3;
    }
  }

  const hasPendingReader = (index: number): boolean => {
    for (let at = readers.start(index), end = readers.end(index); at < end; at++) if (taken[readers.item(at)] === 0) return true;
    return false;
  };

  const deadValues = new DeadValues(operations, kept);
  return {
    track(index, isTaken) {
      deadValues.track(index, isTaken);
      taken[index] = isTaken ? 1 : 0;
      const exposed = exposedAt[index]!;
      if (pendingRestarters[index]! >= 0) {
        if (pendingRestarters[index] === 0) isTaken ? exposed.remove(index) : exposed.add(index);
        return;
      }
      for (let at = restarted.start(index), end = restarted.end(index); at < end; at++) {
        const get = restarted.item(at);
        pendingRestarters[get]! += isTaken ? -1 : 1;
        if (taken[get] === 1) continue;
        if (isTaken && pendingRestarters[get] === 0) exposed.add(get);
        if (!isTaken && pendingRestarters[get] === 1) exposed.remove(get);
      }
    },
    viable(state, index) {
      const current = valueOf(state, keyOf[index]!);
      const gets = exposedAt[index]!;
      if (gets.size > 0 && (!canStillRead(gets.first, current) || !canStillRead(gets.last, current))) return false;
      // A get holding this write must still see it: its first part (the put that began its run
      // of appends) must be taken already, or that put would erase the write before the get.
      // Gets whose first part is taken are exposed, and were checked just now.
      const put = epochPut[index]!;
      if (put >= 0) return taken[put] === 1 || !hasPendingReader(index);
      if (put === -3) {
        for (let at = readers.start(index), end = readers.end(index); at < end; at++) {
          const get = readers.item(at);
          if (taken[get] === 0 && !canStillRead(get, current)) return false;
        }
      }
      return true;
    },
    canonical: (previous, next, index) => deadValues.canonical(previous, next, index),
  };
}

/** Where each part's value ends in the value the get returned. */
function partEnds(operations: readonly KeyValueOperation[], parts: readonly number[]): Int32Array {
  const ends = new Int32Array(parts.length);
  let end = 0;
  for (let index = 0; index < parts.length; index++) {
    end += (operations[parts[index]!]!.input as { value: string }).value.length;
    ends[index] = end;
  }
  return ends;
}

/**
 * Lists of indexes per owner, added in any order and then read: kept as linked entries while
 * being built, and packed into one array (compressed rows) on first read.
 */
class Lists {
  #headOf: Int32Array;
  #next: number[] = [];
  #items: number[] = [];
  #offsets: Int32Array | undefined;
  #packed: Int32Array | undefined;

  constructor(owners: number) {
    this.#headOf = new Int32Array(owners).fill(-1);
  }

  add(owner: number, item: number): void {
    this.#next.push(this.#headOf[owner]!);
    this.#headOf[owner] = this.#items.push(item) - 1;
  }

  start(owner: number): number {
    this.#pack();
    return this.#offsets![owner]!;
  }

  end(owner: number): number {
    this.#pack();
    return this.#offsets![owner + 1]!;
  }

  item(at: number): number {
    return this.#packed![at]!;
  }

  #pack(): void {
    if (this.#offsets !== undefined) return;
    const owners = this.#headOf.length;
    const offsets = new Int32Array(owners + 1);
    const packed = new Int32Array(this.#items.length);
    let at = 0;
    for (let owner = 0; owner < owners; owner++) {
      offsets[owner] = at;
      // The linked entries run newest first; packing them backwards restores the order added.
      let length = 0;
      for (let entry = this.#headOf[owner]!; entry !== -1; entry = this.#next[entry]!) length++;
      let fill = at + length;
      for (let entry = this.#headOf[owner]!; entry !== -1; entry = this.#next[entry]!) packed[--fill] = this.#items[entry]!;
      at += length;
    }
    offsets[owners] = at;
    this.#offsets = offsets;
    this.#packed = packed;
  }
}

/**
 * The exposed pending gets of one key, ordered by the value they returned. Every one must start
 * with the key's current value, and the strings that start with a given prefix are contiguous in
 * that order: so the first and the last stand for all, and a step checks two gets, however many
 * a long run of appends has exposed.
 */
class ExposedGets {
  readonly #values: readonly string[];
  /** Indexes, ascending by (value, index). */
  readonly #members: number[] = [];

  /** `values[index]`: what the get at that index returned. */
  constructor(values: readonly string[]) {
    this.#values = values;
  }

  get size(): number {
    return this.#members.length;
  }

  get first(): number {
    return this.#members[0]!;
  }

  get last(): number {
    return this.#members[this.#members.length - 1]!;
  }

  // Shifted by hand, not with `splice`, which makes an array of the removed elements per call
  // (the search adds and removes a get at every step that takes or backtracks over one).
  add(index: number): void {
    const members = this.#members;
    const at = this.#position(index);
    if (members[at] === index) return;
    let to = members.length;
    members.push(index);
    for (; to > at; to--) members[to] = members[to - 1]!;
    members[at] = index;
  }

  remove(index: number): void {
    const members = this.#members;
    const at = this.#position(index);
    if (members[at] !== index) return;
    for (let from = at + 1; from < members.length; from++) members[from - 1] = members[from]!;
    members.pop();
  }

  /** Where `index` is, or would be inserted. */
  #position(index: number): number {
    const value = this.#values[index]!;
    let low = 0;
    let high = this.#members.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.#members[middle]!;
      const otherValue = this.#values[other]!;
      if (otherValue < value || (otherValue === value && other < index)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
