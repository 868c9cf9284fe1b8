import { assert } from '../core/base/assert.ts';

/** Parts per million: a drift of +1000 ppm runs 0.1% fast. */
export const ppmScale = 1_000_000;
/** How much real time may pass between re-anchorings of a clock (about 17 simulated minutes). */
const reanchorUs = 1_000_000_000;

/**
 * A node's own clock. Local time runs at (1 + driftPpm / 10^6) times real (simulated) time from an
 * anchor, and jumps move the anchor. The node's ticks fire every `tickIntervalUs` of *local* time,
 * so a fast clock ticks more often in real time, and a clock that jumps forward owes a burst of
 * ticks (capped: a real ticker drops ticks it could not deliver) while one that jumps back goes
 * quiet until it has caught up.
 *
 * All arithmetic is on safe integers; real times round up so a tick never fires before its
 * local time has come.
 */
export class SimClock {
  readonly tickIntervalUs: number;
  private readonly tickBurstMax: number;
  private anchorRealUs: number;
  private anchorLocalUs: number;
  private driftPpmValue: number;
  /** The local time at which the next tick is due. */
  private nextTickLocalUs: number;

  constructor(options: { tickIntervalUs: number; offsetUs: number; driftPpm: number; tickBurstMax: number; firstTickLocalUs?: number }) {
    assert(Number.isSafeInteger(options.tickIntervalUs) && options.tickIntervalUs > 0, 'tick interval must be a positive integer');
    assert(options.tickBurstMax >= 1, 'tick burst must allow at least one tick');
    this.tickIntervalUs = options.tickIntervalUs;
    this.tickBurstMax = options.tickBurstMax;
    this.anchorRealUs = 0;
    this.anchorLocalUs = options.offsetUs;
    this.driftPpmValue = checkedDrift(options.driftPpm);
    this.nextTickLocalUs = options.firstTickLocalUs ?? options.offsetUs + options.tickIntervalUs;
  }

  get driftPpm(): number {
    return this.driftPpmValue;
  }

  /** The local clock's reading at real time `realUs`. */
  localAt(realUs: number): number {
    const elapsed = realUs - this.anchorRealUs;
    return this.anchorLocalUs + elapsed + Math.trunc((elapsed * this.driftPpmValue) / ppmScale);
  }

  /** The earliest real time, at or after `nowUs`, at which the local clock reads `localUs`. */
  realAt(localUs: number, nowUs: number): number {
    const localElapsed = localUs - this.anchorLocalUs;
    assert(Math.abs(localElapsed) * ppmScale < Number.MAX_SAFE_INTEGER, 'clock arithmetic would overflow: run too long');
    const real = this.anchorRealUs + Math.ceil((localElapsed * ppmScale) / (ppmScale + this.driftPpmValue));
    return Math.max(real, nowUs);
  }

  /** When the next tick is due, in real time, no earlier than `nowUs`. */
  nextTickRealUs(nowUs: number): number {
    return this.realAt(this.nextTickLocalUs, nowUs);
  }

  /** A tick fired at `nowUs`: the next one is due one interval later in local time. */
  tickFired(nowUs: number): void {
    // Re-anchoring now and then keeps (elapsed × ppm) far from the edge of exact integers.
    if (nowUs - this.anchorRealUs > reanchorUs) this.reanchor(nowUs);
    this.nextTickLocalUs += this.tickIntervalUs;
  }

  /**
   * The clock jumps by `deltaUs` (positive: forward) at real time `nowUs`. Ticks the jump skipped
   * over are owed and fire back to back, at most `tickBurstMax` of them; the rest are dropped.
   */
  jump(nowUs: number, deltaUs: number): void {
    this.reanchor(nowUs);
    this.anchorLocalUs += deltaUs;
    const local = this.anchorLocalUs;
    if (local < this.nextTickLocalUs) return;
    const due = Math.floor((local - this.nextTickLocalUs) / this.tickIntervalUs) + 1;
    if (due > this.tickBurstMax) this.nextTickLocalUs += (due - this.tickBurstMax) * this.tickIntervalUs;
  }

  setDrift(nowUs: number, driftPpm: number): void {
    this.reanchor(nowUs);
    this.driftPpmValue = checkedDrift(driftPpm);
  }

  /** A restarted process starts its ticker afresh: the next tick is one interval from now. */
  restartTicker(nowUs: number): void {
    this.nextTickLocalUs = this.localAt(nowUs) + this.tickIntervalUs;
  }

  private reanchor(nowUs: number): void {
    this.anchorLocalUs = this.localAt(nowUs);
    this.anchorRealUs = nowUs;
  }
}

function checkedDrift(driftPpm: number): number {
  // Beyond ±50% a clock is broken, not drifting; the limit also keeps the arithmetic exact.
  assert(Number.isSafeInteger(driftPpm) && Math.abs(driftPpm) <= ppmScale / 2, () => `drift ${driftPpm} ppm out of range`);
  return driftPpm;
}
