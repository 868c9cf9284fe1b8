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
 */
export interface KeyValueState {
  readonly first: KeyValueEntry | undefined;
  readonly hash: number;
}

interface KeyValueEntry {
  readonly key: string;
  readonly keyHash: number;
  readonly value: string;
  readonly valueHash: number;
  readonly next: KeyValueEntry | undefined;
}

const emptyState: KeyValueState = { first: undefined, hash: 0 };
/** The base of the polynomial value hash (odd, so powers never vanish modulo 2^32). */
const base = 0x01000193;

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
        return current === input.value ? state : withValue(state, input.key, entry, input.value, polynomialHash(input.value));
      case 'append': {
        if (input.value === '') return state;
        const currentHash = entry === undefined ? 0 : entry.valueHash;
        const appendedHash = Math.imul(currentHash, power(base, input.value.length)) + polynomialHash(input.value);
        return withValue(state, input.key, entry, current + input.value, appendedHash | 0);
      }
    }
  },
  stateBytes: (state, previous) => {
    // One state object, and the entries up to the changed key, each about 80 bytes, and the value.
    let bytes = 48;
    for (let entry = state.first, old = previous.first; entry !== undefined && entry !== old; entry = entry.next, old = old?.next) bytes += 80 + 2 * entry.value.length;
    return bytes;
  },
  hash: (state) => state.hash,
  equal(a, b) {
    if (a === b) return true;
    if (a.hash !== b.hash) return false;
    let left = a.first;
    let right = b.first;
    while (left !== undefined && right !== undefined) {
      if (left === right) return true;
      if (left.valueHash !== right.valueHash || left.key !== right.key || left.value !== right.value) return false;
      left = left.next;
      right = right.next;
    }
    return left === right;
  },
  partition: (input) => input.key,
  analyze: analyzeKeyValue,
  linearize: linearizeKeyValue,
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

/** The value of `key` in `state` ("" when absent). */
export function valueOf(state: KeyValueState, key: string): string {
  return entryOf(state, key)?.value ?? '';
}

function entryOf(state: KeyValueState, key: string): KeyValueEntry | undefined {
  for (let entry = state.first; entry !== undefined; entry = entry.next) {
    if (entry.key === key) return entry;
    if (entry.key > key) return undefined;
  }
  return undefined;
}

/** The state with `key` (whose entry is `old`, if any) set to `value`. */
function withValue(state: KeyValueState, key: string, old: KeyValueEntry | undefined, value: string, valueHash: number): KeyValueState {
  const keyHash = old === undefined ? hashString32(key) : old.keyHash;
  const oldTerm = old === undefined ? 0 : keyTerm(keyHash, old.valueHash);
  const newTerm = value === '' ? 0 : keyTerm(keyHash, valueHash);
  return { first: replaced(state.first, key, keyHash, value, valueHash), hash: state.hash ^ oldTerm ^ newTerm };
}

/**
 * The list with `key`'s entry set to `value` (removed when it is ""): the entries before it
 * copied, the rest shared. The new entry is made in place, not made and then copied.
 */
function replaced(list: KeyValueEntry | undefined, key: string, keyHash: number, value: string, valueHash: number): KeyValueEntry | undefined {
  if (list === undefined || list.key >= key) {
    const rest = list !== undefined && list.key === key ? list.next : list;
    return value === '' ? rest : { key, keyHash, value, valueHash, next: rest };
  }
  return { key: list.key, keyHash: list.keyHash, value: list.value, valueHash: list.valueHash, next: replaced(list.next, key, keyHash, value, valueHash) };
}

function keyTerm(keyHash: number, valueHash: number): number {
  return finalize32(mix32(keyHash, valueHash)) | 0;
}

/** Σ code(i) · base^(n-1-i) modulo 2^32, so that hash(s + t) = hash(s) · base^|t| + hash(t). */
function polynomialHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, base) + text.charCodeAt(i)) | 0;
  return hash;
}

function power(value: number, exponent: number): number {
  let result = 1;
  let factor = value;
  for (let e = exponent; e > 0; e >>>= 1) {
    if (e & 1) result = Math.imul(result, factor);
    factor = Math.imul(factor, factor);
  }
  return result;
}
