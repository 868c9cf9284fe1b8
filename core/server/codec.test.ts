import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import { DecodeError } from '../base/byteCodec.ts';
import type { DurableRecord } from '../host/node.ts';
import { backendFile, isBackendImage, type BackendImage } from '../mvcc/index.ts';
import type { Message, Snapshot } from '../raft/index.ts';
import { walFile, type WalRecord } from '../replica/wal.ts';
import { runSimulated } from './_test/simulatedCluster.ts';
import { etcdCodec } from './codec.ts';
import { requestIdsFile } from './requestIds.ts';

/** An image's contents (its tree's node layout is the library's business). */
function normalizeImage(image: BackendImage): unknown {
  return { meta: image.meta, sizeInUse: image.sizeInUse, size: image.size, keys: [...image.keys.entries()] };
}

function normalizeSnapshot(snapshot: Snapshot | null): unknown {
  return snapshot === null ? null : { metadata: snapshot.metadata, data: normalizeImage(snapshot.data as BackendImage) };
}

function normalizeRecord(record: DurableRecord): unknown {
  if (isBackendImage(record)) return normalizeImage(record);
  const wal = record as WalRecord;
  if (wal.type === 'snapshot') return { type: wal.type, snapshot: normalizeSnapshot(wal.snapshot) };
  if (wal.type === 'entries') return { type: wal.type, entries: [...wal.entries] };
  return record;
}

test('every message and every record of every file in a simulated run with faults survives the codec unchanged', (t) => {
  const failures: string[] = [];
  const seen = new Set<string>();
  const { result, sim } = runSimulated(1, {
    config: { snapshotCount: 20, snapshotCatchUpEntries: 4, strictReconfigCheck: false },
    membership: true,
    checked: false,
    observers: [
      {
        onSend(_from, _to, message: Message) {
          seen.add(message.type + (message.snapshot === null ? '' : '+snapshot'));
          const decoded = etcdCodec.message.decode(etcdCodec.message.encode(message));
          if (!isDeepStrictEqual({ ...decoded, entries: [...decoded.entries], snapshot: normalizeSnapshot(decoded.snapshot) }, { ...message, entries: [...message.entries], snapshot: normalizeSnapshot(message.snapshot) })) {
            failures.push(`${message.type} ${message.from}→${message.to}`);
          }
        },
      },
    ],
  });
  t.true(result.ok, result.violation?.message);
  let records = 0;
  for (const id of sim.members) {
    for (const file of [walFile, backendFile, requestIdsFile]) {
      for (const record of sim.disk(id).durableRecords(file)) {
        records++;
        const decoded = etcdCodec.record.decode(etcdCodec.record.encode(record));
        if (!isDeepStrictEqual(normalizeRecord(decoded), normalizeRecord(record))) failures.push(`${file} record on member ${id}`);
      }
    }
  }
  t.deepEqual(failures, []);
  t.true(seen.has('MsgSnap+snapshot'), `a snapshot went over the wire (seen: ${[...seen].sort().join(', ')})`);
  t.true(records > 50);
});

test('bytes the codec did not write are refused with a DecodeError', (t) => {
  t.throws(() => etcdCodec.record.decode(new Uint8Array([7])), { instanceOf: DecodeError });
  const reservation = etcdCodec.record.encode({ type: 'request-ids', reservedBelow: 65537 });
  t.deepEqual(etcdCodec.record.decode(reservation), { type: 'request-ids', reservedBelow: 65537 });
  t.throws(() => etcdCodec.record.decode(new Uint8Array([...reservation, 0])), { instanceOf: DecodeError });
});
