import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, initialCluster, type Member, type MemberSpec, readLog, startMember, until } from './_test/members.ts';

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('a fourth member is added and started with --initial-cluster-state existing: it learns the cluster id and the log, and serves reads', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'detcd-join-'));
  const ports = await freePorts(8);
  const specs: MemberSpec[] = ['m1', 'm2', 'm3', 'm4'].map((name, i) => ({ name, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, name) }));
  // A small snapshot count: the newcomer catches up from a snapshot, not only from entries.
  const flags = ['--pre-vote', '--snapshot-count', '20', '--experimental-log-api'];
  const members: Member[] = specs.slice(0, 3).map((spec) => startMember(spec, initialCluster(specs.slice(0, 3)), flags));
  t.teardown(() => {
    for (const member of members) member.process.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  try {
    const first = specs[0]!;
    await until(async () => (await readLog(first)) !== null, 'the cluster to serve');
    for (let value = 1; value <= 60; value++) t.is((await post(`http://127.0.0.1:${first.clientPort}/detcd/log/append`, { value })).status, 200);
    const added = await post(`http://127.0.0.1:${first.clientPort}/detcd/log/members`, { peerUrls: [`http://127.0.0.1:${specs[3]!.peerPort}`] });
    t.is(added.status, 200, JSON.stringify(added.body));
    t.is((added.body.voters as string[]).length, 4);
    members.push(startMember(specs[3]!, initialCluster(specs), [...flags, '--initial-cluster-state', 'existing']));
    let log: number[] | null = null;
    await until(async () => (log = await readLog(specs[3]!)) !== null && log.length === 60, 'the new member to catch up');
    t.deepEqual(log, Array.from({ length: 60 }, (_, i) => i + 1));
    t.regex(members[3]!.output.join(''), /joined cluster [0-9a-f]+/);
    // It takes appends like any member, and keeps its cluster id across a restart.
    t.is((await post(`http://127.0.0.1:${specs[3]!.clientPort}/detcd/log/append`, { value: 61 })).status, 200);
    members[3]!.process.kill('SIGTERM');
    t.deepEqual(await members[3]!.exited, { code: 0, signal: null });
    members[3] = startMember(specs[3]!, initialCluster(specs), [...flags, '--initial-cluster-state', 'existing']);
    await until(async () => (log = await readLog(specs[3]!)) !== null && log.length === 61, 'the restarted member to serve');
  } catch (error) {
    for (const member of members) t.log(`--- ${member.spec.name}\n${member.output.join('').slice(-3_000)}`);
    throw error;
  }
});
