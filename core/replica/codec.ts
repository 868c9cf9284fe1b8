import { ByteReader, ByteWriter, DecodeError } from '../base/byteCodec.ts';
import type { NodeCodec } from '../host/codec.ts';
import type { DurableRecord } from '../host/node.ts';
import {
  decodeMessage,
  encodeMessage,
  entriesByteSize,
  readEntries,
  readHardState,
  readSnapshot,
  type Message,
  type SnapshotDataCodec,
  writeEntries,
  writeHardState,
  writeSnapshot,
} from '../raft/index.ts';
import type { LogSnapshotData } from './logReplica.ts';
import type { WalRecord } from './wal.ts';

/**
 * The replicated log's snapshot data as bytes: only the first `count` values and indexes (the
 * arrays are shared with the live replica and may have grown since the snapshot was taken).
 */
export const logSnapshotDataCodec: SnapshotDataCodec = {
  encode(data) {
    const snapshot = data as LogSnapshotData;
    const writer = new ByteWriter(16 + snapshot.count * 16);
    writer.uint32(snapshot.count).float64(snapshot.digest);
    for (let i = 0; i < snapshot.count; i++) writer.float64(snapshot.values[i]!).uint53(snapshot.valueIndexes[i]!);
    writer.uint53List(snapshot.removed);
    return writer.finish();
  },
  decode(bytes) {
    const reader = new ByteReader(bytes);
    const count = reader.uint32();
    const digest = reader.float64();
    const values: number[] = [];
    const valueIndexes: number[] = [];
    for (let i = 0; i < count; i++) {
      values.push(reader.float64());
      valueIndexes.push(reader.uint53());
    }
    const removed = Object.freeze(reader.uint53List());
    reader.end();
    return Object.freeze({ values, valueIndexes, count, digest, removed } satisfies LogSnapshotData);
  },
};

const walRecordTypes = ['snapshot', 'entries', 'hardState'] as const;

/** About how many bytes `writeWalRecord` writes (a writer sized by it rarely grows). */
export function walRecordByteSize(record: WalRecord): number {
  return record.type === 'entries' ? 8 + entriesByteSize(record.entries) : 64;
}

/** A WAL record appended to what `writer` holds: its type, then the record. */
export function writeWalRecord(writer: ByteWriter, record: WalRecord, data: SnapshotDataCodec): void {
  writer.uint8(walRecordTypes.indexOf(record.type));
  switch (record.type) {
    case 'snapshot':
      writeSnapshot(writer, record.snapshot, data);
      break;
    case 'entries':
      writeEntries(writer, record.entries);
      break;
    case 'hardState':
      writeHardState(writer, record.hardState);
      break;
  }
}

/** One WAL record as bytes: its type, then the record (etcd's WAL holds the same three kinds). */
export function walRecordCodec(data: SnapshotDataCodec): NodeCodec<Message>['record'] {
  return {
    encode(value: DurableRecord) {
      const record = value as WalRecord;
      const writer = new ByteWriter(walRecordByteSize(record));
      writeWalRecord(writer, record, data);
      return writer.finish();
    },
    decode(bytes: Uint8Array): DurableRecord {
      const reader = new ByteReader(bytes);
      const type = walRecordTypes[reader.uint8()];
      let record: WalRecord;
      switch (type) {
        case 'snapshot':
          record = { type, snapshot: readSnapshot(reader, data) };
          break;
        case 'entries':
          record = { type, entries: readEntries(reader) };
          break;
        case 'hardState':
          record = { type, hardState: readHardState(reader) };
          break;
        default:
          throw new DecodeError(`unknown WAL record type ${bytes[0]}`);
      }
      reader.end();
      return record;
    },
  };
}

/** The replicated log's messages and WAL records as bytes. */
export const logCodec: NodeCodec<Message> = {
  message: {
    encode: (message) => encodeMessage(message, logSnapshotDataCodec),
    decode: (bytes) => decodeMessage(bytes, logSnapshotDataCodec),
  },
  record: walRecordCodec(logSnapshotDataCodec),
  carriesSnapshot: (message) => message.snapshot !== null,
};
