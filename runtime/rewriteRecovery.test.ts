import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WalRecord } from '../core/replica/wal.ts';
import { etcdCodec } from '../core/server/codec.ts';
import type { EtcdClient, Message } from './_test/etcdClient.ts';
import { scanFrames } from './storage/frame.ts';
import { isHealthy, type Member, soloMember, until } from './_test/members.ts';

/**
 * End to end, run2's postponed WAL compaction (runtime/storage/walSnapshotWrites.ts): a member
 * that rewrites its backend file every few commits (DETCD_BACKEND_FILE_COMMITS_MAX) and snapshots
 * every few entries takes a snapshot while a rewrite is in flight, leaves its WAL uncompacted, is
 * killed, and recovers every acknowledged put at its revision; then it keeps working and a later
 * snapshot compacts the WAL.
 */

const postponedLine = /saved snapshot at index (\d+) \(the WAL is compacted at the next one: the db file is being rewritten\)/g;
const compactedLine = /saved snapshot at index (\d+)\n/g;
const rewroteLine = /rewrote the db file whole: [\d.]+ MiB encoded and written in (\d+) turns/g;

/** Values of 2 KiB: the 1,024 revisions a sliced rewrite needs make one of 2 MiB and more (fileStore's turnBufferBytes: 2 MiB a turn). */
const valueBytes = 2 * 1024;
const valueOf = (key: string) => Buffer.concat([Buffer.from(`${key}:`), Buffer.alloc(valueBytes, key.charCodeAt(key.length - 1))]);

/** The indexes a pattern's lines name in a member's output. */
function indexes(member: Member, pattern: RegExp): number[] {
  return [...member.output.join('').matchAll(pattern)].map((match) => Number(match[1]));
}

/** The WAL's snapshot records (its live segments), in order. */
function walSnapshotIndexes(dataDir: string): number[] {
  const directory = join(dataDir, 'member', 'wal');
  const segments = readdirSync(directory).filter((entry) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(entry)).sort();
  const base = segments.at(-1)?.slice(17, 33) ?? '';
  const live = segments.filter((segment) => segment.slice(0, 16) >= base);
  const records = live.flatMap((segment) => scanFrames(readFileSync(join(directory, segment)), { zeroTail: true }).payloads).map((payload) => etcdCodec.record.decode(payload) as WalRecord);
  return records.flatMap((record) => (record.type === 'snapshot' ? [record.snapshot.metadata.index] : []));
}

/** Acknowledged puts: key → the revision the put created. */
type Acknowledged = Map<string, number>;

/**
 * Puts fresh keys, `inFlight` at a time, until `done` holds (checked after each reply) or `most`
 * were sent. One put per revision: the rewrite is sliced over turns (deferred, so `rewriting`)
 * only from 1,024 main revisions (codec.ts's imageRevisionsSlicedMin). A put that fails is not
 * acknowledged (the member may have been killed under it).
 */
async function putUntil(world: { client: EtcdClient }, acknowledged: Acknowledged, next: { n: number }, done: () => boolean, most: number, inFlight = 32): Promise<void> {
  let sent = 0;
  const worker = async () => {
    while (!done() && sent < most) {
      sent++;
      const key = `r${String(next.n++).padStart(6, '0')}`;
      try {
        const reply = await world.client.put({ key: Buffer.from(key), value: valueOf(key) });
        acknowledged.set(key, (reply.header as Message).revision as number);
      } catch {
        // Not acknowledged: the member was killed (or stopped) with it in flight.
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Every acknowledged put's key with its value and at its revision, as the member serves it (serializable: its own state). */
async function lostPuts(client: EtcdClient, acknowledged: Acknowledged): Promise<string[]> {
  const response = await client.range({ key: Buffer.from('r'), rangeEnd: Buffer.from('s'), serializable: true });
  const held = new Map((response.kvs as Message[]).map((kv) => [(kv.key as Buffer).toString(), kv] as const));
  const lost: string[] = [];
  for (const [key, revision] of acknowledged) {
    const kv = held.get(key);
    if (kv === undefined || kv.modRevision !== revision || !(kv.value as Buffer).equals(valueOf(key))) lost.push(`${key}@${revision}${kv === undefined ? ' missing' : ` held at ${kv.modRevision as number}`}`);
  }
  return lost;
}

test('a snapshot taken while the backend file is rewritten leaves the WAL uncompacted; killed then, the member recovers every acknowledged put and compacts later', async (t) => {
  const world = await soloMember(t, 'detcd-rewrite-', ['--snapshot-count', '20'], { DETCD_BACKEND_FILE_COMMITS_MAX: '4' });
  const { spec } = world;
  const acknowledged: Acknowledged = new Map();
  const next = { n: 0 };

  // 1. Puts until a snapshot lands during a rewrite; SIGKILL as soon as the member says so (the
  //    rewrite most likely still in flight, puts in flight too).
  const first = world.member;
  let killedOnLine = false;
  first.process.stderr!.on('data', (chunk: Buffer) => {
    if (killedOnLine || !/the db file is being rewritten/.test(chunk.toString())) return;
    killedOnLine = true;
    first.process.kill('SIGKILL');
  });
  let member = first;
  await putUntil(world, acknowledged, next, () => member.process.exitCode !== null || member.process.signalCode !== null, 3_000);
  if (!killedOnLine) member.process.kill('SIGKILL');
  await member.exited;
  t.true(killedOnLine, 'a snapshot was postponed within 3,000 puts');
  t.true(indexes(member, postponedLine).length >= 1, member.output.join(''));
  const firstRun = acknowledged.size;
  const unrenamed = readdirSync(join(world.dataDir, 'member', 'snap')).filter((entry) => entry.endsWith('.tmp'));
  t.true(firstRun >= 1_000, `${firstRun} puts acknowledged before the kill`);
  t.log(`first run: ${firstRun} puts acknowledged, ${indexes(member, rewroteLine).length} rewrites done (turns ${indexes(member, rewroteLine).join(', ')}), snapshots postponed at ${indexes(member, postponedLine).join(', ')}; temporary files at the kill (the rewrite's segment, the spare): ${unrenamed.join(', ') || 'none'}`);

  member = world.restart();
  await until(() => isHealthy(spec), 'the member to serve after the kill during the rewrite');
  t.deepEqual(await lostPuts(world.client, acknowledged), [], 'acknowledged puts lost after the kill during the rewrite');

  // 2. It keeps working: puts until another snapshot is postponed, then more puts (past the
  //    rewrite), SIGKILL later, restart.
  await putUntil(world, acknowledged, next, () => indexes(member, postponedLine).length >= 1, 1_500);
  t.true(indexes(member, postponedLine).length >= 1, 'a second postponed snapshot');
  const rewritesBefore = indexes(member, rewroteLine).length;
  await putUntil(world, acknowledged, next, () => indexes(member, rewroteLine).length > rewritesBefore, 1_500);
  await putUntil(world, acknowledged, next, () => false, 40);
  member.process.kill('SIGKILL');
  await member.exited;
  member = world.restart();
  await until(() => isHealthy(spec), 'the member to serve after the second kill');
  t.deepEqual(await lostPuts(world.client, acknowledged), [], 'acknowledged puts lost after the kill after the rewrite');

  // 3. A later snapshot compacts the WAL: puts until one is saved with no rewrite in flight, then a
  //    graceful stop; the WAL begins at that snapshot (or a later one) and holds at most one more
  //    (postponed) after it.
  const compactedBefore = indexes(member, compactedLine).length;
  await putUntil(world, acknowledged, next, () => indexes(member, compactedLine).length > compactedBefore, 1_500);
  const compactedAt = indexes(member, compactedLine).at(-1) ?? 0;
  t.true(indexes(member, compactedLine).length > compactedBefore, 'a snapshot compacted the WAL');
  member.process.kill('SIGTERM');
  t.deepEqual(await member.exited, { code: 0, signal: null }, member.output.join(''));
  const snapshots = walSnapshotIndexes(world.dataDir);
  t.true(snapshots.length >= 1 && snapshots.length <= 2 && snapshots[0]! >= compactedAt, `the WAL's snapshots ${JSON.stringify(snapshots)}, compacted at ${compactedAt}`);

  // 4. And after the graceful stop, everything again.
  member = world.restart();
  await until(() => isHealthy(spec), 'the member to serve after a graceful stop');
  t.deepEqual(await lostPuts(world.client, acknowledged), [], 'acknowledged puts lost after the graceful restart');
  await world.client.put({ key: Buffer.from('r99999'), value: valueOf('r99999') });
  t.log(`${acknowledged.size} puts acknowledged in all; the WAL's snapshots at the end ${JSON.stringify(snapshots)}`);
});
