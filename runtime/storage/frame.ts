import { crc32 } from 'node:zlib';

/**
 * Record framing for files and sockets: a 4-byte big-endian payload length, the payload's CRC-32
 * (node:zlib's, the IEEE polynomial), then the payload. etcd's WAL frames each record the same
 * way in spirit (a length, then a record holding a CRC); detcd's frames are its own format.
 */
export const frameHeaderBytes = 8;

/** A frame larger than this is refused on write and counts as corrupt on read. */
export const frameBytesMax = 256 * 1024 * 1024;

export function frame(payload: Uint8Array): Buffer {
  const [header, body] = frameParts(payload);
  return Buffer.concat([header, body]);
}

/**
 * A frame as its header and its payload, uncopied, for a gathering write (writev): a WAL snapshot
 * of a 20 MB backend was copied twice more on its way to the file, on the event loop.
 */
export function frameParts(payload: Uint8Array): [header: Buffer, payload: Buffer] {
  return [frameHeader(payload.byteLength, crc32(payload)), asBuffer(payload)];
}

/** A frame's header for a payload of `length` bytes whose CRC-32 is `checksum` (a payload written in pieces: zlib's crc32 continues from a previous value). */
export function frameHeader(length: number, checksum: number): Buffer {
  if (length > frameBytesMax) throw new RangeError(`a record of ${length} bytes is over the limit of ${frameBytesMax}`);
  const header = Buffer.allocUnsafe(frameHeaderBytes);
  header.writeUInt32BE(length, 0);
  header.writeUInt32BE(checksum, 4);
  return header;
}

/** The same bytes as a Buffer, uncopied. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Why the readable part of a file ends before its last byte. */
export interface DamagedTail {
  /** Where the first unreadable frame starts: everything before it is good. */
  readonly offset: number;
  readonly reason: 'torn header' | 'torn payload' | 'checksum mismatch' | 'length over the limit' | 'bytes after the zero tail';
  /** Bytes from `offset` to the end of the file, which recovery cuts off. */
  readonly bytes: number;
}

export interface ScannedFrames {
  readonly payloads: Uint8Array[];
  readonly damage: DamagedTail | null;
  /** Where the last good frame ends: the next frame's offset (with `zeroTail`, the start of the zeros). */
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
 * Reads frames until the end or the first torn or corrupt one. Nothing after a bad frame is
 * trusted (a torn write may be followed by blocks of an older file): recovery stops there, as
 * etcd's WAL reader stops at the first CRC mismatch or short read.
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
    if (offset + frameHeaderBytes > bytes.byteLength) return damage('torn header');
    const length = view.readUInt32BE(offset);
    const checksum = view.readUInt32BE(offset + 4);
    if (length > frameBytesMax) return damage('length over the limit');
    const end = offset + frameHeaderBytes + length;
    if (end > bytes.byteLength) return damage('torn payload');
    const payload = bytes.subarray(offset + frameHeaderBytes, end);
    if (crc32(payload) !== checksum) return damage('checksum mismatch');
    payloads.push(payload);
    offset = end;
  }
  return { payloads, damage: null, end: offset };
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

/**
 * Splits a byte stream into frames as chunks arrive (the peer transport's reader). A frame whose
 * length is over `frameBytesMax` or whose checksum does not match is a protocol error: the caller
 * closes the connection.
 */
export class FrameReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  constructor(private readonly maxBytes = frameBytesMax) {}

  /** Feeds a chunk; returns the complete payloads, or a string saying what is wrong. */
  push(chunk: Buffer): Uint8Array[] | string {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.byteLength;
    const out: Uint8Array[] = [];
    while (this.bufferedBytes >= frameHeaderBytes) {
      const head = this.peek(frameHeaderBytes);
      const length = head.readUInt32BE(0);
      if (length > this.maxBytes) return `frame of ${length} bytes is over the limit of ${this.maxBytes}`;
      if (this.bufferedBytes < frameHeaderBytes + length) break;
      const whole = this.take(frameHeaderBytes + length);
      const payload = whole.subarray(frameHeaderBytes);
      if (crc32(payload) !== head.readUInt32BE(4)) return 'frame checksum mismatch';
      out.push(payload);
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
