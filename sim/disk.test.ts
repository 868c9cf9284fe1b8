import test from 'ava';
import { never, ratio } from '../core/base/ratio.ts';
import { tornRecord, type DurableWrite } from '../core/host/node.ts';
import { BTree } from '../core/mvcc/btree.ts';
import { calmDisk, SimDisk } from './disk.ts';
import { explainFrozenEdit, RecordFreezer } from './recordFreezer.ts';
import { SeededRandom } from './rng.ts';

const append = (file: string, ...records: number[]): DurableWrite => ({ kind: 'append', file, records });

test('a crash keeps exactly the synced writes', (t) => {
  const disk = new SimDisk({ ...calmDisk, tornWrite: never }, new SeededRandom('crash'));
  disk.write([append('log', 1, 2)]);
  const { mark } = disk.beginSync();
  disk.write([append('log', 3)]); // after the sync began: not covered by it
  disk.completeSync(mark);
  disk.write([append('log', 4), { kind: 'replace', file: 'meta', records: ['x'] }]);
  t.is(disk.unsyncedWrites, 3);
  disk.crash();
  t.deepEqual(disk.read().files.get('log'), [1, 2]);
  t.false(disk.read().files.has('meta'));
  t.is(disk.stats.writesLost, 3);
  t.is(disk.unsyncedWrites, 0);
});

test('replace is atomic: the old contents or the new, never a mix', (t) => {
  const disk = new SimDisk(calmDisk, new SeededRandom('replace'));
  disk.write([append('f', 1, 2, 3)]);
  disk.completeSync(disk.beginSync().mark);
  disk.write([{ kind: 'replace', file: 'f', records: [9] }]);
  disk.crash();
  t.deepEqual(disk.read().files.get('f'), [1, 2, 3]);
  disk.write([{ kind: 'replace', file: 'f', records: [9] }]);
  disk.completeSync(disk.beginSync().mark);
  t.deepEqual(disk.read().files.get('f'), [9]);
});

test('a torn write leaves a torn record after the synced ones, and only on crash', (t) => {
  const disk = new SimDisk({ ...calmDisk, tornWrite: ratio(1, 1) }, new SeededRandom('torn'));
  disk.write([append('log', 1)]);
  disk.completeSync(disk.beginSync().mark);
  disk.write([append('log', 2), append('log', 3)]);
  t.deepEqual(disk.read().files.get('log'), [1], 'unsynced writes are not durable');
  disk.crash();
  t.deepEqual(disk.read().files.get('log'), [1, tornRecord]);
  t.is(disk.stats.tornWrites, 1);
});

test('what a restart reads is a copy: the next incarnation cannot change the disk by accident', (t) => {
  const disk = new SimDisk(calmDisk, new SeededRandom('copy'));
  disk.write([append('log', 1)]);
  disk.completeSync(disk.beginSync().mark);
  const files = disk.read().files;
  (files.get('log') as unknown[]).push(99);
  t.deepEqual(disk.read().files.get('log'), [1]);
});

test('sync latency is drawn from the configured range', (t) => {
  const disk = new SimDisk({ ...calmDisk, syncLatencyUsMin: 10, syncLatencyUsMax: 20 }, new SeededRandom('latency'));
  for (let i = 0; i < 200; i++) {
    const { latencyUs } = disk.beginSync();
    t.true(latencyUs >= 10 && latencyUs <= 20);
  }
});

test('a file over its record limit fails loudly', (t) => {
  const disk = new SimDisk({ ...calmDisk, recordsPerFileMax: 2 }, new SeededRandom('limit'));
  disk.write([append('log', 1, 2, 3)]);
  t.throws(() => disk.completeSync(disk.beginSync().mark), { message: /over the limit/ });
});

test('a record is frozen when written: an edit after the write fails at the edit, and the error says why', (t) => {
  const disk = new SimDisk(calmDisk, new SeededRandom('frozen'));
  const changes = [{ key: 'a', value: '1' }];
  const image = { type: 'image', meta: { index: 3 }, changes };
  disk.write([{ kind: 'append', file: 'db', records: [image] }]);
  const edit = t.throws(() => changes.push({ key: 'b', value: '2' }), { instanceOf: TypeError })!;
  t.throws(() => {
    (image.meta as { index: number }).index = 4;
  });
  t.throws(() => {
    changes[0]!.value = '9';
  });
  t.regex(explainFrozenEdit(edit)!, /an in-place edit of a frozen object \(the simulated disk freezes every record a write hands it/);
  t.is(explainFrozenEdit(new TypeError('x is not a function')), null);
  disk.completeSync(disk.beginSync().mark);
  t.deepEqual(disk.read().files.get('db'), [{ type: 'image', meta: { index: 3 }, changes: [{ key: 'a', value: '1' }] }]);
});

test('a frozen record: Maps and Sets refuse changes, a B-tree is frozen and its values too, and it still clones', (t) => {
  const disk = new SimDisk(calmDisk, new SeededRandom('collections'));
  const map = new Map([['a', { n: 1 }]]);
  const set = new Set([1]);
  const tree = new BTree<number, number[]>([[1, [10]]]);
  disk.write([{ kind: 'replace', file: 'f', records: [{ map, set, tree }] }]);
  t.throws(() => map.set('b', { n: 2 }), { message: /changed in place after it was written to the disk/ });
  t.throws(() => set.add(2), { message: /changed in place/ });
  t.throws(() => map.get('a')!.n++);
  t.throws(() => tree.set(2, [20]));
  t.throws(() => tree.get(1)!.push(11));
  const copy = tree.clone();
  copy.unfreeze();
  copy.set(2, [20]);
  t.deepEqual([tree.size, copy.size], [1, 2], 'a clone of the frozen tree is the backend\'s own to change');
});

test('a byte array cannot be frozen: one edited after the write fails the next read, naming the file', (t) => {
  const disk = new SimDisk(calmDisk, new SeededRandom('bytes'));
  const data = new Uint8Array([1, 2, 3]);
  disk.write([append('wal', 7), { kind: 'append', file: 'wal', records: [{ index: 1, data }] }]);
  disk.completeSync(disk.beginSync().mark);
  t.notThrows(() => disk.read());
  data[1] = 9;
  t.throws(() => disk.read(), { message: /^file wal: a byte array of a record was edited in place after it was written to the disk/ });
});

test("a lagging file (DiskOptions.lag): its writes are set aside from the syncs until the lag ends; caughtUp waits for those a completed sync covered; a crash loses them and their waiters", (t) => {
  const disk = new SimDisk({ ...calmDisk, lag: { file: 'db', chance: ratio(1, 1), usMin: 5_000, usMax: 5_000 } }, new SeededRandom('lag'));
  t.is(disk.write([append('wal', 1)]), null, 'another file never lags');
  t.is(disk.write([append('db', 10), append('wal', 2)]), 5_000, 'a db write starts a lag');
  t.is(disk.write([append('db', 11)]), null, 'one lag at a time: later db writes join it');
  const waited: string[] = [];
  disk.caughtUp(() => waited.push('before any sync'));
  t.deepEqual(waited, ['before any sync'], 'nothing a completed sync covered lags yet: at once');
  disk.completeSync(disk.beginSync().mark);
  t.deepEqual(disk.read().files.get('wal'), [1, 2]);
  t.false(disk.read().files.has('db'), 'the sync did not cover the lagging db writes');
  disk.caughtUp(() => waited.push('after the sync'));
  disk.write([append('db', 12)]); // after that sync: the lag holds it too, but no sync covered it
  t.deepEqual(waited, ['before any sync']);
  for (const done of disk.endLag()) done();
  t.deepEqual(waited, ['before any sync', 'after the sync']);
  t.deepEqual(disk.read().files.get('db'), [10, 11], 'what the sync covered is durable at the end of the lag');
  t.is(disk.unsyncedWrites, 1, 'the rest waits for the next sync');
  disk.completeSync(disk.beginSync().mark);
  t.deepEqual(disk.read().files.get('db'), [10, 11, 12]);

  t.is(disk.write([append('db', 13)]), 5_000);
  disk.completeSync(disk.beginSync().mark);
  disk.caughtUp(() => waited.push('lost'));
  disk.crash();
  t.deepEqual(disk.read().files.get('db'), [10, 11, 12]);
  t.deepEqual(disk.unsyncedWrites, 0);
  t.true(waited.every((what) => what !== 'lost'));
});

test('a sync completing after a later one (their marks are sequence numbers) makes nothing durable twice or early', (t) => {
  const disk = new SimDisk(calmDisk, new SeededRandom('marks'));
  disk.write([append('log', 1)]);
  const first = disk.beginSync().mark;
  disk.write([append('log', 2)]);
  const second = disk.beginSync().mark;
  disk.write([append('log', 3)]);
  disk.completeSync(second);
  t.deepEqual(disk.read().files.get('log'), [1, 2]);
  disk.completeSync(first);
  t.deepEqual(disk.read().files.get('log'), [1, 2]);
  t.is(disk.unsyncedWrites, 1);
});

test('a byte array edited after the write is caught after the event that edits it, not at a read that may never come (its file, node and events named)', (t) => {
  const freezer = new RecordFreezer();
  const disk = new SimDisk(calmDisk, new SeededRandom('bytes-soon'), freezer, 'node 2');
  const data = new Uint8Array([1, 2, 3, 4, 5]);
  freezer.checkEdits(0);
  disk.write([{ kind: 'append', file: 'wal', records: [{ index: 1, data }] }]);
  for (let event = 1; event <= 5; event++) freezer.checkEdits(event);
  data[4] = 9;
  t.throws(() => freezer.checkEdits(6), {
    message: 'node 2 file wal: a byte array of a record was edited in place after it was written to the disk (written at event 1, its ends unchanged after event 5, changed by event 6; records are immutable once written)',
  });
});

test('after every event only a byte array\'s ends are compared (its cost bounded); an edit in its middle is caught when it is read whole, 16 events after the write', (t) => {
  const freezer = new RecordFreezer();
  const disk = new SimDisk(calmDisk, new SeededRandom('bytes-middle'), freezer, 'node 3');
  const data = new Uint8Array(100);
  freezer.checkEdits(0);
  disk.write([{ kind: 'append', file: 'wal', records: [{ index: 1, data }] }]);
  freezer.checkEdits(1);
  data[50] = 1;
  for (let event = 2; event < 17; event++) freezer.checkEdits(event);
  t.throws(() => freezer.checkEdits(17), { message: /\(written at event 1, whole after event 0, changed by event 17;/ });
});

test('a byte array edited long after its write is caught within about its age again: checked at doubling intervals after its first 16 events', (t) => {
  const freezer = new RecordFreezer();
  const disk = new SimDisk(calmDisk, new SeededRandom('bytes-late'), freezer, 'node 1');
  const data = new Uint8Array(64);
  freezer.checkEdits(0);
  disk.write([{ kind: 'append', file: 'wal', records: [{ index: 1, data }] }]);
  for (let event = 1; event < 1000; event++) freezer.checkEdits(event);
  data[0] = 1;
  let caughtAt = -1;
  for (let event = 1000; event < 3000 && caughtAt < 0; event++) {
    try {
      freezer.checkEdits(event);
    } catch {
      caughtAt = event;
    }
  }
  t.is(caughtAt, 1024, 'an edit at age 999 is caught at the next check of its level (every 512 events)');
});

test('a byte array watched 2^21 events is left to the read\'s check (the watch keeps arrays alive, so it ends)', (t) => {
  const freezer = new RecordFreezer();
  const disk = new SimDisk(calmDisk, new SeededRandom('bytes-old'), freezer, 'node 1');
  const data = new Uint8Array(8);
  disk.write([{ kind: 'append', file: 'wal', records: [{ index: 1, data }] }]);
  disk.completeSync(disk.beginSync().mark);
  const last = 1 << 21;
  for (let event = 0; event <= last; event++) freezer.checkEdits(event);
  data[0] = 7;
  t.notThrows(() => freezer.checkEdits(last + 1));
  t.throws(() => disk.read(), { message: /^node 1 file wal: a byte array of a record was edited in place/ });
});
