/**
 * Anomalies planted into a generated key/value history (unique values), each one a certain
 * violation of linearizability, so a benchmark or test knows the right verdict without asking a
 * checker:
 * - a **stale read**: a get returns what an earlier get r0 returned, although an ok write W of a
 *   unique value was invoked after r0 completed and completed before the get was invoked. Every
 *   linearization puts r0 < W < get; the state after W holds W's value, and only a put could
 *   remove it, but the value r0 saw begins with a put that every linearization places before r0
 *   (or with the empty initial value, which no generated put restores);
 * - a **foreign read**: a get returns a value nobody wrote.
 */
import type { Random } from '../../../core/base/random.ts';
import type { Operation } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';

export type AnomalyKind = 'stale-read' | 'foreign-read';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/**
 * The history with one anomaly planted at a random ok get (the same history when no get
 * qualifies), and the index of the get that was changed, or -1.
 */
export function plantAnomaly(random: Random, history: readonly KeyValueOperation[], kind: AnomalyKind): { history: KeyValueOperation[]; planted: number } {
  const result = [...history];
  const gets = okGets(history);
  // A few random tries: checking one get for stale values costs a pass over the history.
  for (let attempt = 0; attempt < 64 && gets.length > 0; attempt++) {
    const index = gets[random.below(gets.length)]!;
    const values = kind === 'foreign-read' ? [`foreign ${random.uint32()}`] : staleValues(history, index);
    if (values.length === 0) continue;
    result[index] = { ...history[index]!, output: { value: values[random.below(values.length)]! } };
    return { history: result, planted: index };
  }
  return { history: result, planted: -1 };
}

function okGets(history: readonly KeyValueOperation[]): number[] {
  const gets: number[] = [];
  history.forEach((operation, index) => {
    if (operation.outcome === 'ok' && operation.input.kind === 'get') gets.push(index);
  });
  return gets;
}

/** Values earlier gets returned that the get at `index` can no longer see, newest first (at most 8). */
function staleValues(history: readonly KeyValueOperation[], index: number): string[] {
  const read = history[index]!;
  const key = read.input.key;
  const current = read.output?.value;
  // The newest ok write on the key completed before the read, with a non-empty value.
  let writeInvokedAt = -Infinity;
  for (const operation of history) {
    const input = operation.input;
    if (operation.outcome !== 'ok' || input.key !== key || input.kind === 'get' || input.value === '') continue;
    if (operation.completedAt < read.invokedAt) writeInvokedAt = Math.max(writeInvokedAt, operation.invokedAt);
  }
  const values: string[] = [];
  for (let other = history.length - 1; other >= 0 && values.length < 8; other--) {
    const earlier = history[other]!;
    if (earlier.outcome !== 'ok' || earlier.input.kind !== 'get' || earlier.input.key !== key) continue;
    const value = earlier.output!.value!;
    if (earlier.completedAt < writeInvokedAt && value !== current && !values.includes(value)) values.push(value);
  }
  return values;
}
