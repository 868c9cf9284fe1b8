import test from 'ava';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Codec } from '../../core/host/codec.ts';
import type { DurableRecord, DurableState, DurableWrite } from '../../core/host/node.ts';
import { receivedBackendFile, type BackendImage } from '../../core/mvcc/index.ts';
import { wholeImage } from '../../core/mvcc/backendDelta.ts';
import { TestRandom } from '../../core/raft/_test/testRandom.ts';
import { emptyConfState, type Snapshot } from '../../core/raft/index.ts';
import type { WalRecord } from '../../core/replica/wal.ts';
import { etcdCodec } from '../../core/server/codec.ts';
import { defaultEtcdServerConfig, etcdProtocol, type EtcdServer } from '../../core/server/index.ts';
import { scratchFolder } from '../_test/scratch.ts';
import { FileStore } from './fileStore.ts';
import type { SegmentedLog } from './segmentedLog.ts';
import { arrangeWalSnapshotWrites } from './walSnapshotWrites.ts';

const config = { ...defaultEtcdServerConfig, initialCluster: [1] };
const keys = 1_100;
/** The snapshot installed: the bootstrap at 1, then one put per entry. */
const installedIndex = 1 + keys;

/** A member's state at index 1 (its bootstrap) and at `installedIndex` (1,100 puts of 1 KiB later: a leader's snapshot over 1,024 revisions, so its image is encoded in slices). */
function images(): { readonly old: BackendImage; readonly installed: BackendImage } {
  const server = etcdProtocol(config).start({ id: 1, members: [1], random: new TestRandom(1), durable: { files: new Map() } });
  const state = server.state;
  const old = state.backend.snapshot();
  for (let i = 1; i <= keys; i++) {
    state.backend.setConsistentIndex(1 + i, 2);
    state.apply({ kind: 'put', request: { key: `key${String(i).padStart(5, '0')}`, value: 'v'.repeat(1024) } });
  }
  // As a snapshot carries them (and a replace writes them): whole, without the delta of a commit.
  return { old: wholeImage(old), installed: wholeImage(state.backend.snapshot()) };
}

function snapshotRecord(index: number, term: number, data: BackendImage): WalRecord {
  const snapshot: Snapshot = { metadata: { index, term, confState: { ...emptyConfState, voters: [1] } }, data };
  return { type: 'snapshot', snapshot };
}

const opened: FileStore[] = [];
test.after.always(() => Promise.allSettled(opened.map((store) => store.close())));

function openStore(dataDir: string, codec: Codec<DurableRecord> = etcdCodec.record): FileStore {
  const store = new FileStore({ dataDir, codec, log: () => {}, onFatal: (error) => { throw error; }, arrange: (writes) => arrangeWalSnapshotWrites(writes) });
  opened.push(store);
  return store;
}

const syncNow = (store: FileStore) => new Promise<void>((resolve) => store.sync(resolve));

/** What a member starting from `dataDir` recovers: its server (core's recovery) and what the disk held. */
function recover(dataDir: string): { readonly server: EtcdServer; readonly durable: DurableState; readonly store: FileStore } {
  const store = openStore(dataDir);
  const durable = store.read();
  return { server: etcdProtocol(config).start({ id: 1, members: [1], random: new TestRandom(2), durable }), durable, store };
}

/** A member's data dir at index 1 (its bootstrap: `old` in the WAL's snapshot and the db), opened again with `codec`, and its db log (for a test's hooks). */
async function bootstrapped(dataDir: string, old: BackendImage, codec: Codec<DurableRecord>): Promise<{ readonly store: FileStore; readonly db: SegmentedLog }> {
  const first = openStore(dataDir);
  first.read();
  first.write([
    { kind: 'replace', file: 'wal', records: [snapshotRecord(1, 1, old), { type: 'hardState', hardState: { term: 1, vote: 0, commit: 1 } }] },
    { kind: 'replace', file: 'db', records: [old] },
  ]);
  await syncNow(first);
  await first.close();
  const store = openStore(dataDir, codec);
  store.read();
  return { store, db: (store as unknown as { segmented: Map<string, SegmentedLog> }).segmented.get('db')! };
}

const receivedFiles = (dataDir: string) => readdirSync(join(dataDir, 'member', 'snap')).filter((entry) => entry.endsWith('.snap.db'));

function walSnapshotData(durable: DurableState): BackendImage[] {
  return (durable.files.get('wal') as WalRecord[]).flatMap((record) => (record.type === 'snapshot' ? [record.snapshot.data as BackendImage] : []));
}

test("a snapshot installed from the leader: its image is written in turns into <index>.snap.db, the WAL records it metadata only, then the file becomes the db; a crash at every step recovers a consistent state", async (t) => {
  const { old, installed } = images();
  const dataDir = scratchFolder('detcd-received-');
  const crashes = new Map<string, string>();
  const crash = (name: string) => {
    const copy = scratchFolder('detcd-received-crash-');
    cpSync(dataDir, copy, { recursive: true });
    crashes.set(name, copy);
  };
  // The image's slices, counted: a crash is taken while they are written.
  let slices = 0;
  const codec: Codec<DurableRecord> = {
    ...etcdCodec.record,
    encodeInSlices(record, reuse) {
      const inner = etcdCodec.record.encodeInSlices!(record, reuse);
      if (inner === null) return null;
      return (function* () {
        for (const slice of inner) {
          if (++slices === 3) crash('while the image is written');
          yield slice;
        }
      })();
    },
  };
  const { store, db } = await bootstrapped(dataDir, old, codec);
  const setAside = db.setAside.bind(db);
  db.setAside = async (...args) => {
    const bytes = await setAside(...args);
    crash('after the image was set aside');
    return bytes;
  };
  const adoptAside = db.adoptAside.bind(db);
  db.adoptAside = async (path) => {
    crash('after the WAL append, before the image became the db');
    const bytes = await adoptAside(path);
    crash('after the image became the db');
    return bytes;
  };
  const install: DurableWrite[] = [
    { kind: 'append', file: 'wal', records: [snapshotRecord(installedIndex, 2, installed), { type: 'hardState', hardState: { term: 2, vote: 0, commit: installedIndex } }] },
    { kind: 'replace', file: 'db', records: [installed] },
  ];
  store.write(install);
  await syncNow(store);
  await store.close();
  t.true(slices > 3, `the image was encoded in ${slices} slices`);
  t.deepEqual([...crashes.keys()], ['while the image is written', 'after the image was set aside', 'after the WAL append, before the image became the db', 'after the image became the db']);

  // Done: the db file is the state, the WAL snapshot metadata, no file aside.
  const done = recover(dataDir);
  t.is(done.server.state.consistentIndex, installedIndex);
  t.is(done.server.state.kv.revision, 1 + keys);
  t.true(walSnapshotData(done.durable).at(-1)!.metadataOnly === true, 'the WAL snapshot holds no keyspace');
  t.deepEqual(receivedFiles(dataDir), []);
  t.false(done.durable.files.has(receivedBackendFile));

  // A crash before the WAL had the snapshot: the state before it (a file aside is not used).
  for (const name of ['while the image is written', 'after the image was set aside']) {
    const { server, durable } = recover(crashes.get(name)!);
    t.is(server.state.consistentIndex, 1, name);
    t.is(server.state.kv.revision, 1, name);
    t.is(walSnapshotData(durable).length, 1, name);
  }
  t.deepEqual(receivedFiles(crashes.get('after the image was set aside')!), [`${installedIndex.toString(16).padStart(16, '0')}.snap.db`]);

  // After the WAL append, before the rename: the image set aside is the state, and it is written as the db.
  const between = crashes.get('after the WAL append, before the image became the db')!;
  const recovered = recover(between);
  t.is(recovered.server.state.consistentIndex, installedIndex);
  t.is(recovered.server.state.kv.revision, 1 + keys);
  t.true(walSnapshotData(recovered.durable).at(-1)!.metadataOnly === true);
  const ready = recovered.server.ready();
  t.true(ready.writes.some((write) => write.kind === 'replace' && write.file === 'db'), "the db file is replaced with the image in the first Ready's writes");
  recovered.store.write(ready.writes);
  await syncNow(recovered.store);
  recovered.server.advance();
  await recovered.store.close();
  t.deepEqual(receivedFiles(between), [], 'once the db holds it, the file aside is removed');
  const again = recover(between);
  t.is(again.server.state.consistentIndex, installedIndex);
  t.is(again.server.state.kv.revision, 1 + keys);
  t.false(again.durable.files.has(receivedBackendFile));

  // After the rename: the db file.
  const after = recover(crashes.get('after the image became the db')!);
  t.is(after.server.state.consistentIndex, installedIndex);
  t.false(after.durable.files.has(receivedBackendFile));
});

test('a WAL snapshot of metadata over a db behind it and no image set aside at its index stops the start with one line', async (t) => {
  const { old, installed } = images();
  const dataDir = scratchFolder('detcd-received-');
  const store = openStore(dataDir);
  store.read();
  store.write([
    { kind: 'replace', file: 'wal', records: [snapshotRecord(1, 1, old), { type: 'hardState', hardState: { term: 1, vote: 0, commit: 1 } }] },
    { kind: 'replace', file: 'db', records: [old] },
  ]);
  store.write([
    { kind: 'append', file: 'wal', records: [snapshotRecord(installedIndex, 2, installed), { type: 'hardState', hardState: { term: 2, vote: 0, commit: installedIndex } }] },
    { kind: 'replace', file: 'db', records: [installed] },
  ]);
  await syncNow(store);
  await store.close();
  // The db file as it was before the install, and the image set aside gone: a disk that lost both.
  const damaged = scratchFolder('detcd-received-');
  cpSync(dataDir, damaged, { recursive: true });
  const copy = openStore(damaged);
  copy.read();
  copy.write([{ kind: 'replace', file: 'db', records: [old] }]);
  await syncNow(copy);
  await copy.close();
  t.throws(() => recover(damaged), { message: /WAL snapshot at index 1101 leaves the state to the db file, which holds only index 1, and no received image at that index was set aside/ });
});

test("a snapshot installed while the backend's own rewrite is in flight waits for it, then is set aside in turns as any other, never encoded whole", async (t) => {
  const { old, installed } = images();
  // The member's rewrite of its own db: the same keyspace, another record (told apart by identity).
  const rewrite: BackendImage = { ...installed };
  const dataDir = scratchFolder('detcd-received-');
  const events: string[] = [];
  const codec: Codec<DurableRecord> = {
    ...etcdCodec.record,
    encode(record) {
      if (record === installed || record === rewrite) events.push(`${record === installed ? 'installed' : 'rewrite'} encoded whole`);
      return etcdCodec.record.encode(record);
    },
    encodeInSlices(record, reuse) {
      const inner = etcdCodec.record.encodeInSlices!(record, reuse);
      if (inner === null) return null;
      const name = record === installed ? 'installed' : 'rewrite';
      return (function* () {
        events.push(`${name} slices begin`);
        yield* inner;
        events.push(`${name} slices end`);
      })();
    },
  };
  const { store, db } = await bootstrapped(dataDir, old, codec);
  const commitReplace = db.commitReplace.bind(db);
  db.commitReplace = async (...args) => {
    const bytes = await commitReplace(...args);
    events.push('rewrite in');
    return bytes;
  };
  store.write([{ kind: 'replace', file: 'db', records: [rewrite] }]);
  store.write([
    { kind: 'append', file: 'wal', records: [snapshotRecord(installedIndex, 2, installed), { type: 'hardState', hardState: { term: 2, vote: 0, commit: installedIndex } }] },
    { kind: 'replace', file: 'db', records: [installed] },
  ]);
  t.deepEqual(events, [], 'nothing of either is encoded in the turn that writes them');
  await syncNow(store);
  await store.close();
  t.deepEqual(events, ['rewrite slices begin', 'rewrite slices end', 'rewrite in', 'installed slices begin', 'installed slices end']);

  const done = recover(dataDir);
  t.is(done.server.state.consistentIndex, installedIndex);
  t.is(done.server.state.kv.revision, 1 + keys);
  t.true(walSnapshotData(done.durable).at(-1)!.metadataOnly === true, 'the WAL snapshot holds no keyspace');
  t.deepEqual(receivedFiles(dataDir), []);
});
