import test from 'ava';
import { ratio } from '../../core/base/ratio.ts';
import type { DurableWrite } from '../../core/host/node.ts';
import { Backend, backendFile, KvStore, noLeases } from '../../core/mvcc/index.ts';
import { ValueSlabs } from '../../core/mvcc/valueSlabs.ts';
import type { Entry } from '../../core/raft/index.ts';
import { walFile, type WalRecord } from '../../core/replica/wal.ts';
import type { EtcdServer, ServerReply, ServerRequest } from '../../core/server/index.ts';
import { calmDisk, SimDisk } from '../../sim/disk.ts';
import { TestRandom } from '../../core/raft/_test/testRandom.ts';
import { DurableOrder } from './durableOrder.ts';
import { checkRecovery } from './recoveryCheck.ts';
import { ReplyChecks } from './replyChecks.ts';
import { RevisionLedger } from './revisionLedger.ts';

const at = (appliedIndex: number, consistentIndex: number, revision: number) => ({ appliedIndex, consistentIndex, revision });

test('members that applied the same entries are at the same revision; one that applied an entry twice is caught there', (t) => {
  const ledger = new RevisionLedger();
  ledger.observe(1, 0, at(5, 5, 3));
  ledger.observe(2, 0, at(5, 5, 3));
  ledger.observe(1, 0, at(9, 9, 5));
  t.throws(() => ledger.observe(2, 0, at(9, 9, 6)), { message: /member 2 is at revision 6 with consistent index 9, where member 1 was at revision 5/ });
});

test('after a restart a member may be back at an older index, but must be at the revision it had there', (t) => {
  const ledger = new RevisionLedger();
  ledger.observe(1, 0, at(9, 9, 6));
  ledger.observe(1, 0, at(12, 12, 8));
  ledger.observe(1, 1, at(9, 9, 6));
  t.throws(() => ledger.observe(1, 2, at(12, 12, 9)), { message: /different effect/ });
});

test('within an incarnation the revision and the consistent index never go back, and an entry writes at most one revision', (t) => {
  const ledger = new RevisionLedger();
  ledger.observe(3, 0, at(4, 4, 2));
  t.throws(() => ledger.observe(3, 0, at(3, 3, 2)), { message: /consistent index went back/ });
  const second = new RevisionLedger();
  second.observe(3, 0, at(4, 4, 2));
  t.throws(() => second.observe(3, 0, at(5, 5, 4)), { message: /more than one revision per entry/ });
});

test('an applied index past the consistent index means the backend does not record what was applied (etcd #13766)', (t) => {
  const ledger = new RevisionLedger();
  t.throws(() => ledger.observe(1, 0, at(8, 1, 5)), { message: /not recorded with its consistent index/ });
  t.notThrows(() => ledger.observe(2, 0, at(3, 8, 5)), 'replaying entries its backend already holds');
});

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array() } as Entry;
}

test('a durable backend commit whose consistent index the durable WAL does not hold is caught as soon as it is synced', (t) => {
  const disk = new SimDisk({ ...calmDisk, tornWrite: ratio(0, 1) }, new TestRandom(1));
  const order = new DurableOrder();
  const backend = Backend.create();
  const wal = (records: WalRecord[]): DurableWrite => ({ kind: 'append', file: walFile, records });
  const sync = (writes: DurableWrite[]) => {
    disk.write(writes);
    disk.completeSync(disk.beginSync().mark);
  };
  sync([wal([{ type: 'entries', entries: [entry(1, 1), entry(2, 1)] }])]);
  backend.setConsistentIndex(2, 1);
  backend.commit();
  sync(backend.takeWrites());
  t.notThrows(() => order.check(1, disk));
  backend.setConsistentIndex(3, 1);
  backend.commit();
  sync(backend.takeWrites());
  t.throws(() => order.check(1, disk), { message: /holds consistent index 3, beyond its durable WAL \(last index 2\)/ });
  t.is(disk.durableRecords(backendFile).length, 2);
});

/** A member as the reply checks read it. */
function member(id: number, appliedIndex: number, revision: number, modRevisionOf: (key: string, at: number) => number | undefined): EtcdServer {
  const kv = {
    revision,
    compactRevision: 0,
    range: (request: { key: string; revision: number }) => {
      const modRevision = modRevisionOf(request.key, request.revision);
      return { kvs: modRevision === undefined ? [] : [{ key: request.key, modRevision }] };
    },
  };
  return { id, appliedIndex, state: { kv } } as unknown as EtcdServer;
}

const range: ServerRequest = { method: 'Range', request: { key: 'a' } };
const header = (revision: number) => ({ clusterId: 1, memberId: 1, revision, raftTerm: 2 });

test('a linearizable read answered below the commit index the cluster had when it arrived is a stale read', (t) => {
  const checks = new ReplyChecks();
  checks.onRequest(100, 2, 7, range, () => 12);
  t.throws(() => checks.onReply(member(2, 10, 5, () => undefined), 100, 7, { method: 'Range', response: { header: header(5), kvs: [], more: false, count: 0 } }), { message: /at applied index 10, but the cluster had committed index 12/ });
  checks.onRequest(100, 2, 8, range, () => 12);
  t.notThrows(() => checks.onReply(member(2, 12, 5, () => undefined), 100, 8, { method: 'Range', response: { header: header(5), kvs: [], more: false, count: 0 } }));
  checks.onRequest(100, 3, 9, { method: 'Range', request: { key: 'a', serializable: true } }, () => 12);
  t.notThrows(() => checks.onReply(member(3, 1, 1, () => undefined), 100, 9, { method: 'Range', response: { header: header(1), kvs: [], more: false, count: 0 } }), 'serializable reads may be stale');
});

test("a range's header is never below its member's store revision when the range arrived, a historical one's neither (mutant etcd-range-header-at-read-revision)", (t) => {
  const checks = new ReplyChecks();
  const historical: ServerRequest = { method: 'Range', request: { key: 'a', revision: 4, serializable: true } };
  checks.onRequest(100, 2, 1, historical, () => 0, 9);
  t.throws(() => checks.onReply(member(2, 12, 9, () => undefined), 100, 1, { method: 'Range', response: { header: header(4), kvs: [], more: false, count: 0 } }), {
    message: /answered a range at revision 4 \(client 100\) with header revision 4, below its store's revision 9 when the request arrived/,
  });
  checks.onRequest(100, 2, 2, historical, () => 0, 9);
  t.notThrows(() => checks.onReply(member(2, 12, 10, () => undefined), 100, 2, { method: 'Range', response: { header: header(10), kvs: [], more: false, count: 0 } }));
});

test('a write is answered only once its entry is applied on the member that answers', (t) => {
  const checks = new ReplyChecks();
  const put: ServerRequest = { method: 'Put', request: { key: 'a', value: '1' } };
  checks.onRequest(100, 1, 1, put, () => 0);
  t.throws(() => checks.onReply(member(1, 3, 4, () => undefined), 100, 1, { method: 'Put', response: { header: header(5) } }), { message: /with revision 5 while its store is at revision 4/ });
  checks.onRequest(100, 1, 2, put, () => 0);
  t.throws(() => checks.onReply(member(1, 3, 5, () => 3), 100, 2, { method: 'Put', response: { header: header(5) } }), { message: /does not hold the write of "a" there \(last modified at 3\)/ });
  checks.onRequest(100, 1, 3, put, () => 0);
  t.notThrows(() => checks.onReply(member(1, 3, 6, (_key, revision) => (revision >= 5 ? 5 : undefined)), 100, 3, { method: 'Put', response: { header: header(5) } }));
});

test("every KeyValue an answer carries has its value: a spread copy of a slab's KeyValue (no `value` getter) is caught, in a range, a put's prevKv and a txn's ranges", (t) => {
  const checks = new ReplyChecks();
  const slabbed = new ValueSlabs().keyValue('a', 2, 2, 1, 'v'.repeat(100), 0);
  const copied = { ...slabbed };
  t.is((copied as { value?: string }).value, undefined, 'a spread loses the getter');
  const serializable: ServerRequest = { method: 'Range', request: { key: 'a', serializable: true } };
  checks.onRequest(100, 1, 1, serializable, () => 0);
  t.notThrows(() => checks.onReply(member(1, 3, 3, () => undefined), 100, 1, { method: 'Range', response: { header: header(3), kvs: [slabbed, { ...slabbed, value: 'short' }], more: false, count: 2 } }));
  checks.onRequest(100, 1, 2, serializable, () => 0);
  t.throws(() => checks.onReply(member(1, 3, 3, () => undefined), 100, 2, { method: 'Range', response: { header: header(3), kvs: [copied], more: false, count: 1 } }), { message: /answered a Range of client 100 \(request 2\) with a KeyValue of "a" \(mod revision 2\) that has no value/ });
  checks.onRequest(100, 1, 3, { method: 'Put', request: { key: 'a', value: 'w', prevKv: true } }, () => 0);
  t.throws(() => checks.onReply(member(1, 3, 3, () => 3), 100, 3, { method: 'Put', response: { header: header(3), prevKv: copied } }), { message: /answered a Put .* that has no value/ });
  checks.onRequest(100, 1, 4, { method: 'Txn', request: { compare: [], success: [{ requestRange: { key: 'a', serializable: true } }], failure: [] } }, () => 0);
  t.throws(
    () => checks.onReply(member(1, 3, 3, () => undefined), 100, 4, { method: 'Txn', response: { header: header(3), succeeded: true, responses: [{ responseRange: { header: header(3), kvs: [copied], more: false, count: 1 } }] } }),
    { message: /answered a Txn .* that has no value/ },
  );
});

test('every KeyValue an answer carries is whole: one without its create or mod revision, version or lease is caught (the history check takes a missing field for one not shown)', (t) => {
  const checks = new ReplyChecks();
  const whole = { key: 'a', createRevision: 2, modRevision: 3, version: 2, value: 'v', lease: 0 };
  const fields = [
    ['createRevision', 'create revision'],
    ['modRevision', 'mod revision'],
    ['version', 'version'],
    ['lease', 'lease'],
  ] as const;
  let requestId = 0;
  const put: ServerRequest = { method: 'Put', request: { key: 'a', value: 'w', prevKv: true } };
  checks.onRequest(100, 1, ++requestId, put, () => 0);
  t.notThrows(() => checks.onReply(member(1, 3, 4, () => 4), 100, requestId, { method: 'Put', response: { header: header(4), prevKv: whole } }), 'a whole KeyValue, lease 0 included');
  for (const [field, name] of fields) {
    const { [field]: _dropped, ...partial } = whole;
    checks.onRequest(100, 1, ++requestId, put, () => 0);
    const reply = { method: 'Put', response: { header: header(4), prevKv: partial } } as unknown as ServerReply;
    t.throws(() => checks.onReply(member(1, 3, 4, () => 4), 100, requestId, reply), { message: new RegExp(`answered a Put .* with a KeyValue of "a" .* that has no ${name}$`) }, field);
  }
});

test("a restarted member's store must equal an independent reopening of its backend file", (t) => {
  const disk = new SimDisk({ ...calmDisk, tornWrite: ratio(0, 1) }, new TestRandom(2));
  const onDisk = KvStore.open(Backend.create(), { compactionBatchLimit: 100, leases: noLeases });
  onDisk.put({ key: 'a', value: '1' });
  onDisk.put({ key: 'b', value: '2' });
  onDisk.backend.setConsistentIndex(4, 2);
  onDisk.backend.commit();
  disk.write(onDisk.backend.takeWrites());
  disk.completeSync(disk.beginSync().mark);
  const restarted = (kv: KvStore) => ({ id: 3, recovery: { backendConsistentIndex: 4, walSnapshotIndex: 1 }, state: { kv } }) as unknown as EtcdServer;
  t.true(checkRecovery(restarted(onDisk), disk), 'the same store');
  const other = KvStore.open(Backend.create(), { compactionBatchLimit: 100, leases: noLeases });
  other.put({ key: 'a', value: '1' });
  other.put({ key: 'b', value: 'changed' });
  t.throws(() => checkRecovery(restarted(other), disk), { message: /differs from its backend file at revision 3/ });
  const behind = KvStore.open(Backend.create(), { compactionBatchLimit: 100, leases: noLeases });
  behind.put({ key: 'a', value: '1' });
  t.throws(() => checkRecovery(restarted(behind), disk), { message: /restarted at revision 2, but its backend file holds revision 3/ });
});
