/**
 * Dead values: the kv lookahead's `canonical` (`Lookahead.canonical`). When values repeat and
 * many clients append to one key, most of the search's configurations hold values that no get
 * will ever read: the writes of a wrong turn, in every order, each order a different string
 * ("v2 v0 v1 " and "v0 v2 v1 "), each a configuration of its own in the cache, although the next
 * put erases them all. Such a value is *dead*, and every dead value of a key is searched as one
 * stand-in, so that the orders of those writes merge into their set.
 *
 * Call P the earliest completion among the key's pending ok puts (Infinity when none is left).
 * The key's value s is dead when no pending get of the key invoked by P returned a value that
 * starts with s. Then no get is placed before the next put in any completion: a get g placed
 * there reads s followed by appends, so it starts with s; and it precedes the put completing at
 * P, so it was invoked by P (the put must follow it in real time: intervals are closed). After
 * that put the value no longer depends on s, and writes before it are legal in every state. So
 * the configuration (taken set, s) has a completion exactly when (taken set, s') has, for any
 * other dead s': the same operations in the same order. The stand-in is a value longer than
 * any get's (so no get reads it or anything appended to it, and it stays dead); an append to it
 * leaves it as it is, which makes an unknown-outcome append there a change of nothing (skipped:
 * dropping it from a completion leaves one, by the same argument). A value stays dead until a
 * put, as only taking that earliest pending put raises P.
 *
 * A get refused here would have been refused on the value it stands for, so verdicts stay the
 * same (`keyValueDeadValues.property.test.ts`, against the plain search); the longest prefix a
 * failed search reports may differ, as the search takes another path.
 */
import type { Operation } from '../history.ts';
import { valueOf, withKeyValue, type KeyValueInput, type KeyValueOutput, type KeyValueState } from './keyValue.ts';
import { sortIds } from '../_internals/sortIds.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

const none = -1;
const get = 0;
const okPut = 1;
/** A put with an unknown outcome: it may never take effect, so it sets no horizon. */
const otherPut = 2;
const append = 3;

export class DeadValues {
  /** Per index in `kept`: its key's number, its kind (`get`, `okPut`, `otherPut`, `append`). */
  readonly #keyOf: Int32Array;
  readonly #kind: Uint8Array;
  readonly #keys: string[] = [];
  /** Per get: what it returned, and when it was invoked. */
  readonly #returned: string[];
  readonly #invokedAt: Float64Array;
  /** Per put: when it completed; per key, its ok puts by completion and the first one pending. */
  readonly #completedAt: Float64Array;
  readonly #puts: Int32Array[] = [];
  /** Per ok put: its place in its key's `#puts`. Every put before a key's `#firstPendingPut` is taken. */
  readonly #rank: Int32Array;
  readonly #firstPendingPut: Int32Array;
  /** Per key, its pending gets by invocation: a list unlinked and relinked as the search goes (LIFO). */
  readonly #firstGet: Int32Array;
  readonly #nextGet: Int32Array;
  readonly #previousGet: Int32Array;
  readonly #taken: Uint8Array;
  /** The stand-in for every dead value: longer than any value a get returned. */
  readonly #dead: string;

  constructor(operations: readonly KeyValueOperation[], kept: readonly number[]) {
    const count = kept.length;
    this.#keyOf = new Int32Array(count);
    this.#kind = new Uint8Array(count);
    this.#returned = new Array<string>(count);
    this.#invokedAt = new Float64Array(count);
    this.#completedAt = new Float64Array(count);
    this.#taken = new Uint8Array(count);
    this.#rank = new Int32Array(count);
    this.#nextGet = new Int32Array(count).fill(none);
    this.#previousGet = new Int32Array(count).fill(none);
    const keyIndex = new Map<string, number>();
    const putsOf: number[][] = [];
    const getsOf: number[][] = [];
    let longest = 0;
    for (let index = 0; index < count; index++) {
      const operation = operations[kept[index]!]!;
      const input = operation.input;
      let key = keyIndex.get(input.key);
      if (key === undefined) {
        key = this.#keys.push(input.key) - 1;
        keyIndex.set(input.key, key);
        putsOf.push([]);
        getsOf.push([]);
      }
      this.#keyOf[index] = key;
      this.#invokedAt[index] = operation.invokedAt;
      this.#completedAt[index] = operation.completedAt;
      const read = input.kind === 'get' ? operation.output?.value : undefined;
      if (read !== undefined && operation.outcome === 'ok') {
        this.#kind[index] = get;
        this.#returned[index] = read;
        longest = Math.max(longest, read.length);
        getsOf[key]!.push(index);
      } else if (input.kind === 'put') {
        this.#kind[index] = operation.outcome === 'ok' ? okPut : otherPut;
        if (operation.outcome === 'ok') putsOf[key]!.push(index);
      } else {
        // A get without an output never reaches the search (the checker drops it): as a write, it
        // would change nothing.
        this.#kind[index] = input.kind === 'append' ? append : otherPut;
      }
    }
    this.#dead = '\u0000'.repeat(longest + 1);
    this.#firstPendingPut = new Int32Array(this.#keys.length);
    this.#firstGet = new Int32Array(this.#keys.length).fill(none);
    for (let key = 0; key < this.#keys.length; key++) {
      const puts = Int32Array.from(putsOf[key]!);
      sortIds(puts, this.#completedAt);
      for (let rank = 0; rank < puts.length; rank++) this.#rank[puts[rank]!] = rank;
      this.#puts.push(puts);
      const gets = Int32Array.from(getsOf[key]!);
      sortIds(gets, this.#invokedAt);
      for (let at = gets.length - 1; at >= 0; at--) this.#link(key, gets[at]!);
    }
  }

  track(index: number, taken: boolean): void {
    this.#taken[index] = taken ? 1 : 0;
    const kind = this.#kind[index]!;
    const key = this.#keyOf[index]!;
    if (kind === get) {
      if (taken) this.#unlink(key, index);
      else this.#relink(key, index);
    } else if (kind === okPut) {
      const puts = this.#puts[key]!;
      let first = this.#firstPendingPut[key]!;
      if (taken) while (first < puts.length && this.#taken[puts[first]!] === 1) first++;
      else first = Math.min(first, this.#rank[index]!);
      this.#firstPendingPut[key] = first;
    }
  }

  /** `next` (operation `index` stepped `previous` to it), or the stand-in when its value is dead. */
  canonical(previous: KeyValueState, next: KeyValueState, index: number): KeyValueState {
    const kind = this.#kind[index]!;
    if (kind === get) return next;
    const key = this.#keyOf[index]!;
    const name = this.#keys[key]!;
    const dead = this.#dead;
    // Appended to, the stand-in stays as it is (a put leaves it).
    const wasDead = valueOf(previous, name) === dead;
    if (kind === append && wasDead) return previous;
    const value = valueOf(next, name);
    if (value === dead) return next;
    // The earliest completion among the pending ok puts, the one just taken left out.
    const puts = this.#puts[key]!;
    let first = this.#firstPendingPut[key]!;
    while (first < puts.length && (this.#taken[puts[first]!] === 1 || puts[first] === index)) first++;
    const horizon = first < puts.length ? this.#completedAt[puts[first]!]! : Infinity;
    for (let at = this.#firstGet[key]!; at !== none && this.#invokedAt[at]! <= horizon; at = this.#nextGet[at]!) {
      if (this.#returned[at]!.startsWith(value)) return next;
    }
    // The operation changed its key only: dead before and after, the state is the one before.
    return wasDead ? previous : withKeyValue(next, name, dead);
  }

  #link(key: number, index: number): void {
    const first = this.#firstGet[key]!;
    this.#nextGet[index] = first;
    this.#previousGet[index] = none;
    if (first !== none) this.#previousGet[first] = index;
    this.#firstGet[key] = index;
  }

  #unlink(key: number, index: number): void {
    const before = this.#previousGet[index]!;
    const after = this.#nextGet[index]!;
    if (before === none) this.#firstGet[key] = after;
    else this.#nextGet[before] = after;
    if (after !== none) this.#previousGet[after] = before;
  }

  /** Undoes the last `#unlink` of `index` (the search gives operations back in the order it took them, reversed). */
  #relink(key: number, index: number): void {
    const before = this.#previousGet[index]!;
    const after = this.#nextGet[index]!;
    if (before === none) this.#firstGet[key] = index;
    else this.#nextGet[before] = index;
    if (after !== none) this.#previousGet[after] = index;
  }
}
