import test from 'ava';
import { ErrCompacted, ErrFutureRev, revisionHeader, type KeyValue, type RangeResponse, type TxnResponse } from '../../core/api/index.ts';
import type { InternalOp } from '../../core/server/internalRequest.ts';
import type { ApplyOutcome } from '../../core/server/stateMachine.ts';
import { ApplyReference } from './applyReference.ts';

const kv = (key: string, value: string, create: number, mod: number, version: number): KeyValue => ({ key, value, createRevision: create, modRevision: mod, version, lease: 0 });
const put = (key: string, value: string): InternalOp => ({ kind: 'put', request: { key, value } });
const putOutcome = (written: KeyValue): ApplyOutcome => ({ response: { header: revisionHeader(written.modRevision) }, error: null, events: [{ type: 'PUT', kv: written }], overQuota: false });

/** a=1 at revision 2, b=1 at revision 3, a=2 at revision 4 (a's version 2): indexes 1-3. */
function threeWrites(): ApplyReference {
  const reference = new ApplyReference();
  reference.outcome(1, 1, put('a', '1'), putOutcome(kv('a', '1', 2, 2, 1)));
  reference.applied(1, 1);
  reference.outcome(1, 2, put('b', '1'), putOutcome(kv('b', '1', 3, 3, 1)));
  reference.applied(1, 2);
  reference.outcome(1, 3, put('a', '2'), putOutcome(kv('a', '2', 2, 4, 2)));
  reference.applied(1, 3);
  return reference;
}

/** A txn at index 4 that compares a's version with 2 and reads every key with limit 1. */
const txn: InternalOp = {
  kind: 'txn',
  request: { compare: [{ key: 'a', target: 'VERSION', result: 'EQUAL', version: 2 }], success: [{ requestRange: { key: '', rangeEnd: '\0', limit: 1 } }], failure: [] },
};

function txnOutcome(succeeded: boolean, count: number): ApplyOutcome {
  const range: RangeResponse = { header: revisionHeader(4), kvs: [kv('a', '2', 2, 4, 2)], more: true, count };
  const response: TxnResponse = { header: revisionHeader(4), succeeded, responses: succeeded ? [{ responseRange: range }] : [] };
  return { response, error: null, events: [], overQuota: false };
}

test('answers the model gives pass, and every member giving the same answer passes', (t) => {
  const reference = threeWrites();
  reference.outcome(1, 4, txn, txnOutcome(true, 2));
  reference.outcome(2, 4, txn, txnOutcome(true, 2));
  reference.outcome(2, 2, put('b', '1'), putOutcome(kv('b', '1', 3, 3, 1)));
  t.deepEqual(reference.stats, { modelled: 4, learned: 0, compared: 2, reads: 0, readsBelowCompaction: 0 });
});

test("a limited range's count taken after the limit is caught at its apply", (t) => {
  const reference = threeWrites();
  t.throws(() => reference.outcome(1, 4, txn, txnOutcome(true, 1)), { message: /member 1, the first to apply index 4 \(a txn\), answered .* which the model does not give/ });
});

test('a wrong compare result is caught at its apply', (t) => {
  const reference = threeWrites();
  t.throws(() => reference.outcome(1, 4, txn, txnOutcome(false, 2)), { message: /which the model does not give/ });
});

test('a put answered at the wrong header revision, or changing the wrong key, is caught', (t) => {
  const reference = threeWrites();
  t.throws(() => reference.outcome(1, 4, put('c', '1'), { ...putOutcome(kv('c', '1', 5, 5, 1)), response: { header: revisionHeader(4) } }), { message: /header revision 4 where the model is at 5/ });
  const other = threeWrites();
  t.throws(() => other.outcome(1, 4, put('c', '1'), putOutcome(kv('c', '1', 5, 5, 2))), { message: /made the change PUT "c"/ });
});

test('a member disagreeing with the first applier is caught, on a request the model does not cover too', (t) => {
  const reference = threeWrites();
  t.throws(() => reference.outcome(2, 2, put('b', '1'), putOutcome(kv('b', '1', 3, 3, 2))), { message: /member 2 answered the put at index 2 with .* member 1 with/ });
  const grant: InternalOp = { kind: 'leaseGrant', ID: 7, TTL: 5 };
  reference.outcome(1, 4, grant, { response: { header: revisionHeader(4), ID: 7, TTL: 5 }, error: null, events: [], overQuota: false });
  t.throws(() => reference.outcome(3, 4, grant, { response: null, error: { code: 5, message: 'etcdserver: requested lease not found' }, events: [], overQuota: false }), { message: /member 3 answered the leaseGrant at index 4/ });
});

test("the model learns an uncovered request's changes, and a compaction's error is judged", (t) => {
  const reference = threeWrites();
  const alarm: InternalOp = { kind: 'alarm', request: { action: 'GET', memberID: 0, alarm: 'NONE' } } as InternalOp;
  reference.outcome(1, 4, alarm, { response: { header: revisionHeader(4) }, error: null, events: [], overQuota: false });
  reference.applied(1, 4);
  reference.outcome(1, 5, { kind: 'compaction', request: { revision: 3 } }, { response: { header: revisionHeader(4) }, error: null, events: [], overQuota: false });
  reference.applied(1, 5);
  t.throws(() => reference.outcome(1, 6, { kind: 'compaction', request: { revision: 2 } }, { response: { header: revisionHeader(4) }, error: null, events: [], overQuota: false }), { message: /answered success where the model meets ErrCompacted/ });
});

test('a read served from a member\'s state is judged by the model at the revision it read', (t) => {
  const reference = threeWrites();
  const range = { method: 'Range', request: { key: '', rangeEnd: '\0', limit: 1 } } as const;
  const served = (count: number, revision = 4, kvs = [kv('a', '2', 2, 4, 2)]): RangeResponse => ({ header: revisionHeader(revision), kvs, more: true, count });
  reference.served(1, 4, range, served(2), 3);
  // A member behind reads its own revision 3, where a was still 1.
  reference.served(2, 3, range, served(2, 3, [kv('a', '1', 2, 2, 1)]), 2);
  t.is(reference.stats.reads, 2);
  t.throws(() => reference.served(1, 4, range, served(1), 3), { message: /which the model's keyspace there does not give/ });
  t.throws(() => reference.served(2, 3, range, served(2, 3), 2), { message: /which the model's keyspace there does not give/ });
  t.throws(() => reference.served(3, 5, range, served(2, 5), 4), { message: /at revision 5, which no member applied/ });
});

test("a range below the model's compaction is judged by the compaction the member had applied: its keyspace above it, ErrCompacted below", (t) => {
  const reference = threeWrites();
  reference.outcome(1, 4, { kind: 'compaction', request: { revision: 3 } }, { response: { header: revisionHeader(4) }, error: null, events: [], overQuota: false });
  reference.applied(1, 4);
  const at2 = { method: 'Range', request: { key: 'a', revision: 2 } } as const;
  // Member 2 has not applied the compaction (index 3): revision 2 is still there, and must be the model's.
  reference.served(2, 4, at2, { header: revisionHeader(4), kvs: [kv('a', '1', 2, 2, 1)], count: 1 }, 3);
  t.deepEqual([reference.stats.reads, reference.stats.readsBelowCompaction], [1, 1]);
  t.throws(() => reference.served(2, 4, at2, { header: revisionHeader(4), kvs: [kv('a', '2', 2, 4, 2)], count: 1 }, 3), { message: /which the model's keyspace there does not give/ });
  t.throws(() => reference.served(2, 4, at2, ErrCompacted, 3), { message: /answered ErrCompacted to a range at revision 2, not below the compaction at revision -1/ });
  // Member 1 applied it: only ErrCompacted is right.
  reference.served(1, 4, at2, ErrCompacted, 4);
  // (The wrong answer above was counted too: a read is counted once judged.)
  t.deepEqual([reference.stats.reads, reference.stats.readsBelowCompaction], [3, 3]);
  t.throws(() => reference.served(1, 4, at2, { header: revisionHeader(4), kvs: [kv('a', '1', 2, 2, 1)], count: 1 }, 4), { message: /below the compaction at revision 3 it applied .* must answer ErrCompacted/ });
  t.throws(() => reference.served(1, 4, { method: 'Range', request: { key: 'a', revision: 4 } }, ErrFutureRev, 4), { message: /answered ErrFutureRev to a range at revision 4, at or below its own revision 4/ });
  reference.served(1, 4, { method: 'Range', request: { key: 'a', revision: 5 } }, ErrFutureRev, 4);
});

test('a member applying past an index no member applied is a broken assumption, reported', (t) => {
  const reference = threeWrites();
  t.throws(() => reference.applied(2, 5), { message: /applied index 5 before any member applied index 4/ });
});
