import seedrandom from 'seedrandom';
import { AssertionError, assert, assertNat } from '../core/base/assert.ts';
import { finalize32, hashString32, hex32, mix32 } from '../core/base/hash.ts';
import type { Random } from '../core/base/random.ts';
import type { Ratio } from '../core/base/ratio.ts';

/** Bounds up to 2^21 take the fast path of `below`: 2^32 · 2^21 = 2^53 keeps products exact. */
const smallBoundMax = 0x20_0000;
const twoToMinus32 = 1 / 0x1_0000_0000;


/**
 * What every generator here derives from its 32-bit output: bounded integers without modulo bias,
 * ranges and chances. Floats never reach a decision.
 */
abstract class Uint32Random implements Random {
  abstract uint32(): number;

  below(bound: number): number {
    if (!(bound >= 1 && bound <= 0x1_0000_0000 && Number.isInteger(bound))) throw new AssertionError(`bound ${bound} out of range`);
    if (bound <= smallBoundMax) {
      // Lemire's multiply-shift with rejection: x·bound is exact below 2^53, and the modulo runs
      // only in the rare case that the low half falls under `bound`.
      for (;;) {
        const product = this.uint32() * bound;
        const high = Math.floor(product * twoToMinus32);
        const low = product - high * 0x1_0000_0000;
        if (low >= bound || low >= (0x1_0000_0000 - bound) % bound) return high;
      }
    }
    // Rejection sampling removes the modulo bias: draws in the incomplete last block are redrawn.
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    for (;;) {
      const value = this.uint32();
      if (value < limit) return value % bound;
    }
  }

  between(min: number, max: number): number {
    assert(Number.isInteger(min) && Number.isInteger(max) && min <= max, () => `bad range [${min}, ${max}]`);
    return min + this.below(max - min + 1);
  }

  chance(r: Ratio): boolean {
    if (r.numerator === 0) return false;
    if (r.numerator === r.denominator) return true;
    return this.below(r.denominator) < r.numerator;
  }
}

/**
 * A `Random` over seedrandom's xor4096 generator (Brent's xorgens, period 2^4096 - 1), seeded
 * from a string. Only the 32-bit integer output is used.
 */
export class SeededRandom extends Uint32Random {
  private readonly next: () => number;
  readonly seedText: string;

  constructor(seedText: string) {
    super();
    this.seedText = seedText;
    this.next = seedrandom.xor4096(seedText).int32;
  }

  uint32(): number {
    return this.next() >>> 0;
  }
}

/**
 * Draws keyed by what they are for: `reset(a, b, c)` starts the draws of one key (the network's
 * keyed mode: a message's link, what the message is, and how many such messages the link carried
 * before), and they depend only on the run's key material and that key — not on how many draws
 * came before, as a stream's do. A counter-based generator (the murmur3 finalizer over the key and
 * a counter, as SplitMix does over a Weyl sequence): seeding an xor4096 per message would cost
 * more than the message. Good enough to decide a message's fate; not for anything else.
 */
export class KeyedDraws extends Uint32Random {
  private readonly keyLow: number;
  private readonly keyHigh: number;
  private state = 0;
  private counter = 0;

  /** The key material comes from a seeded stream of the run (two 32-bit draws). */
  constructor(material: Random) {
    super();
    this.keyLow = material.uint32() | 0;
    this.keyHigh = material.uint32() | 0;
  }

  /** Starts the draws for the key (a, b, c): the same key gives the same draws. */
  reset(a: number, b: number, c: number): void {
    this.state = mix32(mix32(mix32(mix32(this.keyLow, a), b), c), this.keyHigh);
    this.counter = 0;
  }

  uint32(): number {
    this.counter++;
    return finalize32(mix32(this.state, this.counter));
  }
}

/**
 * Derives independent streams from one run seed, one per named component ("network",
 * "disk/3", "node/1", "nemesis", ...). A stream's draws depend only on the run seed and its name,
 * so turning one fault class off never shifts the draws of another.
 */
export class RandomStreams {
  readonly seed: number;
  private readonly issued = new Set<string>();

  constructor(seed: number) {
    assertNat(seed, 'seed');
    this.seed = seed;
  }

  /** A fresh stream for `name`. Each name is issued once per run: two users of one stream would couple. */
  stream(name: string): SeededRandom {
    assert(!this.issued.has(name), () => `random stream "${name}" issued twice`);
    this.issued.add(name);
    return new SeededRandom(streamSeedText(this.seed, name));
  }
}

export function streamSeedText(seed: number, name: string): string {
  return `detcd/${seed}/${name}/${hex32(hashString32(name, seed | 0))}`;
}
