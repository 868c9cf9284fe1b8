/**
 * Small random changes to a history that may or may not break linearizability: a different
 * output, an interval moved in time, or a changed outcome. Property tests compare the checker's
 * verdict on the result with the brute-force reference.
 */
import type { Random } from '../../../core/base/random.ts';
import type { Operation, Outcome } from '../history.ts';
import type { EtcdRequest, EtcdResponse } from '../models/etcdTypes.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';
import type { RegisterInput, RegisterOutput } from '../models/register.ts';

/** Returns another output for the input, or undefined when there is nothing to change. */
export type OutputMutation<Input, Output> = (random: Random, input: Input, output: Output) => Output | undefined;

export function mutateHistory<Input, Output>(random: Random, history: readonly Operation<Input, Output>[], mutateOutput: OutputMutation<Input, Output>): Operation<Input, Output>[] {
  const mutated = [...history];
  if (mutated.length === 0) return mutated;
  const index = random.below(mutated.length);
  const operation = mutated[index]!;
  const kind = random.below(3);
  const changedOutput = kind === 0 && operation.outcome === 'ok' ? mutateOutput(random, operation.input, operation.output!) : undefined;
  if (changedOutput !== undefined) {
    mutated[index] = { ...operation, output: changedOutput };
  } else if (kind === 2 && operation.outcome === 'ok') {
    const outcome: Outcome = random.below(2) === 0 ? 'fail' : 'unknown';
    mutated[index] = { ...operation, outcome, output: undefined };
  } else {
    const end = Math.max(...history.map((other) => (Number.isFinite(other.completedAt) ? other.completedAt : other.invokedAt)));
    const invokedAt = random.below(end + 1);
    const completedAt = operation.outcome === 'unknown' ? Infinity : invokedAt + random.below(end - invokedAt + 1);
    mutated[index] = { ...operation, invokedAt, completedAt };
  }
  return mutated;
}

export const mutateRegisterOutput: OutputMutation<RegisterInput, RegisterOutput> = (random, input, output) => {
  if (input.kind === 'read') return { value: [null, 0, 1, 2][random.below(4)]! };
  if (input.kind === 'cas') return { succeeded: !output.succeeded };
  return undefined;
};

export const mutateKeyValueOutput: OutputMutation<KeyValueInput, KeyValueOutput> = (random, input, output) => {
  if (input.kind !== 'get') return undefined;
  const current = output.value ?? '';
  if (current === '') return { value: `${random.below(5)}` };
  return { value: [current.slice(1), `${current}9`, ''][random.below(3)]! };
};

export const mutateEtcdOutput: OutputMutation<EtcdRequest, EtcdResponse> = (random, input, output) => {
  const choice = random.below(3);
  if (choice === 0 && output.revision !== undefined) return { ...output, revision: output.revision + (random.below(2) === 0 ? 1 : -1) };
  if (choice === 1 && input.kind === 'range' && output.kvs !== undefined && output.kvs.length > 0) {
    return { ...output, kvs: output.kvs.map((kv, i) => (i === 0 ? { ...kv, value: `${kv.value}x` } : kv)) };
  }
  if (input.kind === 'txn' && output.succeeded !== undefined) return { revision: output.revision!, succeeded: !output.succeeded };
  return undefined;
};
