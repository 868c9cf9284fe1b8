import type { ServerLog } from './serverLog.ts';

/**
 * A diagnostic: an interval of `intervalMs` that reports every gap between its runs longer than
 * `reportMs` — the event loop was busy (or the process descheduled) for that long — with the
 * times it began and ended. Off unless DETCD_LOOP_STALL_WATCH_MS is set (a 5 ms interval wakes the
 * member 200 times a second); the tick's own lateness warning (SlowWork.tickLate) is always on but
 * only sees stalls longer than a heartbeat interval, to within one interval.
 */
export class LoopStallWatch {
  private timer: NodeJS.Timeout | null = null;
  private lastMs = 0;

  constructor(
    private readonly log: ServerLog,
    private readonly intervalMs: number,
    private readonly reportMs = 100,
  ) {}

  start(): void {
    this.lastMs = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const gapMs = now - this.lastMs;
      this.lastMs = now;
      if (gapMs - this.intervalMs > this.reportMs) {
        const began = new Date(Date.now() - gapMs).toISOString();
        // Every one, not rate-limited: this is the diagnostic's whole output. The process time
        // (performance.now()) lines the stall up with --trace-gc-nvp's "<ms> ms:" (isolate time).
        this.log.warnEvery('detcd', `event loop stalled ${Math.round(gapMs)} ms (from ${began}, process time ${Math.round(now - gapMs)} ms)`);
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The interval DETCD_LOOP_STALL_WATCH_MS asks for, or null (off, or not a positive number). */
export function loopStallWatchMs(env: NodeJS.ProcessEnv): number | null {
  const value = Number(env['DETCD_LOOP_STALL_WATCH_MS'] ?? '');
  return Number.isFinite(value) && value > 0 ? value : null;
}
