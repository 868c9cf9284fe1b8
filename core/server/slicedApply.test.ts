import test from 'ava';
import type { HashKVResponse } from '../api/index.ts';
import type { NodeId } from '../host/node.ts';
import { TestCluster } from './_test/testCluster.ts';
import { isErrorReply } from './serverRequest.ts';

/*
 * A range delete applied across turns of the member's loop (applySliceKeys, issue 10), with the
 * later turns given by hand: between slices the member serves the store before the delete, queues
 * later entries, holds a Defragment and a linearizable read, commits nothing; after the last slice
 * everything follows in order.
 */

const keys = Array.from({ length: 7 }, (_, i) => `p/${i}`);

function clusterWithKeys(): { cluster: TestCluster; leader: NodeId } {
  const cluster = new TestCluster({ machines: 3, laterTurns: 'manual', config: { applySliceKeys: 2 } });
  const leader = cluster.electLeader();
  for (const key of keys) cluster.ok(leader, 'Put', { key, value: key });
  cluster.settle(3);
  return { cluster, leader };
}

/** Delivers and ticks (no later turns) until every member is between slices of the delete. */
function untilAllSliced(cluster: TestCluster): void {
  for (let i = 0; i < 50 && !cluster.machines.every((machine) => machine.server?.slicedApply !== null); i++) {
    cluster.deliver();
    cluster.tick();
  }
}

test('between slices a member serves the store before the delete, queues later entries and holds what commits; after the last, all follows', (t) => {
  const { cluster, leader } = clusterWithKeys();
  const server = cluster.server(leader);
  const revision = server.state.kv.revision;
  const deletion = cluster.submit(leader, { method: 'DeleteRange', request: { key: 'p/', rangeEnd: 'p0' } });
  untilAllSliced(cluster);
  t.not(server.slicedApply, null, 'the delete goes on in later turns');
  const put = cluster.submit(leader, { method: 'Put', request: { key: 'after', value: '1' } });
  const defrag = cluster.submit(leader, { method: 'Defragment', request: {} });
  const linearizable = cluster.submit(leader, { method: 'Range', request: { key: 'p/', rangeEnd: 'p0' } });
  for (let i = 0; i < 5; i++) {
    cluster.deliver();
    cluster.tick();
  }
  t.true(server.hardState.commit > server.appliedIndex + 1, 'the put committed, queued behind the delete');
  t.is(server.state.kv.revision, revision);
  t.deepEqual(cluster.ok(leader, 'Range', { key: 'p/', rangeEnd: 'p0', serializable: true }).kvs.map((kv) => kv.key), keys, 'a serializable read: the store before the delete');
  for (const id of [deletion, put, defrag, linearizable]) t.is(cluster.replyTo(id), undefined, `request ${id} waits`);
  t.true(server.state.backend.writeTxnOpen);

  // Four slices of two keys (the last finds one, ends the delete); each later turn does one.
  let turns = 0;
  while (cluster.machines.some((machine) => machine.server?.slicedApply !== null) && turns < 10) {
    cluster.runLater();
    cluster.deliver();
    turns++;
  }
  t.is(turns, 3);
  cluster.settle(3);
  const deleted = cluster.replyTo(deletion);
  t.true(deleted !== undefined && !isErrorReply(deleted));
  t.like((deleted as { response: unknown }).response, { deleted: keys.length, header: { revision: revision + 1 } });
  t.like((cluster.replyTo(put) as { response: unknown }).response, { header: { revision: revision + 2 } });
  t.false(isErrorReply(cluster.replyTo(defrag)!), 'the defragment ran once the delete ended');
  const read = cluster.replyTo(linearizable);
  t.true(read !== undefined && !isErrorReply(read) && (read.response as unknown as { kvs: unknown[] }).kvs.length === 0, 'the linearizable read, served after the delete, finds nothing');
  const hash = (id: NodeId) => cluster.server(id).state.kv.hashKV() as HashKVResponse;
  for (const machine of cluster.machines) t.deepEqual(hash(machine.id), hash(leader), `member ${machine.id} agrees`);
  t.is(server.slicing.applies, 1);
});

test('a member crashed between slices replays the delete from its WAL and converges', (t) => {
  const { cluster, leader } = clusterWithKeys();
  cluster.submit(leader, { method: 'DeleteRange', request: { key: 'p/', rangeEnd: 'p0' } });
  untilAllSliced(cluster);
  const victim = cluster.machines.find((machine) => machine.id !== leader)!.id;
  const before = cluster.server(victim).state.kv.revision;
  cluster.settle(3); // periodic commits would come here: none while the delete is open
  t.is(cluster.server(victim).state.kv.revision, before);
  cluster.crash(victim);
  cluster.restart(victim);
  for (let i = 0; i < 20; i++) {
    cluster.runLater();
    cluster.settle(1);
  }
  const hash = (id: NodeId) => cluster.server(id).state.kv.hashKV() as HashKVResponse;
  t.is(cluster.server(victim).state.kv.revision, before + 1);
  t.deepEqual(hash(victim), hash(leader));
  t.is(cluster.ok(victim, 'Range', { key: 'p/', rangeEnd: 'p0', serializable: true }).kvs.length, 0);
});
