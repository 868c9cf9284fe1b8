import { finalize32, hex32, mix32, mixNumber } from '../core/base/hash.ts';

/** What one delivered event was, for naming the first difference between two runs. */
export interface TraceEvent {
  readonly index: number;
  readonly timeUs: number;
  readonly target: number;
  readonly kind: number;
  readonly hash: number;
}

/**
 * The trace of a run: a rolling 64-bit hash (two independent 32-bit lanes) over every delivered
 * event's (time, target, kind, digest), and a trail of each event's own hash with its time,
 * target and kind, so that two runs that differ can be compared event by event.
 */
export class Trace {
  private laneA = 0x2545f491;
  private laneB = 0x6c8e9cf5;
  private count = 0;
  private hashes: Uint32Array;
  private times: Float64Array;
  private targets: Int32Array;
  private kinds: Uint8Array;
  private readonly keepTrail: boolean;

  constructor(keepTrail: boolean) {
    this.keepTrail = keepTrail;
    const initial = keepTrail ? 1024 : 0;
    this.hashes = new Uint32Array(initial);
    this.times = new Float64Array(initial);
    this.targets = new Int32Array(initial);
    this.kinds = new Uint8Array(initial);
  }

  get events(): number {
    return this.count;
  }

  record(timeUs: number, target: number, kind: number, digest: number): void {
    let h = mixNumber(0x9e3779b9, timeUs);
    h = mix32(h, target);
    h = mix32(h, kind);
    h = finalize32(mix32(h, digest));
    this.laneA = mix32(this.laneA, h);
    this.laneB = mix32(this.laneB ^ 0x5bd1e995, h ^ this.count);
    if (this.keepTrail) this.keep(timeUs, target, kind, h);
    this.count++;
  }

  /** The 64-bit trace hash as 16 hex digits. */
  hashHex(): string {
    return hex32(finalize32(this.laneA ^ this.count)) + hex32(finalize32(this.laneB + this.count));
  }

  event(index: number): TraceEvent | undefined {
    if (!this.keepTrail || index < 0 || index >= this.count) return undefined;
    return {
      index,
      timeUs: this.times[index]!,
      target: this.targets[index]!,
      kind: this.kinds[index]!,
      hash: this.hashes[index]!,
    };
  }

  /**
   * The first event at which two trails differ, or null when they are the same. A trail that is a
   * strict prefix of the other differs at its end.
   */
  static firstDivergence(a: Trace, b: Trace): { index: number; a: TraceEvent | undefined; b: TraceEvent | undefined } | null {
    const shared = Math.min(a.count, b.count);
    for (let index = 0; index < shared; index++) {
      if (a.hashes[index] !== b.hashes[index]) return { index, a: a.event(index), b: b.event(index) };
    }
    if (a.count === b.count) return null;
    return { index: shared, a: a.event(shared), b: b.event(shared) };
  }

  private keep(timeUs: number, target: number, kind: number, h: number): void {
    if (this.count === this.hashes.length) this.grow();
    this.hashes[this.count] = h;
    this.times[this.count] = timeUs;
    this.targets[this.count] = target;
    this.kinds[this.count] = kind;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.hashes.length * 2);
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    const times = new Float64Array(capacity);
    times.set(this.times);
    const targets = new Int32Array(capacity);
    targets.set(this.targets);
    const kinds = new Uint8Array(capacity);
    kinds.set(this.kinds);
    this.hashes = hashes;
    this.times = times;
    this.targets = targets;
    this.kinds = kinds;
  }
}
