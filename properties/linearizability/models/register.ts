/**
 * One register with read, write and compare-and-set: the model of Jepsen's etcd tests and of
 * Porcupine's `etcdModel`. The register starts empty (`nil` in Jepsen's logs, `null` here).
 * A compare-and-set whose compare failed still executed: it is an `ok` operation with
 * `succeeded: false`, which says the register did not hold `expected` at that moment.
 */
import { hashString32, mixNumber, finalize32 } from '../../../core/base/hash.ts';
import type { Model } from '../model.ts';

export type RegisterValue = number | string | null;

export type RegisterInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: RegisterValue }
  | { readonly kind: 'cas'; readonly expected: RegisterValue; readonly value: RegisterValue };

/** A read returns `value`, a compare-and-set `succeeded`; a write returns `{}`. */
export interface RegisterOutput {
  readonly value?: RegisterValue;
  readonly succeeded?: boolean;
}

export const registerModel: Model<RegisterValue, RegisterInput, RegisterOutput> = {
  name: 'register',
  init: () => null,
  step(state, input, output) {
    switch (input.kind) {
      case 'read':
        return output === undefined || output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const matches = state === input.expected;
        if (output !== undefined && output.succeeded !== matches) return undefined;
        return matches ? input.value : state;
      }
    }
  },
  hash: hashRegisterValue,
  equal: (a, b) => a === b,
  // A compare-and-set that failed, or that swaps a value for itself, never changes the register.
  readOnly: (input, output) =>
    input.kind === 'read' || (input.kind === 'cas' && output !== undefined && (output.succeeded === false || input.expected === input.value)),
  describeOperation(input, output) {
    switch (input.kind) {
      case 'read':
        return `read() → ${output === undefined ? '?' : showValue(output.value ?? null)}`;
      case 'write':
        return `write(${showValue(input.value)})`;
      case 'cas': {
        const result = output === undefined ? '?' : output.succeeded === true ? 'ok' : 'failed';
        return `cas(${showValue(input.expected)} → ${showValue(input.value)}) → ${result}`;
      }
    }
  },
  describeState: (state) => showValue(state),
};

export function hashRegisterValue(value: RegisterValue): number {
  if (value === null) return 0x6e696c;
  if (typeof value === 'string') return hashString32(value, 0x73);
  return finalize32(mixNumber(0x6e, value)) | 0;
}

function showValue(value: RegisterValue): string {
  return value === null ? 'nil' : JSON.stringify(value);
}
