import test from 'ava';
import { ErrCompacted, ErrFutureRev, type KeyValue } from '../../core/api/index.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { HistoryEntry, Outcome } from '../../sim/client.ts';
import { formatJsonLines, parseJsonLines } from '../linearizability/formats/jsonLines.ts';
import { checkTypedHistory } from '../linearizability/formats/typedHistory.ts';
import { etcdHistory } from './etcdHistory.ts';

const header = (revision: number) => ({ clusterId: 7, memberId: 1, revision, raftTerm: 2 });
const kv = (key: string, value: string, createRevision: number, modRevision: number, version: number): KeyValue => ({ key, value, createRevision, modRevision, version, lease: 0 });

let nextId = 0;
function call(client: number, invokeUs: number, completeUs: number | null, request: ServerRequest, reply: ServerReply | null, outcome: Outcome = 'ok'): HistoryEntry<ServerRequest, ServerReply> {
  return { client, id: nextId++, to: 1, invokeUs, completeUs, attempts: 1, lastTo: 1, request, reply, outcome };
}

const putA1 = call(10, 0, 10, { method: 'Put', request: { key: 'a', value: '1', prevKv: true } }, { method: 'Put', response: { header: header(2) } });
const putA2 = call(11, 20, 30, { method: 'Put', request: { key: 'a', value: '2' } }, { method: 'Put', response: { header: header(3) } });
const txn = call(10, 40, 50, {
  method: 'Txn',
  request: { compare: [{ key: 'a', target: 'MOD', result: 'EQUAL', modRevision: 3 }], success: [{ requestDeleteRange: { key: 'a', prevKv: true } }], failure: [{ requestRange: { key: 'a' } }] },
}, { method: 'Txn', response: { header: header(4), succeeded: true, responses: [{ responseDeleteRange: { header: header(4), deleted: 1, prevKvs: [kv('a', '2', 2, 3, 2)] } }] } });
const list = call(12, 60, 70, { method: 'Range', request: { key: 'a', rangeEnd: '\0', limit: 1 } }, { method: 'Range', response: { header: header(4), kvs: [], more: false, count: 0 } });

test('every key-value call becomes an operation of the etcd model with the response fields it asked for and its header revision', (t) => {
  const { history, callOf } = etcdHistory([putA1, putA2, txn, list]);
  t.deepEqual(callOf, [putA1.id, putA2.id, txn.id, list.id]);
  t.deepEqual(
    history.operations.map((operation) => [operation.input, operation.output]),
    [
      [{ kind: 'put', key: 'a', value: '1' }, { revision: 2, prevKv: null }],
      [{ kind: 'put', key: 'a', value: '2' }, { revision: 3 }],
      [
        { kind: 'txn', compare: [{ key: 'a', target: 'mod', result: '=', operand: 3 }], success: [{ kind: 'delete', key: 'a' }], failure: [{ kind: 'range', key: 'a' }] },
        { revision: 4, succeeded: true, responses: [{ deleted: 1, prevKvs: [{ key: 'a', value: '2', createRevision: 2, modRevision: 3, version: 2, lease: 0 }] }] },
      ],
      [{ kind: 'range', key: 'a', rangeEnd: '\u0000', limit: 1 }, { revision: 4, kvs: [], count: 0, more: false }],
    ],
  );
  t.is(checkTypedHistory(history).result.verdict, 'linearizable');
});

test('what the model cannot express yet is left out and counted: sorted ranges, cluster calls', (t) => {
  const calls = [
    call(1, 0, 1, { method: 'Range', request: { key: 'a', sortOrder: 'DESCEND' } }, { method: 'Range', response: { header: header(1), kvs: [], more: false, count: 0 } }),
    call(1, 6, 7, { method: 'MemberList', request: {} }, { method: 'MemberList', response: { header: header(1), members: [] } }),
  ];
  const { history, leftOut } = etcdHistory(calls);
  t.deepEqual(history.operations, []);
  t.deepEqual(leftOut, { rangeOptions: 1, cluster: 1, lease: 0 });
});

// put a=1 → 2; compact(2), answered only later (after a physical compaction) with the revision of
// that time, 3; meanwhile a read of revision 1 is refused with ErrCompacted, then put a=2 → 3.
const compactTo2 = (headerRevision: number) => call(2, 12, 30, { method: 'Compact', request: { revision: 2, physical: true } }, { method: 'Compact', response: { header: header(headerRevision) } });
const refusedAt1 = call(3, 13, 14, { method: 'Range', request: { key: 'a', revision: 1 } }, { method: 'Range', error: ErrCompacted }, 'fail');
const putA2Later = call(11, 15, 20, { method: 'Put', request: { key: 'a', value: '2' } }, { method: 'Put', response: { header: header(3) } });

test('compactions and the ErrCompacted refusals they cause are checked; a compaction took effect at some point of its call, at or before the revision its header gives (etcd answers s.kv.Rev() at reply time)', (t) => {
  const { history, leftOut } = etcdHistory([putA1, compactTo2(3), refusedAt1, putA2Later]);
  t.deepEqual(history.operations.slice(1, 3).map((operation) => [operation.input, operation.output]), [
    [{ kind: 'compact', revision: 2, physical: true }, { revision: 3 }],
    [{ kind: 'range', key: 'a', revision: 1 }, { error: { code: ErrCompacted.code, message: ErrCompacted.message } }],
  ]);
  t.deepEqual(leftOut, { rangeOptions: 0, cluster: 0, lease: 0 });
  t.is(checkTypedHistory(history).result.verdict, 'linearizable');
});

test('a compaction whose header revision is below the revision the store had reached when it was called is not linearizable', (t) => {
  const putA2Before = call(11, 3, 11, { method: 'Put', request: { key: 'a', value: '2' } }, { method: 'Put', response: { header: header(3) } });
  t.is(checkTypedHistory(etcdHistory([putA1, putA2Before, compactTo2(2)]).history).result.verdict, 'not-linearizable');
});

test('a read refused with ErrCompacted before any compaction could have taken effect is not linearizable', (t) => {
  const early = call(3, 5, 8, { method: 'Range', request: { key: 'a', revision: 1 } }, { method: 'Range', error: ErrCompacted }, 'fail');
  t.is(checkTypedHistory(etcdHistory([putA1, early, compactTo2(3), putA2Later]).history).result.verdict, 'not-linearizable');
});

test('serializable reads, reads at a past revision, keys-only and count-only ranges and ErrFutureRev refusals are checked', (t) => {
  const serializable = call(16, 32, 34, { method: 'Range', request: { key: 'a', serializable: true } }, { method: 'Range', response: { header: header(2), kvs: [kv('a', '1', 2, 2, 1)], more: false, count: 1 } });
  const past = call(17, 40, 45, { method: 'Range', request: { key: 'a', revision: 2, keysOnly: true } }, { method: 'Range', response: { header: header(3), kvs: [{ ...kv('a', '', 2, 2, 1) }], more: false, count: 1 } });
  const counted = call(18, 40, 45, { method: 'Range', request: { key: 'a', countOnly: true } }, { method: 'Range', response: { header: header(3), kvs: [], more: false, count: 1 } });
  const ahead = call(19, 40, 45, { method: 'Range', request: { key: 'a', revision: 9 } }, { method: 'Range', error: ErrFutureRev }, 'fail');
  const { history, leftOut } = etcdHistory([putA1, putA2, serializable, past, counted, ahead]);
  t.deepEqual(history.operations.slice(2).map((operation) => operation.input), [
    { kind: 'range', key: 'a', serializable: true },
    { kind: 'range', key: 'a', revision: 2, keysOnly: true },
    { kind: 'range', key: 'a', countOnly: true },
    { kind: 'range', key: 'a', revision: 9 },
  ]);
  t.deepEqual(history.operations[5]!.output, { error: { code: ErrFutureRev.code, message: ErrFutureRev.message } });
  t.deepEqual(leftOut, { rangeOptions: 0, cluster: 0, lease: 0 });
  t.is(checkTypedHistory(history).result.verdict, 'linearizable');
  t.is(checkTypedHistory(parseJsonLines(formatJsonLines(history))).result.verdict, 'linearizable', 'and `check` judges the JSON lines the same');
});

test('a read at a past revision that shows a value written later, and an ErrFutureRev for a revision the cluster had reached, are not linearizable', (t) => {
  const wrongPast = call(17, 40, 45, { method: 'Range', request: { key: 'a', revision: 2 } }, { method: 'Range', response: { header: header(3), kvs: [kv('a', '2', 2, 3, 2)], more: false, count: 1 } });
  t.is(checkTypedHistory(etcdHistory([putA1, putA2, wrongPast]).history).result.verdict, 'not-linearizable');
  const wrongFuture = call(19, 40, 45, { method: 'Range', request: { key: 'a', revision: 3 } }, { method: 'Range', error: ErrFutureRev }, 'fail');
  t.is(checkTypedHistory(etcdHistory([putA1, putA2, wrongFuture]).history).result.verdict, 'not-linearizable');
});

test('a write the model cannot express is a workload bug, not something to leave out', (t) => {
  t.throws(() => etcdHistory([call(1, 0, 1, { method: 'Put', request: { key: 'a', value: '1', ignoreLease: true } }, null, 'unknown')]), { message: /cannot express/ });
});

test("leases in the history: a put with a lease and a revoke are modelled (the revoke deletes the lease's keys), grants and keep-alives left out, and a leader's expiry revoke joins as an operation of its own", (t) => {
  const calls = [
    call(1, 0, 1, { method: 'LeaseGrant', request: { TTL: 5 } }, { method: 'LeaseGrant', response: { header: header(1), ID: 7, TTL: 5, error: '' } }),
    call(1, 2, 3, { method: 'Put', request: { key: 'a', value: '1', lease: 7 } }, { method: 'Put', response: { header: header(2) } }),
    call(1, 4, 5, { method: 'Put', request: { key: 'b', value: '2', lease: 8 } }, { method: 'Put', response: { header: header(3) } }),
    call(1, 6, 7, { method: 'LeaseKeepAlive', request: { ID: 7 } }, { method: 'LeaseKeepAlive', response: { header: header(3), ID: 7, TTL: 5 } }),
    call(1, 8, 9, { method: 'LeaseRevoke', request: { ID: 7 } }, { method: 'LeaseRevoke', response: { header: header(4) } }),
    call(1, 30, 31, { method: 'Range', request: { key: 'a', rangeEnd: 'c' } }, { method: 'Range', response: { header: header(5), kvs: [], more: false, count: 0 } }),
  ];
  const { history, leftOut, callOf } = etcdHistory(calls, [{ lease: 8, proposedUs: 10, appliedUs: 20, revision: 5 }]);
  t.is(leftOut.lease, 2);
  t.deepEqual(callOf, [calls[1]!.id, calls[2]!.id, calls[4]!.id, calls[5]!.id, -1]);
  t.is(checkTypedHistory(history).result.verdict, 'linearizable');
  const withoutExpiry = etcdHistory(calls).history;
  t.is(checkTypedHistory(withoutExpiry).result.verdict, 'not-linearizable', 'key b cannot vanish without its expiry');
});

test('unknown and failed outcomes keep no output; the history survives JSON lines and `check` judges it the same', (t) => {
  const unknown = call(13, 35, null, { method: 'Put', request: { key: 'b', value: 'x' } }, null, 'unknown');
  const refused = call(14, 36, 37, { method: 'Put', request: { key: 'b', value: 'y' } }, null, 'fail');
  const { history } = etcdHistory([putA1, putA2, unknown, refused, txn]);
  t.deepEqual(history.operations.slice(2).map((operation) => [operation.outcome, operation.output, operation.completedAt]), [
    ['unknown', undefined, Infinity],
    ['fail', undefined, 37],
    ['ok', history.operations[4]!.output, 50],
  ]);
  const reparsed = parseJsonLines(formatJsonLines(history));
  t.deepEqual(reparsed, history);
  t.is(checkTypedHistory(reparsed).result.verdict, 'linearizable');
});

test('a stale read (it sees a value overwritten before it began) is not linearizable', (t) => {
  const stale = call(15, 40, 45, { method: 'Range', request: { key: 'a' } }, { method: 'Range', response: { header: header(2), kvs: [kv('a', '1', 2, 2, 1)], more: false, count: 1 } });
  t.is(checkTypedHistory(etcdHistory([putA1, putA2, stale]).history).result.verdict, 'not-linearizable');
});

test('a read-only txn of serializable ranges only (etcd serves it from the member, IsTxnSerializable) is checked at its header revision: stale passes; one linearizable range makes the txn linearizable and the same answer fails', (t) => {
  const staleTxn = (serializable: readonly boolean[]) =>
    call(16, 40, 45, { method: 'Txn', request: { compare: [{ key: 'a', target: 'VERSION', result: 'EQUAL', version: 1 }], success: serializable.map((flag) => ({ requestRange: { key: 'a', serializable: flag } })), failure: [] } }, {
      method: 'Txn',
      response: { header: header(2), succeeded: true, responses: serializable.map(() => ({ responseRange: { header: header(2), kvs: [kv('a', '1', 2, 2, 1)], more: false, count: 1 } })) },
    });
  const served = etcdHistory([putA1, putA2, staleTxn([true, true])]).history;
  t.deepEqual(served.operations[2]!.input, { kind: 'txn', compare: [{ key: 'a', target: 'version', result: '=', operand: 1 }], success: [{ kind: 'range', key: 'a', serializable: true }, { kind: 'range', key: 'a', serializable: true }], failure: [] });
  t.is(checkTypedHistory(served).result.verdict, 'linearizable');
  const mixed = etcdHistory([putA1, putA2, staleTxn([true, false])]).history;
  t.deepEqual(mixed.operations[2]!.input, { kind: 'txn', compare: [{ key: 'a', target: 'version', result: '=', operand: 1 }], success: [{ kind: 'range', key: 'a' }, { kind: 'range', key: 'a' }], failure: [] });
  t.is(checkTypedHistory(mixed).result.verdict, 'not-linearizable');
});
