/**
 * A violation as a person reads it: which partition, the longest prefix the search could
 * linearize (its tail, with the model state after each step), the state it ends in, and the
 * operations pending there of which none can take effect next.
 */
import type { CheckResult, PartitionResult } from './checker.ts';
import type { Operation } from './history.ts';
import type { AnyModel } from './model.ts';

export interface WitnessOptions {
  /** How many operations of the prefix to show, from its end. */
  readonly prefixTail?: number;
}

/** The states after each operation of a partition's linearization (or prefix), in order. */
export function statesAlong(model: AnyModel, history: readonly Operation<unknown, unknown>[], order: readonly number[]): unknown[] {
  const states: unknown[] = [];
  let state: unknown = model.init();
  for (const index of order) {
    const operation = history[index]!;
    const next: unknown = model.step(state, operation.input, operation.outcome === 'ok' ? operation.output : undefined);
    // The checker only ever reports sequences the model accepts.
    if (next === undefined) throw new Error(`the model rejects operation ${index} of its own linearization`);
    state = next;
    states.push(state);
  }
  return states;
}

export function describeOperation(model: AnyModel, history: readonly Operation<unknown, unknown>[], index: number): string {
  const operation = history[index]!;
  const end = operation.outcome === 'unknown' ? '∞)' : `${operation.completedAt}]`;
  const outcome = operation.outcome === 'ok' ? '' : ` (${operation.outcome})`;
  return `#${index} process ${operation.process} [${operation.invokedAt}, ${end} ${model.describeOperation(operation.input, operation.output)}${outcome}`;
}

/** Several lines explaining `result.violation`; empty when there is none. */
export function describeViolation(model: AnyModel, history: readonly Operation<unknown, unknown>[], result: CheckResult, options: WitnessOptions = {}): string {
  const violation = result.violation;
  if (violation === undefined) return '';
  if (violation.explanation !== undefined) {
    // Found by the model's analysis, without a search: the contradiction and who is in it.
    return [
      `witness${describePartition(violation)}: ${violation.explanation}`,
      ...violation.stuck.map((index) => `    ${describeOperation(model, history, index)}`),
    ].join('\n');
  }
  const tail = options.prefixTail ?? 8;
  const prefix = violation.linearization;
  const states = statesAlong(model, history, prefix);
  const lines = [`witness${describePartition(violation)}:`];
  lines.push(`  the longest linearizable prefix found has ${prefix.length} of ${violation.operations.length} operations${prefix.length > tail ? `; its last ${tail}` : ''}:`);
  const shownFrom = Math.max(0, prefix.length - tail);
  for (let position = shownFrom; position < prefix.length; position++) {
    const index = prefix[position]!;
    lines.push(`    ${position + 1}. ${describeOperation(model, history, index)}  ⇒  ${model.describeState(states[position], history[index]!.input)}`);
  }
  const finalState = prefix.length === 0 ? model.init() : states[states.length - 1];
  lines.push(`  state after it: ${shorten(model.describeState(finalState))}`);
  lines.push('  none of these pending operations can take effect next (with the state they see):');
  for (const index of violation.stuck) {
    lines.push(`    ${describeOperation(model, history, index)}  ⇐  ${model.describeState(finalState, history[index]!.input)}`);
  }
  return lines.join('\n');
}

/** Large states (etcd's whole keyspace) are cut: the per-operation lines show what matters. */
function shorten(text: string, limit = 400): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function describePartition(partition: PartitionResult): string {
  return partition.partition === '' ? '' : ` (partition ${JSON.stringify(partition.partition)})`;
}
