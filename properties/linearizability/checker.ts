/**
 * The checker's entry point: drop what cannot matter, split by object where the model allows
 * (P-compositionality), let the model read each partition first (`Model.analyze`: unknown
 * outcomes settled, certain violations found without a search, a lookahead), search each
 * partition within one shared budget, and report a verdict with enough detail for a witness.
 */
import { assert } from '../../core/base/assert.ts';
import { BudgetMeter, type Budget, type Exhaustion } from './budget.ts';
import { historyProblems, type Operation } from './history.ts';
import type { HistoryAnalysis, Model } from './model.ts';
import { certifiesLinearization } from './_internals/certificate.ts';
import { searchLinearization, type SearchOperation, type SearchResult } from './search.ts';

/** A rough size of what a model's fast path (`Model.linearize`) holds per operation, for the memory budget. */
const linearizeBytesPerOperation = 96;

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
  /** For `unknown`: which part of the budget ran out. */
  readonly exhaustion?: Exhaustion;
  /**
   * For a violation the model's analysis found without searching: what is contradictory, naming
   * operations by their index in the history (`stuck` holds them).
   */
  readonly explanation?: string;
  /** For a violation the search found: why the stuck operations cannot go next, when it can say. */
  readonly cause?: string;
}

export interface CheckResult {
  readonly verdict: Verdict;
  readonly partitions: readonly PartitionResult[];
  /** The first partition found not linearizable. */
  readonly violation: PartitionResult | undefined;
  /**
   * Operations that cannot matter, ascending: failed ones, read-only ones with unknown outcomes,
   * and unknown-outcome ones that the model found unobserved (`Model.analyze`).
   */
  readonly dropped: readonly number[];
  /** Model steps taken, over all partitions. */
  readonly steps: number;
  /** For `unknown`: which part of the budget ran out (steps, time or memory). */
  readonly exhaustion: Exhaustion | undefined;
  /** The most bytes the searches held at once, as reserved from the memory budget. */
  readonly peakBytes: number;
}

export function checkLinearizability<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult {
  const meter = new BudgetMeter(options.budget);
  const { partitions, dropped } = partitionHistory(model, history);

  // A partition whose model reads a linearization straight off it (`Model.linearize`), verified,
  // needs neither analysis nor search. Partitions take turns, a slice of steps each, as Porcupine
  // runs them in parallel: one that refutes quickly ends the check even when another would take
  // the whole budget. A violation the model's analysis found needs no search at all, and the
  // partitions after it are not even read (they stay unchecked).
  let refuted = false;
  const analyses = [...partitions].map(([partition, candidates]) => {
    if (refuted) return { partition, candidates, decided: undefined, analysis: undefined };
    const members = membersOf(history, candidates);
    const decided = linearizedAtOnce(model, partition, candidates, members, meter, dropped);
    const analysis = decided === undefined ? model.analyze?.(members) : undefined;
    refuted = analysis?.violation !== undefined;
    return { partition, candidates, decided, analysis };
  });
  const analyzed = analyzedViolation(analyses);
  let violation = analyzed;
  const searches = analyses.map(({ partition, candidates, decided, analysis }) => {
    if (decided !== undefined) return { partition, members: candidates, search: undefined, result: decided as PartitionResult | undefined };
    if (analyzed !== undefined) return { partition, members: candidates, search: undefined, result: partition === analyzed.partition ? analyzed : undefined };
    const { members, operations, kept } = settlePartition(model, history, candidates, analysis, dropped);
    const search = searchLinearization(model, operations, meter, analysis?.lookahead?.(kept));
    return { partition, members, search, result: undefined as PartitionResult | undefined };
  });
  let running = violation === undefined ? searches.filter((entry) => entry.search !== undefined).length : 0;
  while (running > 0 && violation === undefined) {
    for (const entry of searches) {
      if (entry.result !== undefined || entry.search === undefined) continue;
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
  // Searches left unfinished give back what they reserved.
  for (const entry of searches) if (entry.result === undefined) entry.search?.return({ kind: 'unknown', longestPrefix: [], stuck: [] });
  const results = searches.map(
    (entry): PartitionResult => entry.result ?? { partition: entry.partition, operations: entry.members, verdict: 'unchecked', linearization: [], stuck: [] },
  );
  const unknown = results.some((result) => result.verdict === 'unknown');
  const verdict: Verdict = violation !== undefined ? 'not-linearizable' : unknown ? 'unknown' : 'linearizable';
  dropped.sort((a, b) => a - b);
  const exhaustion = verdict === 'unknown' ? (meter.exhaustion ?? 'steps') : undefined;
  return { verdict, partitions: results, violation, dropped, steps: meter.steps, exhaustion, peakBytes: meter.peakBytes };
}

/**
 * The partition as linearizable, when the model's fast path proposes a linearization and it holds
 * (`certificate.ts`); its unknown-outcome operations left out join `dropped` (nothing saw them).
 */
function linearizedAtOnce<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  partition: string,
  candidates: readonly number[],
  members: readonly Operation<Input, Output>[],
  meter: BudgetMeter,
  dropped: number[],
): PartitionResult | undefined {
  if (model.linearize === undefined) return undefined;
  // What a fast path holds (the kv one: about a dozen numbers per operation) comes out of the
  // memory budget like the search's; refused, the search is asked and refused in turn.
  const bytes = members.length * linearizeBytesPerOperation;
  if (!meter.reserve(bytes)) return undefined;
  let order: Int32Array | undefined;
  try {
    order = model.linearize(members, (more) => meter.reserve(more));
  } finally {
    meter.reserve(-bytes);
  }
  const taken = new Uint8Array(members.length);
  if (order === undefined || !certifiesLinearization(model, members, order, meter, taken)) return undefined;
  const linearization = new Array<number>(order.length);
  for (let at = 0; at < order.length; at++) linearization[at] = candidates[order[at]!]!;
  const kept: number[] = [];
  for (let position = 0; position < members.length; position++) (taken[position] === 1 ? kept : dropped).push(candidates[position]!);
  return { partition, operations: kept, verdict: 'linearizable', linearization, stuck: [] };
}

/** The first violation the model's analysis found, if any, as a partition result. */
function analyzedViolation<State, Input>(analyses: readonly { partition: string; candidates: readonly number[]; analysis: HistoryAnalysis<State, Input> | undefined }[]): PartitionResult | undefined {
  for (const { partition, candidates, analysis } of analyses) {
    const found = analysis?.violation;
    if (found === undefined) continue;
    const historyIndex = (position: number) => candidates[position]!;
    return { partition, operations: candidates, verdict: 'not-linearizable', linearization: [], stuck: found.operations.map(historyIndex), explanation: found.explanation(historyIndex) };
  }
  return undefined;
}

function partitionResult(partition: string, members: readonly number[], searched: SearchResult): PartitionResult {
  const toHistory = (indexes: readonly number[]) => indexes.map((index) => members[index]!);
  if (searched.kind === 'linearizable') {
    return { partition, operations: members, verdict: searched.kind, linearization: toHistory(searched.order), stuck: [] };
  }
  const exhaustion = searched.exhaustion === undefined ? {} : { exhaustion: searched.exhaustion };
  const order = searched.outOfOrder;
  const cause =
    order === undefined
      ? {}
      : { cause: `${toHistory(order.late).map((index) => `#${index}`).join(', ')} must take effect before #${members[order.before]!} by the sequence their responses give (revisions), but ${order.late.length === 1 ? 'was' : 'were'} invoked after #${members[order.before]!} completed` };
  return { partition, operations: members, verdict: searched.kind, linearization: toHistory(searched.longestPrefix), stuck: toHistory(searched.stuck), ...exhaustion, ...cause };
}

/** Groups the operations that matter by partition, in order of first appearance. */
function partitionHistory<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
): { partitions: Map<string, number[]>; dropped: number[] } {
  const partitions = new Map<string, number[]>();
  const dropped: number[] = [];
  // The model's functions read once (a cold check pays for each property load per operation).
  const partitionOf = model.partition;
  const readOnly = model.readOnly;
  // A loop, not forEach with a closure: a one-shot check runs this before the JIT compiles it.
  for (let index = 0; index < history.length; index++) {
    const operation = history[index]!;
    // The history is well formed (`historyProblems`), checked here rather than in a pass of its own
    // (a cold check pays per pass over the operations), in one test without calls: a finite
    // invocation (x - x is 0 only for a finite x), a completion not before it (false for NaN),
    // finite unless unknown, an output exactly when ok. Otherwise the detailed tests say what is wrong.
    const { invokedAt, completedAt, outcome } = operation;
    if (!(invokedAt - invokedAt === 0 && completedAt >= invokedAt && (outcome === 'ok' ? operation.output !== undefined && completedAt - completedAt === 0 : operation.output === undefined && (outcome === 'unknown' || completedAt - completedAt === 0)))) {
      const problems = historyProblems(history);
      assert(problems.length === 0, () => `malformed history: ${problems.slice(0, 3).join('; ')}`);
    }
    const irrelevant = outcome === 'fail' || (outcome === 'unknown' && readOnly !== undefined && readOnly(operation.input, undefined));
    if (irrelevant) {
      dropped.push(index);
      continue;
    }
    const partition = partitionOf === undefined ? '' : partitionOf(operation.input);
    const members = partitions.get(partition);
    if (members === undefined) partitions.set(partition, [index]);
    else members.push(index);
  }
  return { partitions, dropped };
}

/** The operations at `indexes` of the history. */
function membersOf<Input, Output>(history: readonly Operation<Input, Output>[], indexes: readonly number[]): Operation<Input, Output>[] {
  const members = new Array<Operation<Input, Output>>(indexes.length);
  for (let at = 0; at < indexes.length; at++) members[at] = history[indexes[at]!]!;
  return members;
}

/**
 * The partition's operations as the search sees them, after the model's analysis: unobserved
 * unknown-outcome operations join `dropped`; those that must have taken effect get their
 * deadline as completion time (their output stays unknown); an operation with a stand-in is
 * searched as it (reports still name the operation itself).
 */
function settlePartition<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  candidates: readonly number[],
  analysis: HistoryAnalysis<State, Input> | undefined,
  dropped: number[],
): { members: number[]; operations: SearchOperation<Input, Output>[]; kept: number[] } {
  const fates = analysis?.fates ?? [];
  const members: number[] = [];
  const kept: number[] = [];
  const operations: SearchOperation<Input, Output>[] = [];
  for (let position = 0; position < candidates.length; position++) {
    const index = candidates[position]!;
    const operation = history[index]!;
    const fate = operation.outcome === 'unknown' ? fates[position] : undefined;
    const standIn = analysis?.standIns?.[position];
    // An unknown-outcome operation whose stand-in can change nothing constrains nothing either.
    if (fate?.kind === 'unobserved' || (operation.outcome === 'unknown' && standIn !== undefined && model.readOnly?.(standIn, undefined) === true)) {
      dropped.push(index);
      continue;
    }
    const unknown = operation.outcome === 'unknown';
    members.push(index);
    kept.push(position);
    operations.push({
      invokedAt: operation.invokedAt,
      completedAt: fate?.kind === 'took-effect' ? fate.by : unknown ? Infinity : operation.completedAt,
      input: standIn ?? operation.input,
      output: unknown ? undefined : operation.output,
    });
  }
  return { members, operations, kept };
}
