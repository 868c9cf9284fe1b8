import type { Steps } from '../base/steps.ts';
import type { DurableRecord } from './node.ts';

/** Bytes to values and back. `decode(encode(x))` equals x; `decode` throws a DecodeError on bytes it did not write. */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /**
   * For a value too large to encode in one go without stalling the host (a whole backend image):
   * its encoding as slices whose concatenation is `encode(value)`, produced lazily; null when the
   * value is small enough for `encode`. With `reuse`, the codec may write each slice into the bytes
   * of the one before: a slice is the caller's only until it takes the next (copy or write it
   * first). A 130 MiB backend rewrite in fresh 256 KiB buffers was 130 MiB of new ArrayBuffers in
   * 1-2.5 s, which V8 counts towards a full collection (task perfrun2).
   */
  encodeInSlices?(value: T, reuse?: boolean): Iterable<Uint8Array> | null;
}

/**
 * A message too large to encode in one go without stalling the host (a snapshot carrying a whole
 * backend image), as a short head and a long body: `head(n)` followed by `body`'s slices (n bytes
 * in all) are `encode(message)`'s bytes. The body is produced lazily, a slice at a time, and each
 * slice is the caller's only until it takes the next (the codec may write each over the one
 * before: copy it first); the head, which holds the body's length, is made once that is known.
 */
export interface SlicedMessage {
  readonly body: Iterable<Uint8Array>;
  head(bodyBytes: number): Uint8Array;
}

/**
 * How a protocol's traffic looks on a real wire and a real disk. The simulator passes messages and
 * records as JS objects; the runtime frames these bytes (length + CRC-32) into files and sockets.
 * Pure functions: the codecs live with the node (core/), the framing with the host (runtime/).
 */
export interface NodeCodec<Message> {
  /** Peer messages. */
  readonly message: Codec<Message>;
  /** The records of every durable file the node writes (never `tornRecord`: the host reports those). */
  readonly record: Codec<DurableRecord>;
  /**
   * Whether a message carries a snapshot: the transport reports its fate back to the node (etcd's
   * rafthttp calls ReportSnapshot when a MsgSnap is sent or lost).
   */
  carriesSnapshot(message: Message): boolean;
  /** A message too large for `message.encode` in one go (see SlicedMessage); null for any other. */
  readonly encodeMessageInSlices?: (message: Message) => SlicedMessage | null;
  /**
   * Bytes too large for `message.decode` in one go (a snapshot), decoded in steps a host may
   * spread over turns of its loop: the message `message.decode` returns (or its DecodeError,
   * thrown by a step); null for any other. The bytes must stay unchanged until the last step.
   */
  readonly decodeMessageInSteps?: (bytes: Uint8Array) => Steps<Message> | null;
  /**
   * Work a received message (one decoded in steps) needs before it is stepped that a host may
   * spread over turns of its loop, as its decode (a snapshot's key index, which the install then
   * adopts): steps that give the message to step, carrying that work; null when there is none.
   * A message stepped without it comes to the same state: the node does that work in its step.
   */
  readonly prepareMessageInSteps?: (message: Message) => Steps<Message> | null;
}
