import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Codec } from '../../core/host/codec.ts';
import { tornRecord, type DurableRecord } from '../../core/host/node.ts';
import { FileStore } from './fileStore.ts';
import { frame, scanFrames } from './frame.ts';
import { scratchFolder } from '../_test/scratch.ts';

const jsonCodec: Codec<DurableRecord> = {
  encode: (record) => new TextEncoder().encode(JSON.stringify(record)),
  decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as DurableRecord,
};

/** Segments of 256 bytes doubling to 1 KiB: a few records cross a boundary. */
const sizes = { firstBytes: 256, maxBytes: 1024 };
const opened: FileStore[] = [];
test.after.always(() => Promise.allSettled(opened.map((store) => store.close())));

function openStore(dataDir = scratchFolder('detcd-segments-')) {
  const lines: string[] = [];
  const store = new FileStore({ dataDir, codec: jsonCodec, log: (line) => lines.push(line), onFatal: (error) => { throw error; }, segmentSizes: sizes });
  opened.push(store);
  return { store, dataDir, lines };
}

const walDir = (dataDir: string) => join(dataDir, 'member', 'wal');
const segmentNames = (dataDir: string) => readdirSync(walDir(dataDir)).filter((entry) => entry.endsWith('.wal')).sort();
const segmentName = (sequence: number, base: number) => `${sequence.toString(16).padStart(16, '0')}-${base.toString(16).padStart(16, '0')}.wal`;
const record = (i: number) => `record ${String(i).padStart(3, '0')} ${'x'.repeat(40)}`;
const records = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => record(from + i));

/** Appends each value in its own write and sync (queued together, appends would go down in one write). */
async function appendAndSync(store: FileStore, values: readonly DurableRecord[]): Promise<void> {
  for (const value of values) {
    store.write([{ kind: 'append', file: 'wal', records: [value] }]);
    await new Promise<void>((resolve) => store.sync(resolve));
  }
}

/** A data dir whose WAL holds these values, written one sync at a time by a store since closed. */
async function closedLog(values: readonly DurableRecord[]): Promise<string> {
  const { store, dataDir } = openStore();
  store.read();
  await appendAndSync(store, values);
  await store.close();
  return dataDir;
}

test('the WAL fills preallocated segments and cuts to the next when a batch does not fit; read back in order across them', async (t) => {
  const dataDir = await closedLog(records(1, 40));
  const names = segmentNames(dataDir);
  t.true(names.length >= 3, `${names.length} segments`);
  t.deepEqual(names, names.map((_, i) => segmentName(i, 0)), 'sequences 0, 1, 2… of the log based at 0');
  // Sealed segments end at their last frame (etcd's cut() truncates); the last keeps its zero tail.
  for (const name of names.slice(0, -1)) t.is(scanFrames(readFileSync(join(walDir(dataDir), name))).damage, null, `${name} is whole frames`);
  const last = readFileSync(join(walDir(dataDir), names.at(-1)!));
  const scanned = scanFrames(last, { zeroTail: true });
  t.true(scanned.end < last.byteLength && scanned.damage === null, 'the last segment ends in zeros');
  t.is(statSync(join(walDir(dataDir), names.at(-1)!)).size, 1024, 'sizes doubled to the maximum');
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), records(1, 40));
});

test('a zero tail ends the log cleanly: appends after a restart continue in the same segment, without a torn-record report', async (t) => {
  const dataDir = await closedLog(records(1, 2));
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), records(1, 2));
  await appendAndSync(again.store, [record(3)]);
  await again.store.close();
  t.deepEqual(segmentNames(dataDir), [segmentName(0, 0)]);
  const third = openStore(dataDir);
  t.deepEqual(third.store.read().files.get('wal'), records(1, 3));
  t.deepEqual([...again.lines, ...third.lines], []);
});

test('bytes after a zero length word are the rest of a write that never completed: damage, never applied', async (t) => {
  const dataDir = await closedLog(records(1, 2));
  const path = join(walDir(dataDir), segmentName(0, 0));
  const bytes = readFileSync(path);
  const end = scanFrames(bytes, { zeroTail: true }).end;
  // The third record's later sector landed, its first (with the header) did not.
  frame(new TextEncoder().encode(JSON.stringify(record(3)))).copy(bytes, end + 8, 8);
  writeFileSync(path, bytes);
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), [...records(1, 2), tornRecord]);
  t.regex(again.lines[0]!, new RegExp(`^member/wal/${segmentName(0, 0)}: bytes after the zero tail at byte ${end} `));
});

test('a crash at a segment boundary: a prepared segment never renamed is removed, one renamed but unwritten reads as empty and takes the next appends', async (t) => {
  const dataDir = await closedLog(records(1, 3));
  // As if the process died inside cut(): the sealed segment is synced, the next one renamed in (zeros), nothing written to it yet…
  writeFileSync(join(walDir(dataDir), segmentName(1, 0)), Buffer.alloc(512));
  // …and the one after it was being prepared.
  writeFileSync(join(walDir(dataDir), 'segment.0.tmp'), Buffer.alloc(100));
  const again = openStore(dataDir);
  t.false(existsSync(join(walDir(dataDir), 'segment.0.tmp')), 'removed when the store opens');
  t.deepEqual(again.store.read().files.get('wal'), records(1, 3));
  await appendAndSync(again.store, [record(4)]);
  await again.store.close();
  t.deepEqual(segmentNames(dataDir), [segmentName(0, 0), segmentName(1, 0)]);
  t.true(readFileSync(join(walDir(dataDir), segmentName(1, 0))).includes(record(4)), 'the append went to the renamed segment');
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), records(1, 4));
  t.deepEqual(again.lines, []);
});

test('damage in a sealed segment ends the log there: the later segments are not used', async (t) => {
  const dataDir = await closedLog(records(1, 30));
  const names = segmentNames(dataDir);
  const path = join(walDir(dataDir), names[0]!);
  const bytes = readFileSync(path);
  bytes[bytes.byteLength - 3]! ^= 0xff;
  writeFileSync(path, bytes);
  const again = openStore(dataDir);
  const read = again.store.read().files.get('wal')!;
  t.is(read.at(-1), tornRecord);
  t.deepEqual(read.slice(0, -1), records(1, read.length - 1));
  t.regex(again.lines[0]!, new RegExp(`^member/wal/${names[0]}: checksum mismatch at byte \\d+ \\(\\d+ bytes after it are not used, nor the ${names.length - 1} later segments\\); recovering the ${read.length - 1} records before it$`));
});

test('a replace (compaction) starts a new log in a segment that is its own base and releases the older ones; leftovers of a crash before the release are removed at start', async (t) => {
  const { store, dataDir } = openStore();
  store.read();
  await appendAndSync(store, records(1, 30));
  const before = segmentNames(dataDir);
  store.write([{ kind: 'replace', file: 'wal', records: ['snapshot at 30'] }, { kind: 'append', file: 'wal', records: [record(31)] }]);
  await appendAndSync(store, [record(32)]);
  await store.close();
  const compacted = segmentName(before.length, before.length);
  t.deepEqual(segmentNames(dataDir), [compacted]);
  // A crash between the rename and the release leaves an older log beside the new one.
  writeFileSync(join(walDir(dataDir), before[0]!), frame(new TextEncoder().encode(JSON.stringify('stale'))));
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), ['snapshot at 30', record(31), record(32)]);
  t.deepEqual(segmentNames(dataDir), [compacted]);
  t.regex(again.lines[0]!, /a segment from before the last compaction; removed/);
});

test('a segment missing from the middle of the log stops the start with one clear line', async (t) => {
  const dataDir = await closedLog(records(1, 30));
  const names = segmentNames(dataDir);
  t.true(names.length >= 3);
  rmSync(join(walDir(dataDir), names[1]!));
  t.throws(() => openStore(dataDir).store.read(), { message: new RegExp(`segment ${names[1]} is missing or misnamed \\(found ${names[2]}\\)`) });
});

test("an earlier detcd's WAL, one grown file without a zero tail, is read whole and continued in a new segment", async (t) => {
  const dataDir = scratchFolder('detcd-segments-legacy-');
  mkdirSync(walDir(dataDir), { recursive: true });
  writeFileSync(join(walDir(dataDir), segmentName(0, 0)), Buffer.concat(records(1, 3).map((value) => frame(new TextEncoder().encode(JSON.stringify(value))))));
  const { store } = openStore(dataDir);
  t.deepEqual(store.read().files.get('wal'), records(1, 3));
  await appendAndSync(store, [record(4)]);
  await store.close();
  t.deepEqual(segmentNames(dataDir), [segmentName(0, 0), segmentName(1, 0)]);
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), records(1, 4));
});

test("the backend (db) is kept as segments too, beside the snapshots; an earlier detcd's member/snap/db is read as its first segment", async (t) => {
  const dataDir = scratchFolder('detcd-segments-db-');
  const snap = join(dataDir, 'member', 'snap');
  mkdirSync(snap, { recursive: true });
  writeFileSync(join(snap, 'db'), frame(new TextEncoder().encode(JSON.stringify('image 1'))));
  const { store } = openStore(dataDir);
  t.deepEqual(store.read().files.get('db'), ['image 1']);
  store.write([{ kind: 'append', file: 'db', records: ['delta 2'] }]);
  await new Promise<void>((resolve) => store.sync(resolve));
  t.deepEqual(readdirSync(snap).filter((entry) => !entry.endsWith('.tmp')).sort(), ['0000000000000001-0000000000000000.db', 'db']);
  t.is(store.segmentedBytes('db'), statSync(join(snap, 'db')).size + 256, 'the sealed file and the new segment, preallocated');
  store.write([{ kind: 'replace', file: 'db', records: ['image 3'] }]);
  await new Promise<void>((resolve) => store.sync(resolve));
  await store.close();
  t.deepEqual(readdirSync(snap).sort(), ['0000000000000002-0000000000000002.db']);
  t.deepEqual(openStore(dataDir).store.read().files.get('db'), ['image 3']);
});

test('segments double only when the log outgrows one: compactions (a small --snapshot-count) keep taking segments of the same size', async (t) => {
  const { store, dataDir } = openStore();
  store.read();
  for (let snapshot = 1; snapshot <= 4; snapshot++) {
    store.write([{ kind: 'replace', file: 'wal', records: [`snapshot ${snapshot}`] }, { kind: 'append', file: 'wal', records: [record(snapshot)] }]);
    await new Promise<void>((resolve) => store.sync(resolve));
  }
  await store.close();
  t.deepEqual(segmentNames(dataDir), [segmentName(3, 3)]);
  t.is(statSync(join(walDir(dataDir), segmentName(3, 3))).size, 256);
});

test('a segment of 200,000 small records reads back (regression: spreading them into one push overflowed the call)', async (t) => {
  const dataDir = scratchFolder('detcd-segments-many-');
  mkdirSync(walDir(dataDir), { recursive: true });
  const one = frame(new TextEncoder().encode('1'));
  writeFileSync(join(walDir(dataDir), segmentName(0, 0)), Buffer.concat(Array.from({ length: 200_000 }, () => one)));
  t.is(openStore(dataDir).store.read().files.get('wal')!.length, 200_000);
});
