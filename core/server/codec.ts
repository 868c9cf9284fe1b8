import { ByteReader, ByteWriter, DecodeError } from '../base/byteCodec.ts';
import type { NodeCodec } from '../host/codec.ts';
import type { DurableRecord } from '../host/node.ts';
import { decodeBackendImage, encodeBackendImage, isBackendImage, type BackendImage } from '../mvcc/index.ts';
import { decodeMessage, encodeMessage, type SnapshotDataCodec } from '../raft/index.ts';
import { walRecordCodec } from '../replica/codec.ts';
import type { PeerMessage } from './peerMessage.ts';

/** A Raft snapshot's data: the backend image it carries. */
export const backendSnapshotCodec: SnapshotDataCodec = {
  encode: (data) => encodeBackendImage(data as BackendImage),
  decode: (bytes) => decodeBackendImage(bytes),
};

const walRecords = walRecordCodec(backendSnapshotCodec);

/** The member's durable files' records, by kind: the WAL's, the backend's commits, request id reservations. */
const recordKinds = ['wal', 'backend', 'request-ids'] as const;

function kindOf(record: DurableRecord): (typeof recordKinds)[number] {
  if (isBackendImage(record)) return 'backend';
  if ((record as { readonly type?: unknown }).type === 'request-ids') return 'request-ids';
  return 'wal';
}

/**
 * The etcd member's messages and records as bytes, for the runtime (the simulator passes objects):
 * Raft's messages with backend images as snapshot data, and one record codec for every file the
 * member writes — each record tagged with its kind.
 */
export const etcdCodec: NodeCodec<PeerMessage> = {
  message: {
    encode: (message) => encodeMessage(message, backendSnapshotCodec),
    decode: (bytes) => decodeMessage(bytes, backendSnapshotCodec),
  },
  record: {
    encode(record) {
      const kind = kindOf(record);
      const writer = new ByteWriter(64).uint8(recordKinds.indexOf(kind));
      if (kind === 'backend') writer.bytesField(encodeBackendImage(record as BackendImage));
      else if (kind === 'request-ids') writer.uint53((record as { readonly reservedBelow: number }).reservedBelow);
      else writer.bytesField(walRecords.encode(record));
      return writer.finish();
    },
    decode(bytes) {
      const reader = new ByteReader(bytes);
      const kind = recordKinds[reader.uint8()];
      let record: DurableRecord;
      if (kind === 'backend') record = decodeBackendImage(reader.bytesField());
      else if (kind === 'request-ids') record = { type: 'request-ids', reservedBelow: reader.uint53() };
      else if (kind === 'wal') record = walRecords.decode(reader.bytesField());
      else throw new DecodeError(`unknown record kind ${bytes[0]}`);
      reader.end();
      return record;
    },
  },
  carriesSnapshot: (message) => message.snapshot !== null,
};
