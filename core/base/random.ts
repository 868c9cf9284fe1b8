import type { Ratio } from './ratio.ts';

/**
 * A seeded source of randomness. The core never draws from a global source: each node receives
 * its own stream from its host (the simulator derives it from the run seed; the runtime seeds it
 * from the operating system once, at start).
 */
export interface Random {
  /** A uniformly distributed integer in [0, 2^32). */
  uint32(): number;
  /** A uniformly distributed integer in [0, bound). `bound` must be in [1, 2^32]. */
  below(bound: number): number;
  /** A uniformly distributed integer in [min, max], both inclusive. */
  between(min: number, max: number): number;
  /** True with probability `r`. */
  chance(r: Ratio): boolean;
}
