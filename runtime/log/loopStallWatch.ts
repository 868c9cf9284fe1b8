import { closeSync, openSync, readSync } from 'node:fs';
import { describeActivity, LoopActivity } from './loopActivity.ts';
import type { ServerLog } from './serverLog.ts';
import { processCpuMicros } from './processCpu.ts';

/**
 * A diagnostic: an interval of `intervalMs` that reports every gap between its runs longer than
 * `reportMs` — the event loop was busy (or the process descheduled) for that long — with the
 * times it began and ended, and what filled it: the main thread's time on a CPU and waiting for
 * one (Linux's /proc/thread-self/schedstat, read at every run), the whole process's CPU (its GC
 * helpers and libuv's pool too), and the spans of `activity` inside it (pumps, store writes, GC
 * pauses; LoopActivity). Off unless DETCD_LOOP_STALL_WATCH_MS is set (a 5 ms interval wakes the
 * member 200 times a second); the tick's own lateness warning (SlowWork.tickLate) is always on but
 * only sees stalls longer than a heartbeat interval, to within one interval.
 */
export class LoopStallWatch {
  readonly activity = new LoopActivity();
  private timer: NodeJS.Timeout | null = null;
  private lastMs = 0;
  private last: ThreadTimes | null = null;
  private lastCpuMicros = 0;
  private schedstat: ThreadSchedstat | null = null;

  constructor(
    private readonly log: ServerLog,
    private readonly intervalMs: number,
    private readonly reportMs = 100,
  ) {}

  start(): void {
    this.schedstat = ThreadSchedstat.open();
    this.lastMs = performance.now();
    this.last = this.schedstat?.read() ?? null;
    this.lastCpuMicros = processCpuMicros();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.schedstat?.close();
    this.schedstat = null;
  }

  private check(): void {
    const now = performance.now();
    const gapMs = now - this.lastMs;
    const times = this.schedstat?.read() ?? null;
    const cpuMicros = processCpuMicros();
    const before = this.last;
    const cpuBefore = this.lastCpuMicros;
    this.lastMs = now;
    this.last = times;
    this.lastCpuMicros = cpuMicros;
    if (gapMs - this.intervalMs <= this.reportMs) return;
    const began = new Date(Date.now() - gapMs).toISOString();
    const fromMs = now - gapMs;
    const threads = times === null || before === null ? '' : `; main thread on a CPU ${Math.round(times.runMs - before.runMs)} ms, waiting for one ${Math.round(times.waitMs - before.waitMs)} ms; process CPU ${Math.round((cpuMicros - cpuBefore) / 1_000)} ms`;
    // GC pauses reach perf_hooks' observers in a later turn: the report waits for them.
    setTimeout(() => {
      // Every one, not rate-limited: this is the diagnostic's whole output. The process time
      // (performance.now()) lines the stall up with --trace-gc-nvp's "<ms> ms:" (isolate time).
      this.log.warnEvery('detcd', `event loop stalled ${Math.round(gapMs)} ms (from ${began}, process time ${Math.round(fromMs)} ms${threads}): ${describeActivity(this.activity.within(fromMs, now))}`);
    }, reportDelayMs).unref();
  }
}

/** How long a stall's report waits for the GC entries of the stall to arrive. */
const reportDelayMs = 20;

interface ThreadTimes {
  /** Time the thread ran on a CPU, and waited runnable for one, since it began (ms). */
  readonly runMs: number;
  readonly waitMs: number;
}

/** The main thread's /proc/thread-self/schedstat ("<run ns> <wait ns> <timeslices>"), read through one open descriptor (~4 µs a read). */
class ThreadSchedstat {
  private readonly buffer = Buffer.alloc(96);

  private constructor(private readonly fd: number) {}

  /** Opened on the main thread (thread-self is resolved at open); null where there is no such file. */
  static open(): ThreadSchedstat | null {
    try {
      return new ThreadSchedstat(openSync('/proc/thread-self/schedstat', 'r'));
    } catch {
      return null;
    }
  }

  read(): ThreadTimes | null {
    const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
    const [run, wait] = this.buffer.toString('latin1', 0, length).split(' ');
    const runMs = Number(run) / 1e6;
    const waitMs = Number(wait) / 1e6;
    return Number.isFinite(runMs) && Number.isFinite(waitMs) ? { runMs, waitMs } : null;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The interval DETCD_LOOP_STALL_WATCH_MS asks for, or null (off, or not a positive number). */
export function loopStallWatchMs(env: NodeJS.ProcessEnv): number | null {
  const value = Number(env['DETCD_LOOP_STALL_WATCH_MS'] ?? '');
  return Number.isFinite(value) && value > 0 ? value : null;
}
