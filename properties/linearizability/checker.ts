/**
 * The checker's entry point: drop what cannot matter, split by object where the model allows
 * (P-compositionality), search each partition within one shared budget, and report a verdict
 * with enough detail for a witness.
 */
import { assert } from '../../core/base/assert.ts';
import { BudgetMeter, type Budget } from './budget.ts';
import { historyProblems, type Operation } from './history.ts';
import type { Model } from './model.ts';
import { searchLinearization, type SearchOperation, type SearchResult } from './search.ts';

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface CheckOptions {
  readonly budget?: Budget;
}

/** All operation numbers are indexes into the history given to `checkLinearizability`. */
export interface PartitionResult {
  /** The object the partition's operations act on; "" when the model does not partition. */
  readonly partition: string;
  readonly operations: readonly number[];
  /** `unchecked` when another partition was found not linearizable first. */
  readonly verdict: Verdict | 'unchecked';
  /** A complete linearization when linearizable, otherwise the longest prefix found. */
  readonly linearization: readonly number[];
  /** Completed operations pending right after the longest prefix that could not go next. */
  readonly stuck: readonly number[];
}

export interface CheckResult {
  readonly verdict: Verdict;
  readonly partitions: readonly PartitionResult[];
  /** The first partition found not linearizable. */
  readonly violation: PartitionResult | undefined;
  /** Operations that cannot matter: failed ones, and read-only ones with unknown outcomes. */
  readonly dropped: readonly number[];
  /** Model steps taken, over all partitions. */
  readonly steps: number;
}

export function checkLinearizability<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult {
  const problems = historyProblems(history);
  assert(problems.length === 0, () => `malformed history: ${problems.slice(0, 3).join('; ')}`);
  const meter = new BudgetMeter(options.budget);
  const { partitions, dropped } = partitionHistory(model, history);

  // Partitions take turns, a slice of steps each, as Porcupine runs them in parallel: one that
  // refutes quickly ends the check even when another would take the whole budget.
  const searches = [...partitions].map(([partition, members]) => ({
    partition,
    members,
    search: searchLinearization(model, members.map((index) => searchOperation(history[index]!)), meter),
    result: undefined as PartitionResult | undefined,
  }));
  let running = searches.length;
  let violation: PartitionResult | undefined;
  while (running > 0 && violation === undefined) {
    for (const entry of searches) {
      if (entry.result !== undefined) continue;
      const next = entry.search.next();
      if (!next.done) continue;
      entry.result = partitionResult(entry.partition, entry.members, next.value);
      running--;
      if (entry.result.verdict === 'not-linearizable') {
        violation = entry.result;
        break;
      }
    }
  }
  const results = searches.map(
    (entry): PartitionResult => entry.result ?? { partition: entry.partition, operations: entry.members, verdict: 'unchecked', linearization: [], stuck: [] },
  );
  const unknown = results.some((result) => result.verdict === 'unknown');
  const verdict: Verdict = violation !== undefined ? 'not-linearizable' : unknown ? 'unknown' : 'linearizable';
  return { verdict, partitions: results, violation, dropped, steps: meter.steps };
}

function partitionResult(partition: string, members: readonly number[], searched: SearchResult): PartitionResult {
  const toHistory = (indexes: readonly number[]) => indexes.map((index) => members[index]!);
  if (searched.kind === 'linearizable') {
    return { partition, operations: members, verdict: searched.kind, linearization: toHistory(searched.order), stuck: [] };
  }
  return { partition, operations: members, verdict: searched.kind, linearization: toHistory(searched.longestPrefix), stuck: toHistory(searched.stuck) };
}

/** Groups the operations that matter by partition, in order of first appearance. */
function partitionHistory<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
): { partitions: Map<string, number[]>; dropped: number[] } {
  const partitions = new Map<string, number[]>();
  const dropped: number[] = [];
  history.forEach((operation, index) => {
    const irrelevant = operation.outcome === 'fail' || (operation.outcome === 'unknown' && model.readOnly?.(operation.input, undefined) === true);
    if (irrelevant) {
      dropped.push(index);
      return;
    }
    const partition = model.partition?.(operation.input) ?? '';
    const members = partitions.get(partition);
    if (members === undefined) partitions.set(partition, [index]);
    else members.push(index);
  });
  return { partitions, dropped };
}

function searchOperation<Input, Output>(operation: Operation<Input, Output>): SearchOperation<Input, Output> {
  const unknown = operation.outcome === 'unknown';
  return {
    invokedAt: operation.invokedAt,
    completedAt: unknown ? Infinity : operation.completedAt,
    input: operation.input,
    output: unknown ? undefined : operation.output,
  };
}
