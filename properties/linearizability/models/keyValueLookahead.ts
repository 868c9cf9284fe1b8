/**
 * The key/value model's lookahead (`Model.lookahead`): it abandons a configuration as soon as
 * some pending get can no longer read what it returned.
 *
 * A key's state is the value of its last put followed by the values appended since. Call the
 * puts whose value begins what a get returned (w) its *restarters*. Once none of a get's
 * restarters can still be taken, every later state of the key is the current one followed by
 * appended values, so the get can only still read w if w starts with the current value. Such a
 * get is *exposed*; after each write to its key, every exposed pending get is checked. With
 * unique values a get has one restarter (or none, when it read appends to the empty initial
 * value), so the exposed gets are the few that read the current put's run of appends: the check
 * costs next to nothing, and a write taken in the wrong place is abandoned at the next step
 * instead of after the search has tried every order of the operations in between.
 */
import type { Lookahead, LookaheadOperation } from '../model.ts';
import type { KeyValueInput, KeyValueOutput, KeyValueState } from './keyValue.ts';

type KeyValueLookaheadOperation = LookaheadOperation<KeyValueInput, KeyValueOutput>;

export function keyValueLookahead(operations: readonly KeyValueLookaheadOperation[]): Lookahead<KeyValueState> {
  const count = operations.length;
  const restartedGets = restarters(operations);
  // Per get: its restarters not yet taken, and whether it is taken itself; per key: exposed gets.
  const pendingRestarters = new Int32Array(count).fill(-1);
  const taken = new Uint8Array(count);
  const exposed = new Map<string, ExposedGets>();
  const exposedOf = (key: string) => {
    let gets = exposed.get(key);
    if (gets === undefined) exposed.set(key, (gets = new ExposedGets(count)));
    return gets;
  };
  operations.forEach(({ input, output }, id) => {
    if (input.kind === 'get' && output?.value !== undefined) pendingRestarters[id] = 0;
  });
  restartedGets.forEach((gets) => gets.forEach((get) => pendingRestarters[get]!++));
  operations.forEach(({ input }, id) => {
    if (pendingRestarters[id] === 0) exposedOf(input.key).add(id);
  });

  return {
    track(id, isTaken) {
      taken[id] = isTaken ? 1 : 0;
      const key = operations[id]!.input.key;
      if (pendingRestarters[id]! >= 0) {
        if (pendingRestarters[id] === 0) isTaken ? exposedOf(key).remove(id) : exposedOf(key).add(id);
        return;
      }
      for (const get of restartedGets.get(id) ?? []) {
        pendingRestarters[get]! += isTaken ? -1 : 1;
        if (taken[get] === 1) continue;
        if (isTaken && pendingRestarters[get] === 0) exposedOf(key).add(get);
        if (!isTaken && pendingRestarters[get] === 1) exposedOf(key).remove(get);
      }
    },
    viable(state, id) {
      const key = operations[id]!.input.key;
      const gets = exposed.get(key);
      if (gets === undefined || gets.size === 0) return true;
      const index = state.keys.indexOf(key);
      const current = index < 0 ? '' : state.values[index]!;
      for (let i = 0; i < gets.size; i++) {
        if (!operations[gets.members[i]!]!.output!.value!.startsWith(current)) return false;
      }
      return true;
    },
  };
}

/** Per put: the gets it restarts (whose returned value begins with the put's value). */
function restarters(operations: readonly KeyValueLookaheadOperation[]): Map<number, number[]> {
  const putsByKey = new Map<string, { byValue: Map<string, number[]>; lengths: Set<number> }>();
  operations.forEach(({ input }, id) => {
    if (input.kind !== 'put') return;
    let puts = putsByKey.get(input.key);
    if (puts === undefined) putsByKey.set(input.key, (puts = { byValue: new Map(), lengths: new Set() }));
    const ids = puts.byValue.get(input.value);
    if (ids === undefined) puts.byValue.set(input.value, [id]);
    else ids.push(id);
    puts.lengths.add(input.value.length);
  });
  const gets = new Map<number, number[]>();
  operations.forEach(({ input, output }, id) => {
    const puts = putsByKey.get(input.key);
    if (input.kind !== 'get' || output?.value === undefined || puts === undefined) return;
    for (const length of puts.lengths) {
      if (length > output.value.length) continue;
      for (const put of puts.byValue.get(output.value.slice(0, length)) ?? []) {
        const restarted = gets.get(put);
        if (restarted === undefined) gets.set(put, [id]);
        else restarted.push(id);
      }
    }
  });
  return gets;
}

/** A set of ids with O(1) add and remove, iterated as a dense array. */
class ExposedGets {
  readonly members: Int32Array;
  readonly #position: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.members = new Int32Array(Math.max(1, capacity));
    this.#position = new Int32Array(Math.max(1, capacity)).fill(-1);
  }

  add(id: number): void {
    if (this.#position[id] !== -1) return;
    this.#position[id] = this.size;
    this.members[this.size++] = id;
  }

  remove(id: number): void {
    const at = this.#position[id]!;
    if (at === -1) return;
    const last = this.members[--this.size]!;
    this.members[at] = last;
    this.#position[last] = at;
    this.#position[id] = -1;
  }
}
