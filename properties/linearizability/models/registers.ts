/**
 * Independent registers, one per key, each with read, write and compare-and-set: Jepsen's
 * register workloads run with `jepsen.independent` (a history.edn whose values are `[key value]`
 * tuples). Each key's register behaves as the `register` model; the history is checked per key
 * (linearizability is local). The state holds every key (a sorted list of entries that later
 * states share), so checking it as one partition stays right too.
 */
import { finalize32, hashString32, mix32 } from '../../../core/base/hash.ts';
import type { Model } from '../model.ts';
import { hashRegisterValue, registerModel, type RegisterInput, type RegisterOutput, type RegisterValue } from './register.ts';

export type RegistersInput = RegisterInput & { readonly key: string };
export type RegistersOutput = RegisterOutput;

/** Keys whose register is not nil (the initial value), ascending. */
export interface RegistersState {
  readonly first: RegisterEntry | undefined;
  readonly hash: number;
}

interface RegisterEntry {
  readonly key: string;
  readonly value: RegisterValue;
  readonly term: number;
  readonly next: RegisterEntry | undefined;
}

const emptyState: RegistersState = { first: undefined, hash: 0 };

export const registersModel: Model<RegistersState, RegistersInput, RegistersOutput> = {
  name: 'registers',
  init: () => emptyState,
  step(state, input, output) {
    const current = valueOf(state, input.key);
    const next = registerModel.step(current, input, output);
    if (next === undefined) return undefined;
    return next === current ? state : withValue(state, input.key, next);
  },
  hash: (state) => state.hash,
  equal(a, b) {
    if (a === b) return true;
    if (a.hash !== b.hash) return false;
    let left = a.first;
    let right = b.first;
    while (left !== undefined && right !== undefined) {
      if (left === right) return true;
      if (left.key !== right.key || left.value !== right.value) return false;
      left = left.next;
      right = right.next;
    }
    return left === right;
  },
  partition: (input) => input.key,
  readOnly: (input, output) => registerModel.readOnly!(input, output),
  describeOperation: (input, output) => `[${JSON.stringify(input.key)}] ${registerModel.describeOperation(input, output)}`,
  describeState(state, focus) {
    const keys: string[] = [];
    if (focus !== undefined) keys.push(focus.key);
    else for (let entry = state.first; entry !== undefined; entry = entry.next) keys.push(entry.key);
    return `{${keys.map((key) => `${JSON.stringify(key)}: ${registerModel.describeState(valueOf(state, key))}`).join(', ')}}`;
  },
};

function valueOf(state: RegistersState, key: string): RegisterValue {
  for (let entry = state.first; entry !== undefined && entry.key <= key; entry = entry.next) if (entry.key === key) return entry.value;
  return null;
}

function withValue(state: RegistersState, key: string, value: RegisterValue): RegistersState {
  const before: RegisterEntry[] = [];
  let rest = state.first;
  let oldTerm = 0;
  while (rest !== undefined && rest.key < key) {
    before.push(rest);
    rest = rest.next;
  }
  if (rest !== undefined && rest.key === key) {
    oldTerm = rest.term;
    rest = rest.next;
  }
  const term = value === null ? 0 : finalize32(mix32(hashString32(key), hashRegisterValue(value))) | 0;
  let first = value === null ? rest : { key, value, term, next: rest };
  for (let index = before.length - 1; index >= 0; index--) first = { ...before[index]!, next: first };
  return { first, hash: state.hash ^ oldTerm ^ term };
}
