/**
 * What a page needs to draw a checked history, computed here (where the model lives) and
 * rendered in `reports/` (which only sees this plain, serializable shape).
 *
 * It stays compact for 100,000-operation histories: per-operation columns of numbers, and every
 * text (operation descriptions, model states) stored once in a string table and referenced by
 * index, because histories repeat them a lot (a register holds a handful of values). Model
 * states are described only for the part an operation touched, and every text is cut to a
 * bounded length (the history file has the full request).
 */
import type { CheckResult } from './checker.ts';
import type { Operation } from './history.ts';
import type { AnyModel } from './model.ts';
import { statesAlong } from './witness.ts';

/** Per-operation values are arrays indexed by the operation's position in the history. */
export interface HistoryTimeline {
  readonly title: string;
  readonly model: string;
  readonly verdict: CheckResult['verdict'];
  readonly strings: string[];
  /** Distinct process ids, in ascending order: one lane each. */
  readonly processes: number[];
  readonly lane: number[];
  readonly invokedAt: number[];
  /** Null when the operation never completed. */
  readonly completedAt: (number | null)[];
  /** One character per operation: o(k), f(ail), u(nknown). */
  readonly outcomes: string;
  /** String-table index of each operation's description. */
  readonly text: number[];
  /** Index into `partitions`, or -1 for dropped operations. */
  readonly partition: number[];
  /** Place in its partition's linearization (or longest prefix), or -1. */
  readonly position: number[];
  /** String-table index of the model state after the operation (touched part), or -1. */
  readonly stateAfter: number[];
  /** The order itself follows from `partition` and `position`, so it is not stored twice. */
  readonly partitions: { name: string; verdict: string; stuck: number[] }[];
  /** Index into `partitions` of the violation, or -1. */
  readonly violation: number;
}

/** The longest description (of an operation or a state) kept, in characters. */
const textMax = 240;

export function buildTimeline(title: string, model: AnyModel, history: readonly Operation<unknown, unknown>[], result: CheckResult): HistoryTimeline {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const intern = (text: string) => {
    let index = stringIndex.get(text);
    if (index === undefined) {
      index = strings.push(text) - 1;
      stringIndex.set(text, index);
    }
    return index;
  };
  const processes = [...new Set(history.map((operation) => operation.process))].sort((a, b) => a - b);
  const laneOf = new Map(processes.map((process, lane) => [process, lane]));
  const partition = history.map(() => -1);
  const position = history.map(() => -1);
  const stateAfter = history.map(() => -1);

  result.partitions.forEach((checked, partitionIndex) => {
    for (const index of checked.operations) partition[index] = partitionIndex;
    const states = statesAlong(model, history, checked.linearization);
    checked.linearization.forEach((index, place) => {
      position[index] = place;
      stateAfter[index] = intern(truncate(model.describeState(states[place], history[index]!.input)));
    });
  });

  return {
    title,
    model: model.name,
    verdict: result.verdict,
    strings,
    processes,
    lane: history.map((operation) => laneOf.get(operation.process)!),
    invokedAt: history.map((operation) => operation.invokedAt),
    completedAt: history.map((operation) => (Number.isFinite(operation.completedAt) ? operation.completedAt : null)),
    outcomes: history.map((operation) => operation.outcome[0]).join(''),
    text: history.map((operation) => intern(truncate(model.describeOperation(operation.input, operation.outcome === 'ok' ? operation.output : undefined)))),
    partition,
    position,
    stateAfter,
    partitions: result.partitions.map((checked) => ({
      name: checked.partition,
      verdict: checked.verdict,
      stuck: [...checked.stuck],
    })),
    violation: result.violation === undefined ? -1 : result.partitions.indexOf(result.violation),
  };
}

function truncate(text: string): string {
  return text.length <= textMax ? text : `${text.slice(0, textMax - 1)}…`;
}
