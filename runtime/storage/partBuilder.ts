import { crc32 } from 'node:zlib';
import { frameHeader, frameHeaderBytes, framePartBytes, partChecksum } from './frame.ts';

/**
 * One piece of a record framed as its payload is made (`PartBuilder`): a piece of payload, or the
 * header of a part that has just ended (it goes before that part's payload). `at`: its offset in
 * the framed record, headers included (the first part's header at 0).
 */
export type FramedPiece =
  | { readonly header: false; readonly bytes: Uint8Array; readonly at: number }
  | { readonly header: true; readonly bytes: Buffer; readonly at: number; readonly continued: boolean };

/**
 * Frames one record whose payload comes in pieces (a codec's slices, made across turns of the
 * event loop) into the same bytes `frameParts` (frame.ts) makes of the whole payload: parts of at
 * most `partBytes(n)` bytes for the n-th (from 0), each part's CRC-32 carried from piece to piece,
 * a part's header (its length, its CRC continued over the mark when more follows) known once it
 * ends. The one place the three in-turns framers share: the FileStore's large append (held in
 * memory), the streamed backend rewrite (written at its offsets into a prepared segment), the peer
 * transport's sliced message (whose head goes first as a part of its own). Where the bytes go is
 * theirs: `add` hands each piece over in order, and a payload piece is a view of the caller's
 * slice (copy it before taking the next slice: codecs reuse theirs). A part is ended when the
 * next byte comes or at `end`, so a payload that fills its last part exactly ends it there.
 */
export class PartBuilder {
  private part = 0;
  private partStart = 0;
  private partLength = 0;
  private partCrc = 0;
  private partCapacity: number;
  private position = frameHeaderBytes;
  private payload = 0;

  constructor(private readonly partBytes: (part: number) => number = () => framePartBytes) {
    this.partCapacity = this.capacityOf(0);
  }

  /** Payload bytes added so far. */
  get payloadBytes(): number {
    return this.payload;
  }

  /** The framed record's bytes so far, headers included (the current part's header counted). */
  get framedBytes(): number {
    return this.position;
  }

  /** The current part's size limit (its payload so far: `currentPartBytes`). */
  get currentPartCapacity(): number {
    return this.partCapacity;
  }

  /**
   * `bytes` split at part ends: its payload pieces, each ended part's header before the next
   * part's first piece. Lazy: iterate it to the end (a piece not taken is not added).
   */
  *add(bytes: Uint8Array): Generator<FramedPiece, void, undefined> {
    for (let rest = bytes; rest.byteLength > 0; ) {
      if (this.partLength === this.partCapacity) yield this.endPart(true);
      const piece = rest.subarray(0, this.partCapacity - this.partLength);
      rest = rest.subarray(piece.byteLength);
      this.partCrc = crc32(piece, this.partCrc);
      this.partLength += piece.byteLength;
      this.payload += piece.byteLength;
      const at = this.position;
      this.position += piece.byteLength;
      yield { header: false, bytes: piece, at };
    }
  }

  /** Ends the record: its last part's header. An empty payload is one empty part (as `frameParts` frames it). */
  end(): FramedPiece & { readonly header: true } {
    return this.endPart(false);
  }

  private endPart(continued: boolean): FramedPiece & { readonly header: true } {
    const header = { header: true as const, bytes: frameHeader(this.partLength, partChecksum(this.partCrc, continued), continued), at: this.partStart, continued };
    if (continued) {
      this.part++;
      this.partStart = this.position;
      this.position += frameHeaderBytes;
      this.partLength = 0;
      this.partCrc = 0;
      this.partCapacity = this.capacityOf(this.part);
    }
    return header;
  }

  private capacityOf(part: number): number {
    const bytes = this.partBytes(part);
    if (!(Number.isSafeInteger(bytes) && bytes > 0)) throw new RangeError(`a frame part must be a positive number of bytes, got ${bytes}`);
    return bytes;
  }
}

/**
 * A record framed in memory as its payload comes (`PartBuilder`): headers and payload chunks in
 * order, for a gathering write. Each part's payload is copied into chunks of at most
 * `chunkBytes(part's size limit)` bytes (never across a part's end), allocated as needed, the
 * last cut to what it holds; a part's header is a placeholder until the part ends.
 */
export class PartsInMemory {
  private readonly builder: PartBuilder;
  private readonly frames: Buffer[] = [];
  private headerAt = 0;
  private chunk: Buffer | null = null;
  private chunkUsed = 0;

  constructor(
    partBytes: (part: number) => number,
    private readonly chunkBytes: (partCapacity: number) => number,
  ) {
    this.builder = new PartBuilder(partBytes);
    this.frames.push(emptyHeader);
  }

  /** Payload bytes added so far. */
  get payloadBytes(): number {
    return this.builder.payloadBytes;
  }

  /** Copies `bytes` in (the caller may then reuse them). */
  add(bytes: Uint8Array): void {
    for (const piece of this.builder.add(bytes)) {
      if (piece.header) {
        this.place(piece.bytes, piece.continued);
        continue;
      }
      for (let at = 0; at < piece.bytes.byteLength; ) {
        this.chunk ??= Buffer.allocUnsafe(Math.min(this.chunkBytes(this.builder.currentPartCapacity), this.builder.currentPartCapacity));
        const copied = Math.min(piece.bytes.byteLength - at, this.chunk.byteLength - this.chunkUsed);
        this.chunk.set(piece.bytes.subarray(at, at + copied), this.chunkUsed);
        this.chunkUsed += copied;
        at += copied;
        if (this.chunkUsed === this.chunk.byteLength) this.endChunk();
      }
    }
  }

  /** The record's frames: each part's header, then its payload's chunks. */
  end(): Buffer[] {
    this.place(this.builder.end().bytes, false);
    return this.frames;
  }

  private place(header: Buffer, continued: boolean): void {
    this.endChunk();
    this.frames[this.headerAt] = header;
    if (!continued) return;
    this.headerAt = this.frames.length;
    this.frames.push(emptyHeader);
  }

  private endChunk(): void {
    if (this.chunk !== null && this.chunkUsed > 0) this.frames.push(this.chunk.subarray(0, this.chunkUsed));
    this.chunk = null;
    this.chunkUsed = 0;
  }
}

const emptyHeader = Buffer.alloc(0);
