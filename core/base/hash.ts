/**
 * Small, fast, non-cryptographic hashing over 32-bit lanes. Used for trace hashes and state
 * digests, where the goal is to notice any difference, not to resist an adversary.
 */

/** Mixes one 32-bit value into a 32-bit state (a murmur3-style round). */
export function mix32(state: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = state ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The murmur3 finalizer: spreads every input bit over the output. */
export function finalize32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a string to 32 bits (UTF-16 code units). */
export function hashString32(text: string, seed = 0): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = mix32(h, text.charCodeAt(i));
  return finalize32(mix32(h, text.length));
}

/** Mixes a safe integer (up to 2^53) as two 32-bit halves. */
export function mixNumber(state: number, value: number): number {
  const low = value >>> 0;
  const high = Math.floor(value / 0x1_0000_0000) | 0;
  return mix32(mix32(state, low), high);
}

export function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
