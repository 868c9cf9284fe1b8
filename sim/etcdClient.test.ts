import test from 'ava';
import {
  ErrCompacted,
  ErrDuplicateKey,
  ErrLeaderChanged,
  ErrNoLeader,
  ErrNoSpace,
  ErrNotSupportedForLearner,
  ErrProposalDropped,
  ErrStopped,
  ErrTimeout,
  ErrTimeoutDueToLeaderFail,
  ErrTooManyRequests,
  type EtcdError,
} from '../core/api/index.ts';
import type { ServerReply, ServerRequest } from '../core/server/index.ts';
import { EtcdConnection, etcdOutcome, isMutation, safeToRetry } from './etcdClient.ts';

const put: ServerRequest = { method: 'Put', request: { key: 'a', value: '1' } };
const get: ServerRequest = { method: 'Range', request: { key: 'a' } };
const readTxn: ServerRequest = { method: 'Txn', request: { compare: [], success: [{ requestRange: { key: 'a' } }], failure: [] } };
const writeTxn: ServerRequest = { method: 'Txn', request: { compare: [], success: [{ requestPut: { key: 'a', value: '2' } }], failure: [] } };
const failed = (request: ServerRequest, error: EtcdError): ServerReply => ({ method: request.method, error });

test('reads and read-only txns are not mutations; puts, write txns, compactions and member changes are (clientv3 retry policies)', (t) => {
  t.false(isMutation(get));
  t.false(isMutation(readTxn));
  t.false(isMutation({ method: 'Alarm', request: { action: 'GET' } }));
  t.true(isMutation(put));
  t.true(isMutation(writeTxn));
  t.true(isMutation({ method: 'Compact', request: { revision: 3 } }));
  t.true(isMutation({ method: 'MemberRemove', request: { ID: 2 } }));
});

test('a write refused before it reached Raft surely failed; one that may have been proposed, or applied past the quota, is unknown', (t) => {
  for (const error of [ErrNoLeader, ErrNotSupportedForLearner, ErrTooManyRequests, ErrProposalDropped, ErrDuplicateKey, ErrCompacted]) t.is(etcdOutcome(writeTxn, failed(writeTxn, error)), 'fail', error.message);
  for (const error of [ErrTimeout, ErrTimeoutDueToLeaderFail, ErrLeaderChanged, ErrStopped, ErrNoSpace]) t.is(etcdOutcome(put, failed(put, error)), 'unknown', error.message);
});

test('a read that failed changed nothing, whatever the error', (t) => {
  for (const error of [ErrTimeout, ErrLeaderChanged, ErrCompacted]) t.is(etcdOutcome(get, failed(get, error)), 'fail');
});

test('a refused connection is retried for every call; Unavailable errors for reads; for writes only the ones that come before Raft', (t) => {
  t.true(safeToRetry(put, null));
  t.true(safeToRetry(get, failed(get, ErrTimeout)));
  t.true(safeToRetry(get, failed(get, ErrLeaderChanged)));
  t.false(safeToRetry(get, failed(get, ErrCompacted)), 'OutOfRange is not transient');
  t.true(safeToRetry(put, failed(put, ErrNoLeader)));
  t.true(safeToRetry(put, failed(put, ErrNotSupportedForLearner)));
  t.false(safeToRetry(put, failed(put, ErrTimeout)), 'a timed-out write may have been applied: never sent twice');
  t.false(safeToRetry(put, failed(put, ErrStopped)));
  t.false(safeToRetry(put, { method: 'Put', response: { header: { clusterId: 1, memberId: 1, revision: 2, raftTerm: 2 } } }));
});

test('the balancer goes round the endpoints, drops a member that answers "server stopped" (never the last), and an auto-sync adopts the members listed', (t) => {
  const connection = new EtcdConnection([1, 2, 3], 1, 3_000_000);
  t.deepEqual([connection.next(), connection.next(), connection.next(), connection.next()], [2, 3, 1, 2]);
  connection.learn(failed(put, ErrStopped));
  t.deepEqual([connection.next(), connection.next(), connection.next()], [1, 3, 1]);
  t.is(connection.syncCall(1_000_000), null);
  const sync = connection.syncCall(3_000_000)!;
  t.is(sync.request.method, 'MemberList');
  const member = (ID: number) => ({ ID, name: `m${ID}`, peerURLs: [], clientURLs: [], isLearner: false });
  connection.synced({ method: 'MemberList', response: { header: { clusterId: 1, memberId: 1, revision: 1, raftTerm: 1 }, members: [member(4), member(5)] } }, 3_100_000);
  t.false(connection.syncing);
  t.deepEqual([connection.next(), connection.next()].sort(), [4, 5]);
  const alone = new EtcdConnection([7], 0);
  alone.next();
  alone.learn(failed(put, ErrStopped));
  t.is(alone.next(), 7);
});
