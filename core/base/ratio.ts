import { assert } from './assert.ts';

/**
 * A probability as an integer ratio. Floats are not used for probabilities so that a
 * configuration prints, compares and hashes exactly (TigerBeetle's `Ratio`).
 */
export interface Ratio {
  readonly numerator: number;
  readonly denominator: number;
}

export function ratio(numerator: number, denominator: number): Ratio {
  assert(Number.isSafeInteger(numerator) && Number.isSafeInteger(denominator), 'ratio parts must be integers');
  assert(denominator > 0, 'ratio denominator must be positive');
  assert(numerator >= 0 && numerator <= denominator, () => `ratio ${numerator}/${denominator} out of [0, 1]`);
  return { numerator, denominator };
}

export const never: Ratio = Object.freeze({ numerator: 0, denominator: 1 });
export const always: Ratio = Object.freeze({ numerator: 1, denominator: 1 });

export function isNever(r: Ratio): boolean {
  return r.numerator === 0;
}

export function formatRatio(r: Ratio): string {
  return `${r.numerator}/${r.denominator}`;
}
