import { clockJumped, EventDescriber, formatEventLine, formatSimTime } from '../sim/eventLog.ts';
import { eventKindNames } from '../sim/eventKind.ts';
import { Trace, type TraceEvent } from '../sim/trace.ts';
import type { WorkloadScript } from '../sim/workloadScript.ts';
import type { ExecutedRun, RunSettings, RunWatcher, Scenario } from './scenario.ts';

export interface DeterminismVerdict {
  readonly deterministic: boolean;
  readonly traceHashes: readonly [string, string];
  /** The first event at which the two runs differ, named; null when they agree. */
  readonly firstDivergence: string | null;
}

/** Names one trace event from its trail alone: its index, time, target and kind. */
export function describeTraceEvent(event: TraceEvent | undefined): string {
  if (event === undefined) return 'the end of the run';
  const kind = eventKindNames[event.kind] ?? `kind ${event.kind}`;
  return `event #${event.index} at ${formatSimTime(event.timeUs)}: ${kind} → ${event.target === 0 ? 'world' : `#${event.target}`} (hash ${event.hash.toString(16).padStart(8, '0')})`;
}

/** Event lines for one event of a run, as `run --events` prints them; null when not known. */
export type EventNamer = (run: 'first' | 'second', index: number) => string | null;

/**
 * Compares two executed runs event by event. With a namer, the first divergent event of each run
 * is also named as `run --events` names it (message, request, fault, state change).
 */
export function compareRuns(first: ExecutedRun, second: ExecutedRun, namer?: EventNamer): DeterminismVerdict {
  const divergence = Trace.firstDivergence(first.trace, second.trace);
  const traceHashes: [string, string] = [first.result.traceHash, second.result.traceHash];
  if (divergence === null && traceHashes[0] === traceHashes[1]) return { deterministic: true, traceHashes, firstDivergence: null };
  if (divergence === null) return { deterministic: false, traceHashes, firstDivergence: 'no event differs, yet the hashes do' };
  const named = (['first', 'second'] as const).map((run) => {
    const event = run === 'first' ? divergence.a : divergence.b;
    const lines = event === undefined ? null : (namer?.(run, event.index) ?? null);
    return { head: `${run} run ${describeTraceEvent(event)}`, lines };
  });
  // One line when only the trail names them; the event lines below each when replays did.
  const text = named.every((n) => n.lines === null) ? named.map((n) => n.head).join('; ') : named.map((n) => (n.lines === null ? n.head : `${n.head}\n${n.lines}`)).join('\n');
  return { deterministic: false, traceHashes, firstDivergence: text };
}

/**
 * Runs a scenario's seed twice in this process and compares. A hidden source of nondeterminism —
 * module state that survives a run, iteration over something unordered, a wall clock — shows up
 * as a difference; the trail finds the first event where the runs part, and each run is replayed
 * once more to name that event in full (a replay that no longer reaches the same event says so).
 */
export function checkDeterminism(scenario: Scenario, seed: number, first?: ExecutedRun, settings?: RunSettings, workload?: WorkloadScript<unknown>): DeterminismVerdict {
  const run = (watchers: readonly RunWatcher[] = []): ExecutedRun => scenario.prepare(seed, settings).execute({ keepTrail: true, watchers, ...(workload === undefined ? {} : { workload }) });
  const a = first !== undefined && first.trace.event(0) !== undefined ? first : run();
  const b = run();
  const runs = { first: a, second: b };
  return compareRuns(a, b, (which, index) => {
    const capture = captureEvent(index);
    const replay = run([capture.watcher]);
    const wanted = runs[which].trace.event(index)?.hash;
    if (replay.trace.event(index)?.hash !== wanted) return '  (replayed, this run did not reach the same event again)';
    return capture.lines().map((line) => `  ${line}`).join('\n') || null;
  });
}

/** A watcher that keeps the event lines of event `index` (and the state changes it caused). */
export function captureEvent(index: number): { watcher: RunWatcher; lines(): string[] } {
  const lines: string[] = [];
  const watcher: RunWatcher = (protocol) => {
    const describer = new EventDescriber(protocol);
    return {
      afterEvent(sim) {
        const event = sim.lastEvent;
        if (event.index === index - 1) describer.prime(sim);
        if (event.index === index) for (const line of describer.describe(sim, event)) lines.push(formatEventLine(line));
      },
      // A crash or restart belongs to the event being delivered, which is not yet in the trace.
      onCrash: (node, sim) => void (sim.trace.events === index && describer.processChanged(node, 'down (crashed)')),
      onRestart: (node, sim) => void (sim.trace.events === index && describer.processChanged(node, 'up (restarted)')),
      onPause: (node, sim) => void (sim.trace.events === index && describer.processChanged(node, 'paused')),
      onResume: (node, sim) => void (sim.trace.events === index && describer.processChanged(node, 'resumed')),
      onClockJump: (node, deltaUs, sim) => void (sim.trace.events === index && describer.processChanged(node, clockJumped(deltaUs))),
    };
  };
  return { watcher, lines: () => lines };
}
