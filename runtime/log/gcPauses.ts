import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { LoopActivity, SpanKind } from './loopActivity.ts';
import type { ServerLog } from './serverLog.ts';

/**
 * A diagnostic: V8's garbage-collection pauses on the main thread, one by one (perf_hooks 'gc'
 * entries: kind, start in process time, duration), noted in the loop's activity for the stall
 * watch and logged when a pause is longer than `logMs`. On with the stall watch
 * (DETCD_LOOP_STALL_WATCH_MS, pauses over 50 ms logged) or by DETCD_GC_LOG_MS=<threshold>.
 * `--trace-gc-nvp` says more about each pause but prints every one, in isolate time, to stdout.
 */
export class GcPauses {
  private observer: PerformanceObserver | null = null;

  constructor(
    private readonly log: ServerLog,
    private readonly logMs: number,
    private readonly activity: LoopActivity | null,
  ) {}

  start(): void {
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.observed(entry.startTime, entry.duration, ((entry as { detail?: unknown }).detail as { kind?: number; flags?: number } | undefined) ?? {});
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
  }

  private observed(startMs: number, ms: number, detail: { kind?: number; flags?: number }): void {
    const kind = gcKind(detail.kind);
    this.activity?.note(kind, startMs, ms, detail.flags ?? 0);
    if (ms > this.logMs) this.log.warnEvery('detcd', `GC pause: ${kind.slice(3)} ${Math.round(ms)} ms (process time ${Math.round(startMs)} ms, flags ${detail.flags ?? 0})`);
  }
}

/** A perf_hooks 'gc' entry's kind as the loop's activity names it (`gc-major` …). */
export function gcKind(kind: number | undefined): SpanKind {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MAJOR:
      return 'gc-major';
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
      return 'gc-incremental';
    case constants.NODE_PERFORMANCE_GC_WEAKCB:
      return 'gc-weak';
    default:
      return 'gc-minor';
  }
}

/** The threshold DETCD_GC_LOG_MS asks for; else 50 ms when the stall watch is on; else null (off). Not a number ≥ 0: null. */
export function gcLogMs(env: NodeJS.ProcessEnv, stallWatchOn: boolean): number | null {
  const text = env['DETCD_GC_LOG_MS'];
  if (text === undefined || text === '') return stallWatchOn ? 50 : null;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : null;
}
