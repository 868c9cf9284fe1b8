import test from 'ava';
import { isEtcdError, type HashKVResponse } from '../api/index.ts';
import { ratio } from '../base/ratio.ts';
import { backendFile, isBackendImage } from '../mvcc/index.ts';
import { walFile } from '../replica/wal.ts';
import type { NodeId } from '../host/node.ts';
import { TestCluster } from './_test/testCluster.ts';
import { isErrorReply } from './serverRequest.ts';

/**
 * A scripted run of a 3-member cluster with manual syncs: writes submitted to `victim`, the
 * cluster stepped one action at a time (deliver one message, tick one member, complete one
 * member's syncs). `crashAt` crashes the victim before that action and restarts it at once.
 */
function scriptedRun(crashAt: number, torn: boolean): { cluster: TestCluster; acknowledged: string[]; victim: NodeId } {
  const cluster = new TestCluster({ machines: 3, syncs: 'manual', tornWrite: torn ? ratio(1, 1) : ratio(0, 1), config: { snapshotCount: 6, snapshotCatchUpEntries: 2 } });
  const leader = cluster.electLeader();
  cluster.settle(2);
  const victim = leader;
  const submitted = new Map<number, string>();
  for (let step = 0, key = 0; step < 120; step++) {
    if (step === crashAt && cluster.isUp(victim)) {
      cluster.crash(victim);
      cluster.restart(victim);
    }
    if (step % 4 === 0 && cluster.isUp(victim)) submitted.set(cluster.submit(victim, { method: 'Put', request: { key: `k${key}`, value: `${key++}` } }), `k${key - 1}`);
    const member = (step % 3) + 1;
    cluster.deliver(3);
    if (step % 2 === 0) cluster.tick(member);
    cluster.completeSyncs(((step + 1) % 3) + 1);
  }
  const acknowledged = [...submitted].filter(([id]) => {
    const reply = cluster.replyTo(id);
    return reply !== undefined && !isErrorReply(reply);
  }).map(([, key]) => key);
  return { cluster, acknowledged, victim };
}

for (const torn of [false, true]) {
  test(`a member crashed at any step of a run${torn ? ' (its first unsynced append torn)' : ''} restarts, keeps every acknowledged write, and converges`, (t) => {
    for (let crashAt = 0; crashAt < 120; crashAt += 1) {
      const { cluster, acknowledged, victim } = scriptedRun(crashAt, torn);
      const leader = cluster.electLeader();
      cluster.settle(20);
      const server = cluster.server(victim);
      for (const key of acknowledged) {
        const range = server.state.kv.range({ key });
        t.true(!isEtcdError(range) && range.kvs.length === 1, `crash at step ${crashAt}: acknowledged ${key} is on member ${victim}`);
      }
      const hash = (id: NodeId) => cluster.server(id).state.kv.hashKV() as HashKVResponse;
      t.is(server.appliedIndex, cluster.server(leader).appliedIndex, `crash at step ${crashAt}`);
      t.deepEqual(hash(victim), hash(leader), `crash at step ${crashAt}: the restarted member converged`);
      t.true(server.state.consistentIndex <= Math.max(server.storage.lastIndex(), server.storage.snapshot().metadata.index));
    }
  });
}

test('a crash in the middle of a compaction resumes it on restart; the revision never goes back (etcd #17780)', (t) => {
  const cluster = new TestCluster({ machines: 3, config: { compactionBatchLimit: 2, compactionBatchesPerTick: 1 } });
  const leader = cluster.electLeader();
  for (let i = 0; i < 12; i++) cluster.ok(leader, 'Put', { key: `k${i % 3}`, value: `${i}` });
  cluster.ok(leader, 'DeleteRange', { key: 'k0', rangeEnd: 'k9' });
  const revision = cluster.server(leader).state.kv.revision;
  const victim = [1, 2, 3].find((id) => id !== leader)!;
  cluster.ok(leader, 'Compact', { revision });
  cluster.deliver();
  t.true(cluster.server(victim).state.kv.compacting, 'the compaction has batches left on the follower');
  cluster.tick(victim);
  cluster.crash(victim);
  const restarted = cluster.restart(victim);
  t.is(restarted.state.kv.revision, revision, 'not back, although the latest changes were compacted away');
  cluster.settle(20);
  t.false(restarted.state.kv.compacting);
  t.deepEqual(restarted.state.kv.hashKV(), cluster.server(leader).state.kv.hashKV());
});

test('a crash right after installing a snapshot, before or after it is durable, restarts consistently', (t) => {
  for (const synced of [false, true]) {
    const cluster = new TestCluster({ machines: 3, syncs: 'manual', config: { snapshotCount: 4, snapshotCatchUpEntries: 1 } });
    const leader = cluster.electLeader();
    const lagging = [1, 2, 3].find((id) => id !== leader)!;
    cluster.isolate(lagging);
    for (let i = 0; i < 20; i++) cluster.ok(leader, 'Put', { key: `k${i}`, value: `${i}` });
    cluster.heal();
    // Deliver until the lagging member has installed the snapshot (its writes not yet synced).
    const before = cluster.server(lagging).appliedIndex;
    for (let i = 0; i < 50 && cluster.server(lagging).appliedIndex === before; i++) {
      cluster.tick(leader);
      cluster.completeSyncs(leader);
      cluster.deliver(1);
    }
    t.true(cluster.server(lagging).appliedIndex > before, 'the snapshot was installed');
    if (synced) cluster.completeSyncs(lagging);
    const durable = cluster.machine(lagging).disk.durableRecords(backendFile).filter(isBackendImage).at(-1)!;
    cluster.crash(lagging);
    const restarted = cluster.restart(lagging);
    t.is(restarted.recovery.backendConsistentIndex, durable.meta.consistentIndex, synced ? 'the installed backend' : 'the old backend');
    cluster.settle(20);
    t.deepEqual(restarted.state.kv.hashKV(), cluster.server(leader).state.kv.hashKV());
  }
});

test('a first boot that died with its bootstrap write torn boots again, and what it writes then survives the next restart (random cluster seed 1)', (t) => {
  const cluster = new TestCluster({ machines: 1, syncs: 'manual', tornWrite: ratio(1, 1) });
  // The first boot's WAL append was torn by the crash (as an earlier version appended its bootstrap).
  cluster.crash(1);
  const disk = cluster.machine(1).disk;
  disk.write([{ kind: 'append', file: walFile, records: [{ type: 'hardState', hardState: { term: 1, vote: 0, commit: 1 } }] }]);
  disk.crash();
  t.is(disk.stats.tornWrites, 1);
  cluster.restart(1);
  const leader = cluster.electLeader();
  cluster.ok(leader, 'Put', { key: 'a', value: 'kept' });
  cluster.completeSyncs();
  cluster.crash(1);
  cluster.restart(1);
  cluster.electLeader();
  t.is(cluster.ok(1, 'Range', { key: 'a' }).kvs[0]?.value, 'kept');
});
