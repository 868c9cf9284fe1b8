import test from 'ava';
import type { DurableWrite } from '../../core/host/node.ts';
import { installByteAllocator } from '../../core/base/byteCodec.ts';
import { Backend, metadataOnlyImage } from '../../core/mvcc/index.ts';
import type { BackendImage } from '../../core/mvcc/index.ts';
import { etcdCodec } from '../../core/server/codec.ts';
import { emptyConfState, type Snapshot } from '../../core/raft/index.ts';
import { recoverWal, type WalRecord } from '../../core/replica/wal.ts';
import { arrangeLocalSnapshot, arrangeWalSnapshotWrites, durableBarrier, postponeWalCompaction, type AdoptAside, type SetAside } from './walSnapshotWrites.ts';

/** A backend image at `index` holding one key, as a commit at that index writes it. */
function imageAt(index: number): BackendImage {
  const { backend } = Backend.open([]);
  backend.setConsistentIndex(index, 1);
  backend.beginWriteTxn();
  backend.append(2, 0, { key: 'key', createRevision: 2, modRevision: 2, version: 1, value: 'value'.repeat(100), lease: 0 });
  backend.endWriteTxn();
  return backend.snapshot();
}

function rewrite(index: number, image: BackendImage): DurableWrite {
  const snapshot: Snapshot = { metadata: { index, term: 1, confState: { ...emptyConfState, voters: [1] } }, data: image };
  const records: WalRecord[] = [{ type: 'snapshot', snapshot }, { type: 'hardState', hardState: { term: 1, vote: 1, commit: index } }];
  return { kind: 'replace', file: 'wal', records };
}

test('a local snapshot: the db commit at its index goes first, between barriers, and the WAL record keeps only the meta bucket', (t) => {
  const image = imageAt(7);
  const entries: DurableWrite = { kind: 'append', file: 'wal', records: [{ type: 'hardState', hardState: { term: 1, vote: 1, commit: 7 } }] };
  const db: DurableWrite = { kind: 'append', file: 'db', records: [image] };
  const reservation: DurableWrite = { kind: 'append', file: 'request-ids', records: [{ type: 'request-ids', reservedBelow: 10 }] };
  const arranged = arrangeWalSnapshotWrites([entries, rewrite(7, image), db, reservation]);
  t.deepEqual(arranged.map((write) => (write === durableBarrier ? 'barrier' : `${write.kind} ${write.file}`)), ['append wal', 'barrier', 'append db', 'barrier', 'replace wal', 'append request-ids']);
  const lightened = arranged[4] as DurableWrite;
  const record = lightened.records[0] as Extract<WalRecord, { type: 'snapshot' }>;
  const data = record.snapshot.data as BackendImage;
  t.true(data.metadataOnly);
  t.is(data.keys.size, 0);
  t.is(data.meta, image.meta, 'membership and consistent index stay');
  // On disk: a few bytes instead of the keyspace, and it reads back as metadata only.
  const whole = etcdCodec.record.encode(rewrite(7, image).records[0]!).byteLength;
  const encoded = etcdCodec.record.encode(record);
  t.true(encoded.byteLength < whole - 400, `${encoded.byteLength} bytes, whole ${whole}`);
  const decoded = etcdCodec.record.decode(encoded) as Extract<WalRecord, { type: 'snapshot' }>;
  t.true((decoded.snapshot.data as BackendImage).metadataOnly);
});

test('a snapshot whose index no db write in its batch reaches keeps the whole image', (t) => {
  const image = imageAt(7);
  const behind: readonly DurableWrite[] = [rewrite(7, image), { kind: 'append', file: 'db', records: [imageAt(6)] }];
  t.is(arrangeWalSnapshotWrites(behind), behind);
  const noDb: readonly DurableWrite[] = [rewrite(7, image)];
  t.is(arrangeWalSnapshotWrites(noDb), noDb);
  const installedWithoutDb: readonly DurableWrite[] = [{ ...rewrite(7, image), kind: 'append' }, { kind: 'replace', file: 'db', records: [imageAt(6)] }];
  t.is(arrangeWalSnapshotWrites(installedWithoutDb), installedWithoutDb, 'an install whose db replace is at another index: as made');
});

test("a snapshot installed from the leader: its image is set aside first, the WAL append keeps only the meta bucket, then the image becomes the db (etcd's <index>.snap.db)", (t) => {
  const image = imageAt(7);
  const oldCommit: DurableWrite = { kind: 'append', file: 'db', records: [imageAt(5)] };
  const reservation: DurableWrite = { kind: 'append', file: 'request-ids', records: [{ type: 'request-ids', reservedBelow: 10 }] };
  const installed: readonly DurableWrite[] = [{ ...rewrite(7, image), kind: 'append' }, oldCommit, reservation, { kind: 'replace', file: 'db', records: [image] }, { kind: 'append', file: 'db', records: [imageAt(8)] }];
  const arranged = arrangeWalSnapshotWrites(installed);
  t.deepEqual(
    arranged.map((write) => (write === durableBarrier ? 'barrier' : `${write.kind} ${write.file}`)),
    ['append db', 'setAside db', 'barrier', 'append wal', 'barrier', 'adoptAside db', 'append request-ids', 'append db'],
    "the old backend's commit before, the rest in order after the adoption",
  );
  const setAside = arranged[1] as SetAside;
  t.is(setAside.record, image);
  t.is(setAside.index, 7);
  t.is((arranged[5] as AdoptAside).index, 7);
  const records = (arranged[3] as DurableWrite).records as WalRecord[];
  t.deepEqual(records.map((record) => record.type), ['snapshot', 'hardState']);
  const data = (records[0] as Extract<WalRecord, { type: 'snapshot' }>).snapshot.data as BackendImage;
  t.true(data.metadataOnly === true && data.keys.size === 0);
  t.is(data.meta, image.meta);
});

test('a Raft message never carries a metadata-only image (a follower would install an empty keyspace)', (t) => {
  const image = imageAt(7);
  const lightened = arrangeWalSnapshotWrites([rewrite(7, image), { kind: 'append', file: 'db', records: [image] }]);
  const record = (lightened[3] as DurableWrite).records[0] as Extract<WalRecord, { type: 'snapshot' }>;
  const message = { type: 'MsgSnap', to: 2, from: 1, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: '', snapshot: record.snapshot };
  t.throws(() => etcdCodec.message.encode(message as never), { message: /metadata-only/ });
});

test('a local snapshot\'s WAL rewrite keeps only the entries after its index: the db holds the rest, and recovery replays from the snapshot on', (t) => {
  const image = imageAt(7);
  const entry = (index: number) => ({ type: 'normal' as const, term: 1, index, data: new Uint8Array(1000) });
  const withEntries = (indexes: number[]): DurableWrite => {
    const records = [...rewrite(7, image).records];
    records.splice(1, 0, { type: 'entries', entries: indexes.map(entry) });
    return { kind: 'replace', file: 'wal', records };
  };
  const db: DurableWrite = { kind: 'append', file: 'db', records: [image] };
  const kept = (arrangeWalSnapshotWrites([withEntries([4, 5, 6, 7, 8, 9]), db])[3] as DurableWrite).records as WalRecord[];
  t.deepEqual(kept.map((record) => record.type), ['snapshot', 'entries', 'hardState']);
  t.deepEqual((kept[1] as Extract<WalRecord, { type: 'entries' }>).entries.map((e) => e.index), [8, 9]);
  const none = (arrangeWalSnapshotWrites([withEntries([3, 4, 5, 6, 7]), db])[3] as DurableWrite).records as WalRecord[];
  t.deepEqual(none.map((record) => record.type), ['snapshot', 'hardState'], 'no empty entries record');
  // Whole-image rewrites (no db commit at the index in the batch) are left as the node made them.
  const alone: readonly DurableWrite[] = [withEntries([4, 5, 6, 7, 8])];
  t.is(arrangeWalSnapshotWrites(alone), alone);
});

test("a lightened snapshot record is encoded in buffers of its own size, not the keyspace's", (t) => {
  const { backend } = Backend.open([]);
  backend.setConsistentIndex(7, 1);
  backend.beginWriteTxn();
  for (let main = 2; main < 12; main++) backend.append(main, 0, { key: `key${main}`, createRevision: main, modRevision: main, version: 1, value: 'v'.repeat(200_000), lease: 0 });
  backend.endWriteTxn();
  const image = backend.snapshot();
  const arranged = arrangeWalSnapshotWrites([rewrite(7, image), { kind: 'append', file: 'db', records: [image] }]);
  const record = (arranged[3] as DurableWrite).records[0]!;
  let largest = 0;
  installByteAllocator((size) => {
    largest = Math.max(largest, size);
    return new Uint8Array(size);
  });
  try {
    etcdCodec.record.encode(record);
  } finally {
    installByteAllocator(null);
  }
  // A writer sized by the image's modelled size (2 MB here, tens of MB under check perf) made V8
  // scavenge for external memory pressure on every member at every snapshot.
  t.true(image.sizeInUse > 2_000_000);
  t.true(largest < 16 * 1024, `largest allocation ${largest} bytes`);
});

test('while the db file is being rewritten a local snapshot leaves the WAL uncompacted: no rewrite, no barrier, the db commit as made; at most once in a row', (t) => {
  const image = imageAt(7);
  const entries: DurableWrite = { kind: 'append', file: 'wal', records: [{ type: 'entries', entries: [{ type: 'normal', term: 1, index: 7, data: new Uint8Array(10) }] }, { type: 'hardState', hardState: { term: 1, vote: 1, commit: 7 } }] };
  const db: DurableWrite = { kind: 'append', file: 'db', records: [image] };
  const reservation: DurableWrite = { kind: 'append', file: 'request-ids', records: [{ type: 'request-ids', reservedBelow: 10 }] };
  const arranged = arrangeWalSnapshotWrites([entries, rewrite(7, image), db, reservation], { postponeCompaction: true });
  t.deepEqual(arranged, [entries, db, reservation]);
  t.deepEqual([false, true].map((last) => postponeWalCompaction(true, last)), [true, false], 'the next snapshot compacts, rewriting or not');
  t.false(postponeWalCompaction(false, false));
  // What the member logs and counts: postponed only where the compaction would have waited on the
  // db commit; a batch with no db commit at the index compacts as made, rewriting or not.
  t.deepEqual(arrangeLocalSnapshot([entries, rewrite(7, image), db, reservation], true, false), { arranged: [entries, db, reservation], postponed: true });
  const withoutDb = [entries, rewrite(7, image), reservation];
  t.deepEqual(arrangeLocalSnapshot(withoutDb, true, false), { arranged: withoutDb, postponed: false });
  t.false(arrangeLocalSnapshot([entries, rewrite(7, image), db, reservation], false, false).postponed);
  // What the WAL then holds reads back to the log the compacted one would: the same entries from
  // the compacted one's first on, the same hard state; only older entries (and snapshot) besides.
  const older: WalRecord[] = [{ type: 'snapshot', snapshot: { metadata: { index: 3, term: 1, confState: { ...emptyConfState, voters: [1] } }, data: metadataOnlyImage(imageAt(3)) } }, ...[4, 5, 6, 7].map((index): WalRecord => ({ type: 'entries', entries: [{ type: 'normal', term: 1, index, data: new Uint8Array(10) }] })), { type: 'hardState', hardState: { term: 1, vote: 1, commit: 7 } }];
  const compacted = arrangeWalSnapshotWrites([rewrite(7, image), db])[3] as DurableWrite;
  const asIs = recoverWal({ files: new Map([['wal', older]]) } as never);
  const rewritten = recoverWal({ files: new Map([['wal', compacted.records]]) } as never);
  t.deepEqual(asIs.hardState, rewritten.hardState);
  t.is(asIs.storage.lastIndex(), 7);
  t.is(asIs.storage.firstIndex(), 4);
  t.is(rewritten.storage.snapshot().metadata.index, 7);
});
