import { assert, AssertionError } from './assert.ts';

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
  const values: number[] = [];
  for (let position = 0; position < bytes.byteLength / 8; position++) values.push(numberAt(bytes, position));
  return values;
}

/**
 * The `position`-th number of an `encodeNumbers` list, read in place: a replica decodes every
 * entry it applies, and a view and an array for each were a few per cent of a run's garbage.
 */
export function numberAt(bytes: Uint8Array, position: number): number {
  const offset = position * 8;
  if (offset + 8 > bytes.byteLength) throw new AssertionError(`number ${position} of a list of ${bytes.byteLength} bytes`);
  return uint32At(bytes, offset) * 0x1_0000_0000 + uint32At(bytes, offset + 4);
}

function uint32At(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}
