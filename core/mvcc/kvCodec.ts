import crc32c from 'crc-32/crc32c.js';
import type { KeyValue } from '../api/kv.ts';
import { assert } from '../base/assert.ts';
import { SlabKeyValue, valueLength } from './valueSlabs.ts';

/*
 * etcd's on-disk encodings, byte for byte, for what depends on them: the key bucket's keys
 * (revisions), its values (mvccpb.KeyValue as gogoproto marshals it) and so HashKV's CRC-32C,
 * and the backend's size accounting. Nothing is stored encoded: the simulated disk keeps objects.
 */

/** A key bucket key: 8 bytes big-endian main, '_', 8 bytes big-endian sub (etcd's revToBytes). */
export const revisionKeyLength = 17;
/** etcd marks a tombstone's bucket key with a trailing 't'. */
const tombstoneMark = 0x74;

/** A reusable byte buffer that grows as needed. */
export class ByteWriter {
  bytes = new Uint8Array(256);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  private room(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(value: number): void {
    this.room(1);
    this.bytes[this.length++] = value;
  }

  /** A byte string, one byte per char. */
  string(text: string): void {
    this.room(text.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A safe integer as 8 bytes big-endian (two's complement when negative). */
  uint64(value: number): void {
    this.room(8);
    const high = Math.floor(value / 0x1_0000_0000);
    const low = value - high * 0x1_0000_0000;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.length, 8);
    view.setInt32(0, high);
    view.setUint32(4, low);
    this.length += 8;
  }

  /** A protobuf varint of an int64 (a negative value takes 10 bytes, as in Go). */
  varint(value: number): void {
    assert(Number.isSafeInteger(value), () => `varint of ${value}`);
    if (value < 0) {
      let big = BigInt.asUintN(64, BigInt(value));
      while (big >= 0x80n) {
        this.byte(Number(big & 0x7fn) | 0x80);
        big >>= 7n;
      }
      this.byte(Number(big));
      return;
    }
    while (value >= 0x80) {
      this.byte((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.byte(value);
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

export function varintSize(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes a revision's bucket key (and etcd's tombstone mark). */
export function writeRevisionKey(out: ByteWriter, main: number, sub: number, tombstone: boolean): void {
  out.uint64(main);
  out.byte(0x5f); // '_'
  out.uint64(sub);
  if (tombstone) out.byte(tombstoneMark);
}

/** Writes a KeyValue as gogoproto marshals mvccpb.KeyValue: fields in number order, zero values left out. */
export function writeKeyValue(out: ByteWriter, kv: KeyValue): void {
  if (kv.key.length > 0) {
    out.byte(0x0a);
    out.varint(kv.key.length);
    out.string(kv.key);
  }
  if (kv.createRevision !== 0) (out.byte(0x10), out.varint(kv.createRevision));
  if (kv.modRevision !== 0) (out.byte(0x18), out.varint(kv.modRevision));
  if (kv.version !== 0) (out.byte(0x20), out.varint(kv.version));
  const valueSize = valueLength(kv);
  if (valueSize > 0) {
    out.byte(0x2a);
    out.varint(valueSize);
    if (kv instanceof SlabKeyValue) out.raw(kv.slab.subarray(kv.offset, kv.offset + valueSize));
    else out.string(kv.value);
  }
  if (kv.lease !== 0) (out.byte(0x30), out.varint(kv.lease));
}

/** The length of `writeKeyValue`'s output, without writing it. */
export function keyValueSize(kv: KeyValue): number {
  let size = 0;
  if (kv.key.length > 0) size += 1 + varintSize(kv.key.length) + kv.key.length;
  if (kv.createRevision !== 0) size += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0) size += 1 + varintSize(kv.version);
  const valueSize = valueLength(kv);
  if (valueSize > 0) size += 1 + varintSize(valueSize) + valueSize;
  if (kv.lease !== 0) size += 1 + varintSize(kv.lease);
  return size;
}

/** Continues a CRC-32C (Castagnoli, as Go's crc32.MakeTable(crc32.Castagnoli)) over the writer's bytes. */
export function crc32cUpdate(crc: number, out: ByteWriter): number {
  return crc32c.buf(out.view(), crc);
}

/** The CRC-32C of a byte string, continuing `crc` (0 to start). */
export function crc32cOfBytes(text: string, crc = 0): number {
  return crc32c.bstr(text, crc);
}

/**
 * Writes one key bucket entry as etcd stores it: the revision key, then the value. A tombstone
 * (version 0: every put has version >= 1) is stored as KeyValue{key} under a 't'-marked key.
 */
export function writeBucketEntry(out: ByteWriter, main: number, sub: number, kv: KeyValue): void {
  const tombstone = kv.version === 0;
  writeRevisionKey(out, main, sub, tombstone);
  if (!tombstone) writeKeyValue(out, kv);
  else if (kv.key.length > 0) {
    out.byte(0x0a);
    out.varint(kv.key.length);
    out.string(kv.key);
  }
}
