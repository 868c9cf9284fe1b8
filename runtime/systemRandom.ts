import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from '../core/base/random.ts';
import type { Ratio } from '../core/base/ratio.ts';

/**
 * The node's randomness on a real host (election jitter): the operating system's generator.
 * The simulator derives each node's stream from the run seed instead; the node cannot tell.
 */
export const systemRandom: Random = {
  uint32: () => randomBytes(4).readUInt32BE(0),
  below: (bound: number) => (bound === 0x1_0000_0000 ? randomBytes(4).readUInt32BE(0) : randomInt(bound)),
  between: (min: number, max: number) => min + systemRandom.below(max - min + 1),
  chance: (ratio: Ratio) => systemRandom.below(ratio.denominator) < ratio.numerator,
};
