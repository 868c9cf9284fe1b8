import { crc32 } from 'node:zlib';
import type { SlicedMessage } from '../../core/host/codec.ts';
import { asBuffer, frameHeader, framePartBytes, partChecksum } from '../storage/frame.ts';
import type { Steps } from '../../core/base/steps.ts';
import { runInTurns } from './stepsInTurns.ts';

/** How long one turn of the event loop may spend encoding a sliced message's body. */
export const encodeTurnMs = 5;
/** The first part's buffer; each next one is twice the size, up to the part size. */
const firstPartBytes = 1024 * 1024;

export interface SlicedFrames {
  /** Headers and payload pieces, in order: the message framed as parts (frame.ts), for a gathering write. */
  readonly frames: readonly Buffer[];
  /** The message's bytes (the payload, headers not counted). */
  readonly bytes: number;
  /** Turns of the event loop its body took. */
  readonly turns: number;
  /** The longest of them, in ms (the event loop's longest wait on this message). */
  readonly longestTurnMs: number;
}

/**
 * Encodes a message given as a head and a body of slices (core's SlicedMessage: a snapshot
 * carrying a whole backend image) a turn of the event loop at a time, at most `turnMs` of each,
 * and frames it as one record of parts (frame.ts): the head, which holds the body's length and so
 * is made last, as a part of its own, then the body copied into part buffers of 1, 2, 4... MiB up
 * to `partBytes`, each part's CRC-32 continued slice by slice as they come. The record joined is
 * `encode(message)`'s bytes, as a reader joins any record's parts; only its cut into parts
 * differs from `frameParts` (which needs the whole payload first). Between turns the loop serves
 * everything else: encoding a 400 MiB snapshot whole held the leader's loop 3.6-5.1 s.
 * `abandoned`, asked after each turn: the transport stopped; resolves null then.
 */
export async function frameInTurns(message: SlicedMessage, options: { readonly partBytes?: number; readonly turnMs?: number; readonly abandoned?: () => boolean } = {}): Promise<SlicedFrames | null> {
  const partBytes = options.partBytes ?? framePartBytes;
  const turnMs = options.turnMs ?? encodeTurnMs;
  if (!(Number.isSafeInteger(partBytes) && partBytes > 0)) throw new RangeError(`a frame part must be a positive number of bytes, got ${partBytes}`);
  // Full parts' payloads and their CRCs; the part being filled.
  const parts: { readonly payload: Buffer; readonly crc: number }[] = [];
  let part = Buffer.allocUnsafe(Math.min(firstPartBytes, partBytes));
  let used = 0;
  let crc = 0;
  let bodyBytes = 0;
  // A step per slice: the loop turns once a turn has taken `turnMs`.
  function* copySlices(): Steps<void> {
    for (const slice of message.body) {
      bodyBytes += slice.byteLength;
      for (let rest = slice; rest.byteLength > 0; ) {
        if (used === part.byteLength) {
          parts.push({ payload: part, crc });
          part = Buffer.allocUnsafe(Math.min(part.byteLength * 2, partBytes));
          used = 0;
          crc = 0;
        }
        const piece = rest.subarray(0, part.byteLength - used);
        rest = rest.subarray(piece.byteLength);
        // Copied before the next slice is taken: the codec writes each over the one before.
        part.set(piece, used);
        used += piece.byteLength;
        crc = crc32(piece, crc);
      }
      yield;
    }
  }
  const copied = await runInTurns(copySlices(), { turnMs, ...(options.abandoned === undefined ? {} : { abandoned: options.abandoned }) });
  if (copied === null) return null;
  if (used > 0) parts.push({ payload: part.subarray(0, used), crc });
  const head = asBuffer(message.head(bodyBytes));
  const frames: Buffer[] = [frameHeader(head.byteLength, partChecksum(crc32(head), parts.length > 0), parts.length > 0), head];
  for (const [i, { payload, crc: payloadCrc }] of parts.entries()) {
    const continued = i < parts.length - 1;
    frames.push(frameHeader(payload.byteLength, partChecksum(payloadCrc, continued), continued), payload);
  }
  return { frames, bytes: head.byteLength + bodyBytes, turns: copied.turns, longestTurnMs: copied.longestTurnMs };
}
