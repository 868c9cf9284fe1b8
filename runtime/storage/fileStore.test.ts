import test from 'ava';
import { closeSync, cpSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Codec } from '../../core/host/codec.ts';
import { HostLoop } from '../../core/host/hostLoop.ts';
import { tornRecord, type DurableRecord, type HostedNode } from '../../core/host/node.ts';
import { FileStore, type FileStoreOptions } from './fileStore.ts';
import type { SegmentedLog } from './segmentedLog.ts';
import { frame, frameHeaderBytes } from './frame.ts';
import { durableBarrier } from './walSnapshotWrites.ts';
import { scratchFolder } from '../_test/scratch.ts';

/** The WAL's first segment (sequence 0 of base 0): the name an earlier detcd gave its one WAL file. */
const firstSegment = (dataDir: string) => join(dataDir, 'member', 'wal', '0000000000000000-0000000000000000.wal');

const jsonCodec: Codec<DurableRecord> = {
  encode: (record) => new TextEncoder().encode(JSON.stringify(record)),
  decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as DurableRecord,
};

const opened: FileStore[] = [];
// Stores opened only to read them back still prepare their next WAL segment: close them all.
test.after.always(() => Promise.allSettled(opened.map((store) => store.close())));

function openStore(dataDir = scratchFolder('detcd-store-'), heldAppendMs?: number) {
  const lines: string[] = [];
  const fsyncs: number[] = [];
  const store = new FileStore({ dataDir, codec: jsonCodec, log: (line) => lines.push(line), onFsync: (_file, s) => fsyncs.push(s), onFatal: (error) => { throw error; }, ...(heldAppendMs === undefined ? {} : { heldAppendMs }) });
  opened.push(store);
  return { store, dataDir, lines, fsyncs };
}

function syncNow(store: FileStore): Promise<void> {
  return new Promise((resolve) => store.sync(resolve));
}

test("records appended and synced are read back in order from etcd's member/wal layout", async (t) => {
  const { store, dataDir } = openStore();
  t.deepEqual([...store.read().files], []);
  store.write([{ kind: 'append', file: 'wal', records: [{ a: 1 }, { b: 2 }] }]);
  store.write([{ kind: 'append', file: 'wal', records: [{ c: 3 }] }]);
  await syncNow(store);
  await store.close();
  t.true(existsSync(join(dataDir, 'member', 'wal', '0000000000000000-0000000000000000.wal')));
  t.true(existsSync(join(dataDir, 'member', 'snap')));
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), [{ a: 1 }, { b: 2 }, { c: 3 }]);
});

test('syncs that queue up behind a running fsync share the next one (group commit)', async (t) => {
  const { store, fsyncs } = openStore();
  const done: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    store.write([{ kind: 'append', file: 'wal', records: [{ i }] }]);
    done.push(syncNow(store));
  }
  await Promise.all(done);
  t.is(store.stats.syncRequests, 50);
  t.true(store.stats.fsyncRounds <= 3, `${store.stats.fsyncRounds} fsync rounds for 50 syncs`);
  t.is(fsyncs.length >= store.stats.fsyncRounds, true);
  await store.close();
  t.is(openStore((store as unknown as { options: { dataDir: string } }).options.dataDir).store.read().files.get('wal')!.length, 50);
});

test('a sync completes only after every write queued before it, in the order written', async (t) => {
  const { store, dataDir } = openStore();
  const order: string[] = [];
  store.write([{ kind: 'append', file: 'wal', records: ['x'] }]);
  store.sync(() => order.push(`first sync sees x: ${readFileSync(firstSegment(dataDir)).includes('"x"')}`));
  store.write([{ kind: 'append', file: 'wal', records: ['y'] }]);
  await syncNow(store);
  order.push('second');
  t.deepEqual(order, ['first sync sees x: true', 'second']);
  await store.close();
});

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * How long a test waits for what must come before it calls it lost: a bound on a hang, not a
 * timing. Wide, since a niced test process on a loaded 2-core host waited over 5 s for a write
 * through libuv's pool (session 19).
 */
const patienceMs = 60_000;

/** Slices a slicing codec takes at most (~6 ms each, ~60 s): a store that waited for the whole encoding fails, not hangs. */
const slicesMax = 10_000;

/** Polls `condition` every 5 ms for up to `ms` (a write through libuv's pool on a loaded machine). */
async function eventually(condition: () => boolean, ms = patienceMs): Promise<boolean> {
  const started = performance.now();
  while (!condition() && performance.now() - started < ms) await new Promise((resolve) => setTimeout(resolve, 5));
  return condition();
}

test('a WAL append no sync follows (a commit index) is held: written in front of the next append, before a sync, after a while, or at close', async (t) => {
  // Held for a minute: what is written early here is written by the next operation, not the timer.
  const { store, dataDir } = openStore(undefined, 60_000);
  const walHas = (text: string) => readFileSync(firstSegment(dataDir)).includes(text);
  store.write([{ kind: 'append', file: 'wal', records: ['first'] }]);
  await syncNow(store);
  store.write([{ kind: 'append', file: 'wal', records: ['commit1'] }]);
  await turns(5);
  t.false(walHas('"commit1"'), 'held, not written');
  const bytes = store.stats.bytesWritten;
  // The next append takes it along, in front of itself, in one write.
  store.write([{ kind: 'append', file: 'wal', records: ['entries2'] }]);
  await syncNow(store);
  t.true(walHas('"commit1"') && walHas('"entries2"'));
  t.true(readFileSync(firstSegment(dataDir)).indexOf('"commit1"') < readFileSync(firstSegment(dataDir)).indexOf('"entries2"'));
  t.true(store.stats.bytesWritten > bytes);
  // Another file's write (the backend's) goes after it: the page cache holds a prefix of what was issued.
  store.write([{ kind: 'append', file: 'wal', records: ['commit2'] }]);
  await turns(5);
  t.false(walHas('"commit2"'));
  store.write([{ kind: 'append', file: 'db', records: ['delta'] }]);
  t.true(await eventually(() => walHas('"commit2"')), 'written before the other file');
  // At close.
  store.write([{ kind: 'append', file: 'wal', records: ['commit3'] }]);
  await turns(5);
  t.false(walHas('"commit3"'));
  await store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), ['first', 'commit1', 'entries2', 'commit2', 'commit3']);
  // Nothing else comes: written after a while (the default, 20 ms).
  const quiet = openStore();
  quiet.store.write([{ kind: 'append', file: 'wal', records: ['alone'] }]);
  t.true(await eventually(() => existsSync(firstSegment(quiet.dataDir)) && readFileSync(firstSegment(quiet.dataDir)).includes('"alone"')), 'written by its timer');
});

test('replace swaps the whole file atomically; a leftover temporary file is ignored and removed', async (t) => {
  const { store, dataDir } = openStore();
  store.write([{ kind: 'append', file: 'wal', records: [1, 2, 3] }, { kind: 'append', file: 'requests', records: ['a'] }]);
  store.write([{ kind: 'replace', file: 'wal', records: ['snapshot', 3] }, { kind: 'append', file: 'wal', records: [4] }]);
  store.write([{ kind: 'replace', file: 'requests', records: ['b'] }]);
  await syncNow(store);
  await store.close();
  const leftovers = [join(dataDir, 'member', 'wal', 'segment.1.tmp'), join(dataDir, 'member', 'requests.tmp')];
  for (const leftover of leftovers) writeFileSync(leftover, 'half a replace');
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), ['snapshot', 3, 4]);
  t.deepEqual(again.store.read().files.get('requests'), ['b']);
  for (const leftover of leftovers) t.false(existsSync(leftover));
});

test('a torn last record is reported and handed over as tornRecord; appending before cutting it is refused', async (t) => {
  const { store, dataDir } = openStore();
  store.write([{ kind: 'append', file: 'wal', records: ['one', 'two', 'three'] }]);
  await syncNow(store);
  await store.close();
  // A write torn inside a preallocated segment: its last sector never landed, zeros remain.
  const path = firstSegment(dataDir);
  const bytes = readFileSync(path);
  bytes.fill(0, 26 + 8 + 4, 26 + 8 + 7);
  writeFileSync(path, bytes);
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), ['one', 'two', tornRecord]);
  t.regex(again.lines[0]!, new RegExp(`^member/wal/0000000000000000-0000000000000000\\.wal: checksum mismatch at byte 26 \\(${bytes.byteLength - 26} bytes after it are not used\\); recovering the 2 records before it$`));
  t.throws(() => again.store.write([{ kind: 'append', file: 'wal', records: ['four'] }]), { message: /torn tail was not cut off/ });
  again.store.write([{ kind: 'replace', file: 'wal', records: ['one', 'two'] }, { kind: 'append', file: 'wal', records: ['four'] }]);
  await syncNow(again.store);
  await again.store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), ['one', 'two', 'four']);
});

test('a flipped bit ends the readable part at that record: nothing after it is applied', async (t) => {
  const { store, dataDir } = openStore();
  store.write([{ kind: 'append', file: 'wal', records: ['one', 'two', 'three'] }]);
  await syncNow(store);
  await store.close();
  const path = firstSegment(dataDir);
  const bytes = readFileSync(path);
  bytes[8 + 5 + 8 + 2]! ^= 0x10; // inside the payload of 'two'
  writeFileSync(path, bytes);
  const again = openStore(dataDir);
  t.deepEqual(again.store.read().files.get('wal'), ['one', tornRecord]);
  t.regex(again.lines[0]!, /checksum mismatch at byte 13/);
});

test('a record that passes its checksum but does not decode stops the start with the file named', async (t) => {
  const { store, dataDir } = openStore();
  store.write([{ kind: 'append', file: 'wal', records: ['ok'] }]);
  await syncNow(store);
  await store.close();
  const strict: Codec<DurableRecord> = { encode: jsonCodec.encode, decode: () => { throw new Error('unknown record type 7'); } };
  const reader = new FileStore({ dataDir, codec: strict, log: () => {}, onFatal: () => {} });
  opened.push(reader);
  t.throws(() => reader.read(), { message: 'member/wal/0000000000000000-0000000000000000.wal: record 0 passed its checksum but does not decode (unknown record type 7)' });
});

test('after close the store takes nothing: a stopping process writes no more (as if it had died first)', async (t) => {
  const { store, dataDir } = openStore();
  store.write([{ kind: 'append', file: 'wal', records: ['kept'] }]);
  await syncNow(store);
  await store.close();
  let synced = false;
  store.write([{ kind: 'append', file: 'wal', records: ['late'] }]);
  store.sync(() => (synced = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.false(synced);
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), ['kept']);
});

/**
 * A codec that encodes records marked `sliced` in slices (as the etcd codec does a whole backend
 * image) while `keepSlicing()` holds, each slice taking ~6 ms of the event loop: the store must
 * spread them over turns of the loop. `sliced` counts the slices taken.
 */
/** `failAfter`: the encoding throws after that many slices, and the store's failure is kept in `failed`. */
function slicingStore(keepSlicing: () => boolean, arrange?: FileStoreOptions['arrange'], failAfter?: number, extra: Partial<FileStoreOptions> = {}) {
  const progress = { sliced: 0 };
  const failed: Error[] = [];
  const codec: Codec<DurableRecord> = {
    ...jsonCodec,
    encodeInSlices(record) {
      if ((record as { sliced?: boolean }).sliced !== true) return null;
      return (function* () {
        yield new TextEncoder().encode('{"sliced":true,"pad":"');
        // Bounded: a store that waited for the whole encoding before syncing would make the test fail, not hang.
        for (let i = 0; i < slicesMax && keepSlicing(); i++) {
          if (i === failAfter) throw new Error('the encoding failed');
          const until = performance.now() + 6;
          while (performance.now() < until);
          progress.sliced++;
          yield new TextEncoder().encode('x');
        }
        yield new TextEncoder().encode('"}');
      })();
    },
  };
  const dataDir = scratchFolder('detcd-store-');
  const onFatal = (error: Error) => {
    if (failAfter === undefined) throw error;
    failed.push(error);
  };
  const store = new FileStore({ dataDir, codec, log: () => {}, onFatal, ...(arrange === undefined ? {} : { arrange }), ...extra });
  opened.push(store);
  return { store, dataDir, progress, failed };
}

/** Holds the backend's fsyncs (a streamed rewrite's, of its prepared segment: check perf's 130 MiB took 0.2-0.4 s) until `release`; `started` resolves at the first. */
function holdBackendSyncs(store: FileStore): { readonly started: Promise<void>; readonly release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let begin!: () => void;
  const started = new Promise<void>((resolve) => (begin = resolve));
  const internals = store as unknown as { timedSync: (handle: unknown, file: string) => Promise<void> };
  const timedSync = internals.timedSync.bind(store);
  internals.timedSync = async (handle, file) => {
    if (file === 'db') {
      begin();
      await held;
    }
    return timedSync(handle, file);
  };
  return { started, release };
}

test("a backend rewrite is encoded a slice per turn of the event loop; the WAL's syncs do not wait for it, the backend's later writes follow it in order", async (t) => {
  let release = false;
  const { store, dataDir, progress } = slicingStore(() => !release);
  store.read();
  store.write([{ kind: 'append', file: 'db', records: [{ d: 1 }] }]);
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ d: 2 }] }, { kind: 'append', file: 'wal', records: [{ w: 1 }] }]);
  await syncNow(store);
  t.true(progress.sliced < slicesMax, 'the WAL was synced while the rewrite was still being encoded');
  const slicedAtSync = progress.sliced;
  release = true;
  // Encoded now: the rewrite is being written in the background; the backend's next append and
  // the WAL's go to the queue, the former after it.
  await new Promise((resolve) => setTimeout(resolve, 20));
  store.write([{ kind: 'append', file: 'db', records: [{ d: 3 }] }, { kind: 'append', file: 'wal', records: [{ w: 2 }] }]);
  await syncNow(store);
  await store.close();
  t.true(slicedAtSync > 0, 'the encoding had begun, on later turns of the loop');
  const files = openStore(dataDir).store.read().files;
  t.deepEqual(files.get('wal'), [{ w: 1 }, { w: 2 }]);
  const db = files.get('db') as { sliced?: boolean; pad?: string; d?: number }[];
  t.deepEqual([db.length, db[0]!.sliced, db[1], db[2]], [3, true, { d: 2 }, { d: 3 }], 'the rewrite, then the appends made after it, in order');
});

test('a barrier written while a backend rewrite is being encoded holds every later write and sync until the rewrite is queued', async (t) => {
  let release = false;
  const barrierFirst: FileStoreOptions['arrange'] = (writes) => (writes.some((write) => write.file === 'wal' && write.kind === 'replace') ? [durableBarrier, ...writes] : writes);
  const { store, dataDir, progress } = slicingStore(() => !release, barrierFirst);
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  store.write([{ kind: 'replace', file: 'wal', records: [{ w: 'after the barrier' }] }]);
  let synced = false;
  const sync = syncNow(store).then(() => (synced = true));
  while (progress.sliced < 20) await new Promise((resolve) => setTimeout(resolve, 5));
  t.false(synced, 'the sync waits behind the barrier');
  release = true;
  await sync;
  await store.close();
  const files = openStore(dataDir).store.read().files;
  t.deepEqual(files.get('wal'), [{ w: 'after the barrier' }]);
  t.is((files.get('db') as { sliced?: boolean }[])[0]!.sliced, true);
});

test("a WAL append and sync queued while a backend rewrite is synced and renamed in do not wait for it; the backend's next write does", async (t) => {
  const { store, dataDir } = slicingStore(() => false);
  const dbSync = holdBackendSyncs(store);
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  await dbSync.started;
  store.write([{ kind: 'append', file: 'db', records: [{ d: 1 }] }, { kind: 'append', file: 'wal', records: [{ w: 1 }] }]);
  // A sync queued after them: the WAL's append is durable while the rewrite's fsync is still held.
  // (Without the release below a wait would never end: patienceMs is only the bound on a loaded machine, where 2 s once ran out.)
  const walSynced = await Promise.race([syncNow(store).then(() => true), new Promise<boolean>((resolve) => void setTimeout(() => resolve(false), patienceMs).unref())]);
  t.true(walSynced, "the WAL's sync waited for the rewrite's");
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 2 }] }]);
  t.true(await Promise.race([syncNow(store).then(() => true), new Promise<boolean>((resolve) => void setTimeout(() => resolve(false), patienceMs).unref())]), 'so did the next one');
  dbSync.release();
  await syncNow(store);
  await store.close();
  const files = openStore(dataDir).store.read().files;
  t.deepEqual(files.get('wal'), [{ w: 1 }, { w: 2 }]);
  const db = files.get('db') as { sliced?: boolean; d?: number }[];
  t.deepEqual([db.length, db[0]!.sliced, db[1]], [2, true, { d: 1 }], 'the rewrite, then the append made while it was synced');
});

test('arrange is told whether a backend rewrite is in flight: while it is encoded and while it is synced and renamed in, not before or after', async (t) => {
  let release = false;
  const told: boolean[] = [];
  const { store } = slicingStore(() => !release, (writes, { rewriting }) => {
    told.push(rewriting);
    return writes;
  });
  const dbSync = holdBackendSyncs(store);
  store.read();
  const wal = (w: number) => [{ kind: 'append' as const, file: 'wal', records: [{ w }] }];
  store.write(wal(1));
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  store.write(wal(2));
  release = true;
  await dbSync.started;
  store.write(wal(3));
  dbSync.release();
  await store.flush();
  store.write(wal(4));
  await store.close();
  // The rewrite's own write is told it is not (yet) in flight: it is what starts it.
  t.deepEqual(told, [false, false, true, true, false]);
});

test('a streamed rewrite copies the slices of a turn into one buffer it reuses; a slice larger than that buffer is written as it is', async (t) => {
  const pad = 'x'.repeat(3 * 1024 * 1024);
  const reused = new Uint8Array(64 * 1024);
  const codec: Codec<DurableRecord> = {
    ...jsonCodec,
    encodeInSlices(record, reuse) {
      if ((record as { big?: boolean }).big !== true) return null;
      t.true(reuse, 'the store lets the codec reuse its slices');
      return (function* () {
        yield new TextEncoder().encode('{"big":true,"pad":"');
        yield new TextEncoder().encode(pad);
        // Small slices in one reused array, each overwritten as soon as the next is taken.
        for (let i = 0; i < 100; i++) {
          reused.fill(0x79, 0, 1_000);
          yield reused.subarray(0, 1_000);
          reused.fill(0, 0, 1_000);
        }
        yield new TextEncoder().encode('"}');
      })();
    },
  };
  const dataDir = scratchFolder('detcd-store-');
  const store = new FileStore({ dataDir, codec, log: () => {}, onFatal: (error) => { throw error; } });
  opened.push(store);
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{ big: true }] }]);
  await syncNow(store);
  await store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('db'), [{ big: true, pad: pad + 'y'.repeat(100_000) }]);
});

test('a streamed rewrite that fails partway closes the segment it was written into', async (t) => {
  const { store, dataDir, failed } = slicingStore(() => true, undefined, 3);
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  while (failed.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  t.is(failed[0]!.message, 'the encoding failed');
  const fds = '/proc/self/fd';
  if (!existsSync(fds)) {
    t.pass('no /proc here to list open files');
    return;
  }
  const streamedOpen = () =>
    readdirSync(fds).some((fd) => {
      let path: string;
      try {
        path = readlinkSync(join(fds, fd));
      } catch {
        return false;
      }
      return path.startsWith(dataDir) && path.endsWith('.tmp') && readFileSync(path).subarray(frameHeaderBytes, frameHeaderBytes + 10).toString() === '{"sliced":';
    });
  // Closed before the failure is reported (left to the garbage collector, Node warns DEP0137).
  t.false(streamedOpen(), 'no open handle on the segment the rewrite was streamed into');
});

test("a backend rewrite is streamed into a segment not yet in the log: a crash while it is encoded leaves the old log; once renamed in, its bytes are the frame written whole", async (t) => {
  let release = false;
  const { store, dataDir, progress } = slicingStore(() => !release);
  store.read();
  store.write([{ kind: 'append', file: 'db', records: [{ d: 1 }] }]);
  await syncNow(store);
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  while (progress.sliced < 20) await new Promise((resolve) => setTimeout(resolve, 5));
  const snap = join(dataDir, 'member', 'snap');
  const streaming = readdirSync(snap)
    .filter((entry) => entry.endsWith('.tmp'))
    .map((entry) => readFileSync(join(snap, entry)))
    .find((bytes) => bytes.subarray(frameHeaderBytes, frameHeaderBytes + 10).toString() === '{"sliced":');
  t.truthy(streaming, 'the slices made so far are on disk, after the reserved header');
  t.true(streaming!.subarray(0, frameHeaderBytes).every((byte) => byte === 0), 'the header is written last');
  // A crash now: what the disk holds (the page cache) is copied and started from.
  const crashed = scratchFolder('detcd-store-');
  cpSync(dataDir, crashed, { recursive: true });
  t.deepEqual(openStore(crashed).store.read().files.get('db'), [{ d: 1 }], 'the old log: the segment was never renamed in');
  release = true;
  await syncNow(store);
  await store.close();
  t.is((openStore(dataDir).store.read().files.get('db') as { sliced?: boolean }[])[0]!.sliced, true);
  const segments = readdirSync(snap).filter((entry) => entry.endsWith('.db'));
  t.is(segments.length, 1, 'the rewrite is the whole log');
  const whole = frame(new TextEncoder().encode(`{"sliced":true,"pad":"${'x'.repeat(progress.sliced)}"}`));
  const onDisk = readFileSync(join(snap, segments[0]!));
  t.true(onDisk.subarray(0, whole.byteLength).equals(whole), 'the same bytes as the frame written whole');
  t.true(onDisk.subarray(whole.byteLength).every((byte) => byte === 0), 'then the zero tail');
});

/** A store whose records marked `sliced` are encoded in the slices of `sliceLengths` (a JSON string padded with x), framed in parts of `framePartBytes`. */
function partedStore(sliceLengths: readonly number[], framePartBytes: number, dataDir = scratchFolder('detcd-store-')) {
  const codec: Codec<DurableRecord> = {
    ...jsonCodec,
    encodeInSlices(record) {
      if ((record as { sliced?: boolean }).sliced !== true) return null;
      return [new TextEncoder().encode('{"sliced":true,"pad":"'), ...sliceLengths.map((length) => new TextEncoder().encode('x'.repeat(length))), new TextEncoder().encode('"}')];
    },
  };
  const lines: string[] = [];
  const store = new FileStore({ dataDir, codec, framePartBytes, log: (line) => lines.push(line), onFatal: (error) => { throw error; } });
  opened.push(store);
  return { store, dataDir, lines };
}

/** Two copies of `dataDir` whose backend segment `name` has a bit flipped at byte `at`, or zeros from `at` to `end` (a write torn there). */
function damagedCopies(dataDir: string, name: string, at: number, end?: number): { readonly flipped: string; readonly torn: string } {
  const copy = (damage: (bytes: Buffer) => void) => {
    const dir = scratchFolder('detcd-store-');
    cpSync(dataDir, dir, { recursive: true });
    const path = join(dir, 'member', 'snap', name);
    const bytes = readFileSync(path);
    damage(bytes);
    writeFileSync(path, bytes);
    return dir;
  };
  return { flipped: copy((bytes) => void (bytes[at]! ^= 0x04)), torn: copy((bytes) => void bytes.fill(0, at, end)) };
}

test("a backend rewrite larger than a frame part is streamed as parts, the same bytes as the record framed whole, and read back as one image; a corrupt or torn part anywhere is never applied", async (t) => {
  const sliceLengths = [1, 999, 1_000, 2_500, 7, 3 * 1024 * 1024, 40];
  const partBytes = 1_000;
  const { store, dataDir } = partedStore(sliceLengths, partBytes);
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ d: 1 }] }]);
  await syncNow(store);
  await store.close();
  const image = { sliced: true, pad: 'x'.repeat(sliceLengths.reduce((a, b) => a + b, 0)) };
  t.deepEqual(partedStore(sliceLengths, partBytes, dataDir).store.read().files.get('db'), [image, { d: 1 }]);
  const snap = join(dataDir, 'member', 'snap');
  const segment = join(snap, readdirSync(snap).find((entry) => entry.endsWith('.db'))!);
  const onDisk = readFileSync(segment);
  const whole = frame(new TextEncoder().encode(JSON.stringify(image)), partBytes);
  t.true(onDisk.subarray(0, whole.byteLength).equals(whole), 'the same bytes as frameParts makes');
  const parts = Math.ceil(whole.byteLength / (partBytes + frameHeaderBytes));
  t.true(parts > 3_000, `${parts} parts`);
  // A flipped bit in the first, a middle and the last part, and a write torn inside each.
  for (const at of [3, frameHeaderBytes + 500, Math.floor(whole.byteLength / 2), whole.byteLength - 5]) {
    const { flipped, torn } = damagedCopies(dataDir, segment.slice(snap.length + 1), at, whole.byteLength);
    const again = partedStore(sliceLengths, partBytes, flipped);
    t.deepEqual(again.store.read().files.get('db'), [tornRecord], `a bit flipped at byte ${at}`);
    t.regex(again.lines[0]!, /at byte 0 \(/);
    t.deepEqual(partedStore(sliceLengths, partBytes, torn).store.read().files.get('db'), [tornRecord], `torn at byte ${at}`);
  }
});

test("a large backend append (a huge DeleteRange's commit) is framed in turns into the same bytes as the record framed whole, parts and all; a torn or corrupt tail of it is cut as before", async (t) => {
  const sliceLengths = [1, 999, 1_000, 2_500, 7, 3 * 1024 * 1024, 40];
  const partBytes = 1_000;
  const { store, dataDir } = partedStore(sliceLengths, partBytes);
  store.read();
  store.write([{ kind: 'append', file: 'db', records: [{ d: 1 }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ sliced: true }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ d: 2 }] }]);
  await syncNow(store);
  await store.close();
  const image = { sliced: true, pad: 'x'.repeat(sliceLengths.reduce((a, b) => a + b, 0)) };
  t.deepEqual(partedStore(sliceLengths, partBytes, dataDir).store.read().files.get('db'), [{ d: 1 }, image, { d: 2 }]);
  const snap = join(dataDir, 'member', 'snap');
  const segment = join(snap, readdirSync(snap).find((entry) => entry.endsWith('.db'))!);
  const onDisk = readFileSync(segment);
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const whole = Buffer.concat([frame(encode({ d: 1 }), partBytes), frame(encode(image), partBytes), frame(encode({ d: 2 }), partBytes)]);
  t.true(onDisk.subarray(0, whole.byteLength).equals(whole), 'the same bytes as frameParts makes of each record');
  const first = frame(encode({ d: 1 }), partBytes).byteLength;
  const large = frame(encode(image), partBytes).byteLength;
  // Torn inside the large record (its first part, a middle one, its last), or a bit flipped in it: the records before it survive.
  for (const at of [first + 3, first + Math.floor(large / 2), first + large - 5]) {
    const { flipped, torn } = damagedCopies(dataDir, segment.slice(snap.length + 1), at);
    t.deepEqual(partedStore(sliceLengths, partBytes, flipped).store.read().files.get('db'), [{ d: 1 }, tornRecord], `a bit flipped at byte ${at}`);
    t.deepEqual(partedStore(sliceLengths, partBytes, torn).store.read().files.get('db'), [{ d: 1 }, tornRecord], `torn at byte ${at}`);
  }
});

test("a large backend append is encoded a slice per turn of the loop; a sync meanwhile does not wait for it (the db lags the WAL, as behind a rewrite); the backend's later writes, and a barrier with everything behind it, wait for it and follow it in order", async (t) => {
  let release = false;
  const barrierFirst: FileStoreOptions['arrange'] = (writes) => (writes.some((write) => write.file === 'wal' && write.kind === 'replace') ? [durableBarrier, ...writes] : writes);
  const { store, dataDir, progress } = slicingStore(() => !release, barrierFirst);
  store.read();
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 1 }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ d: 1 }] }, { kind: 'append', file: 'db', records: [{ sliced: true }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ d: 2 }] }]);
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 2 }] }]);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  // Done while the large append is still being encoded: what was queued before it, and the WAL's append after it, are durable.
  await syncNow(store);
  const slicedAtSync = progress.sliced;
  t.false(release);
  const copy = scratchFolder('detcd-store-');
  cpSync(dataDir, copy, { recursive: true });
  const files = openStore(copy).store.read().files;
  t.deepEqual([files.get('wal'), files.get('db')], [[{ w: 1 }, { w: 2 }], [{ d: 1 }]], 'a crash now: the WAL as written, the db before the large append (the WAL replays it)');
  // A barrier (a local snapshot's WAL rewrite) holds every later write and sync until the large append is written.
  store.write([{ kind: 'replace', file: 'wal', records: [{ w: 'after the barrier' }] }]);
  let synced = false;
  const sync = syncNow(store).then(() => (synced = true));
  while (progress.sliced < slicedAtSync + 20) await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(ticker);
  t.true(ticks > 0, 'the loop turned between slices');
  t.false(synced, 'the sync after the barrier waits for the large append');
  release = true;
  await sync;
  store.write([{ kind: 'append', file: 'db', records: [{ d: 3 }] }]);
  await syncNow(store);
  await store.close();
  const after = openStore(dataDir).store.read().files;
  t.deepEqual(after.get('wal'), [{ w: 'after the barrier' }]);
  const db = after.get('db') as { sliced?: boolean; d?: number }[];
  t.deepEqual([db.length, db[0], db[1]!.sliced, db[2], db[3]], [4, { d: 1 }, true, { d: 2 }, { d: 3 }], 'in the order written');
});

test('a large backend append written while a rewrite is being encoded is framed in turns once the rewrite is in: never encoded whole, a slice a turn, the same bytes as the records framed whole', async (t) => {
  const partBytes = 1_000;
  const encodedWhole: unknown[] = [];
  // Per record, each slice: whether it was taken in the same synchronous run as the slice before
  // it (no microtask checkpoint between them: the loop did not turn).
  let sameRun = false;
  const slicesOf = new Map<number, boolean[]>();
  const order: number[] = [];
  const codec: Codec<DurableRecord> = {
    encode(record) {
      if ((record as { sliced?: boolean }).sliced === true) encodedWhole.push(record);
      return jsonCodec.encode(record);
    },
    decode: jsonCodec.decode,
    encodeInSlices(record) {
      const { sliced, n } = record as { sliced?: boolean; n?: number };
      if (sliced !== true) return null;
      return (function* () {
        yield new TextEncoder().encode(`{"sliced":true,"n":${n},"pad":"`);
        for (let i = 0; i < 12; i++) {
          // Longer than a turn's budget: a store that takes two in one turn holds the loop twice as long.
          const until = performance.now() + 6;
          while (performance.now() < until);
          slicesOf.set(n!, [...(slicesOf.get(n!) ?? []), sameRun]);
          order.push(n!);
          sameRun = true;
          queueMicrotask(() => (sameRun = false));
          yield new TextEncoder().encode('x'.repeat(700));
        }
        yield new TextEncoder().encode('"}');
      })();
    },
  };
  const dataDir = scratchFolder('detcd-store-');
  const store = new FileStore({ dataDir, codec, framePartBytes: partBytes, log: () => {}, onFatal: (error) => { throw error; } });
  opened.push(store);
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true, n: 1 }] }]);
  store.write([{ kind: 'append', file: 'db', records: [{ sliced: true, n: 2 }] }]);
  t.is(slicesOf.get(2), undefined, 'nothing of the append is encoded in the turn that wrote it');
  store.write([{ kind: 'append', file: 'db', records: [{ d: 3 }] }]);
  await store.flush();
  await store.close();
  t.deepEqual(encodedWhole, [], 'neither record was encoded whole');
  t.deepEqual(order, [...Array.from({ length: 12 }, () => 1), ...Array.from({ length: 12 }, () => 2)], "the append's slices after the rewrite's");
  // A slice of ~6 ms each and turns of 5 ms: the loop turns between any two (the longest synchronous run is one slice).
  t.deepEqual(slicesOf.get(2), Array.from({ length: 12 }, () => false), 'one slice a turn');
  const pad = 'x'.repeat(12 * 700);
  const records = [{ sliced: true, n: 1, pad }, { sliced: true, n: 2, pad }, { d: 3 }];
  t.deepEqual(openStore(dataDir).store.read().files.get('db'), records);
  const snap = join(dataDir, 'member', 'snap');
  const segments = readdirSync(snap).filter((entry) => entry.endsWith('.db'));
  t.is(segments.length, 1);
  const whole = Buffer.concat(records.map((record) => frame(new TextEncoder().encode(JSON.stringify(record)), partBytes)));
  t.true(readFileSync(join(snap, segments[0]!)).subarray(0, whole.byteLength).equals(whole), 'the same bytes as frameParts makes of each record');
});

test('a WAL record larger than a frame part (a snapshot installed from the leader) is written as parts and read back whole', async (t) => {
  const { store, dataDir } = partedStore([], 100);
  const large = { snapshot: 'y'.repeat(1_000) };
  store.write([{ kind: 'append', file: 'wal', records: ['one', large, 'two'] }]);
  await syncNow(store);
  await store.close();
  t.deepEqual(partedStore([], 100, dataDir).store.read().files.get('wal'), ['one', large, 'two']);
});

/** Counts the store's own fdatasync calls by file (a durable append's O_DSYNC write is not one). */
function countTimedSyncs(store: FileStore): Map<string, number> {
  const counts = new Map<string, number>();
  const internals = store as unknown as { timedSync: (handle: unknown, file: string) => Promise<void> };
  const timedSync = internals.timedSync.bind(store);
  internals.timedSync = (handle, file) => {
    counts.set(file, (counts.get(file) ?? 0) + 1);
    return timedSync(handle, file);
  };
  return counts;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('a WAL append with only a sync after it is made durable by its own O_DSYNC write, the appends since the last round written again in front of it: no fdatasync of its own', async (t) => {
  const { store, dataDir, fsyncs } = openStore();
  store.read();
  const syncs = countTimedSyncs(store);
  // Unsynced (a follower's commit-index record), then an append and its sync in a batch of their own.
  store.write([{ kind: 'append', file: 'wal', records: [{ commit: 1 }] }]);
  await settle();
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 2 }] }]);
  await syncNow(store);
  t.is(syncs.get('wal'), undefined, 'no fdatasync: the append was the flush');
  t.is(fsyncs.length, 1, 'reported as the fsync it replaces');
  t.is(store.stats.fsyncRounds, 1);
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 3 }] }]);
  await syncNow(store);
  await store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), [{ commit: 1 }, { entry: 2 }, { entry: 3 }]);
});

test('a WAL append is synced by the round as before when another file waits for the round, or the appends since the last round outgrew what is kept to rewrite', async (t) => {
  const { store, dataDir } = openStore();
  store.read();
  const syncs = countTimedSyncs(store);
  store.write([{ kind: 'append', file: 'requests', records: ['r'] }, { kind: 'append', file: 'wal', records: [{ entry: 1 }] }]);
  await syncNow(store);
  t.is(syncs.get('wal'), 1, 'the round syncs the WAL beside the other file');
  // 300 KiB unsynced: not kept, so the next durable append cannot cover it by its own write.
  store.write([{ kind: 'append', file: 'wal', records: [{ big: 'x'.repeat(300 * 1024) }] }]);
  await settle();
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 2 }] }]);
  await syncNow(store);
  t.is(syncs.get('wal'), 2, 'fdatasync after a plain append');
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 3 }] }]);
  await syncNow(store);
  t.is(syncs.get('wal'), 2, 'and durable appends again after that round');
  await store.close();
  const wal = openStore(dataDir).store.read().files.get('wal') as { entry?: number }[];
  t.deepEqual(wal.map((record) => record.entry ?? 'big'), [1, 'big', 2, 3]);
});

/** Counts `store`'s WAL appends written on the loop (`SegmentedLog.appendOnLoop`); `wal` is its log. */
function countOnLoop(store: FileStore): { readonly wal: SegmentedLog; count: number } {
  const wal = (store as unknown as { segmented: ReadonlyMap<string, SegmentedLog> }).segmented.get('wal')!;
  const counted = { wal, count: 0 };
  const appendOnLoop = wal.appendOnLoop.bind(wal);
  wal.appendOnLoop = (parts, bytesMax) => {
    counted.count++;
    return appendOnLoop(parts, bytesMax);
  };
  return counted;
}

/** A store that writes a lone durable WAL append of at most `bytes` on the loop; its failure is kept in `fatal`, not thrown. */
function onLoopStore(bytes: number, extra: Partial<FileStoreOptions> = {}) {
  const dataDir = scratchFolder('detcd-store-');
  const fatal: Error[] = [];
  const store = new FileStore({ dataDir, codec: jsonCodec, log: () => {}, onFatal: (error) => fatal.push(error), walWriteOnLoopBytes: bytes, ...extra });
  opened.push(store);
  store.read();
  return { store, dataDir, fatal, onLoop: countOnLoop(store) };
}

test("a lone durable WAL append is written on the loop (walWriteOnLoopBytes): after the microtasks queued before its sync (a Ready's peer flush), durable when its sync is done, in the same turn", async (t) => {
  const { store, dataDir, fatal, onLoop } = onLoopStore(16 * 1024);
  const syncs = countTimedSyncs(store);
  // The first durable append opens the segment's O_DSYNC descriptor, through the pool.
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 1 }] }]);
  await syncNow(store);
  t.is(onLoop.count, 0);
  await eventually(() => !onLoop.wal.preparing);
  const walHas = (text: string) => readFileSync(firstSegment(dataDir)).includes(text);
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    // A Ready: its append, its peer messages (their flush is a microtask queued now), its sync.
    store.write([{ kind: 'append', file: 'wal', records: [{ entry: 2 }] }]);
    queueMicrotask(() => order.push(`peer flush; entry 2 written: ${walHas('"entry":2')}`));
    store.sync(() => {
      order.push(`synced; entry 2 written: ${walHas('"entry":2')}`);
      resolve();
    });
    setImmediate(() => order.push('the next turn'));
  });
  await turns(1);
  t.deepEqual(order, ['peer flush; entry 2 written: false', 'synced; entry 2 written: true', 'the next turn']);
  t.is(onLoop.count, 1);
  t.is(syncs.get('wal'), undefined, 'no fdatasync: the write was the flush');
  t.is(store.stats.fsyncRounds, 2, 'each durable write counted as the fsync it replaces');
  t.deepEqual(fatal, []);
  await store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), [{ entry: 1 }, { entry: 2 }]);
});

test('a durable WAL append goes through the pool as before: with walWriteOnLoopBytes 0, over it (the appends since the last round counted), at a segment cut, and while a segment is prepared', async (t) => {
  const off = onLoopStore(0);
  for (let i = 0; i < 3; i++) {
    off.store.write([{ kind: 'append', file: 'wal', records: [{ entry: i }] }]);
    await syncNow(off.store);
  }
  t.is(off.onLoop.count, 0, 'off');
  // Segments of 4 KiB: the third append below does not fit the first.
  const { store, dataDir, fatal, onLoop } = onLoopStore(2 * 1024, { segmentSizes: { firstBytes: 4 * 1024, maxBytes: 4 * 1024 } });
  const durableAppend = async (record: DurableRecord) => {
    await eventually(() => !onLoop.wal.preparing);
    store.write([{ kind: 'append', file: 'wal', records: [record] }]);
    await syncNow(store);
  };
  await durableAppend({ entry: 1 });
  t.is(onLoop.count, 0, 'the first opens the O_DSYNC descriptor');
  await durableAppend({ entry: 2 });
  t.is(onLoop.count, 1, 'small: on the loop');
  await durableAppend({ entry: 3, pad: 'x'.repeat(2 * 1024) });
  t.is(onLoop.count, 1, 'over 2 KiB: through the pool');
  // 1.5 KiB unsynced (a held commit index written by a later append? here a plain one) and 1 KiB: 2.5 KiB in one write.
  store.write([{ kind: 'append', file: 'wal', records: [{ commit: 'c'.repeat(1536) }] }]);
  await settle();
  await durableAppend({ entry: 4, pad: 'y'.repeat(1024) });
  t.is(onLoop.count, 1, 'with the appends since the last round, over 2 KiB: through the pool');
  t.is(readdirSync(join(dataDir, 'member', 'wal')).filter((name) => name.endsWith('.wal')).length, 2, 'and it cut to the next segment');
  // A segment being prepared (its zeros written and flushed): a 4 KiB one is ready before a test could see it.
  Object.defineProperty(onLoop.wal, 'preparing', { get: () => true, configurable: true });
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 5 }] }]);
  await syncNow(store);
  t.is(onLoop.count, 1, 'while a segment is prepared: through the pool');
  delete (onLoop.wal as { preparing?: boolean }).preparing;
  await durableAppend({ entry: 6 });
  t.is(onLoop.count, 2, 'and on the loop again after');
  t.deepEqual(fatal, []);
  await store.close();
  const wal = openStore(dataDir).store.read().files.get('wal') as { entry?: number }[];
  t.deepEqual(wal.map((record) => record.entry ?? 'commit'), [1, 2, 3, 'commit', 4, 5, 6]);
});

test("a durable WAL append goes through the pool while the turn's peer messages wait for their flush (a leader's MsgApps: its write overlaps the flush), and for a while after one on the loop was slow (a stalled disk would block the loop again)", async (t) => {
  let peersPending = true;
  const { store, dataDir, fatal, onLoop } = onLoopStore(16 * 1024, { peerFlushPending: () => peersPending });
  const durableAppend = async (entry: number) => {
    store.write([{ kind: 'append', file: 'wal', records: [{ entry }] }]);
    await syncNow(store);
  };
  await durableAppend(1);
  await eventually(() => !onLoop.wal.preparing);
  await durableAppend(2);
  t.is(onLoop.count, 0, 'a leader: through the pool');
  peersPending = false;
  // A follower's append, whose write stalls (a neighbour's flush on a shared disk): 30 ms on the loop.
  const appendOnLoop = onLoop.wal.appendOnLoop.bind(onLoop.wal);
  onLoop.wal.appendOnLoop = (parts, bytesMax) => {
    const until = performance.now() + 30;
    while (performance.now() < until);
    return appendOnLoop(parts, bytesMax);
  };
  await durableAppend(3);
  t.is(onLoop.count, 1, 'a follower: on the loop');
  await durableAppend(4);
  t.is(onLoop.count, 1, 'after a slow one: through the pool');
  t.deepEqual(fatal, []);
  await store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), [{ entry: 1 }, { entry: 2 }, { entry: 3 }, { entry: 4 }]);
});

test('a durable WAL append goes through the pool while the db is rewritten (its writes and flushes share the disk)', async (t) => {
  let release = false;
  const { store, dataDir } = slicingStore(() => !release, undefined, undefined, { walWriteOnLoopBytes: 16 * 1024 });
  store.read();
  const onLoop = countOnLoop(store);
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 1 }] }]);
  await syncNow(store);
  // The first append took the first segment, and the next one is being prepared meanwhile.
  await eventually(() => !onLoop.wal.preparing);
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 2 }] }]);
  await syncNow(store);
  t.is(onLoop.count, 1, 'on the loop before the rewrite');
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 3 }] }]);
  await syncNow(store);
  t.is(onLoop.count, 1, 'through the pool while it is encoded');
  release = true;
  await store.close();
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), [{ w: 1 }, { w: 2 }, { w: 3 }]);
});

test('a WAL append written on the loop that fails stops the store (onFatal): its sync is never done, and nothing is written after it', async (t) => {
  const { store, dataDir, fatal, onLoop } = onLoopStore(16 * 1024);
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 1 }] }]);
  await syncNow(store);
  await eventually(() => !onLoop.wal.preparing);
  // The segment's O_DSYNC descriptor swapped for a read-only one: the write fails (EBADF).
  const current = (onLoop.wal as unknown as { current: { dsync: number; path: string } }).current;
  const writable = current.dsync;
  current.dsync = openSync(current.path, 'r');
  let synced = false;
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 2 }] }]);
  store.sync(() => (synced = true));
  t.true(await eventually(() => fatal.length > 0));
  t.is(onLoop.count, 1);
  t.is((fatal[0] as NodeJS.ErrnoException).code, 'EBADF');
  t.false(synced);
  store.write([{ kind: 'append', file: 'wal', records: [{ entry: 3 }] }]);
  store.sync(() => (synced = true));
  await t.throwsAsync(store.flush());
  await settle();
  t.false(synced, 'a failed store syncs nothing more');
  closeSync(current.dsync);
  current.dsync = writable;
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), [{ entry: 1 }]);
});

/** A node whose one Ready is a defragment's: the db rewritten (`sliced`: encoded in turns) and a WAL append, synced, and an answer that promises the rewrite durable. */
function defragmentingNode(): HostedNode<never, never, string> & { advanced: number } {
  let taken = false;
  return {
    id: 1,
    advanced: 0,
    tick() {},
    receive() {},
    submit() {},
    hasReady: () => !taken,
    ready() {
      taken = true;
      return {
        writes: [{ kind: 'replace', file: 'db', records: [{ sliced: true }] }, { kind: 'append', file: 'db', records: [{ d: 1 }] }, { kind: 'append', file: 'wal', records: [{ w: 1 }] }],
        mustSync: true,
        messages: [],
        replies: [{ client: 7, id: 1, reply: 'defragmented', promisesWrites: true }],
      };
    },
    advance() {
      this.advanced++;
    },
  };
}

test("an answer that promises the db's writes (a Defragment) waits, through the host loop, for the rewrite its sync let lag and for the db write held behind it; the loop goes on meanwhile", async (t) => {
  let release = false;
  const { store, dataDir, progress } = slicingStore(() => !release);
  const dbSync = holdBackendSyncs(store);
  store.read();
  const answered: string[] = [];
  const node = defragmentingNode();
  const loop = new HostLoop(node, { transport: { send: () => {} }, replies: { reply: (_client, _id, reply) => answered.push(reply) }, store });
  loop.pump();
  // The Ready's sync covers the WAL, not the rewrite still being encoded, nor the db append held behind it.
  while (node.advanced === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  t.true(progress.sliced < slicesMax, 'synced while the rewrite was still being encoded');
  t.deepEqual(answered, [], 'the answer waits after the sync');
  release = true;
  await dbSync.started;
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.deepEqual(answered, [], "the answer waits while the rewrite's fsync is held");
  dbSync.release();
  const deadline = performance.now() + patienceMs;
  while (answered.length === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  t.deepEqual(answered, ['defragmented']);
  // What the answer promised is on disk: the rewrite and the append held behind it, in order.
  const db = openStore(dataDir).store.read().files.get('db') as { sliced?: boolean; d?: number }[];
  t.deepEqual([db.length, db[0]!.sliced, db[1]], [2, true, { d: 1 }]);
  t.deepEqual(openStore(dataDir).store.read().files.get('wal'), [{ w: 1 }]);
});

test('caughtUp with nothing deferred answers after a sync queued then: a large append framed since the last sync was asked for is covered', async (t) => {
  const { store, dataDir } = slicingStore(() => false);
  store.read();
  store.write([{ kind: 'append', file: 'db', records: [{ sliced: true }] }]);
  await syncNow(store); // did not wait for the append being framed
  while ((store as unknown as { deferred: unknown }).deferred !== null) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise<void>((resolve) => store.caughtUp(resolve));
  t.is((openStore(dataDir).store.read().files.get('db') as { sliced?: boolean }[])[0]!.sliced, true);
});

test('a large append is framed from the next turn of the loop on: the write call takes no slice of it (its first turn ran inside the call, ~5 ms of a Ready)', async (t) => {
  const { store, dataDir, progress } = slicingStore(() => progress.sliced < 3);
  store.read();
  store.write([{ kind: 'append', file: 'db', records: [{ sliced: true }] }]);
  t.is(progress.sliced, 0);
  t.regex(store.describeLastWrite(), /^1 begun in turns \(first turn [\d.]+ ms\), [\d.-]+ ms outside the encoding$/);
  while ((store as unknown as { deferred: unknown }).deferred !== null) await new Promise((resolve) => setTimeout(resolve, 1));
  t.is(progress.sliced, 3);
  await new Promise<void>((resolve) => store.caughtUp(resolve));
  t.is((openStore(dataDir).store.read().files.get('db') as { sliced?: boolean }[])[0]!.sliced, true);
});

test("a write's account (a slow write's log line): records encoded whole and their bytes, records begun in turns, records held behind one, and the time none of that covers", (t) => {
  let release = false;
  const { store } = slicingStore(() => !release);
  store.read();
  store.write([{ kind: 'append', file: 'wal', records: [{ w: 1 }, { w: 2 }] }]);
  t.regex(store.describeLastWrite(), /^2 records encoded whole \(\d+ B\) in [\d.]+ ms, [\d.]+ ms outside the encoding$/);
  store.write([{ kind: 'replace', file: 'db', records: [{ sliced: true }] }]);
  t.regex(store.describeLastWrite(), /^1 begun in turns \(first turn [\d.]+ ms\), [\d.-]+ ms outside the encoding$/);
  store.write([{ kind: 'append', file: 'db', records: [{ sliced: true }] }]);
  t.regex(store.describeLastWrite(), /^1 held behind the rewrite being made, [\d.-]+ ms outside the encoding$/);
  release = true;
});
