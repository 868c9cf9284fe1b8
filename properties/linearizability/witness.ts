/**
 * A violation as a person reads it: which partition, the longest prefix the search could
 * linearize (its tail, with the model state after each step), the state it ends in, and the
 * operations pending there of which none can take effect next.
 */
import type { CheckResult } from './checker.ts';
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

/** One operation of a witness, as plain data (for `--json`). */
export interface WitnessOperation {
  /** Its index in the history. */
  readonly index: number;
  readonly process: number;
  readonly invoke: number;
  /** Null for an unknown outcome. */
  readonly complete: number | null;
  readonly outcome: Operation<unknown, unknown>['outcome'];
  readonly operation: string;
  /** In the prefix: the state after it; among the stuck: the state it sees. */
  readonly state?: string;
}

/** A violation as plain data: what `describeViolation` prints, and `check --json` carries. */
export interface Witness {
  /** The object (key) whose operations are not linearizable; "" when the model does not split. */
  readonly partition: string;
  /** For a violation found without a search: the contradiction. */
  readonly explanation?: string;
  readonly partitionOperations: number;
  /** How many operations the longest linearizable prefix found has, and its last ones. */
  readonly prefixLength: number;
  readonly prefixTail: readonly WitnessOperation[];
  readonly stateAfterPrefix: string;
  /** Operations pending after the prefix of which none can take effect next (or, with an explanation, the ones in it). */
  readonly stuck: readonly WitnessOperation[];
  /** Why they cannot, when the search can say. */
  readonly cause?: string;
}

/** `result.violation` as a witness; undefined when there is none. */
export function violationWitness(model: AnyModel, history: readonly Operation<unknown, unknown>[], result: CheckResult, options: WitnessOptions = {}): Witness | undefined {
  const violation = result.violation;
  if (violation === undefined) return undefined;
  const entry = (index: number, state?: string): WitnessOperation => {
    const operation = history[index]!;
    return {
      index,
      process: operation.process,
      invoke: operation.invokedAt,
      complete: operation.outcome === 'unknown' ? null : operation.completedAt,
      outcome: operation.outcome,
      operation: model.describeOperation(operation.input, operation.output),
      ...(state === undefined ? {} : { state }),
    };
  };
  const base = { partition: violation.partition, partitionOperations: violation.operations.length };
  if (violation.explanation !== undefined) {
    return { ...base, explanation: violation.explanation, prefixLength: 0, prefixTail: [], stateAfterPrefix: '', stuck: violation.stuck.map((index) => entry(index)) };
  }
  const tail = options.prefixTail ?? 8;
  const prefix = violation.linearization;
  const states = statesAlong(model, history, prefix);
  const shownFrom = Math.max(0, prefix.length - tail);
  const finalState = prefix.length === 0 ? model.init() : states[states.length - 1];
  return {
    ...base,
    prefixLength: prefix.length,
    prefixTail: prefix.slice(shownFrom).map((index, offset) => entry(index, model.describeState(states[shownFrom + offset], history[index]!.input))),
    stateAfterPrefix: shorten(model.describeState(finalState)),
    stuck: violation.stuck.map((index) => entry(index, model.describeState(finalState, history[index]!.input))),
    ...(violation.cause === undefined ? {} : { cause: violation.cause }),
  };
}

/** Several lines explaining `result.violation`; empty when there is none. */
export function describeViolation(model: AnyModel, history: readonly Operation<unknown, unknown>[], result: CheckResult, options: WitnessOptions = {}): string {
  const witness = violationWitness(model, history, result, options);
  if (witness === undefined) return '';
  const partition = witness.partition === '' ? '' : ` (partition ${JSON.stringify(witness.partition)})`;
  if (witness.explanation !== undefined) {
    // Found by the model's analysis, without a search: the contradiction and who is in it.
    return [`witness${partition}: ${witness.explanation}`, ...witness.stuck.map((operation) => `    ${describeOperation(model, history, operation.index)}`)].join('\n');
  }
  const lines = [`witness${partition}:`];
  const shown = witness.prefixTail.length;
  lines.push(`  the longest linearizable prefix found has ${witness.prefixLength} of ${witness.partitionOperations} operations${witness.prefixLength > shown ? `; its last ${shown}` : ''}:`);
  witness.prefixTail.forEach((operation, offset) => {
    lines.push(`    ${witness.prefixLength - shown + offset + 1}. ${describeOperation(model, history, operation.index)}  ⇒  ${operation.state}`);
  });
  lines.push(`  state after it: ${witness.stateAfterPrefix}`);
  lines.push('  none of these pending operations can take effect next (with the state they see):');
  for (const operation of witness.stuck) lines.push(`    ${describeOperation(model, history, operation.index)}  ⇐  ${operation.state}`);
  if (witness.cause !== undefined) lines.push(`  because ${witness.cause}`);
  return lines.join('\n');
}

/** Large states (etcd's whole keyspace) are cut: the per-operation lines show what matters. */
function shorten(text: string, limit = 400): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
