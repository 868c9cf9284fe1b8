import { assert } from './assert.ts';

/**
 * A growable byte buffer for binary codecs (the runtime's WAL records and peer messages). Pure:
 * DataView over an ArrayBuffer, no Node APIs. Integers are big-endian; safe integers take 8 bytes
 * as two 32-bit halves, so ids and indexes up to 2^53 round-trip exactly. Strings are written as
 * UTF-16 code units (exact for any JS string, no text encoder needed).
 */
export class ByteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  uint8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
    return this;
  }

  uint32(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, () => `not a uint32: ${value}`);
    this.reserve(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  /** A non-negative safe integer (an index, a term, a node id). */
  uint53(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, () => `not a non-negative safe integer: ${value}`);
    this.reserve(8);
    this.view.setUint32(this.length, Math.floor(value / 0x1_0000_0000));
    this.view.setUint32(this.length + 4, value >>> 0);
    this.length += 8;
    return this;
  }

  /** Any float64, bit for bit (the log's values are arbitrary JS numbers). */
  float64(value: number): this {
    this.reserve(8);
    this.view.setFloat64(this.length, value);
    this.length += 8;
    return this;
  }

  boolean(value: boolean): this {
    return this.uint8(value ? 1 : 0);
  }

  /** Length-prefixed bytes. */
  bytesField(value: Uint8Array): this {
    this.uint32(value.byteLength);
    this.reserve(value.byteLength);
    this.bytes.set(value, this.length);
    this.length += value.byteLength;
    return this;
  }

  string(value: string): this {
    this.uint32(value.length);
    this.reserve(value.length * 2);
    for (let i = 0; i < value.length; i++) this.view.setUint16(this.length + i * 2, value.charCodeAt(i));
    this.length += value.length * 2;
    return this;
  }

  /** A byte string (one byte per character, as core/api's keys and values), length-prefixed. */
  byteString(value: string): this {
    this.uint32(value.length);
    this.reserve(value.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      assert(code <= 0xff, 'a byte string holds a character above 0xff');
      bytes[at++] = code;
    }
    this.length = at;
    return this;
  }

  uint53List(values: readonly number[]): this {
    this.uint32(values.length);
    for (const value of values) this.uint53(value);
    return this;
  }

  /** The bytes written so far (a copy the caller owns). */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.byteLength) return;
    let capacity = this.bytes.byteLength * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** Thrown when bytes do not decode: a codec bug or bytes from another format, never a torn write (the frame CRC catches those). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Reads what a ByteWriter wrote, checking every bound. */
export class ByteReader {
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  uint8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  uint32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  uint53(): number {
    this.need(8);
    const high = this.view.getUint32(this.offset);
    const low = this.view.getUint32(this.offset + 4);
    this.offset += 8;
    if (high > 0x1f_ffff) throw new DecodeError(`integer above 2^53 at byte ${this.offset - 8}`);
    return high * 0x1_0000_0000 + low;
  }

  float64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.offset);
    this.offset += 8;
    return value;
  }

  boolean(): boolean {
    const value = this.uint8();
    if (value > 1) throw new DecodeError(`boolean byte ${value} at ${this.offset - 1}`);
    return value === 1;
  }

  bytesField(): Uint8Array {
    const length = this.uint32();
    this.need(length);
    const value = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  string(): string {
    const length = this.uint32();
    this.need(length * 2);
    let value = '';
    for (let i = 0; i < length; i++) value += String.fromCharCode(this.view.getUint16(this.offset + i * 2));
    this.offset += length * 2;
    return value;
  }

  byteString(): string {
    const length = this.uint32();
    this.need(length);
    let value = '';
    // In slices: fromCharCode takes its arguments on the stack.
    for (let start = 0; start < length; start += 8192) {
      const end = Math.min(length, start + 8192);
      value += String.fromCharCode.apply(null, this.bytes.subarray(this.offset + start, this.offset + end) as unknown as number[]);
    }
    this.offset += length;
    return value;
  }

  uint53List(): number[] {
    const count = this.uint32();
    this.need(count * 8);
    const values: number[] = [];
    for (let i = 0; i < count; i++) values.push(this.uint53());
    return values;
  }

  /** Every byte must have been read: trailing bytes mean the formats disagree. */
  end(): void {
    if (this.offset !== this.bytes.byteLength) throw new DecodeError(`${this.bytes.byteLength - this.offset} trailing bytes`);
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.byteLength) throw new DecodeError(`needs ${count} bytes at ${this.offset} of ${this.bytes.byteLength}`);
  }
}
