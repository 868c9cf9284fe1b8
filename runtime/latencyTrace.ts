import { writeFileSync } from 'node:fs';

/**
 * A debug timeline of where a request's time goes on this member, off unless the environment
 * names a file: `DETCD_LATENCY_TRACE=/tmp/m1.trace detcd …`. Each mark is a wall-clock time in
 * microseconds (`performance.timeOrigin + now()`, comparable between the members of one machine)
 * and a short label (`grpc.in`, `send MsgApp`, `fsync.end` …); at a graceful stop the marks are
 * written one per line, `<µs> <label>`. `bench/putPath.ts` lines up three members' files and
 * prints, for sequential puts, when each step happened after the leader took the call.
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

export function latencyTrace(file: string | undefined): LatencyTrace {
  if (file === undefined || file === '') return noTrace;
  const times = new Float64Array(capacity);
  const labels: string[] = [];
  const origin = performance.timeOrigin;
  return {
    enabled: true,
    mark(label: string): void {
      const count = labels.length;
      if (count === capacity) return;
      times[count] = (origin + performance.now()) * 1000;
      labels.push(label);
    },
    save(): void {
      const lines: string[] = [];
      for (let i = 0; i < labels.length; i++) lines.push(`${times[i]!.toFixed(0)} ${labels[i]}`);
      writeFileSync(file, lines.join('\n') + '\n');
    },
  };
}

/** This process's trace: the one environment variable is read once, at load. */
export const trace: LatencyTrace = latencyTrace(process.env.DETCD_LATENCY_TRACE);
