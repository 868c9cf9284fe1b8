import { assert, AssertionError } from './assert.ts';

/**
 * A growable byte buffer for binary codecs (the runtime's WAL records and peer messages). Pure:
 * byte stores into a Uint8Array, no Node APIs (a DataView call per field, and a DataView made per
 * writer, cost more: every put's backend commit and WAL record runs these). Integers are big-endian; safe integers take 8 bytes
 * as two 32-bit halves, so ids and indexes up to 2^53 round-trip exactly. Strings are written as
 * UTF-16 code units (exact for any JS string, no text encoder needed).
 */
export class ByteWriter {
  private bytes: Uint8Array;
  private length = 0;

  constructor(capacity = 256) {
    // A size estimate from a malformed value (NaN, 0) must not leave a buffer that never grows.
    this.bytes = allocate(Number.isSafeInteger(capacity) && capacity > 0 ? capacity : 256);
  }

  uint8(value: number): this {
    if (this.length + 1 > this.bytes.length) this.reserve(1);
    this.bytes[this.length++] = value;
    return this;
  }

  uint32(value: number): this {
    // Not assert(…, closure): these run per field of every record (see assert's note).
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff)) throw new AssertionError(`not a uint32: ${value}`);
    if (this.length + 4 > this.bytes.length) this.reserve(4);
    putUint32(this.bytes, this.length, value);
    this.length += 4;
    return this;
  }

  /** A non-negative safe integer (an index, a term, a node id). */
  uint53(value: number): this {
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new AssertionError(`not a non-negative safe integer: ${value}`);
    if (this.length + 8 > this.bytes.length) this.reserve(8);
    const bytes = this.bytes;
    const at = this.length;
    putUint32(bytes, at, Math.floor(value / 0x1_0000_0000));
    putUint32(bytes, at + 4, value >>> 0);
    this.length = at + 8;
    return this;
  }

  /** Any float64, bit for bit (the log's values are arbitrary JS numbers). */
  float64(value: number): this {
    if (this.length + 8 > this.bytes.length) this.reserve(8);
    float64Scratch.setFloat64(0, value);
    const bytes = this.bytes;
    const at = this.length;
    for (let i = 0; i < 8; i++) bytes[at + i] = float64ScratchBytes[i]!;
    this.length = at + 8;
    return this;
  }

  boolean(value: boolean): this {
    return this.uint8(value ? 1 : 0);
  }

  /** Length-prefixed bytes. */
  bytesField(value: Uint8Array): this {
    this.uint32(value.byteLength);
    return this.bytesBody(value);
  }

  /** Bytes as they are, no length (a copy of bytes encoded before). */
  raw(value: Uint8Array): this {
    return this.bytesBody(value);
  }

  private bytesBody(value: Uint8Array): this {
    if (this.length + value.byteLength > this.bytes.length) this.reserve(value.byteLength);
    this.bytes.set(value, this.length);
    this.length += value.byteLength;
    return this;
  }

  string(value: string): this {
    assert(typeof value === 'string', () => `not a string: ${String(value)} (${typeof value})`);
    this.uint32(value.length);
    if (this.length + value.length * 2 > this.bytes.length) this.reserve(value.length * 2);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      bytes[at++] = code >>> 8;
      bytes[at++] = code;
    }
    this.length = at;
    return this;
  }

  /** A byte string (one byte per character, as core/api's keys and values), length-prefixed. */
  byteString(value: string): this {
    this.uint32(value.length);
    return this.byteStringBody(value);
  }

  private byteStringBody(value: string): this {
    if (this.length + value.length > this.bytes.length) this.reserve(value.length);
    writeLatin1(value, this.bytes, this.length);
    this.length += value.length;
    return this;
  }

  /** A non-negative safe integer in 7-bit groups, low group first (protobuf's varint): 1 byte below 128. */
  varint(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, () => `not a non-negative safe integer: ${value}`);
    if (this.length + 8 > this.bytes.length) this.reserve(8);
    const bytes = this.bytes;
    let rest = value;
    while (rest >= 0x80) {
      bytes[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    bytes[this.length++] = rest;
    return this;
  }

  /** Bytes after a varint length. */
  varBytes(value: Uint8Array): this {
    this.varint(value.byteLength);
    return this.bytesBody(value);
  }

  /** A byte string after a varint length. */
  varByteString(value: string): this {
    this.varint(value.length);
    return this.byteStringBody(value);
  }

  uint53List(values: readonly number[]): this {
    this.uint32(values.length);
    for (const value of values) this.uint53(value);
    return this;
  }

  /**
   * The bytes written so far, which the caller owns (the writer must not be written to again). A
   * view when the buffer is at least three quarters full: a record of a megabyte is not copied
   * once more just to drop its slack.
   */
  finish(): Uint8Array {
    // Exactly full (a record sized first): the buffer itself, not one more view of it.
    if (this.length === this.bytes.byteLength) return this.bytes;
    if (this.length * 4 >= this.bytes.byteLength * 3) return this.bytes.subarray(0, this.length);
    return this.copy();
  }

  /**
   * Empties the writer for the next value: a codec's scratch writer grows once to the largest value
   * it met instead of allocating and regrowing per value (64 bytes doubled five times for a 1 kB put).
   * Use `copy()`, never `finish()`, on a writer that is reset: a view would be overwritten.
   */
  reset(): this {
    this.length = 0;
    return this;
  }

  /** The bytes written so far, in place: valid until the writer is written again or reset. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** An exactly sized copy of the bytes written so far; the writer stays the caller's to reset. */
  copy(): Uint8Array {
    const exact = allocate(this.length);
    exact.set(this.bytes.subarray(0, this.length));
    return exact;
  }

  /** The bytes written so far. */
  get byteLength(): number {
    return this.length;
  }

  /** The capacity it has grown to (a scratch writer that grew past its bound is dropped). */
  get capacity(): number {
    return this.bytes.byteLength;
  }

  /** Grows the buffer to hold `extra` more bytes (the callers check first: this is the rare path). */
  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.byteLength) return;
    let capacity = Math.max(64, this.bytes.byteLength * 2);
    while (capacity < this.length + extra) capacity *= 2;
    const grown = allocate(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
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
    return this.byteStringBody(this.uint32());
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.uint8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new DecodeError(`a varint longer than 8 bytes at ${this.offset}`);
    }
    if (!Number.isSafeInteger(value)) throw new DecodeError(`a varint above 2^53 at ${this.offset}`);
    return value;
  }

  /** Bytes after a varint length, as a view (no copy: the caller must not keep it past the bytes' life). */
  varBytesView(): Uint8Array {
    return this.viewBody(this.varint());
  }

  /** Bytes after a uint32 length (a `byteString`'s or `bytesField`'s), as a view (no copy: the caller must not keep it past the bytes' life). */
  bytesView(): Uint8Array {
    return this.viewBody(this.uint32());
  }

  private viewBody(length: number): Uint8Array {
    this.need(length);
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  varByteString(): string {
    return this.byteStringBody(this.varint());
  }

  private byteStringBody(length: number): string {
    this.need(length);
    const value = latin1Text(this.bytes, this.offset, this.offset + length);
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

  /** Bytes read so far. */
  get position(): number {
    return this.offset;
  }

  /** Every byte must have been read: trailing bytes mean the formats disagree. */
  end(): void {
    if (this.offset !== this.bytes.byteLength) throw new DecodeError(`${this.bytes.byteLength - this.offset} trailing bytes`);
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.byteLength) throw new DecodeError(`needs ${count} bytes at ${this.offset} of ${this.bytes.byteLength}`);
  }
}

/**
 * Byte strings to bytes and back, natively: what a host may install (the runtime: Buffer's latin1
 * coding, several times faster than a loop of charCodeAt, which held every member's event loop for
 * ~0.5 s per WAL snapshot of check perf's 20 MB backend). Both directions must give exactly what
 * the portable code gives; the simulator installs nothing, and nothing it computes depends on it.
 */
export interface NativeByteStrings {
  /** Writes each character of `text` (all ≤ 0xff) as one byte into `into` from `at`. */
  write(text: string, into: Uint8Array, at: number): void;
  read(bytes: Uint8Array, start: number, end: number): string;
}

let nativeByteStrings: NativeByteStrings | null = null;

/**
 * Where a ByteWriter's buffers come from. Portable: a zeroed Uint8Array. A host may install an
 * allocator of uninitialised memory (the runtime: Buffer.allocUnsafe, pooled below 4 kB): a zeroed
 * ArrayBuffer cost a leader ~8–14 µs per peer message and WAL record under check perf (2–3% of its
 * CPU), and its bytes are all overwritten anyway. Safe because a writer hands out only
 * `[0, length)`, every byte of which it wrote; the slack of a `finish()` view is never exposed
 * through the view (readers must honour byteOffset and byteLength, as frame.ts does).
 */
let allocateBytes: ((size: number) => Uint8Array) | null = null;

export function installByteAllocator(allocator: ((size: number) => Uint8Array) | null): void {
  allocateBytes = allocator;
}

function allocate(size: number): Uint8Array {
  return allocateBytes === null ? new Uint8Array(size) : allocateBytes(size);
}

/** A float64's bytes, big-endian, for ByteWriter to copy: no DataView per writer (a record of one put made one). */
const float64Scratch = new DataView(new ArrayBuffer(8));
const float64ScratchBytes = new Uint8Array(float64Scratch.buffer);

/** `value` (a uint32) big-endian at `at`: what DataView.setUint32 writes, as four byte stores (a Uint8Array keeps each value's low byte). */
function putUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** Below this a call costs more than the loop. */
const nativeByteStringMin = 64;
const aboveByte = /[^\u0000-\u00ff]/;

/** Whether every character of `text` fits a byte (a regular expression: native, unlike a charCodeAt loop). */
export function isByteString(text: string): boolean {
  return !aboveByte.test(text);
}

export function installNativeByteStrings(native: NativeByteStrings | null): void {
  nativeByteStrings = native;
}

/**
 * Writes each character of `text` as one byte into `into` from `at` (room is the caller's);
 * asserts every character fits a byte.
 */
export function writeLatin1(text: string, into: Uint8Array, at: number): void {
  if (nativeByteStrings !== null && text.length >= nativeByteStringMin) {
    assert(isByteString(text), 'a byte string holds a character above 0xff');
    nativeByteStrings.write(text, into, at);
    return;
  }
  // One check for the whole string, not one per character (a hot loop for 1 kB values).
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    seen |= code;
    into[at++] = code;
  }
  assert(seen <= 0xff, 'a byte string holds a character above 0xff');
}

const latin1Chunk = 8192;
const chunkCodes: number[] = [];

/**
 * One character per byte. Short texts (field names, keys) a character at a time; longer ones a
 * chunk at a time through one reused plain array: fromCharCode.apply on a plain array is about ten
 * times faster than on a typed array, and a chunk bounds what goes on the stack.
 */
export function latin1Text(bytes: Uint8Array, start: number, end: number): string {
  if (nativeByteStrings !== null && end - start >= nativeByteStringMin) return nativeByteStrings.read(bytes, start, end);
  let text = '';
  if (end - start <= 32) {
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }
  for (let at = start; at < end; at += latin1Chunk) {
    const stop = Math.min(at + latin1Chunk, end);
    // Resized only for a ragged chunk: the array stays packed and is reused, not regrown.
    if (chunkCodes.length !== stop - at) chunkCodes.length = stop - at;
    for (let i = at; i < stop; i++) chunkCodes[i - at] = bytes[i]!;
    text += String.fromCharCode.apply(null, chunkCodes);
  }
  return text;
}
