import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { gcKind } from './log/gcPauses.ts';

/**
 * A debug timeline of where a request's time goes on this member, off unless the environment
 * names a file: `DETCD_LATENCY_TRACE=/tmp/m1.trace detcd …`. Each mark is a wall-clock time in
 * microseconds (`performance.timeOrigin + now()`, comparable between the members of one machine)
 * and a short label (`grpc.in`, `send MsgApp`, `fsync.end` …); at a graceful stop the marks are
 * written one per line, `<µs> <label>`, in time order. `bench/putPath.ts` lines up three members'
 * files and prints, for sequential puts, when each step happened after the leader took the call,
 * and what the slowest puts waited for.
 *
 * With `gc` (the member's trace has it), V8's garbage-collection pauses on the main thread are
 * marks too: `gc.<minor|major|incremental|weak> <ms>` at the pause's start and `gc.end` at its end
 * (perf_hooks hands them over a turn or two later; they are placed at their own times).
 *
 * Off, `mark` is an empty function (no clock read, no allocation). The buffer is bounded: once
 * it holds `capacity` marks, later ones are dropped (the first ones explain a run's start too).
 */
export interface LatencyTrace {
  readonly enabled: boolean;
  mark(label: string): void;
  /** Writes the marks to the file (at stop); a no-op when off. */
  save(): void;
}

const noTrace: LatencyTrace = { enabled: false, mark: () => {}, save: () => {} };

const capacity = 2_000_000;
/** GC pauses kept, at most (two marks each). */
const gcCapacity = 200_000;

export function latencyTrace(file: string | undefined, options: { readonly gc?: boolean } = {}): LatencyTrace {
  if (file === undefined || file === '') return noTrace;
  const times = new Float64Array(capacity);
  const labels: string[] = [];
  const origin = performance.timeOrigin;
  const gcMarks: { us: number; label: string }[] = [];
  let observer: PerformanceObserver | null = null;
  if (options.gc === true) {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (gcMarks.length >= 2 * gcCapacity) return;
        const startUs = (origin + entry.startTime) * 1000;
        const kind = gcKind((entry as { detail?: { kind?: number } }).detail?.kind).slice(3);
        gcMarks.push({ us: startUs, label: `gc.${kind} ${entry.duration.toFixed(2)}` }, { us: startUs + entry.duration * 1000, label: 'gc.end' });
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  return {
    enabled: true,
    mark(label: string): void {
      const count = labels.length;
      if (count === capacity) return;
      times[count] = (origin + performance.now()) * 1000;
      labels.push(label);
    },
    save(): void {
      observer?.disconnect();
      const marks: { us: number; label: string }[] = gcMarks.slice();
      for (let i = 0; i < labels.length; i++) marks.push({ us: times[i]!, label: labels[i]! });
      // Stable: marks of one time keep the order they were made in.
      marks.sort((a, b) => a.us - b.us);
      writeFileSync(file, marks.map((mark) => `${mark.us.toFixed(0)} ${mark.label}`).join('\n') + '\n');
    },
  };
}

/** This process's trace: the one environment variable is read once, at load. */
export const trace: LatencyTrace = latencyTrace(process.env.DETCD_LATENCY_TRACE, { gc: true });
