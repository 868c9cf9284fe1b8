/**
 * The process's CPU time, read at most once per `minIntervalMs`. `process.cpuUsage()` is
 * getrusage(RUSAGE_SELF): the kernel sums every thread of the process (V8's helpers, libuv's
 * pool), bringing each running one's clock up to date. The server read it before every Ready's
 * write, inside the pump and before the Ready's messages left, to tell a slow write's CPU: ~2 µs
 * of CPU a call, 43 µs of wall time on average (perf trace of a member at load 19, ~1 call per
 * Raft round); under `--cpu-prof` it even looked like 17-23 % of a member's busy time (the
 * profiler's signals and this call do not mix: docs/journal/runtime-performance.md, pace). A slow
 * write (over 100 ms) is told well enough by a reading taken up to `minIntervalMs` before it began.
 */
export class ThrottledCpuClock {
  private readonly minIntervalMs: number;
  private readonly readCpuMicros: () => number;
  private atMs = Number.NEGATIVE_INFINITY;
  private micros = 0;

  constructor(minIntervalMs: number, readCpuMicros: () => number = processCpuMicros) {
    this.minIntervalMs = minIntervalMs;
    this.readCpuMicros = readCpuMicros;
  }

  /** A reading from at most `minIntervalMs` before `nowMs`: when it was taken (ms) and the CPU then (µs). */
  reading(nowMs: number): { readonly atMs: number; readonly micros: number } {
    if (nowMs - this.atMs >= this.minIntervalMs) {
      this.atMs = nowMs;
      this.micros = this.readCpuMicros();
    }
    return { atMs: this.atMs, micros: this.micros };
  }

  /** The CPU used since `reading` (µs), read now. */
  since(reading: { readonly micros: number }): number {
    return this.readCpuMicros() - reading.micros;
  }
}

/** The process's CPU time so far (user + system, µs): every thread's. */
export function processCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
