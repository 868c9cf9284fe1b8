import test from 'ava';
import { ErrBadLeaderTransferee, ErrCompacted, ErrFutureRev, ErrNoSpace, ErrNotLeader, ErrNotSupportedForLearner, isEtcdError, type EtcdError } from '../api/index.ts';
import { backendFile, hashBackendImage, isBackendImage, KvStore, Backend, type BackendImage } from '../mvcc/index.ts';
import type { NodeId } from '../host/node.ts';
import { TestCluster } from './_test/testCluster.ts';
import { isErrorReply, type ServerReply } from './serverRequest.ts';

function errorOf(reply: ServerReply): EtcdError | null {
  return isErrorReply(reply) ? reply.error : null;
}

const others = (leader: NodeId, size = 3) => Array.from({ length: size }, (_, i) => i + 1).filter((id) => id !== leader);

test("Status reports the member's view of Raft and its backend, and lists a missing leader as an error", (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  cluster.ok(leader, 'Put', { key: 'a', value: '1' });
  cluster.settle(3);
  const status = cluster.ok(leader, 'Status', {});
  const server = cluster.server(leader);
  t.like(status, { leader, raftTerm: server.hardState.term, raftIndex: server.hardState.commit, raftAppliedIndex: server.appliedIndex, errors: [], isLearner: false });
  t.true(status.dbSize >= status.dbSizeInUse && status.dbSizeInUse > 0);
  t.is(status.header.revision, 2);
  const [follower] = others(leader);
  cluster.isolate(follower!);
  cluster.settle(30);
  t.deepEqual(cluster.ok(follower!, 'Status', {}).errors, ['etcdserver: no leader']);
});

test('HashKV is the same on every member at equal revisions, with etcd\'s errors below the compaction and above the head', (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  for (let i = 0; i < 6; i++) cluster.ok(leader, 'Put', { key: `k${i % 2}`, value: `${i}` });
  cluster.ok(leader, 'DeleteRange', { key: 'k1' });
  cluster.ok(leader, 'Compact', { revision: 4, physical: true });
  cluster.settle(5);
  for (const revision of [0, 4, 6, 8]) {
    const hashes = [1, 2, 3].map((id) => cluster.ok(id, 'HashKV', { revision }));
    t.true(hashes.every((hash) => hash.hash === hashes[0]!.hash && hash.compactRevision === 4), `revision ${revision}`);
  }
  t.is(errorOf(cluster.request(leader, 'HashKV', { revision: 3 })), ErrCompacted);
  t.is(errorOf(cluster.request(leader, 'HashKV', { revision: 9 })), ErrFutureRev);
});

test('the space quota: past it writes fail with NOSPACE, the alarm is raised through Raft and listed on every member until disarmed', (t) => {
  const quota = 64 * 1024;
  const cluster = new TestCluster({ machines: 3, config: { quotaBackendBytes: quota } });
  const leader = cluster.electLeader();
  let refused: EtcdError | null = null;
  for (let i = 0; i < 200 && refused === null; i++) {
    refused = errorOf(cluster.request(leader, 'Put', { key: `key${i}`, value: 'x'.repeat(1024) }));
    cluster.settle(1);
  }
  t.is(refused, ErrNoSpace);
  cluster.settle(3);
  for (const id of [1, 2, 3]) {
    t.deepEqual(cluster.ok(id, 'Status', {}).errors, [`memberID:${leader} alarm:NOSPACE `], `member ${id} lists the alarm`);
  }
  const alarms = cluster.ok(leader, 'Alarm', { action: 'GET' });
  t.deepEqual(alarms.alarms, [{ memberID: leader, alarm: 'NOSPACE' }]);
  // Every member refuses writes now, even small ones; reads and deletes go on.
  const [follower] = others(leader);
  t.is(errorOf(cluster.request(follower!, 'Put', { key: 'small', value: '' })), ErrNoSpace);
  t.is(errorOf(cluster.request(follower!, 'Txn', { success: [{ requestPut: { key: 'small' } }] })), ErrNoSpace);
  t.true(cluster.ok(follower!, 'DeleteRange', { key: 'key', rangeEnd: 'kez' }).deleted > 0);
  // Disarm: compact, defragment everyone, deactivate.
  cluster.ok(leader, 'Compact', { revision: cluster.server(leader).state.kv.revision, physical: true });
  for (const id of [1, 2, 3]) cluster.ok(id, 'Defragment', {});
  const disarmed = cluster.ok(leader, 'Alarm', { action: 'DEACTIVATE', memberID: leader, alarm: 'NOSPACE' });
  t.deepEqual(disarmed.alarms, [{ memberID: leader, alarm: 'NOSPACE' }]);
  cluster.settle(3);
  t.deepEqual(cluster.ok(follower!, 'Status', {}).errors, []);
  t.is(cluster.ok(follower!, 'Put', { key: 'small', value: 'ok' }).header.memberId, follower!);
});

test('MoveLeader: only on the leader, only to a voting member; it answers once the transferee leads', (t) => {
  const cluster = new TestCluster({ machines: 4, initial: 3 });
  const leader = cluster.electLeader();
  cluster.settle(cluster.config.healthIntervalTicks + 2);
  const [a, b] = others(leader) as [NodeId, NodeId];
  t.is(errorOf(cluster.request(a, 'MoveLeader', { targetID: b })), ErrNotLeader);
  t.is(errorOf(cluster.request(leader, 'MoveLeader', { targetID: 9 })), ErrBadLeaderTransferee);
  cluster.ok(leader, 'MemberAdd', { peerURLs: ['http://m4:2380'], isLearner: true });
  cluster.settle(20);
  t.is(errorOf(cluster.request(leader, 'MoveLeader', { targetID: 4 })), ErrBadLeaderTransferee, 'a learner cannot lead');
  t.is(errorOf(cluster.request(4, 'MoveLeader', { targetID: 4 })), ErrNotSupportedForLearner);
  cluster.ok(leader, 'MoveLeader', { targetID: leader });
  cluster.ok(leader, 'MoveLeader', { targetID: a });
  t.is(cluster.electLeader(), a);
});

test('Defragment rewrites the backend file to what is in use; a crash before it is durable keeps the old file, with the same data', (t) => {
  const cluster = new TestCluster({ machines: 1, syncs: 'manual' });
  const leader = cluster.electLeader();
  for (let i = 0; i < 30; i++) cluster.ok(leader, 'Put', { key: `k${i}`, value: 'v'.repeat(2000) });
  cluster.ok(leader, 'DeleteRange', { key: 'k', rangeEnd: 'l' });
  cluster.ok(leader, 'Compact', { revision: cluster.server(leader).state.kv.revision, physical: true });
  cluster.settle(2);
  const before = cluster.ok(leader, 'Status', {});
  t.true(before.dbSize > before.dbSizeInUse);
  const hash = cluster.server(leader).state.kv.hashKV();
  // Mid-defrag: the rewrite is written but not yet synced when the process dies.
  const id = cluster.submit(leader, { method: 'Defragment', request: {} });
  t.is(cluster.replyTo(id), undefined, 'no answer before the rewrite is durable');
  cluster.crash(leader);
  cluster.restart(leader);
  cluster.electLeader();
  t.deepEqual(cluster.server(leader).state.kv.hashKV(), hash);
  t.is(cluster.ok(leader, 'Status', {}).dbSize, before.dbSize, 'the old file');
  cluster.ok(leader, 'Defragment', {});
  const after = cluster.ok(leader, 'Status', {});
  t.is(after.dbSize, after.dbSizeInUse);
  t.true(after.dbSize < before.dbSize);
  const file = cluster.machine(leader).disk.durableRecords(backendFile);
  t.is(file.filter(isBackendImage).length >= 1, true);
  t.deepEqual(cluster.server(leader).state.kv.hashKV(), hash);
});

test('Snapshot hands out the backend at its consistent index with its hash; a store opened from it is the same', (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  for (let i = 0; i < 5; i++) cluster.ok(leader, 'Put', { key: `k${i}`, value: `${i}` });
  cluster.settle(3);
  const snapshot = cluster.ok(leader, 'Snapshot', {});
  const image = snapshot.blob as BackendImage;
  t.is(snapshot.consistentIndex, cluster.server(leader).appliedIndex);
  t.is(snapshot.hash, hashBackendImage(image));
  t.is(snapshot.remainingBytes, 0);
  const restored = KvStore.open(Backend.fromSnapshot(image));
  const hash = restored.hashKV();
  t.false(isEtcdError(hash));
  t.deepEqual(hash, cluster.server(leader).state.kv.hashKV());
  const [follower] = others(leader);
  t.is(cluster.ok(follower!, 'Snapshot', {}).hash, snapshot.hash, 'members at the same index hand out the same backend');
});
