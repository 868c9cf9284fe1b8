/**
 * A set of small integers as a bitset, with "the highest member at or below i" in a few word
 * operations: how the search walks pending unknown-outcome operations from the newest back.
 */
import { endOfList } from './searchSpace.ts';

export class PendingBits {
  readonly #words: Uint32Array;

  /** Starts full: members 0 .. size - 1. */
  constructor(size: number) {
    this.#words = new Uint32Array(Math.ceil(size / 32)).fill(0xffffffff);
    if (size % 32 !== 0) this.#words[this.#words.length - 1] = (1 << size % 32) - 1;
  }

  has(member: number): boolean {
    return (this.#words[member >>> 5]! & (1 << (member & 31))) !== 0;
  }

  add(member: number): void {
    this.#words[member >>> 5]! |= 1 << (member & 31);
  }

  delete(member: number): void {
    this.#words[member >>> 5]! &= ~(1 << (member & 31));
  }

  /** The highest member ≤ `limit`, or `endOfList` (also when `limit` < 0). */
  highestAtOrBelow(limit: number): number {
    if (limit < 0) return endOfList;
    let word = limit >>> 5;
    // Keep the bits at positions 0 .. limit % 32 of the first word.
    let bits = this.#words[word]! & (0xffffffff >>> (31 - (limit & 31)));
    while (bits === 0) {
      if (word === 0) return endOfList;
      bits = this.#words[--word]!;
    }
    return (word << 5) + 31 - Math.clz32(bits);
  }
}
