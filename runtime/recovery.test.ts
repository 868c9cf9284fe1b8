import test from 'ava';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendImage } from '../core/mvcc/index.ts';
import type { WalRecord } from '../core/replica/wal.ts';
import { etcdCodec } from '../core/server/codec.ts';
import type { EtcdClient } from './_test/etcdClient.ts';
import { scanFrames } from './storage/frame.ts';
import { isHealthy, soloMember, until } from './_test/members.ts';

/** The keys k01..kNN a member holds, by a serializable range (its own state, no leader needed). */
async function keys(client: EtcdClient): Promise<string[]> {
  const response = await client.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l'), serializable: true });
  return (response.kvs as { key: Buffer }[]).map((kv) => kv.key.toString());
}

const key = (i: number) => `k${String(i).padStart(2, '0')}`;

test('a member whose WAL ends in a torn record reports it, cuts it off and serves the writes before it', async (t) => {
  const world = await soloMember(t, 'detcd-recovery-');
  const { spec } = world;
  for (let i = 1; i <= 10; i++) await world.client.put({ key: Buffer.from(key(i)), value: Buffer.from(`v${i}`) });
  world.member.process.kill('SIGINT');
  t.deepEqual(await world.member.exited, { code: 0, signal: null }, 'SIGINT stops gracefully too');
  // Tear the last record: a crash in the middle of a write into the preallocated segment leaves
  // its last sector as the zeros it was (a record ending in zero bytes would not notice 5).
  const wal = join(world.dataDir, 'member', 'wal', '0000000000000000-0000000000000000.wal');
  const bytes = readFileSync(wal);
  const { end, payloads } = scanFrames(bytes, { zeroTail: true });
  t.true(end < bytes.byteLength, 'the segment ends in zeros');
  writeFileSync(wal, bytes.fill(0, Math.max(end - payloads.at(-1)!.byteLength, end - 512), end));
  let member = world.restart();
  await until(() => isHealthy(spec), 'the member to serve again');
  // The torn record was the last Ready's: at most the last put's entry, or only a hard state.
  const recovered = await keys(world.client);
  t.true(recovered.length >= 9, `recovered ${JSON.stringify(recovered)}`);
  t.deepEqual(recovered, Array.from({ length: recovered.length }, (_, i) => key(i + 1)));
  t.regex(member.output.join(''), /member\/wal\/0000000000000000-0000000000000000\.wal: checksum mismatch at byte \d+ \(\d+ bytes after it are not used\); recovering the \d+ records before it/);
  // The tail was cut: the file holds only whole records again, and appends follow them.
  await world.client.put({ key: Buffer.from(key(11)), value: Buffer.from('v11') });
  member.process.kill('SIGTERM');
  t.deepEqual(await member.exited, { code: 0, signal: null });
  member = world.restart();
  await until(() => isHealthy(spec), 'a clean restart');
  t.is((await keys(world.client)).at(-1), key(11));
  t.false(/checksum|torn/.test(member.output.join('')), 'no torn record the second time');
  t.deepEqual(walSegments(world.dataDir), ['0000000000000001-0000000000000001.wal'], 'the rewritten log starts a new segment; the damaged one is released');
});

test('the backend file grows by what each commit changed; a torn last commit is cut off and the WAL replays what it held', async (t) => {
  const world = await soloMember(t, 'detcd-recovery-db-');
  const { spec } = world;
  // 40 values of 4 KiB, one commit (100 ms) apart: whole images would take 40 × 80 KiB on average.
  for (let i = 1; i <= 40; i++) {
    await world.client.put({ key: Buffer.from(key(i)), value: Buffer.alloc(4096, i) });
    await new Promise((resolve) => setTimeout(resolve, 110));
  }
  world.member.process.kill('SIGTERM');
  t.deepEqual(await world.member.exited, { code: 0, signal: null });
  const snap = join(world.dataDir, 'member', 'snap');
  const segments = liveSegments(snap, '.db');
  const scans = segments.map((segment) => scanFrames(readFileSync(join(snap, segment)), { zeroTail: true }));
  const size = scans.reduce((sum, scan) => sum + scan.end, 0);
  t.true(size < 3 * 40 * 4096, `the backend's segments hold ${size} bytes for 160 KiB of values`);
  // Tear the last commit: its last sector (512 bytes) never reached the preallocated segment.
  const last = join(snap, segments.at(-1)!);
  const { end, payloads } = scans.at(-1)!;
  writeFileSync(last, readFileSync(last).fill(0, Math.max(end - payloads.at(-1)!.byteLength, end - 512), end));
  const member = world.restart();
  await until(() => isHealthy(spec), 'the member to serve again');
  t.deepEqual(await keys(world.client), Array.from({ length: 40 }, (_, i) => key(i + 1)));
  t.regex(member.output.join(''), /member\/snap\/[0-9a-f]{16}-[0-9a-f]{16}\.db: checksum mismatch at byte \d+/);
});

/** A segmented file's live segments in a directory, in order: from the newest one's base (`<sequence>-<base><extension>`) on. */
function liveSegments(directory: string, extension: string): string[] {
  const segments = readdirSync(directory).filter((entry) => /^[0-9a-f]{16}-[0-9a-f]{16}\./.test(entry) && entry.endsWith(extension)).sort();
  const base = segments.at(-1)?.slice(17, 33) ?? '';
  return segments.filter((segment) => segment.slice(0, 16) >= base);
}

const walSegments = (dataDir: string) => liveSegments(join(dataDir, 'member', 'wal'), '.wal');

/** The WAL's snapshot records as its segments hold them. */
function walSnapshots(dataDir: string): Extract<WalRecord, { type: 'snapshot' }>[] {
  const payloads = walSegments(dataDir).flatMap((segment) => scanFrames(readFileSync(join(dataDir, 'member', 'wal', segment)), { zeroTail: true }).payloads);
  const records = payloads.map((payload) => etcdCodec.record.decode(payload) as WalRecord);
  return records.filter((record): record is Extract<WalRecord, { type: 'snapshot' }> => record.type === 'snapshot');
}

test("the WAL's snapshot holds metadata and the db file is the state (etcd's layout); killed with SIGKILL after snapshots, the member recovers every write", async (t) => {
  const world = await soloMember(t, 'detcd-recovery-snap-', ['--snapshot-count', '10']);
  const { spec } = world;
  for (let i = 1; i <= 35; i++) await world.client.put({ key: Buffer.from(key(i)), value: Buffer.alloc(2048, i) });
  world.member.process.kill('SIGKILL');
  await world.member.exited;
  const snapshots = walSnapshots(world.dataDir);
  t.is(snapshots.length, 1, 'a compacted WAL starts with one snapshot');
  const data = snapshots[0]!.snapshot.data as BackendImage;
  t.true(snapshots[0]!.snapshot.metadata.index > 10, `snapshot at ${snapshots[0]!.snapshot.metadata.index}`);
  t.true(data.metadataOnly === true && data.keys.size === 0, 'no keyspace in the WAL');
  t.is(data.meta.consistentIndex, snapshots[0]!.snapshot.metadata.index);
  world.restart();
  await until(() => isHealthy(spec), 'the member to serve again');
  t.deepEqual(await keys(world.client), Array.from({ length: 35 }, (_, i) => key(i + 1)));
  // And again after more snapshots made by the restarted member.
  for (let i = 36; i <= 60; i++) await world.client.put({ key: Buffer.from(key(i)), value: Buffer.alloc(2048, i) });
  world.member.process.kill('SIGKILL');
  await world.member.exited;
  world.restart();
  await until(() => isHealthy(spec), 'the member to serve a third time');
  t.deepEqual(await keys(world.client), Array.from({ length: 60 }, (_, i) => key(i + 1)));
});

test('a huge DeleteRange (applied in slices, its commit framed in turns) killed with SIGKILL once answered: the member recovers with the range deleted at its revision, and again after a graceful stop', async (t) => {
  // 4,608 keys: a delta of 4,096 changes or more is framed in turns (core/server codec), and 512 a slice applies it in nine.
  const world = await soloMember(t, 'detcd-recovery-delete-', ['--max-txn-ops', '512'], { ...process.env, DETCD_APPLY_SLICE_KEYS: '512' });
  const { spec } = world;
  const count = 4_608;
  const bigKey = (i: number) => Buffer.from(`big/${String(i).padStart(5, '0')}`);
  for (let from = 0; from < count; from += 512) {
    await world.client.txn({ success: Array.from({ length: 512 }, (_, i) => ({ requestPut: { key: bigKey(from + i), value: Buffer.alloc(64, i) } })) });
  }
  await world.client.put({ key: Buffer.from('kept'), value: Buffer.from('v') });
  const deleted = await world.client.deleteRange({ key: Buffer.from('big/'), rangeEnd: Buffer.from('big0') });
  const first = world.member;
  first.process.kill('SIGKILL');
  await first.exited;
  t.is(Number(deleted.deleted), count);
  const revision = Number((deleted.header as { revision?: unknown }).revision);
  const member = world.restart();
  await until(() => isHealthy(spec), 'the member to serve again');
  const left = await world.client.range({ key: Buffer.from('big/'), rangeEnd: Buffer.from('big0'), serializable: true, countOnly: true });
  t.is(Number(left.count), 0, 'the range stays deleted');
  const kept = await world.client.range({ key: Buffer.from('kept'), serializable: true });
  t.is(Number((kept.header as { revision?: unknown }).revision), revision, "the store's revision is the delete's");
  t.is((kept.kvs as unknown[]).length, 1);
  // Framed in turns by the first incarnation before it was killed, or by the second when it replayed the delete.
  t.regex([...first.output, ...member.output].join(''), /appended a large commit to the db file/);
  // Stopped gracefully after the replay (its commit written to the db file), it starts with the same state.
  member.process.kill('SIGTERM');
  t.deepEqual(await member.exited, { code: 0, signal: null });
  world.restart();
  await until(() => isHealthy(spec), 'a third start');
  const again = await world.client.range({ key: Buffer.from('big/'), rangeEnd: Buffer.from('big0'), serializable: true, countOnly: true });
  t.is(Number(again.count), 0);
  t.is(Number((again.header as { revision?: unknown }).revision), revision);
});
