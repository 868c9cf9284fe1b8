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

export type KeyValueInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put' | 'append'; readonly key: string; readonly value: string };

/** A get returns `value`; put and append return `{}`. */
export interface KeyValueOutput {
  readonly value?: string;
}

/**
 * Keys ascending, with their values and value hashes in parallel arrays. A key whose value is the
 * empty string is absent, so that equal maps have one representation.
 */
export interface KeyValueState {
  readonly keys: readonly string[];
  readonly values: readonly string[];
  readonly valueHashes: readonly number[];
  readonly hash: number;
}

const emptyState: KeyValueState = { keys: [], values: [], valueHashes: [], hash: 0 };
/** The base of the polynomial value hash (odd, so powers never vanish modulo 2^32). */
const base = 0x01000193;

export const keyValueModel: Model<KeyValueState, KeyValueInput, KeyValueOutput> = {
  name: 'kv',
  init: () => emptyState,
  step(state, input, output) {
    const index = state.keys.indexOf(input.key);
    const current = index < 0 ? '' : state.values[index]!;
    switch (input.kind) {
      case 'get':
        return output === undefined || output.value === current ? state : undefined;
      case 'put':
        return withValue(state, index, input.key, input.value, polynomialHash(input.value));
      case 'append': {
        if (input.value === '') return state;
        const currentHash = index < 0 ? 0 : state.valueHashes[index]!;
        const appendedHash = Math.imul(currentHash, power(base, input.value.length)) + polynomialHash(input.value);
        return withValue(state, index, input.key, current + input.value, appendedHash | 0);
      }
    }
  },
  hash: (state) => state.hash,
  equal(a, b) {
    if (a === b) return true;
    if (a.hash !== b.hash || a.keys.length !== b.keys.length) return false;
    for (let i = 0; i < a.keys.length; i++) {
      if (a.valueHashes[i] !== b.valueHashes[i] || (a.keys !== b.keys && a.keys[i] !== b.keys[i]) || a.values[i] !== b.values[i]) return false;
    }
    return true;
  },
  partition: (input) => input.key,
  analyze: analyzeKeyValue,
  readOnly: (input) => input.kind === 'get' || (input.kind === 'append' && input.value === ''),
  describeOperation(input, output) {
    if (input.kind === 'get') return `get(${JSON.stringify(input.key)}) → ${output?.value === undefined ? '?' : JSON.stringify(output.value)}`;
    return `${input.kind}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})`;
  },
  describeState(state, focus) {
    const shown = focus === undefined ? state.keys : [focus.key];
    return `{${shown.map((key) => `${JSON.stringify(key)}: ${JSON.stringify(valueOf(state, key))}`).join(', ')}}`;
  },
};

function valueOf(state: KeyValueState, key: string): string {
  const index = state.keys.indexOf(key);
  return index < 0 ? '' : state.values[index]!;
}

/** The state with `key` (at `index`, or absent when -1) set to `value`. */
function withValue(state: KeyValueState, index: number, key: string, value: string, valueHash: number): KeyValueState {
  const oldTerm = index < 0 ? 0 : keyTerm(key, state.valueHashes[index]!);
  if (index >= 0 && state.values[index] === value) return state;
  if (index < 0 && value === '') return state;
  const values = state.values.slice();
  const valueHashes = state.valueHashes.slice();
  if (index >= 0 && value !== '') {
    // The common case: a present key changes value; the key list is shared.
    values[index] = value;
    valueHashes[index] = valueHash;
    return { keys: state.keys, values, valueHashes, hash: state.hash ^ oldTerm ^ keyTerm(key, valueHash) };
  }
  const keys = state.keys.slice();
  let newTerm = 0;
  if (value === '') {
    keys.splice(index, 1);
    values.splice(index, 1);
    valueHashes.splice(index, 1);
  } else {
    let at = 0;
    while (at < keys.length && keys[at]! < key) at++;
    keys.splice(at, 0, key);
    values.splice(at, 0, value);
    valueHashes.splice(at, 0, valueHash);
    newTerm = keyTerm(key, valueHash);
  }
  return { keys, values, valueHashes, hash: state.hash ^ oldTerm ^ newTerm };
}

function keyTerm(key: string, valueHash: number): number {
  return finalize32(mix32(hashString32(key), valueHash)) | 0;
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
