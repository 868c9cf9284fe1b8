import type { Timer } from '../core/host/ports.ts';

/**
 * The node's tick on the system's monotonic clock, drift-corrected: tick n is due at
 * start + n × interval, and each timeout is set for the next due time, so timer lateness does not
 * accumulate (a plain setInterval drifts by its lateness every period).
 *
 * When the process falls behind (a pause, a stalled event loop), the ticks it owes fire back to
 * back, at most `burstMax` of them, and the schedule restarts from now: the simulator's clock does
 * the same after a forward jump. A burst larger than that would let a stalled follower time out
 * its leader at once; fewer would make Raft's timeouts longer than configured.
 */
export class SystemTicker implements Timer {
  private timeout: NodeJS.Timeout | null = null;
  private startedAtMs = 0;
  private ticks = 0;
  private onTick: (() => void) | null = null;
  /** Ticks skipped because the process was late by more than `burstMax` intervals. */
  skipped = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly burstMax = 2,
    private readonly now: () => number = () => performance.now(),
    /** Told how late (ms) a tick came when it came later than one interval after it was due: the event loop was blocked. */
    private readonly onLate: (lateMs: number) => void = () => {},
  ) {
    if (!(intervalMs > 0)) throw new RangeError(`tick interval must be positive, got ${intervalMs}`);
  }

  start(onTick: () => void): void {
    this.stop();
    this.onTick = onTick;
    this.startedAtMs = this.now();
    this.ticks = 0;
    this.schedule();
  }

  stop(): void {
    if (this.timeout !== null) clearTimeout(this.timeout);
    this.timeout = null;
    this.onTick = null;
  }

  private schedule(): void {
    const dueMs = this.startedAtMs + (this.ticks + 1) * this.intervalMs;
    this.timeout = setTimeout(() => this.fire(), Math.max(0, dueMs - this.now()));
  }

  private fire(): void {
    const onTick = this.onTick;
    if (onTick === null) return;
    const now = this.now();
    const lateMs = now - (this.startedAtMs + (this.ticks + 1) * this.intervalMs);
    if (lateMs > this.intervalMs) this.onLate(lateMs);
    const owed = Math.floor((now - this.startedAtMs) / this.intervalMs) - this.ticks;
    const firing = Math.max(1, Math.min(owed, this.burstMax));
    if (owed > this.burstMax) {
      // Too late to catch up honestly: restart the schedule from now.
      this.skipped += owed - firing;
      this.startedAtMs = this.now();
      this.ticks = 0;
    } else this.ticks += firing;
    for (let i = 0; i < firing && this.onTick !== null; i++) onTick();
    if (this.onTick !== null) this.schedule();
  }
}
