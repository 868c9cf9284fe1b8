/**
 * The key/value model's lookahead (`HistoryAnalysis.lookahead`): it abandons a configuration as
 * soon as some pending get can no longer read what it returned, instead of going on until that
 * get's turn comes (after trying every order of the operations in between).
 *
 * A key's later states are its current value s followed by appended values, until a put restarts
 * it. Call the puts that could begin what a get returned (w) its *restarters*: its first part
 * when its cut is unique, else every put whose value begins w. Once none of them can still be
 * taken the get is *exposed*, and it can still read w only if w starts with s — and, when its cut
 * is unique, only if s ends where one of its parts ends and all the parts after it are still
 * pending. That is checked, after each write to a key, for the key's exposed pending gets (with
 * unique values: the few that read the current put's run of appends) and for the pending gets
 * that hold the write just taken as a part (its state must now be their value up to it).
 */
import type { Operation } from '../history.ts';
import type { Lookahead } from '../model.ts';
import type { KeyValueInput, KeyValueOutput, KeyValueState } from './keyValue.ts';
import type { PartitionFacts } from './keyValueAnalysis.ts';

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
  kept.forEach((position, index) => (indexOf[position] = index));
  const keyOf = kept.map((position) => operations[position]!.input.key);
  const taken = new Uint8Array(count);
  const needs: (GetNeeds | undefined)[] = new Array<GetNeeds | undefined>(count);
  const restarted: number[][] = Array.from({ length: count }, () => []);
  const readers: number[][] = Array.from({ length: count }, () => []);
  // Per get: restarters still pending; -1 for operations that are not gets.
  const pendingRestarters = new Int32Array(count).fill(-1);

  for (const key of facts.keys) {
    const puts = key.writes.filter((write) => indexOf[write]! >= 0 && operations[write]!.input.kind === 'put');
    for (const get of key.gets) {
      const index = indexOf[get]!;
      if (index < 0) continue;
      const value = operations[get]!.output!.value!;
      const parts = facts.parts[get]!;
      const unique = parts.kind === 'unique' ? parts.writes.map((write) => indexOf[write]!) : undefined;
      needs[index] = { value, parts: unique === undefined ? undefined : Int32Array.from(unique), partEnds: unique === undefined ? undefined : partEnds(operations, parts.kind === 'unique' ? parts.writes : []) };
      const restarters =
        unique !== undefined
          ? unique.slice(0, 1).filter((part) => operations[kept[part]!]!.input.kind === 'put')
          : puts.filter((put) => value.startsWith((operations[put]!.input as { value: string }).value)).map((put) => indexOf[put]!);
      pendingRestarters[index] = restarters.length;
      for (const put of restarters) restarted[put]!.push(index);
      for (const part of unique ?? []) readers[part]!.push(index);
    }
  }
  const exposed = new Map<string, ExposedGets>();
  const exposedOf = (key: string) => {
    let gets = exposed.get(key);
    if (gets === undefined) exposed.set(key, (gets = new ExposedGets(count)));
    return gets;
  };
  for (let index = 0; index < count; index++) if (pendingRestarters[index] === 0) exposedOf(keyOf[index]!).add(index);

  const canStillRead = (get: number, current: string): boolean => {
    const need = needs[get]!;
    if (!need.value.startsWith(current)) return false;
    if (need.parts === undefined) return true;
    const ends = need.partEnds!;
    // The parts up to `current` are taken; all after it must still be pending.
    let next = 0;
    while (next < ends.length && ends[next]! <= current.length) next++;
    if (next > 0 ? ends[next - 1] !== current.length : current.length !== 0) return false;
    for (let part = next; part < ends.length; part++) if (taken[need.parts[part]!] === 1) return false;
    return true;
  };

  return {
    track(index, isTaken) {
      taken[index] = isTaken ? 1 : 0;
      const key = keyOf[index]!;
      if (pendingRestarters[index]! >= 0) {
        if (pendingRestarters[index] === 0) isTaken ? exposedOf(key).remove(index) : exposedOf(key).add(index);
        return;
      }
      for (const get of restarted[index]!) {
        pendingRestarters[get]! += isTaken ? -1 : 1;
        if (taken[get] === 1) continue;
        if (isTaken && pendingRestarters[get] === 0) exposedOf(key).add(get);
        if (!isTaken && pendingRestarters[get] === 1) exposedOf(key).remove(get);
      }
    },
    viable(state, index) {
      const key = keyOf[index]!;
      const at = state.keys.indexOf(key);
      const current = at < 0 ? '' : state.values[at]!;
      const gets = exposed.get(key);
      if (gets !== undefined) for (let i = 0; i < gets.size; i++) if (!canStillRead(gets.members[i]!, current)) return false;
      for (const get of readers[index]!) if (taken[get] === 0 && !canStillRead(get, current)) return false;
      return true;
    },
  };
}

/** Where each part's value ends in the value the get returned. */
function partEnds(operations: readonly KeyValueOperation[], parts: readonly number[]): Int32Array {
  const ends = new Int32Array(parts.length);
  let end = 0;
  parts.forEach((part, index) => {
    end += (operations[part]!.input as { value: string }).value.length;
    ends[index] = end;
  });
  return ends;
}

/** A set of indexes with O(1) add and remove, iterated as a dense array. */
class ExposedGets {
  readonly members: Int32Array;
  readonly #position: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.members = new Int32Array(Math.max(1, capacity));
    this.#position = new Int32Array(Math.max(1, capacity)).fill(-1);
  }

  add(index: number): void {
    if (this.#position[index] !== -1) return;
    this.#position[index] = this.size;
    this.members[this.size++] = index;
  }

  remove(index: number): void {
    const at = this.#position[index]!;
    if (at === -1) return;
    const last = this.members[--this.size]!;
    this.members[at] = last;
    this.#position[last] = at;
    this.#position[index] = -1;
  }
}
