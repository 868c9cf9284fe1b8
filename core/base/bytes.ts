import { assert } from './assert.ts';

/**
 * Fixed-width integers in byte arrays, big-endian, for entry payloads. Safe integers are stored as
 * two 32-bit halves so that ids and counters up to 2^53 round-trip exactly.
 */
export function encodeNumbers(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    assert(Number.isSafeInteger(value) && value >= 0, () => `cannot encode ${value}`);
    view.setUint32(i * 8, Math.floor(value / 0x1_0000_0000));
    view.setUint32(i * 8 + 4, value >>> 0);
  });
  return bytes;
}

export function decodeNumbers(bytes: Uint8Array): number[] {
  assert(bytes.byteLength % 8 === 0, () => `a number list of ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: number[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += 8) values.push(view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4));
  return values;
}
