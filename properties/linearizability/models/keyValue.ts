/**
 * A map from string keys to string values with get, put and append: Porcupine's `kvModel`, the
 * model of its Jepsen-style key/value tests. A missing key reads as the empty string.
 *
 * Its state stays cheap to hash however long the values grow: each value carries a polynomial
 * hash that an append extends in time proportional to the appended text, and the state hash is
 * the XOR of per-key terms, updated in O(1) when one key changes. This matters when the history
 * is checked as one partition (Porcupine's `kvNoPartitionModel`): every step hashes a state.
 */
import { finalize32, hashString32, mix32 } from '../../../core/base/hash.ts';
import { polynomialHash, polynomialPower } from '../_internals/polynomialHash.ts';
import type { Operation } from '../history.ts';
import type { Model } from '../model.ts';
import { analyzeKeyValue } from './keyValueAnalysis.ts';
import { linearizeKeyValue } from './keyValueLinearization.ts';

export type KeyValueInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put' | 'append'; readonly key: string; readonly value: string };

/** A get returns `value`; put and append return `{}`. */
export interface KeyValueOutput {
  readonly value?: string;
}

/**
 * The keys with a non-empty value, ascending, as a list of entries that later states share: a
 * step copies the entries before the key it changes and keeps the rest. A key whose value is the
 * empty string is absent, so that equal maps have one representation. Per key state (a history
 * split by key) this is one entry, so a step allocates two objects.
 *
 * Hashes are worked out when first asked for, not at each step: the search hashes every state it
 * reaches (then a state's hash is its predecessor's updated for the one key that changed, and an
 * appended value's hash extends the old one), but a proposed linearization's certificate steps
 * through thousands of states and never hashes one (a cold check of 10,000 operations spent about
 * a third of the certificate hashing).
 */
export interface KeyValueState {
  readonly first: KeyValueEntry | undefined;
}

interface State extends KeyValueState {
  /** The hash, once worked out. */
  hash: number | undefined;
  /** Until then: the state stepped from, when its hash was known (else the hash is summed anew), and the entries that differ. */
  base: State | undefined;
  removed: KeyValueEntry | undefined;
  added: KeyValueEntry | undefined;
}

interface KeyValueEntry {
  readonly key: string;
  readonly value: string;
  readonly next: KeyValueEntry | undefined;
  /** The key's and the value's hashes, once worked out (the key's NaN before). */
  keyHash: number;
  valueHash: number | undefined;
  /** Until the value's hash is known: the entry this one appended `appended` to, if any. */
  appendedTo: KeyValueEntry | undefined;
  appended: string;
}

const emptyState: State = { first: undefined, hash: 0, base: undefined, removed: undefined, added: undefined };

export const keyValueModel: Model<KeyValueState, KeyValueInput, KeyValueOutput> = {
  name: 'kv',
  init: () => emptyState,
  step(state, input, output) {
    const entry = entryOf(state, input.key);
    const current = entry === undefined ? '' : entry.value;
    switch (input.kind) {
      case 'get':
        return output === undefined || output.value === current ? state : undefined;
      case 'put':
        return current === input.value ? state : withValue(state as State, input.key, entry, input.value, undefined, '');
      case 'append':
        return input.value === '' ? state : withValue(state as State, input.key, entry, current + input.value, entry, input.value);
    }
  },
  stateBytes: (state, previous) => {
    // One state object, and the entries up to the changed key, each about 80 bytes, and the value.
    let bytes = 48;
    for (let entry = state.first, old = previous.first; entry !== undefined && entry !== old; entry = entry.next, old = old?.next) bytes += 80 + 2 * entry.value.length;
    return bytes;
  },
  hash: (state) => stateHash(state as State),
  equal(a, b) {
    if (a === b) return true;
    if (stateHash(a as State) !== stateHash(b as State)) return false;
    let left = a.first;
    let right = b.first;
    while (left !== undefined && right !== undefined) {
      if (left === right) return true;
      if (valueHash(left) !== valueHash(right) || left.key !== right.key || left.value !== right.value) return false;
      left = left.next;
      right = right.next;
    }
    return left === right;
  },
  partition: (input) => input.key,
  analyze: analyzeKeyValue,
  linearize: linearizeKeyValue,
  legalInOrder: keyValueLegalInOrder,
  readOnly: (input) => input.kind === 'get' || (input.kind === 'append' && input.value === ''),
  describeOperation(input, output) {
    if (input.kind === 'get') return `get(${JSON.stringify(input.key)}) → ${output?.value === undefined ? '?' : JSON.stringify(output.value)}`;
    return `${input.kind}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})`;
  },
  describeState(state, focus) {
    const shown: string[] = [];
    if (focus !== undefined) shown.push(focus.key);
    else for (let entry = state.first; entry !== undefined; entry = entry.next) shown.push(entry.key);
    return `{${shown.map((key) => `${JSON.stringify(key)}: ${JSON.stringify(valueOf(state, key))}`).join(', ')}}`;
  },
};

/**
 * `keyValueModel.legalInOrder`: the steps on plain strings, the current key's value in a local
 * (a partition by key has one key) and the other keys' in a map, made when a second key comes.
 */
function keyValueLegalInOrder(operations: readonly Operation<KeyValueInput, KeyValueOutput>[], order: Int32Array): boolean {
  let key: string | undefined;
  let value = '';
  let others: Map<string, string> | undefined;
  for (let at = 0; at < order.length; at++) {
    const operation = operations[order[at]!]!;
    const input = operation.input;
    if (input.key !== key) {
      if (key !== undefined) (others ??= new Map()).set(key, value);
      key = input.key;
      value = others?.get(key) ?? '';
    }
    if (input.kind === 'get') {
      // As `step` is given it: the output, unless the outcome is unknown (then any output goes).
      const output = operation.outcome === 'unknown' ? undefined : operation.output;
      if (output !== undefined && output.value !== value) return false;
    } else if (input.kind === 'put') {
      value = input.value;
    } else {
      value += input.value;
    }
  }
  return true;
}

/** The value of `key` in `state` ("" when absent). */
export function valueOf(state: KeyValueState, key: string): string {
  return entryOf(state, key)?.value ?? '';
}

/** `state` with `key` set to `value` (for the search's stand-in states, `keyValueDeadValues.ts`). */
export function withKeyValue(state: KeyValueState, key: string, value: string): KeyValueState {
  const entry = entryOf(state, key);
  return (entry === undefined ? '' : entry.value) === value ? state : withValue(state as State, key, entry, value, undefined, '');
}

function entryOf(state: KeyValueState, key: string): KeyValueEntry | undefined {
  for (let entry = state.first; entry !== undefined; entry = entry.next) {
    if (entry.key === key) return entry;
    if (entry.key > key) return undefined;
  }
  return undefined;
}

/**
 * The state with `key` (whose entry is `old`, if any) set to `value`: `appended` to `appendedTo`'s
 * value, or a value of its own (`appendedTo` undefined).
 */
function withValue(state: State, key: string, old: KeyValueEntry | undefined, value: string, appendedTo: KeyValueEntry | undefined, appended: string): State {
  made = undefined;
  const first = replaced(state.first, key, old === undefined ? NaN : old.keyHash, value, appendedTo, appended);
  const added = made;
  // A base only when its hash is known: an unhashed chain of states (a certificate's) is not kept alive.
  const known = state.hash !== undefined;
  return { first, hash: undefined, base: known ? state : undefined, removed: known ? old : undefined, added: known ? added : undefined };
}

/** The entry `replaced` made last (a variable, not a second walk to find it). */
let made: KeyValueEntry | undefined;

/**
 * The list with `key`'s entry set to `value` (removed when it is ""): the entries before it
 * copied, the rest shared. The new entry is made in place, not made and then copied.
 */
function replaced(list: KeyValueEntry | undefined, key: string, keyHash: number, value: string, appendedTo: KeyValueEntry | undefined, appended: string): KeyValueEntry | undefined {
  if (list === undefined || list.key >= key) {
    const rest = list !== undefined && list.key === key ? list.next : list;
    if (value === '') return rest;
    made = { key, value, next: rest, keyHash, valueHash: undefined, appendedTo, appended };
    return made;
  }
  const { key: listKey, value: listValue, keyHash: listKeyHash, valueHash: listValueHash, appendedTo: listAppendedTo, appended: listAppended } = list;
  return { key: listKey, value: listValue, next: replaced(list.next, key, keyHash, value, appendedTo, appended), keyHash: listKeyHash, valueHash: listValueHash, appendedTo: listAppendedTo, appended: listAppended };
}

/** The XOR of the keys' terms: its predecessor's, updated for the key that changed, when that is known. */
function stateHash(state: State): number {
  if (state.hash !== undefined) return state.hash;
  let hash = 0;
  if (state.base !== undefined) {
    hash = stateHash(state.base) ^ entryTerm(state.removed) ^ entryTerm(state.added);
  } else {
    for (let entry = state.first; entry !== undefined; entry = entry.next) hash ^= entryTerm(entry);
  }
  state.hash = hash;
  state.base = state.removed = state.added = undefined;
  return hash;
}

function entryTerm(entry: KeyValueEntry | undefined): number {
  if (entry === undefined) return 0;
  if (Number.isNaN(entry.keyHash)) entry.keyHash = hashString32(entry.key);
  return keyTerm(entry.keyHash, valueHash(entry));
}

/**
 * The polynomial hash of the entry's value: from the entry it appended to, whose hash extends in
 * time proportional to the appended text (the chain back to a known hash walked once, not
 * recursively: a certificate may leave thousands of appends unhashed).
 */
function valueHash(entry: KeyValueEntry): number {
  if (entry.valueHash !== undefined) return entry.valueHash;
  const chain: KeyValueEntry[] = [];
  let from: KeyValueEntry | undefined = entry;
  while (from !== undefined && from.valueHash === undefined) {
    chain.push(from);
    from = from.appendedTo;
  }
  let hash = from === undefined ? 0 : from.valueHash!;
  for (let at = chain.length - 1; at >= 0; at--) {
    const link = chain[at]!;
    hash = link.appendedTo === undefined ? polynomialHash(link.value) : (Math.imul(hash, polynomialPower(link.appended.length)) + polynomialHash(link.appended)) | 0;
    link.valueHash = hash;
    link.appendedTo = undefined;
  }
  return hash;
}

function keyTerm(keyHash: number, valueHash: number): number {
  return finalize32(mix32(keyHash, valueHash)) | 0;
}
