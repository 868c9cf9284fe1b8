import test from 'ava';
import { never, ratio } from '../core/base/ratio.ts';
import { tornRecord, type DurableWrite } from '../core/host/node.ts';
import { calmDisk, SimDisk } from './disk.ts';
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
