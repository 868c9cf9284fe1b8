import test from 'ava';
import {
  ErrDuplicateKey,
  ErrEmptyKey,
  ErrIntegerTooLarge,
  ErrInvalidSortOption,
  ErrLeaderChanged,
  ErrRequestTooLarge,
  ErrTooManyOps,
  ErrTooManyRequests,
  ErrUnknownMethod,
  GrpcCode,
  type EtcdError,
  type RequestOp,
  type SortOrder,
} from '../api/index.ts';
import type { Entry, Message } from '../raft/index.ts';
import { TestCluster } from './_test/testCluster.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from './serverRequest.ts';

function errorOf(reply: ServerReply): EtcdError | null {
  return isErrorReply(reply) ? reply.error : null;
}

const puts = (count: number): RequestOp[] => Array.from({ length: count }, (_, i) => ({ requestPut: { key: `k${i}`, value: 'v' } }));

test("bad requests get etcd's error at the edge, are never proposed, and leave the revision alone", (t) => {
  const cluster = new TestCluster({ machines: 3, config: { maxTxnOps: 8 } });
  const leader = cluster.electLeader();
  const applied = cluster.server(leader).appliedIndex;
  const cases: [string, ServerReply, EtcdError][] = [
    ['empty key in a range', cluster.request(leader, 'Range', { key: '' }), ErrEmptyKey],
    ['empty key in a put', cluster.request(leader, 'Put', { key: '', value: 'v' }), ErrEmptyKey],
    ['empty key in a delete', cluster.request(leader, 'DeleteRange', { key: '' }), ErrEmptyKey],
    ['an unknown sort order', cluster.request(leader, 'Range', { key: 'a', sortOrder: 'SIDEWAYS' as SortOrder }), ErrInvalidSortOption],
    ['a revision beyond 2^53', cluster.request(leader, 'Range', { key: 'a', revision: 2 ** 60 }), ErrIntegerTooLarge],
    ['a compaction beyond 2^53', cluster.request(leader, 'Compact', { revision: 2 ** 60 }), ErrIntegerTooLarge],
    ['more txn ops than --max-txn-ops', cluster.request(leader, 'Txn', { success: puts(9) }), ErrTooManyOps],
    ['a key put twice in one txn', cluster.request(leader, 'Txn', { success: [{ requestPut: { key: 'a' } }, { requestPut: { key: 'a' } }] }), ErrDuplicateKey],
  ];
  for (const [what, reply, error] of cases) t.is(errorOf(reply), error, what);
  t.is(cluster.server(leader).appliedIndex, applied, 'nothing was proposed');
  t.is(cluster.ok(leader, 'Txn', { success: puts(8) }).header.revision, 2, 'at the limit is fine');
});

test('a request larger than --max-request-bytes (as etcd counts it: its protobuf size) is refused before it is proposed', (t) => {
  const cluster = new TestCluster({ machines: 1, config: { maxRequestBytes: 1024 } });
  const leader = cluster.electLeader();
  t.is(errorOf(cluster.request(leader, 'Put', { key: 'big', value: 'x'.repeat(2000) })), ErrRequestTooLarge);
  t.is(cluster.ok(leader, 'Put', { key: 'small', value: 'x'.repeat(500) }).header.revision, 2);
  // Zero bytes take six characters each in the entry's JSON; etcd counts one (regression: a 1 MB value of zeros was refused).
  t.is(cluster.ok(leader, 'Put', { key: 'zeros', value: '\u0000'.repeat(900) }).header.revision, 3);
  t.is(ErrRequestTooLarge.code, GrpcCode.InvalidArgument);
});

test('too many requests: beyond the bound on waiting calls, and when the apply lags the commit', (t) => {
  const cluster = new TestCluster({ machines: 3, config: { pendingRequestsMax: 4 } });
  const leader = cluster.electLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  cluster.isolate(follower);
  const ids = Array.from({ length: 6 }, (_, i) => cluster.submit(follower, { method: 'Put', request: { key: `k${i}`, value: 'v' } }));
  const refused = ids.map((id) => cluster.replyTo(id)).filter((reply) => reply !== undefined && errorOf(reply) === ErrTooManyRequests);
  t.is(refused.length, 2, 'the first four wait, the rest are refused at once');
  const lagging = new TestCluster({ machines: 1, config: { maxGapBetweenApplyAndCommit: -1 } });
  t.is(errorOf(lagging.request(lagging.electLeader(), 'Put', { key: 'a', value: 'v' })), ErrTooManyRequests, 'committed - applied above the gap (here any)');
});

test('a linearizable read whose read index has not come back when the leader changes fails with ErrLeaderChanged', (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  // The leader never answers the read index; then it dies and another is elected.
  cluster.cut.add(`${leader}->${follower}`);
  const read = cluster.submit(follower, { method: 'Range', request: { key: 'a' } });
  cluster.deliver();
  cluster.crash(leader);
  cluster.heal();
  for (let i = 0; i < 100 && cluster.replyTo(read) === undefined; i++) cluster.settle(1);
  t.is(errorOf(cluster.replyTo(read)!), ErrLeaderChanged);
  t.not(cluster.electLeader(), leader);
});

/** Three members, `x` put and applied everywhere: the cluster, its leader and a follower. */
function threeWithX(value: string): { cluster: TestCluster; leader: number; follower: number } {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  cluster.ok(leader, 'Put', { key: 'x', value });
  cluster.settle(2);
  return { cluster, leader, follower };
}

test('an answer to an earlier read round never serves a later one (etcd #20418)', (t) => {
  const { cluster, leader, follower } = threeWithX('old');
  // The follower's first read round gets its answers late (a slow link, a paused process): the
  // request, and its retry with a fresh context, are answered at the old commit index.
  cluster.held.add(`${leader}->${follower}`);
  const first = cluster.submit(follower, { method: 'Range', request: { key: 'x' } });
  cluster.deliver();
  cluster.tick();
  cluster.deliver();
  cluster.settle(cluster.config.readIndexRetryTicks);
  // A write completes; then a second read arrives, while the first round still waits.
  const other = [1, 2, 3].find((id) => id !== leader && id !== follower)!;
  cluster.ok(other, 'Put', { key: 'x', value: 'new' });
  const second = cluster.submit(follower, { method: 'Range', request: { key: 'x' } });
  cluster.heal();
  cluster.settle(10);
  const late = cluster.replyTo(second)!;
  t.false(isErrorReply(late));
  if (!isErrorReply(late) && late.method === 'Range') t.is(late.response.kvs[0]?.value, 'new', 'the second read waited for a round of its own');
  t.truthy(cluster.replyTo(first));
  for (const read of cluster.server(follower).servedReads) t.true(read.readIndex <= read.appliedIndex);
});

test('reads that arrive between two Readies share one read round, started by the Ready', (t) => {
  const { cluster, follower } = threeWithX('v');
  const server = cluster.server(follower);
  // Three calls handed over in one turn of the host's loop, before it pumps.
  for (let id = 9001; id <= 9003; id++) server.submit(1000, id, { method: 'Range', request: { key: 'x' } });
  t.is(server.waiters.reads.inFlight, null, 'no round before the Ready');
  cluster.tick(follower);
  t.is(server.waiters.reads.inFlight?.reads, 3, 'one round for all three (it held only the first when rounds started on arrival)');
  t.is(cluster.network.filter(({ message }) => message.type === 'MsgReadIndex').length, 1);
  cluster.settle(3);
  for (let id = 9001; id <= 9003; id++) {
    const reply = cluster.replyTo(id);
    t.true(reply !== undefined && !isErrorReply(reply) && reply.method === 'Range' && reply.response.kvs[0]?.value === 'v');
  }
});

test('a call delivered twice is handled once', (t) => {
  const cluster = new TestCluster({ machines: 1 });
  const leader = cluster.electLeader();
  const request = { method: 'Put', request: { key: 'a', value: '1' } } as const;
  cluster.server(leader).submit(7, 1, request);
  cluster.server(leader).submit(7, 1, request);
  cluster.settle(3);
  t.is(cluster.server(leader).state.kv.revision, 2, 'one put');
});

test('an entry appended twice (a proposal the network duplicated) applies once, on every member and after restarts', (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  cluster.submit(follower, { method: 'Put', request: { key: 'a', value: '1' } });
  const proposal = cluster.network.find((inFlight) => inFlight.message.type === 'MsgProp')!;
  cluster.network.push(proposal, proposal);
  cluster.settle(5);
  const leaderLog = cluster.server(leader).storage;
  const entries = leaderLog.entries(leaderLog.firstIndex(), leaderLog.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  const proposed = (proposal.message as Message).entries[0]!;
  t.true(Array.isArray(entries) && proposed.type === 'normal');
  const copies = (entries as readonly Entry[]).filter((entry) => entry.type === 'normal' && proposed.type === 'normal' && entry.data === proposed.data);
  t.is(copies.length, 3, 'the leader appended it three times');
  for (const id of [1, 2, 3]) t.is(cluster.server(id).state.kv.revision, 2, `member ${id} applied it once`);
  for (const id of [1, 2, 3]) {
    cluster.crash(id);
    cluster.restart(id);
  }
  cluster.electLeader();
  cluster.settle(5);
  for (const id of [1, 2, 3]) t.is(cluster.server(id).state.kv.revision, 2, `member ${id}, restarted, still once`);
});

test('a call to a method the server does not have gets ErrUnknownMethod, not a crash', (t) => {
  const cluster = new TestCluster({ machines: 1 });
  const leader = cluster.electLeader();
  const id = cluster.submit(leader, { method: 'NoSuchMethod', request: {} } as unknown as ServerRequest);
  cluster.settle(1);
  t.is(errorOf(cluster.replyTo(id)!), ErrUnknownMethod);
});
