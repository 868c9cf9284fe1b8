import { eventKindNames } from '../sim/eventKind.ts';
import { Trace, type TraceEvent } from '../sim/trace.ts';
import type { ExecutedRun, Scenario } from './scenario.ts';

export interface DeterminismVerdict {
  readonly deterministic: boolean;
  readonly traceHashes: readonly [string, string];
  /** The first event at which the two runs differ, named; null when they agree. */
  readonly firstDivergence: string | null;
}

/** Names one trace event: its index, time, target and kind. */
export function describeTraceEvent(event: TraceEvent | undefined): string {
  if (event === undefined) return 'the end of the run';
  const kind = eventKindNames[event.kind] ?? `kind ${event.kind}`;
  return `event #${event.index} at ${event.timeUs}us: ${kind} → ${event.target === 0 ? 'world' : `#${event.target}`} (hash ${event.hash.toString(16).padStart(8, '0')})`;
}

/** Compares two executed runs event by event. */
export function compareRuns(first: ExecutedRun, second: ExecutedRun): DeterminismVerdict {
  const divergence = Trace.firstDivergence(first.trace, second.trace);
  const traceHashes: [string, string] = [first.result.traceHash, second.result.traceHash];
  if (divergence === null && traceHashes[0] === traceHashes[1]) return { deterministic: true, traceHashes, firstDivergence: null };
  const named = divergence === null ? 'no event differs, yet the hashes do' : `first run ${describeTraceEvent(divergence.a)}; second run ${describeTraceEvent(divergence.b)}`;
  return { deterministic: false, traceHashes, firstDivergence: named };
}

/**
 * Runs a scenario's seed twice in this process and compares. A hidden source of nondeterminism —
 * module state that survives a run, iteration over something unordered, a wall clock — shows up
 * as a difference, and the trail names the first event where the runs part.
 */
export function checkDeterminism(scenario: Scenario, seed: number, first?: ExecutedRun): DeterminismVerdict {
  const run = (): ExecutedRun => scenario.prepare(seed).execute({ keepTrail: true });
  const a = first !== undefined && first.trace.event(0) !== undefined ? first : run();
  const b = run();
  return compareRuns(a, b);
}
