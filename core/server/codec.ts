import { assert } from '../base/assert.ts';
import { ByteReader, ByteWriter, DecodeError } from '../base/byteCodec.ts';
import { decodeUtf8, encodeUtf8 } from '../base/utf8.ts';
import type { Steps } from '../base/steps.ts';
import type { NodeCodec, SlicedMessage } from '../host/codec.ts';
import type { DurableRecord } from '../host/node.ts';
import { decodeBackendImage, decodeBackendImageInSteps, decodeBackendRecord, deltaChangeCount, encodeBackendDeltaSlices, encodeBackendImage, encodeBackendImageSlices, encodeBackendRecord } from '../mvcc/backendCodec.ts';
import { isBackendDeltaRecord } from '../mvcc/backendDelta.ts';
import { isBackendImage, PreparedIndex, ValueSlabs, type BackendImage } from '../mvcc/index.ts';
import { decodeMessage, decodeMessageInSteps, differsOnlyInRecipient, encodeMessage, encodeMessageHead, type Message, readdressed, type Snapshot, type SnapshotDataCodec } from '../raft/index.ts';
import { walRecordByteSize, walRecordCodec, writeWalRecord } from '../replica/codec.ts';
import type { WalRecord } from '../replica/wal.ts';
import { isRaftMessage, type PeerMessage, type ServerPeerMessage } from './peerMessage.ts';
import { isReservation, type Reservation } from './requestIds.ts';

/**
 * The etcd member's traffic as bytes (for the runtime; the simulator keeps the objects): Raft
 * messages whose snapshots carry a whole backend image, and the records of its three files — the
 * WAL (core/replica's records, the snapshot's data a backend image), the backend `db` (a whole
 * image after a replace, then one delta per commit: see core/mvcc/backendDelta.ts) and the
 * request id reservations. Each file record starts with a byte naming its family. Pure functions.
 */

/** A Raft snapshot's data is the backend image at the snapshot's index, always whole; its long values decoded into `values`'s slabs. */
function backendSnapshotDataCodec(values: ValueSlabs): SnapshotDataCodec {
  return {
    encode: (data) => {
      // A follower would install an empty keyspace: the image must be whole.
      assert((data as BackendImage).metadataOnly !== true, 'a Raft message carries a metadata-only snapshot image');
      return encodeBackendImage(data as BackendImage);
    },
    decode: (bytes) => decodeBackendImage(bytes, values),
  };
}

/** The snapshot data codec of encoders (nothing is decoded with it). */
const backendSnapshotEncoder = backendSnapshotDataCodec(new ValueSlabs(0));

/**
 * A WAL snapshot record's data: a whole image, or (after a byte no image starts with) one whose
 * keyspace is in the db file (`metadataOnly`). Old WALs hold whole images and still read.
 */
const metadataOnlyTag = 0x4d; // 'M'; a whole image starts with 1
function walSnapshotDataCodec(values: ValueSlabs): SnapshotDataCodec {
  return {
    encode: (data) => {
      const image = data as BackendImage;
      if (image.metadataOnly !== true) return encodeBackendImage(image);
      return encodeBackendImage(image, metadataOnlyTag);
    },
    decode: (bytes) => {
      if (bytes[0] !== metadataOnlyTag) return decodeBackendImage(bytes, values);
      const image = decodeBackendImage(bytes.subarray(1), values);
      if (image.keys.size !== 0) throw new DecodeError('a metadata-only snapshot image that holds keys');
      return { ...image, metadataOnly: true } satisfies BackendImage;
    },
  };
}

/** The WAL snapshot data codec of encoders (nothing is decoded with it). */
const walSnapshotEncoder = walSnapshotDataCodec(new ValueSlabs(0));

const walFamily = 0x57; // 'W'
const backendFamily = 0x42; // 'B'
const reservationFamily = 0x52; // 'R'

function tagged(family: number, payload: Uint8Array): Uint8Array {
  return new ByteWriter(payload.byteLength + 1).uint8(family).raw(payload).finish();
}

function encodeRecord(record: DurableRecord): Uint8Array {
  if (isBackendImage(record)) return encodeBackendRecord(record, backendFamily);
  if (isReservation(record)) return new ByteWriter(17).uint8(reservationFamily).uint53(record.reservedBelow).finish();
  // The family byte and the record in one writer: a snapshot's WAL rewrite (the 5,000 catch-up
  // entries, ~7 MB under check perf, on every member at once) was copied once more for one byte.
  const walRecord = record as WalRecord;
  const writer = new ByteWriter(1 + walRecordByteSize(walRecord)).uint8(walFamily);
  writeWalRecord(writer, walRecord, walSnapshotEncoder);
  return writer.finish();
}

/** Bytes per slice of a whole image: ~200 of check perf's revisions, a few ms to encode. */
const imageSliceBytes = 256 * 1024;
/** A whole image with fewer revisions is encoded in one go. */
const imageRevisionsSlicedMin = 1024;

/**
 * A delta record of fewer changes is encoded in one go: at check perf's 276-byte keys, 4,096
 * tombstones are ~1.2 MB (a few ms); its cleanup's 55k are ~15.9 MB (200+ ms in one turn).
 */
const deltaChangesSlicedMin = 4096;

/**
 * A whole backend image of many revisions (a backend file rewrite), or a backend commit's delta of
 * many changes (a huge DeleteRange's), in slices; anything else is encoded at once.
 */
function encodeRecordInSlices(record: DurableRecord, reuse = false): Iterable<Uint8Array> | null {
  if (!isBackendImage(record)) return null;
  if (record.delta !== undefined) return deltaChangeCount(record) < deltaChangesSlicedMin ? null : familySliced(backendFamily, encodeBackendDeltaSlices(record, imageSliceBytes, reuse));
  if (record.keys.size < imageRevisionsSlicedMin) return null;
  return familySliced(backendFamily, encodeBackendImageSlices(record, imageSliceBytes, reuse));
}

function* familySliced(family: number, slices: Iterable<Uint8Array>): Generator<Uint8Array> {
  yield Uint8Array.of(family);
  yield* slices;
}

function decodeRecord(bytes: Uint8Array, values: ValueSlabs, walRecords: ReturnType<typeof walRecordCodec>): DurableRecord {
  if (bytes.byteLength === 0) throw new DecodeError('an empty record');
  const payload = bytes.subarray(1);
  switch (bytes[0]) {
    case walFamily:
      return walRecords.decode(payload);
    case backendFamily: {
      const record = decodeBackendRecord(payload, values);
      if (!isBackendImage(record) && !isBackendDeltaRecord(record)) throw new DecodeError('not a backend record');
      return record;
    }
    case reservationFamily: {
      const reader = new ByteReader(payload);
      const reservation: Reservation = { type: 'request-ids', reservedBelow: reader.uint53() };
      reader.end();
      return reservation;
    }
    default:
      throw new DecodeError(`unknown record family ${bytes[0]}`);
  }
}

/**
 * The server's own peer messages (lease calls forwarded to the leader) are JSON after a byte no
 * Raft message starts with (Raft's first byte is its message type's number).
 */
const serverMessageTag = 0xf0;

/** The last Raft message encoded and its bytes: the same append to the next follower is a copy. */
let lastEncoded: { readonly message: Message; readonly bytes: Uint8Array } | null = null;

function encodePeerMessage(message: PeerMessage): Uint8Array {
  if (isRaftMessage(message)) {
    if (lastEncoded !== null && differsOnlyInRecipient(message, lastEncoded.message)) return readdressed(lastEncoded.bytes, message.to);
    const bytes = encodeMessage(message, backendSnapshotEncoder);
    // Only messages with entries are worth a copy (and worth holding on to).
    lastEncoded = message.entries.length > 0 && message.snapshot === null ? { message, bytes } : null;
    return bytes;
  }
  const json = encodeUtf8(JSON.stringify(message));
  return tagged(serverMessageTag, json);
}

/**
 * A Raft message carrying a snapshot of many revisions, as a head and its image's slices (see
 * SlicedMessage): the runtime's leader encodes it a slice per turn of its loop. Encoded whole,
 * a 400 MiB image held the leader's loop 3.6-5.1 s, and its followers elected another leader
 * (task snapturns). The image is frozen (a copy-on-write tree, as the backend rewrite's), so
 * slices taken turns later read the state of the snapshot's index. Smaller ones: null.
 */
function encodePeerMessageInSlices(message: PeerMessage): SlicedMessage | null {
  if (!isRaftMessage(message) || message.snapshot === null) return null;
  const image = message.snapshot.data as BackendImage;
  if (image.keys.size < imageRevisionsSlicedMin) return null;
  assert(image.metadataOnly !== true, 'a Raft message carries a metadata-only snapshot image');
  return { body: encodeBackendImageSlices(image, imageSliceBytes, true), head: (bodyBytes) => encodeMessageHead(message, bodyBytes) };
}

function decodePeerMessage(bytes: Uint8Array, snapshotData: SnapshotDataCodec): PeerMessage {
  if (bytes[0] !== serverMessageTag) return decodeMessage(bytes, snapshotData);
  let message: ServerPeerMessage;
  try {
    message = JSON.parse(decodeUtf8(bytes.subarray(1))) as ServerPeerMessage;
  } catch {
    throw new DecodeError('a server peer message that is not JSON');
  }
  if (message.type !== 'LeaseForward' && message.type !== 'LeaseForwardReply') throw new DecodeError('an unknown server peer message');
  return message;
}

/** A Raft message of at least this many bytes (a snapshot carrying many revisions) is decoded in steps. */
const messageBytesInStepsMin = 1024 * 1024;
/** Bytes of a snapshot's image decoded per step (whole revisions): about 1 ms, 256 KiB as for its encoding's slices. */
const imageBytesPerStep = imageSliceBytes;

/**
 * A large Raft message (a snapshot's whole backend image) decoded in steps, its image a slice of
 * revisions at a time (`decodeBackendImageInSteps`): the message `decodePeerMessage` returns. The
 * runtime's follower decodes it over turns of its loop: decoded in one go, a 200 MiB snapshot's
 * bytes held the loop for about half a second, 1 GiB for over ten. Smaller ones: null.
 */
function decodePeerMessageInSteps(bytes: Uint8Array, values: ValueSlabs): Steps<PeerMessage> | null {
  if (bytes.byteLength < messageBytesInStepsMin || bytes[0] === serverMessageTag) return null;
  return decodeMessageInSteps(bytes, (data) => decodeBackendImageInSteps(data, imageBytesPerStep, values));
}

/**
 * A received snapshot of many revisions, its key index built from its image in steps
 * (`PreparedIndex.inSteps`) and carried on the image, which the install adopts
 * (`StateMachine.fromSnapshot`): built in the install's one step, a 200 MiB image's index held the
 * follower's loop 1.0-1.3 s (task install). The message is the same but for the image's
 * `prepared`. Any other message: null (stepped as it is; the simulator's never come here).
 */
function preparePeerMessageInSteps(message: PeerMessage): Steps<PeerMessage> | null {
  if (!isRaftMessage(message) || message.snapshot === null) return null;
  const image = message.snapshot.data as BackendImage;
  if (image.metadataOnly === true || image.keys.size < imageRevisionsSlicedMin || !image.keys.isFrozen) return null;
  return withPreparedIndex(message, message.snapshot, image);
}

function* withPreparedIndex(message: Message, snapshot: Snapshot, image: BackendImage): Steps<PeerMessage> {
  const prepared = yield* PreparedIndex.inSteps(image.keys);
  return { ...message, snapshot: { ...snapshot, data: { ...image, prepared } satisfies BackendImage } };
}

/** Whether a peer message carries a Raft snapshot. */
export function carriesSnapshot(message: PeerMessage): boolean {
  return isRaftMessage(message) && message.snapshot !== null;
}

/**
 * A member's codec: what it decodes (its files, its peers' snapshots) puts long values into
 * `values`'s slabs, its own (core/mvcc/valueSlabs.ts; `etcdProtocol` makes one per protocol, the
 * runtime one per member; the simulator never decodes).
 */
export function etcdCodecWith(values: ValueSlabs): NodeCodec<PeerMessage> {
  const snapshotData = backendSnapshotDataCodec(values);
  const walRecords = walRecordCodec(walSnapshotDataCodec(values));
  return {
    message: { encode: encodePeerMessage, decode: (bytes) => decodePeerMessage(bytes, snapshotData) },
    record: { encode: encodeRecord, decode: (bytes) => decodeRecord(bytes, values, walRecords), encodeInSlices: encodeRecordInSlices },
    carriesSnapshot,
    encodeMessageInSlices: encodePeerMessageInSlices,
    decodeMessageInSteps: (bytes) => decodePeerMessageInSteps(bytes, values),
    prepareMessageInSteps: preparePeerMessageInSteps,
  };
}

/** A codec for tools, benches and tests (its decoders share one allocator); a member gets its own (`etcdCodecWith`). */
export const etcdCodec: NodeCodec<PeerMessage> = etcdCodecWith(new ValueSlabs());
