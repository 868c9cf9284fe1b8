import { crc32 } from 'node:zlib';
import type { SlicedMessage } from '../../core/host/codec.ts';
import { asBuffer, frameHeader, framePartBytes, partChecksum } from '../storage/frame.ts';
import type { Steps } from '../../core/base/steps.ts';
import { runInTurns } from './stepsInTurns.ts';
import { PartsInMemory } from '../storage/partBuilder.ts';

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
  // The body's parts: the n-th of at most firstPartBytes * 2^n, up to the part size, each one buffer.
  const body = new PartsInMemory((part) => Math.min(firstPartBytes * 2 ** part, partBytes), (partCapacity) => partCapacity);
  // A step per slice: the loop turns once a turn has taken `turnMs`.
  function* copySlices(): Steps<void> {
    for (const slice of message.body) {
      // Copied before the next slice is taken: the codec writes each over the one before.
      body.add(slice);
      yield;
    }
  }
  const copied = await runInTurns(copySlices(), { turnMs, ...(options.abandoned === undefined ? {} : { abandoned: options.abandoned }) });
  if (copied === null) return null;
  const bodyBytes = body.payloadBytes;
  const head = asBuffer(message.head(bodyBytes));
  // The head holds the body's length, so it is made last and goes first, as a part of its own.
  const frames: Buffer[] = [frameHeader(head.byteLength, partChecksum(crc32(head), bodyBytes > 0), bodyBytes > 0), head];
  if (bodyBytes > 0) frames.push(...body.end());
  return { frames, bytes: head.byteLength + bodyBytes, turns: copied.turns, longestTurnMs: copied.longestTurnMs };
}
