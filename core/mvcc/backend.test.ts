import test from 'ava';
import { ErrCompacted } from '../api/errors.ts';
import { fromKey } from '../api/bytes.ts';
import { tornRecord } from '../base/durable.ts';
import { Backend, backendFile } from './backend.ts';
import { KvStore } from './kvStore.ts';
import { ok, putAll, read } from './_test/stores.ts';
import { StoreOnDisk } from '../../properties/mvcc/storeOnDisk.ts';

function hash(store: KvStore): number {
  return ok(store.hashKV()).hash;
}

test('writes are durable only once committed and synced; a crash keeps exactly the synced commits', (t) => {
  const member = new StoreOnDisk();
  putAll(member.store, ['a', '1']);
  member.commitAndSync();
  putAll(member.store, ['b', '2']);
  member.store.backend.commit();
  member.persist(); // in the page cache, not synced
  putAll(member.store, ['c', '3']); // not even committed
  member.crashAndRestart();
  t.deepEqual(read(member.store, '\0', fromKey), ['a=1']);
  t.is(member.store.revision, 2);
  putAll(member.store, ['d', '4']);
  t.is(member.store.revision, 3, 'the restarted store continues from its durable revision');
});

test('a commit with nothing pending writes nothing', (t) => {
  const member = new StoreOnDisk();
  t.false(member.store.backend.commit());
  putAll(member.store, ['a', '1']);
  t.true(member.store.backend.commit());
  t.false(member.store.backend.commit());
  t.is(member.store.backend.takeWrites().length, 1);
});

test('a write transaction that reaches the batch limit commits at its end, never inside it', (t) => {
  const member = new StoreOnDisk({ backend: { batchLimit: 3 } });
  putAll(member.store, ['a', '1'], ['b', '2']);
  t.false(member.store.backend.hasWrites);
  ok(member.store.txn({ success: [{ requestPut: { key: 'c', value: '3' } }, { requestPut: { key: 'd', value: '4' } }] }));
  const writes = member.store.backend.takeWrites();
  t.is(writes.length, 1, 'one commit, holding the whole txn');
  member.disk.write(writes);
  member.sync();
  member.crashAndRestart();
  t.deepEqual(read(member.store, '\0', fromKey), ['a=1', 'b=2', 'c=3', 'd=4']);
});

test('the consistent index is saved with the batch that holds the apply it describes', (t) => {
  const member = new StoreOnDisk();
  member.store.backend.setConsistentIndex(7, 2);
  putAll(member.store, ['a', '1']);
  member.commitAndSync();
  member.store.backend.setConsistentIndex(8, 2);
  putAll(member.store, ['b', '2']);
  member.store.backend.commit(); // not synced
  member.crashAndRestart();
  t.deepEqual([member.store.backend.consistentIndex, member.store.backend.term, member.store.revision], [7, 2, 2]);
  t.throws(() => member.store.backend.setConsistentIndex(6, 2), { message: /going back/ });
});

test('a torn last record is detected and cut off: the file is replaced before anything else is written', (t) => {
  const member = new StoreOnDisk({ tornWrite: true });
  putAll(member.store, ['a', '1']);
  member.commitAndSync();
  putAll(member.store, ['b', '2']);
  member.store.backend.commit();
  member.persist();
  const opened = member.crashAndRestart();
  t.true(opened.torn);
  t.is(member.disk.durableRecords(backendFile).at(-1), tornRecord);
  t.deepEqual(read(member.store, '\0', fromKey), ['a=1']);
  const writes = member.store.backend.takeWrites();
  t.is(writes[0]?.kind, 'replace');
  member.disk.write(writes);
  putAll(member.store, ['c', '3']);
  member.commitAndSync();
  t.false(member.disk.durableRecords(backendFile).includes(tornRecord));
  member.crashAndRestart();
  t.deepEqual(read(member.store, '\0', fromKey), ['a=1', 'c=3']);
});

/** A member with many revisions of few keys, compacted in batches of 2. */
function compactingMember(tornWrite = false): { member: StoreOnDisk; compactAt: number; before: number } {
  const member = new StoreOnDisk({ store: { compactionBatchLimit: 2 }, tornWrite });
  for (let i = 0; i < 12; i++) putAll(member.store, [`k${i % 3}`, `v${i}`]);
  member.store.deleteRange({ key: 'k2' });
  member.commitAndSync();
  const compactAt = member.store.revision - 2;
  ok(member.store.compact({ revision: compactAt }));
  return { member, compactAt, before: member.store.revision };
}

test('compaction commits its scheduled mark first, removes in batches each committed, and writes the finished mark last', (t) => {
  const { member, compactAt } = compactingMember();
  const scheduled = member.store.backend.takeWrites();
  t.is(scheduled.length, 1, 'the scheduled mark is committed at once');
  let batches = 0;
  while (member.store.stepCompaction()) batches++;
  t.true(batches >= 4, `${batches} batches`);
  t.is(member.store.backend.finishedCompactRevision, compactAt);
  t.is(member.store.backend.scheduledCompactRevision, compactAt);
});

test('a crash at any point of a compaction recovers: the compaction resumes, the revision never goes back (#17780)', (t) => {
  const reference = compactingMember();
  reference.member.store.finishCompaction();
  const expectedHash = hash(reference.member.store);
  for (let crashAfterSteps = 0; crashAfterSteps < 10; crashAfterSteps++) {
    const { member, compactAt, before } = compactingMember();
    member.sync();
    for (let i = 0; i < crashAfterSteps && member.store.stepCompaction(); i++) member.sync();
    member.crashAndRestart();
    t.is(member.store.revision, before, `revision after a crash at step ${crashAfterSteps}`);
    t.is(member.store.compactRevision, compactAt);
    t.is(member.store.range({ key: 'k0', revision: compactAt - 1 }), ErrCompacted);
    member.store.finishCompaction();
    t.is(hash(member.store), expectedHash, `hash after a crash at step ${crashAfterSteps}`);
    t.deepEqual(read(member.store, '\0', fromKey, compactAt), read(reference.member.store, '\0', fromKey, compactAt));
  }
});

// Stryker's survivor S1 (scenarios/mutations/stryker-triage-etcd.md): a restore that forgot the
// finished mark re-ran the finished compaction at every restart (same keyspace, a full scan more).
test('a restart after a finished compaction resumes nothing: no compaction pending, nothing written (etcd restore resumes only a scheduled mark above the finished one)', (t) => {
  const { member, compactAt } = compactingMember();
  member.store.finishCompaction();
  member.commitAndSync();
  member.crashAndRestart();
  t.is(member.store.compactRevision, compactAt);
  t.false(member.store.compacting, 'no compaction resumed');
  t.deepEqual(member.store.backend.takeWrites(), [], 'nothing written by the restart');
});

test('a crash before the scheduled mark is synced forgets the compaction; a compaction at revision 0 survives a restart', (t) => {
  const { member } = compactingMember();
  member.crashAndRestart();
  t.is(member.store.compactRevision, -1);
  const fresh = new StoreOnDisk();
  ok(fresh.store.compact({ revision: 0 }));
  fresh.sync();
  fresh.crashAndRestart();
  t.is(fresh.store.compactRevision, 0);
  t.is(fresh.store.compact({ revision: 0 }), ErrCompacted);
});

test('compaction at a tombstone keeps the tombstone (#18089) until a later compaction; restarts agree', (t) => {
  const member = new StoreOnDisk();
  putAll(member.store, ['a', '1'], ['b', '2']);
  member.store.deleteRange({ key: 'a' });
  ok(member.store.compact({ revision: 4 }));
  member.store.finishCompaction();
  member.commitAndSync();
  t.truthy(member.store.backend.get(4, 0), 'the tombstone at the compaction revision is kept');
  const before = hash(member.store);
  member.crashAndRestart();
  t.is(hash(member.store), before);
  putAll(member.store, ['c', '3']);
  ok(member.store.compact({ revision: 5 }));
  member.store.finishCompaction();
  t.is(member.store.backend.get(4, 0), undefined, 'a later compaction removes it');
});

test('defrag rewrites the file with one image; a crash before the replace is synced keeps the old file', (t) => {
  const member = new StoreOnDisk();
  for (let i = 0; i < 50; i++) putAll(member.store, [`k${i % 5}`, 'x'.repeat(100)]);
  member.commitAndSync();
  ok(member.store.compact({ revision: member.store.revision }));
  member.store.finishCompaction();
  member.commitAndSync();
  const recordsBefore = member.disk.durableRecords(backendFile).length;
  const sizeBefore = member.store.backend.size;
  t.true(member.store.backend.sizeInUse < sizeBefore, 'compaction frees space in use, not the file');
  const expected = hash(member.store);
  member.store.backend.defrag();
  member.persist();
  member.crashAndRestart();
  t.is(member.disk.durableRecords(backendFile).length, recordsBefore, 'the old file');
  t.is(hash(member.store), expected);
  member.store.backend.defrag();
  member.sync();
  t.is(member.disk.durableRecords(backendFile).length, 1);
  t.true(member.store.backend.size < sizeBefore, 'defrag shrinks the file');
  t.is(member.store.backend.size, member.store.backend.sizeInUse);
  member.crashAndRestart();
  t.is(hash(member.store), expected);
});

test('dbSize grows with writes and does not shrink on compaction', (t) => {
  const store = KvStore.open(Backend.create());
  const sizes: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 200; i++) putAll(store, [`key${i}`, 'v'.repeat(50)]);
    store.backend.commit();
    sizes.push(store.backend.size);
  }
  t.true(sizes[0]! < sizes[1]! && sizes[1]! < sizes[2]!, sizes.join(' < '));
  ok(store.compact({ revision: store.revision }));
  store.finishCompaction();
  store.backend.commit();
  t.is(store.backend.size, sizes[2]!);
});

test('a snapshot is an immutable image: a member that installs it continues exactly, and neither side changes the other', (t) => {
  const leader = KvStore.open(Backend.create());
  putAll(leader, ['a', '1'], ['b', '2']);
  leader.backend.setConsistentIndex(10, 3);
  const snapshot = leader.backend.snapshot();
  putAll(leader, ['c', '3']);
  const follower = KvStore.open(Backend.fromSnapshot(snapshot));
  t.deepEqual([follower.revision, follower.backend.consistentIndex], [3, 10]);
  t.is(follower.backend.takeWrites()[0]?.kind, 'replace', "installing replaces the member's file");
  putAll(follower, ['c', '3']);
  t.is(hash(follower), hash(leader));
  putAll(follower, ['d', '4']);
  t.deepEqual(read(leader, '\0', fromKey), ['a=1', 'b=2', 'c=3']);
  t.deepEqual(read(KvStore.open(Backend.fromSnapshot(snapshot)), '\0', fromKey), ['a=1', 'b=2'], 'the snapshot itself never changed');
  t.throws(() => snapshot.keys.set(99, []), { message: /frozen/ });
});

test('a snapshot taken mid-compaction resumes it where it is installed', (t) => {
  const { member, compactAt } = compactingMember();
  member.store.stepCompaction();
  const snapshot = member.store.backend.snapshot();
  const installed = KvStore.open(Backend.fromSnapshot(snapshot));
  t.is(installed.compactRevision, compactAt);
  t.true(installed.compacting);
  installed.finishCompaction();
  member.store.finishCompaction();
  t.is(hash(installed), hash(member.store));
});
