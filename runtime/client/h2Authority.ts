import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import hpack, { type Decompressor } from 'hpack.js';

/**
 * etcdctl 3.4 puts a member URL as given (`http://127.0.0.1:2379`) into HTTP/2's `:authority` for
 * the calls it sends to one named endpoint; Node's HTTP/2 (nghttp2) refuses an authority holding
 * '/' with a PROTOCOL_ERROR, Go's server accepts it. The client server reads each HTTP/2
 * connection's start (its SETTINGS ACK and first header block) before handing it to grpc-js: a
 * connection whose first `:authority` holds no '/' keeps its native socket; one that does is read
 * through an {@link AuthorityRewriter}, which re-encodes every header block with the scheme
 * stripped from the authority. Until its first header block the client port answers PINGs itself
 * ({@link takePings}) and ends a connection that sends none within its limit with {@link IDLE_GOAWAY}.
 */

/** HTTP/2's client connection preface. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/**
 * An empty SETTINGS frame, written as the server's preface before grpc-js has the connection:
 * grpc-go sends nothing past its own SETTINGS until the server's arrive. Empty means the
 * defaults, which the client assumes until then anyway; nghttp2's own SETTINGS follow.
 */
export const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/**
 * A GOAWAY (last stream 0, NO_ERROR, debug data "idle"): the server closes a connection that sent
 * no call within its limit, as grpc-go's MaxConnectionIdle does. No stream was processed, so a
 * client may retry anything it sent meanwhile on a new connection.
 */
export const IDLE_GOAWAY = Buffer.from([0, 0, 12, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x69, 0x64, 0x6c, 0x65]);

const FRAME_HEADER = 9;
const TYPE_HEADERS = 1;
const TYPE_SETTINGS = 4;
const TYPE_PING = 6;
/** A PING's payload: exactly 8 bytes (RFC 7540 6.7). */
const PING_PAYLOAD = 8;
const TYPE_CONTINUATION = 9;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** SETTINGS_MAX_FRAME_SIZE's default; grpc-js does not raise it, so frames we write stay within it. */
const MAX_FRAME_PAYLOAD = 16_384;
/**
 * The HPACK table size the client's encoder may use: SETTINGS_HEADER_TABLE_SIZE's default, which
 * neither grpc-js nor we change (our empty SETTINGS leave it too).
 */
const HPACK_TABLE_SIZE = 4096;
/** A header block (HEADERS and its CONTINUATIONs) longer than this ends the connection. */
const MAX_HEADER_BLOCK = 256 * 1024;

/** What the start of a client's HTTP/2 stream held, as far as it has arrived. */
export interface ClientStart {
  /** Where the first SETTINGS ACK frame begins (the ACK of {@link EMPTY_SETTINGS}), or null. */
  readonly ackAt: number | null;
  /** The first header block, once complete (its HEADERS and CONTINUATION fragments), or null. */
  readonly firstBlock: Buffer | null;
  /** False when the bytes are not well-formed HTTP/2: hand the connection on and let nghttp2 say so. */
  readonly wellFormed: boolean;
  /** Where each PING (not an ACK) before the first header block begins: the sniffer answers them. */
  readonly pingsAt: readonly number[];
}

/** Scans `head` (from the connection preface on) for the SETTINGS ACK and the first header block. */
export function scanClientStart(head: Buffer): ClientStart {
  if (!head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length)))) return { ackAt: null, firstBlock: null, wellFormed: false, pingsAt: [] };
  let ackAt: number | null = null;
  const pingsAt: number[] = [];
  const fragments: Buffer[] = [];
  let inBlock = false;
  let offset = H2_PREFACE.length;
  while (offset + FRAME_HEADER <= head.length) {
    const length = head.readUIntBE(offset, 3);
    const type = head[offset + 3]!;
    const flags = head[offset + 4]!;
    if (offset + FRAME_HEADER + length > head.length) break;
    const payload = head.subarray(offset + FRAME_HEADER, offset + FRAME_HEADER + length);
    if (inBlock && type !== TYPE_CONTINUATION) return { ackAt, firstBlock: null, wellFormed: false, pingsAt };
    if (type === TYPE_SETTINGS && (flags & FLAG_ACK) !== 0 && ackAt === null) ackAt = offset;
    if (type === TYPE_PING && (flags & FLAG_ACK) === 0) {
      if (length !== PING_PAYLOAD || head.readUInt32BE(offset + 5) !== 0) return { ackAt, firstBlock: null, wellFormed: false, pingsAt };
      pingsAt.push(offset);
    }
    if (type === TYPE_HEADERS || type === TYPE_CONTINUATION) {
      const fragment = type === TYPE_HEADERS ? headersFragment(payload, flags) : payload;
      if (fragment === null) return { ackAt, firstBlock: null, wellFormed: false, pingsAt };
      fragments.push(fragment);
      inBlock = (flags & FLAG_END_HEADERS) === 0;
      if (!inBlock) return { ackAt, firstBlock: Buffer.concat(fragments), wellFormed: true, pingsAt };
    }
    offset += FRAME_HEADER + length;
  }
  return { ackAt, firstBlock: null, wellFormed: true, pingsAt };
}

/** `head` without the 9-byte frame at `at`. */
export function withoutFrame(head: Buffer, at: number): Buffer {
  return Buffer.concat([head.subarray(0, at), head.subarray(at + FRAME_HEADER)]);
}

/**
 * The PINGs `start` found in `head`, taken out and answered: their ACKs (same payload, RFC 7540
 * 6.7) to write now, and `head` without them, so that nghttp2 does not answer them a second time
 * once it has the connection. A client with keepalive on (grpc-go's PermitWithoutStream) pings an
 * idle connection and closes it when no answer comes.
 */
export function takePings(head: Buffer, start: ClientStart): { rest: Buffer; answers: Buffer[] } {
  if (start.pingsAt.length === 0) return { rest: head, answers: [] };
  const kept: Buffer[] = [];
  const answers: Buffer[] = [];
  let from = 0;
  for (const at of start.pingsAt) {
    const frame = head.subarray(at, at + FRAME_HEADER + PING_PAYLOAD);
    const answer = Buffer.from(frame);
    answer[4] = FLAG_ACK;
    answers.push(answer);
    kept.push(head.subarray(from, at));
    from = at + frame.length;
  }
  kept.push(head.subarray(from));
  return { rest: Buffer.concat(kept), answers };
}

/** The `:authority` a client's first header block names, or null (none, or not decodable). */
export function firstAuthority(block: Buffer): string | null {
  try {
    return decodeBlock(newDecompressor(), block).find((header) => header.name === ':authority')?.value ?? null;
  } catch {
    return null;
  }
}

/** Whether an authority is one nghttp2 refuses for the character we can mend: '/' (a scheme, a path). */
export function needsRewrite(authority: string | null): boolean {
  return authority !== null && authority.includes('/');
}

/** `http://127.0.0.1:2379` -> `127.0.0.1:2379`: the scheme and any path dropped. */
export function plainAuthority(authority: string): string {
  const withoutScheme = authority.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const slash = withoutScheme.indexOf('/');
  return slash === -1 ? withoutScheme : withoutScheme.slice(0, slash);
}

/**
 * Rewrites a client's HTTP/2 byte stream (from the connection preface on) for nghttp2: every header
 * block is decoded with one HPACK decoder that follows the client encoder's dynamic table, and
 * re-encoded as literals without indexing and with raw strings (so the server's table stays empty
 * and no encoder state is kept), `:authority` through {@link plainAuthority}, re-split into frames
 * within {@link MAX_FRAME_PAYLOAD}. Padding is dropped; priority is kept. Every other frame passes
 * byte for byte, except the first SETTINGS ACK when `dropAck` (it acknowledges
 * {@link EMPTY_SETTINGS}, which nghttp2 did not send).
 */
export class AuthorityRewriter {
  private prefaceLeft = H2_PREFACE.length;
  private passLeft = 0;
  private pending: Buffer = Buffer.alloc(0);
  private readonly decompressor = newDecompressor();
  private block: Buffer[] = [];
  private blockBytes = 0;
  private blockStart: { streamId: number; endStream: boolean; priority: Buffer | null } | null = null;

  constructor(private dropAck: boolean) {}

  /** The bytes to hand on for `chunk`; throws on a stream it cannot follow (end the connection). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.prefaceLeft > 0 || this.passLeft > 0) {
        const take = Math.min(this.prefaceLeft > 0 ? this.prefaceLeft : this.passLeft, chunk.length - offset);
        out.push(chunk.subarray(offset, offset + take));
        if (this.prefaceLeft > 0) this.prefaceLeft -= take;
        else this.passLeft -= take;
        offset += take;
        continue;
      }
      // A frame header, and for header frames the whole frame, is gathered in `pending`.
      const headerFrame = this.pending.length >= FRAME_HEADER && (this.pending[3] === TYPE_HEADERS || this.pending[3] === TYPE_CONTINUATION);
      const want = headerFrame ? FRAME_HEADER + this.pending.readUIntBE(0, 3) : FRAME_HEADER;
      const take = Math.min(want - this.pending.length, chunk.length - offset);
      this.pending = Buffer.concat([this.pending, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.pending.length < FRAME_HEADER) continue;
      const length = this.pending.readUIntBE(0, 3);
      const type = this.pending[3]!;
      const flags = this.pending[4]!;
      if (this.blockStart !== null && type !== TYPE_CONTINUATION) throw new Error(`HTTP/2: a frame of type ${type} inside a header block`);
      if (type !== TYPE_HEADERS && type !== TYPE_CONTINUATION) {
        const isOurAck = type === TYPE_SETTINGS && (flags & FLAG_ACK) !== 0 && length === 0 && this.dropAck;
        if (isOurAck) this.dropAck = false;
        else out.push(this.pending);
        this.passLeft = length;
        this.pending = Buffer.alloc(0);
        continue;
      }
      if (length + this.blockBytes > MAX_HEADER_BLOCK) throw new Error(`HTTP/2: a header block over ${MAX_HEADER_BLOCK} bytes`);
      if (this.pending.length < FRAME_HEADER + length) continue;
      const frame = this.pending;
      this.pending = Buffer.alloc(0);
      out.push(...this.headerFrame(frame));
    }
    return out;
  }

  private headerFrame(frame: Buffer): Buffer[] {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fff_ffff;
    const payload = frame.subarray(FRAME_HEADER);
    if (type === TYPE_HEADERS) {
      if (this.blockStart !== null) throw new Error('HTTP/2: HEADERS inside a header block');
      const fragment = headersFragment(payload, flags);
      if (fragment === null) throw new Error('HTTP/2: a HEADERS frame whose padding exceeds it');
      const priority = (flags & FLAG_PRIORITY) !== 0 ? payload.subarray((flags & FLAG_PADDED) !== 0 ? 1 : 0).subarray(0, 5) : null;
      this.blockStart = { streamId, endStream: (flags & FLAG_END_STREAM) !== 0, priority };
      this.block.push(fragment);
      this.blockBytes += fragment.length;
    } else {
      if (this.blockStart === null || streamId !== this.blockStart.streamId) throw new Error('HTTP/2: a CONTINUATION outside its header block');
      this.block.push(payload);
      this.blockBytes += payload.length;
    }
    if ((flags & FLAG_END_HEADERS) === 0) return [];
    const start = this.blockStart;
    const headers = decodeBlock(this.decompressor, Buffer.concat(this.block));
    this.block = [];
    this.blockBytes = 0;
    this.blockStart = null;
    const rewritten = headers.map((header) => (header.name === ':authority' ? { ...header, value: plainAuthority(header.value) } : header));
    return frameBlock(encodeLiterals(rewritten), start!.streamId, start!.endStream, start!.priority);
  }
}

/**
 * `socket` as a Duplex whose readable side is the client's bytes through `rewriter`, starting with
 * `head` (bytes already read); what is written goes to the socket unchanged. The slow path: the
 * HTTP/2 server then reads it through a JavaScript stream.
 */
export function rewritingStream(socket: Socket, rewriter: AuthorityRewriter, head: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => void socket.write(chunk, callback),
    final: (callback) => {
      socket.end();
      callback();
    },
    destroy: (error, callback) => {
      socket.destroy();
      callback(error);
    },
  });
  const feed = (chunk: Buffer): void => {
    let out: Buffer[];
    try {
      out = rewriter.push(chunk);
    } catch (error) {
      stream.destroy(error as Error);
      return;
    }
    let more = true;
    for (const bytes of out) more = stream.push(bytes);
    if (!more) socket.pause();
  };
  feed(head);
  socket.on('data', feed);
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

/** A HEADERS payload's block fragment (padding and priority removed), or null if its padding overruns it. */
function headersFragment(payload: Buffer, flags: number): Buffer | null {
  let start = 0;
  let padding = 0;
  if ((flags & FLAG_PADDED) !== 0) {
    if (payload.length < 1) return null;
    padding = payload[0]!;
    start = 1;
  }
  if ((flags & FLAG_PRIORITY) !== 0) start += 5;
  if (start + padding > payload.length) return null;
  return payload.subarray(start, payload.length - padding);
}

function newDecompressor(): Decompressor {
  return hpack.decompressor.create({ table: { maxSize: HPACK_TABLE_SIZE } });
}

/** Decodes one complete header block; throws on a malformed one. */
function decodeBlock(decompressor: Decompressor, block: Buffer): { name: string; value: string; neverIndex: boolean }[] {
  decompressor.write(block);
  decompressor.execute();
  const headers = [];
  for (let header = decompressor.read(); header !== null; header = decompressor.read()) headers.push(header);
  return headers;
}

/** A header block of literals without indexing (never-indexed ones stay so), raw strings, new names. */
export function encodeLiterals(headers: readonly { name: string; value: string; neverIndex: boolean }[]): Buffer {
  const bytes: number[] = [];
  for (const header of headers) {
    bytes.push(header.neverIndex ? 0x10 : 0x00);
    for (const text of [header.name, header.value]) {
      const raw = Buffer.from(text, 'latin1');
      pushInteger(bytes, 0x00, 7, raw.length);
      for (const byte of raw) bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

/** HPACK's integer with an N-bit prefix (RFC 7541 5.1), the prefix's high bits being `first`. */
function pushInteger(bytes: number[], first: number, prefixBits: number, value: number): void {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) {
    bytes.push(first | value);
    return;
  }
  bytes.push(first | limit);
  let rest = value - limit;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
}

/** A header block as a HEADERS frame and as many CONTINUATIONs as it needs. */
function frameBlock(block: Buffer, streamId: number, endStream: boolean, priority: Buffer | null): Buffer[] {
  const frames: Buffer[] = [];
  let offset = 0;
  do {
    const first = offset === 0;
    const prefix = first && priority !== null ? priority : Buffer.alloc(0);
    const take = Math.min(MAX_FRAME_PAYLOAD - prefix.length, block.length - offset);
    const last = offset + take === block.length;
    const header = Buffer.alloc(FRAME_HEADER);
    header.writeUIntBE(prefix.length + take, 0, 3);
    header[3] = first ? TYPE_HEADERS : TYPE_CONTINUATION;
    header[4] = (first && endStream ? FLAG_END_STREAM : 0) | (first && priority !== null ? FLAG_PRIORITY : 0) | (last ? FLAG_END_HEADERS : 0);
    header.writeUInt32BE(streamId, 5);
    frames.push(header, prefix, block.subarray(offset, offset + take));
    offset += take;
  } while (offset < block.length);
  return frames.filter((bytes) => bytes.length > 0);
}
