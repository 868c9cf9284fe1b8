import test from 'ava';
import { ErrCompacted, ErrFutureRev, ErrKeyNotFound, ErrLeaseNotFound } from '../api/errors.ts';
import type { Compare, RequestOp } from '../api/rpc.ts';
import { newStore, ok, putAll, read } from './_test/stores.ts';

const put = (key: string, value: string, extra: object = {}): RequestOp => ({ requestPut: { key, value, ...extra } });
const get = (key: string, extra: object = {}): RequestOp => ({ requestRange: { key, ...extra } });
const del = (key: string, rangeEnd?: string): RequestOp => ({ requestDeleteRange: { key, ...(rangeEnd === undefined ? {} : { rangeEnd }), prevKv: true } });
const compare = (key: string, target: Compare['target'], result: Compare['result'], operand: object): Compare => ({ key, target, result, ...operand });

test('a txn is one revision for all its writes, with sub-revisions in op order', (t) => {
  const store = newStore();
  const result = ok(store.txn({ success: [put('a', '1'), put('b', '2'), del('zzz')] }));
  t.true(result.response.succeeded);
  t.is(result.response.header.revision, 2);
  t.is(store.revision, 2);
  t.deepEqual(result.events.map((event) => [event.kv.key, event.kv.modRevision]), [['a', 2], ['b', 2]]);
  t.deepEqual(read(store, 'a', 'z'), ['a=1', 'b=2']);
});

test('compares pick the branch; every compare must hold (AND)', (t) => {
  const store = newStore();
  putAll(store, ['a', '1']);
  const run = (compares: Compare[]) => ok(store.txn({ compare: compares, success: [get('a')], failure: [] })).response.succeeded;
  t.true(run([compare('a', 'VALUE', 'EQUAL', { value: '1' })]));
  t.false(run([compare('a', 'VALUE', 'EQUAL', { value: '1' }), compare('a', 'VERSION', 'GREATER', { version: 1 })]));
  t.true(run([compare('a', 'VERSION', 'EQUAL', { version: 1 }), compare('a', 'CREATE', 'EQUAL', { createRevision: 2 })]));
  t.true(run([compare('a', 'MOD', 'LESS', { modRevision: 3 }), compare('a', 'LEASE', 'EQUAL', { lease: 0 })]));
  t.true(run([compare('a', 'VALUE', 'NOT_EQUAL', { value: '2' }), compare('a', 'VALUE', 'GREATER', { value: '0' })]));
});

test('a missing key compares as zeros, except that a VALUE compare on it is always false', (t) => {
  const store = newStore();
  const run = (c: Compare) => ok(store.txn({ compare: [c] })).response.succeeded;
  t.true(run(compare('x', 'CREATE', 'EQUAL', { createRevision: 0 })), "Kubernetes' create-if-absent");
  t.true(run(compare('x', 'VERSION', 'EQUAL', {})), 'an absent operand is zero');
  t.false(run(compare('x', 'VALUE', 'EQUAL', { value: '' })));
  t.false(run(compare('x', 'VALUE', 'NOT_EQUAL', { value: 'y' })));
});

test('a compare over a range holds only if every key in it satisfies it', (t) => {
  const store = newStore();
  putAll(store, ['a1', 'x'], ['a2', 'x'], ['b', 'y']);
  const run = (c: Compare) => ok(store.txn({ compare: [c] })).response.succeeded;
  t.true(run({ ...compare('a', 'VALUE', 'EQUAL', { value: 'x' }), rangeEnd: 'b' }));
  t.false(run({ ...compare('a', 'VALUE', 'EQUAL', { value: 'x' }), rangeEnd: 'c' }));
  t.true(run({ ...compare('a', 'MOD', 'LESS', { modRevision: 4 }), rangeEnd: 'b' }));
});

test('failure branch runs when a compare fails; responses answer the ops of the branch that ran', (t) => {
  const store = newStore();
  putAll(store, ['a', '1']);
  const result = ok(store.txn({ compare: [compare('a', 'VALUE', 'EQUAL', { value: '2' })], success: [put('s', 'x')], failure: [put('f', 'y', { prevKv: true }), get('a')] }));
  t.false(result.response.succeeded);
  t.is(result.response.responses.length, 2);
  t.is(result.response.responses[0]!.responsePut?.header.revision, 3);
  t.deepEqual(result.response.responses[1]!.responseRange?.kvs.map((kv) => kv.value), ['1']);
  t.deepEqual(read(store, 'a', 'z'), ['a=1', 'f=y']);
});

test('reads inside a txn see its earlier writes; a read-only txn leaves the revision alone', (t) => {
  const store = newStore();
  putAll(store, ['a', '1']);
  const result = ok(store.txn({ success: [put('a', '2'), get('a')] }));
  const range = result.response.responses[1]!.responseRange!;
  t.deepEqual([range.kvs[0]!.value, range.header.revision], ['2', 3]);
  const readOnly = ok(store.txn({ success: [get('a')], failure: [get('b')] }));
  t.deepEqual([readOnly.response.header.revision, readOnly.events.length, store.revision], [3, 0, 3]);
});

test('nested txns run in the same revision; their compares see the store before the outer txn', (t) => {
  const store = newStore();
  putAll(store, ['a', '1']);
  const result = ok(
    store.txn({
      success: [
        put('a', '2'),
        { requestTxn: { compare: [compare('a', 'VALUE', 'EQUAL', { value: '1' })], success: [put('b', 'then')], failure: [put('b', 'else')] } },
        put('c', '3'),
      ],
    }),
  );
  const nested = result.response.responses[1]!.responseTxn!;
  t.true(nested.succeeded, 'the nested compare saw a = 1, not the 2 written before it');
  t.is(nested.header.revision, 0, "a nested response's header stays empty (etcd)");
  t.deepEqual(result.events.map((event) => `${event.kv.key}@${event.kv.modRevision}`), ['a@3', 'b@3', 'c@3']);
  t.deepEqual(read(store, 'a', 'z'), ['a=2', 'b=then', 'c=3']);
});

test('a put then a delete of the same key in sibling nested txns is one revision with two changes', (t) => {
  const store = newStore();
  const result = ok(store.txn({ success: [{ requestTxn: { success: [put('k', 'v')] } }, { requestTxn: { success: [del('k')] } }] }));
  t.deepEqual(result.events.map((event) => event.type), ['PUT', 'DELETE']);
  t.is(store.revision, 2);
  t.deepEqual(read(store, 'k'), []);
  t.deepEqual(read(store, 'k', undefined, 2), []);
});

test('a txn fails whole, before writing, when a put would fail or a range revision is bad', (t) => {
  const store = newStore({ leases: { exists: (lease) => lease === 1 } });
  putAll(store, ['a', '1'], ['a', '2'], ['a', '3']);
  t.is(store.txn({ success: [put('b', 'x'), put('missing', '', { ignoreValue: true })] }), ErrKeyNotFound);
  t.is(store.txn({ success: [put('b', 'x'), put('c', 'y', { lease: 2 })] }), ErrLeaseNotFound);
  t.is(store.txn({ success: [put('b', 'x'), get('a', { revision: 5 })] }), ErrFutureRev);
  ok(store.compact({ revision: 3 }));
  t.is(store.txn({ success: [put('b', 'x'), get('a', { revision: 2 })] }), ErrCompacted);
  t.is(store.txn({ success: [{ requestTxn: { success: [get('a', { revision: 2 })] } }] }), ErrCompacted, 'in nested txns too');
  t.is(store.revision, 4);
  t.deepEqual(read(store, 'b'), []);
  t.true(ok(store.txn({ success: [put('b', 'x'), get('a', { revision: 3 })] })).response.succeeded, 'the compaction revision is readable');
});

test('only the branch that runs is checked', (t) => {
  const store = newStore();
  const result = ok(store.txn({ compare: [compare('x', 'VERSION', 'EQUAL', { version: 0 })], success: [put('a', '1')], failure: [put('b', '', { ignoreValue: true })] }));
  t.true(result.response.succeeded);
});

test('an empty op gets an empty response', (t) => {
  const store = newStore();
  const result = ok(store.txn({ success: [{}, put('a', '1')] }));
  t.deepEqual(result.response.responses[0], {});
  t.is(store.revision, 2);
});

test('a key deleted and put again in one txn keeps that put through a compaction at that revision (mvcc model test)', (t) => {
  // A delete range ending in "\0" passes etcd's duplicate-key check even over a key the same txn
  // puts (checkIntervals compares the end literally), so one revision can end a key's generation
  // (3.0) and begin the next (3.1). Compaction at 3 stopped at the generation whose tombstone is
  // 3 and kept only that tombstone: the backend dropped 3.1 while the index still pointed at it,
  // and a read at revision 3 tripped an assertion.
  const store = newStore();
  putAll(store, ['k', 'v1']);
  ok(store.txn({ success: [del('a', '\0'), put('k', 'v2')] }));
  store.deleteRange({ key: 'a', rangeEnd: '\0' });
  t.is(store.revision, 4);
  ok(store.compact({ revision: 3 }));
  while (store.stepCompaction()) {
    // the removals run in batches, as etcd's scheduled compaction does
  }
  t.deepEqual(read(store, 'k', undefined, 3), ['k=v2']);
  t.deepEqual(read(store, 'k', undefined, 4), []);
  t.deepEqual(read(store, 'a', '\0'), []);
});
