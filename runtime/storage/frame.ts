import { crc32 } from 'node:zlib';

/**
 * Record framing for files and sockets: a 4-byte big-endian payload length, the payload's CRC-32
 * (node:zlib's, the IEEE polynomial), then the payload. etcd's WAL frames each record the same
 * way in spirit (a length, then a record holding a CRC); detcd's frames are its own format.
 *
 * A record larger than a part (`framePartBytes`; a whole backend image, a snapshot sent to a
 * follower) is framed as consecutive parts: every frame but the last has the length word's top
 * bit set ("continued"), and its checksum is the CRC-32 continued over one more byte (`continued`
 * mark), so a flipped flag is a checksum mismatch too. A reader joins a record's parts, and a torn
 * or corrupt part anywhere makes the whole record (from its first part) damage: a partial record
 * is never handed on. A record of one part is framed as before (old files read unchanged).
 */
export const frameHeaderBytes = 8;

/** A frame larger than this is refused on write and counts as corrupt on read. */
export const frameBytesMax = 256 * 1024 * 1024;

/** A record larger than this is framed as several parts of at most this many bytes each (writers may pass less: tests). */
export const framePartBytes = 16 * 1024 * 1024;

/**
 * The largest record a reader of a stream joins from parts (`FrameReader`): a peer's snapshot is
 * held whole before it is decoded. 2 GiB: the largest backend image the space quota's ceiling
 * allows is well under it (runtime/protocols/etcd.ts).
 */
export const recordBytesMax = 2 * 1024 * 1024 * 1024;

/** The length word's top bit: the record continues in the next frame. */
const continuedBit = 0x8000_0000;
const continuedMark = Buffer.of(0x2b);

/** The checksum a part's header holds: its payload's CRC-32, continued over the mark when the record goes on. */
export function partChecksum(payloadCrc: number, continued: boolean): number {
  return continued ? crc32(continuedMark, payloadCrc) : payloadCrc;
}

export function frame(payload: Uint8Array, partBytes = framePartBytes): Buffer {
  return Buffer.concat(frameParts(payload, partBytes));
}

/**
 * A record's frames as headers and payload pieces, uncopied, for a gathering write (writev): a WAL
 * snapshot of a 20 MB backend was copied twice more on its way to the file, on the event loop.
 * One header and the payload when it fits in `partBytes`; else a header before each part.
 */
export function frameParts(payload: Uint8Array, partBytes = framePartBytes): Buffer[] {
  if (!(Number.isSafeInteger(partBytes) && partBytes > 0 && partBytes <= frameBytesMax)) throw new RangeError(`a frame part must be 1 to ${frameBytesMax} bytes, got ${partBytes}`);
  if (payload.byteLength <= partBytes) return [frameHeader(payload.byteLength, crc32(payload)), asBuffer(payload)];
  const parts: Buffer[] = [];
  for (let at = 0; at < payload.byteLength; at += partBytes) {
    const part = asBuffer(payload.subarray(at, at + partBytes));
    const continued = at + partBytes < payload.byteLength;
    parts.push(frameHeader(part.byteLength, partChecksum(crc32(part), continued), continued), part);
  }
  return parts;
}

/** A frame's header for a payload of `length` bytes whose CRC-32 is `checksum` (a payload written in pieces: zlib's crc32 continues from a previous value); `continued`: a part followed by more of its record (pass `partChecksum`'s). */
export function frameHeader(length: number, checksum: number, continued = false): Buffer {
  if (length > frameBytesMax) throw new RangeError(`a frame of ${length} bytes is over the limit of ${frameBytesMax}`);
  const header = Buffer.allocUnsafe(frameHeaderBytes);
  header.writeUInt32BE(continued ? (length | continuedBit) >>> 0 : length, 0);
  header.writeUInt32BE(checksum, 4);
  return header;
}

/**
 * A payload of at most one part framed into `target` at `offset` (its header, then the payload, as
 * `frameParts` makes them): the peer sender gathers a flush's small messages into one buffer.
 * Returns the offset after it.
 */
export function frameInto(target: Buffer, offset: number, payload: Uint8Array): number {
  if (payload.byteLength > framePartBytes) throw new RangeError(`a frame of ${payload.byteLength} bytes is over a part of ${framePartBytes}`);
  target.writeUInt32BE(payload.byteLength, offset);
  target.writeUInt32BE(crc32(payload), offset + 4);
  target.set(payload, offset + frameHeaderBytes);
  return offset + frameHeaderBytes + payload.byteLength;
}

/** A header's length word as the part's length and whether its record continues. */
function lengthWord(word: number): { readonly length: number; readonly continued: boolean } {
  return { length: (word & ~continuedBit) >>> 0, continued: (word & continuedBit) !== 0 };
}

/** The same bytes as a Buffer, uncopied. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Why the readable part of a file ends before its last byte. */
export interface DamagedTail {
  /** Where the first unreadable record starts (its first part's frame): everything before it is good. */
  readonly offset: number;
  /** What is wrong with the record's first bad frame; 'unfinished record': a part says more follows, and the file (or its zero tail) ends there. */
  readonly reason: 'torn header' | 'torn payload' | 'checksum mismatch' | 'length over the limit' | 'bytes after the zero tail' | 'unfinished record';
  /** Bytes from `offset` to the end of the file, which recovery cuts off. */
  readonly bytes: number;
}

export interface ScannedFrames {
  /** Each record's payload (a record of several parts joined: see scanFrames). */
  readonly payloads: Uint8Array[];
  readonly damage: DamagedTail | null;
  /** Where the last good record ends: the next frame's offset (with `zeroTail`, the start of the zeros). */
  readonly end: number;
}

export interface ScanOptions {
  /**
   * The file was preallocated with zeros (a WAL segment): a zero length word ends the frames, as
   * in etcd's WAL decoder ("hit end of file or preallocated space"). Every byte after it must be
   * zero too: anything else is the rest of a write that never completed, and counts as damage.
   */
  readonly zeroTail?: boolean;
}

/**
 * Reads records until the end or the first torn or corrupt frame. Nothing after a bad frame is
 * trusted (a torn write may be followed by blocks of an older file): recovery stops there, as
 * etcd's WAL reader stops at the first CRC mismatch or short read; a bad part of a record of
 * several makes the whole record damage, from its first part on.
 *
 * A record of several parts is joined in place, in `bytes` (each part moved down over the headers
 * before it, once every part has passed its checksum): its payload is a view of `bytes`, as a
 * one-part record's is, and a 1 GiB backend image is not copied into a second buffer at start.
 * The caller's bytes inside such a record's frames then no longer match the file (headers overwritten).
 */
export function scanFrames(bytes: Uint8Array, options: ScanOptions = {}): ScannedFrames {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const payloads: Uint8Array[] = [];
  let offset = 0;
  const damage = (reason: DamagedTail['reason']): ScannedFrames => ({ payloads, damage: { offset, reason, bytes: bytes.byteLength - offset }, end: offset });
  while (offset < bytes.byteLength) {
    if (options.zeroTail === true && isZero(view, offset, Math.min(offset + 4, bytes.byteLength))) {
      return isZero(view, offset, bytes.byteLength) ? { payloads, damage: null, end: offset } : damage('bytes after the zero tail');
    }
    // The record's parts: [payload start, payload end) in `bytes`.
    const parts: [number, number][] = [];
    let at = offset;
    for (;;) {
      if (parts.length > 0 && (at >= bytes.byteLength || (options.zeroTail === true && isZero(view, at, Math.min(at + 4, bytes.byteLength))))) return damage('unfinished record');
      if (at + frameHeaderBytes > bytes.byteLength) return damage('torn header');
      const { length, continued } = lengthWord(view.readUInt32BE(at));
      const checksum = view.readUInt32BE(at + 4);
      if (length > frameBytesMax) return damage('length over the limit');
      const end = at + frameHeaderBytes + length;
      if (end > bytes.byteLength) return damage('torn payload');
      if (partChecksum(crc32(bytes.subarray(at + frameHeaderBytes, end)), continued) !== checksum) return damage('checksum mismatch');
      parts.push([at + frameHeaderBytes, end]);
      at = end;
      if (!continued) break;
    }
    payloads.push(joinInPlace(view, parts));
    offset = at;
  }
  return { payloads, damage: null, end: offset };
}

/** A record's parts moved together after its first (see scanFrames); one part is its own view. */
function joinInPlace(view: Buffer, parts: readonly [number, number][]): Uint8Array {
  const start = parts[0]![0];
  let joined = start;
  for (const [from, to] of parts) {
    if (from !== joined) view.copyWithin(joined, from, to);
    joined += to - from;
  }
  return view.subarray(start, joined);
}

const zeroChunk = Buffer.alloc(64 * 1024);

/** Whether bytes [from, to) are all zero (compared a chunk at a time: a 64 MB tail takes milliseconds). */
function isZero(view: Buffer, from: number, to: number): boolean {
  for (let at = from; at < to; at += zeroChunk.byteLength) {
    const length = Math.min(zeroChunk.byteLength, to - at);
    if (view.compare(zeroChunk, 0, length, at, at + length) !== 0) return false;
  }
  return true;
}

/** A record of several parts as a stream brought them, not yet copied into one payload (`FrameReader.pushRecords`). */
export class PartedRecord {
  constructor(
    readonly parts: readonly Buffer[],
    readonly byteLength: number,
  ) {}

  /** The payload: the parts copied into one buffer. */
  join(): Buffer {
    return Buffer.concat(this.parts as Buffer[], this.byteLength);
  }
}

/**
 * Splits a byte stream into records as chunks arrive (the peer transport's reader), joining a
 * record's parts. A frame whose length is over `maxFrameBytes`, a record of more than
 * `maxRecordBytes` or a checksum that does not match is a protocol error: the caller closes the
 * connection. A record's parts are held until its last arrives (at most `maxRecordBytes`), then
 * copied into one payload (`push`), or handed over as they are for the caller to join
 * (`pushRecords`: copying a 200 MiB snapshot in one go held a follower's loop ~0.2-0.4 s).
 */
export class FrameReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** The parts of a record whose last part has not arrived yet. */
  private parts: Buffer[] = [];
  private partsBytes = 0;

  constructor(
    private readonly maxFrameBytes = frameBytesMax,
    private readonly maxRecordBytes = recordBytesMax,
  ) {}

  /** Feeds a chunk; returns the complete payloads, or a string saying what is wrong. */
  push(chunk: Buffer): Uint8Array[] | string {
    const records = this.pushRecords(chunk);
    return typeof records === 'string' ? records : records.map((record) => (record instanceof PartedRecord ? record.join() : record));
  }

  /** Feeds a chunk; returns the complete records (one of several parts not joined), or a string saying what is wrong. */
  pushRecords(chunk: Buffer): (Uint8Array | PartedRecord)[] | string {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    const out: (Uint8Array | PartedRecord)[] = [];
    while (this.bufferedBytes >= frameHeaderBytes) {
      const head = this.peek(frameHeaderBytes);
      const { length, continued } = lengthWord(head.readUInt32BE(0));
      const checksum = head.readUInt32BE(4);
      if (length > this.maxFrameBytes) return `frame of ${length} bytes is over the limit of ${this.maxFrameBytes}`;
      if (this.partsBytes + length > this.maxRecordBytes) return `a record of more than ${this.maxRecordBytes} bytes (its parts so far ${this.partsBytes + length})`;
      if (this.bufferedBytes < frameHeaderBytes + length) break;
      const payload = this.take(frameHeaderBytes + length).subarray(frameHeaderBytes);
      if (partChecksum(crc32(payload), continued) !== checksum) return 'frame checksum mismatch';
      if (continued) {
        this.parts.push(payload);
        this.partsBytes += payload.byteLength;
        continue;
      }
      if (this.parts.length === 0) {
        out.push(payload);
        continue;
      }
      this.parts.push(payload);
      out.push(new PartedRecord(this.parts, this.partsBytes + payload.byteLength));
      this.parts = [];
      this.partsBytes = 0;
    }
    return out;
  }

  private peek(count: number): Buffer {
    if (this.buffered[0]!.byteLength < count) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0]!.subarray(0, count);
  }

  private take(count: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.buffered = rest.byteLength > 0 ? [rest] : [];
    this.bufferedBytes = rest.byteLength;
    return taken;
  }
}
