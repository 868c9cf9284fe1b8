import test from 'ava';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdCallError, EtcdClient, type Message } from './_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, isHealthy, type Member, type MemberSpec, startMember, until } from './_test/members.ts';
import { scratchFolder } from './_test/scratch.ts';

const key = (i: number) => `k${String(i).padStart(3, '0')}`;

/** The keys a member holds now (serializable: its own state). */
async function keysOn(client: EtcdClient): Promise<string[] | null> {
  try {
    const response = await client.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l'), serializable: true });
    return (response.kvs as { key: Buffer }[]).map((kv) => kv.key.toString());
  } catch {
    return null;
  }
}

test('a fourth member added with MemberAdd and started with --initial-cluster-state existing learns the cluster id and the data, and serves', async (t) => {
  const root = scratchFolder('detcd-join-');
  const ports = await freePorts(8);
  const specs: MemberSpec[] = ['m1', 'm2', 'm3', 'm4'].map((name, i) => ({ name, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, name) }));
  // A small snapshot count: the newcomer catches up from a snapshot, not only from entries.
  const flags = ['--pre-vote', '--snapshot-count', '20'];
  const members: Member[] = specs.slice(0, 3).map((spec) => startMember(spec, initialCluster(specs.slice(0, 3)), flags));
  const first = new EtcdClient(endpoint(specs[0]!));
  const newcomer = new EtcdClient(endpoint(specs[3]!));
  t.teardown(() => {
    first.close();
    newcomer.close();
    for (const member of members) member.process.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  try {
    await until(() => isHealthy(specs[0]!), 'the cluster to serve');
    for (let i = 1; i <= 60; i++) await first.put({ key: Buffer.from(key(i)), value: Buffer.from(`v${i}`) });
    // etcd refuses to add a voter until the leader has been connected to every voter for 5 s
    // (--strict-reconfig-check: "unhealthy cluster"); a follower passes the call on to the leader —
    // once the leader has published its client URL: until then a follower answers "not leader"
    // (a known deviation from etcd, whose followers forward over the peer port).
    let added: Message | null = null;
    await until(async () => {
      added = await first.memberAdd({ peerURLs: [`http://127.0.0.1:${specs[3]!.peerPort}`] }).catch((error: EtcdCallError) => {
        if (error.details !== 'etcdserver: unhealthy cluster' && error.details !== 'etcdserver: not leader') throw error;
        return null;
      });
      return added !== null;
    }, 'the cluster to take a new member');
    t.is((added!.members as unknown[]).length, 4);
    members.push(startMember(specs[3]!, initialCluster(specs), [...flags, '--initial-cluster-state', 'existing']));
    let keys: string[] | null = null;
    await until(async () => (keys = await keysOn(newcomer)) !== null && keys.length === 60, 'the new member to catch up');
    t.deepEqual(keys, Array.from({ length: 60 }, (_, i) => key(i + 1)));
    t.regex(members[3]!.output.join(''), /joined cluster [0-9a-f]+/);
    // It takes writes like any member (its own client URLs published), and keeps its cluster id across a restart.
    await until(async () => ((await first.memberList()).members as { name: string }[]).some((member) => member.name === 'm4'), 'the new member to publish its name');
    await newcomer.put({ key: Buffer.from(key(61)), value: Buffer.from('v61') });
    members[3]!.process.kill('SIGTERM');
    t.deepEqual(await members[3]!.exited, { code: 0, signal: null });
    // The snapshot it installed was set aside as <index>.snap.db and then renamed in as its db (etcd's layout).
    t.deepEqual(readdirSync(join(specs[3]!.dataDir, 'member', 'snap')).filter((entry) => entry.endsWith('.snap.db')), [], 'no received image left aside');
    members[3] = startMember(specs[3]!, initialCluster(specs), [...flags, '--initial-cluster-state', 'existing']);
    await until(async () => (keys = await keysOn(newcomer)) !== null && keys.length === 61, 'the restarted member to serve');
    t.false(members[3]!.output.join('').includes('joined cluster'), 'the restarted member already knew its cluster');
  } catch (error) {
    for (const member of members) t.log(`--- ${member.spec.name}\n${member.output.join('').slice(-3_000)}`);
    throw error;
  }
});
