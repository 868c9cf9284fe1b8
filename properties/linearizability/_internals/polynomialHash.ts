/**
 * The polynomial text hash the kv model, its value parser and its plain search share:
 * hash(s) = Σ code(i) · base^(n-1-i) modulo 2^32, so that hash(s + t) = hash(s) · base^|t| + hash(t)
 * — an append extends a value's hash in O(1), and prefix hashes find written values inside a
 * returned one without slicing it.
 */
export const polynomialBase = 0x01000193;

export function polynomialHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, polynomialBase) + text.charCodeAt(i)) | 0;
  return hash;
}

/** base^length modulo 2^32: what a hash is multiplied by when a text of that length is appended. */
export function polynomialPower(length: number): number {
  let result = 1;
  let factor = polynomialBase;
  for (let e = length; e > 0; e >>>= 1) {
    if (e & 1) result = Math.imul(result, factor);
    factor = Math.imul(factor, factor);
  }
  return result;
}
