import type { Random } from '../../base/random.ts';
import type { Ratio } from '../../base/ratio.ts';

/**
 * A tiny deterministic Random for tests (xorshift32 over a seed mixed from `seed`). Not for the
 * simulator, which has its own streams; raft tests only need reproducible election jitter.
 */
export class TestRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 1;
  }

  uint32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  below(bound: number): number {
    return this.uint32() % bound;
  }

  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  chance(r: Ratio): boolean {
    return this.below(r.denominator) < r.numerator;
  }
}
