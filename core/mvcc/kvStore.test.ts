import test from 'ava';
import { ErrCompacted, ErrFutureRev, ErrKeyNotFound, ErrLeaseNotFound, isEtcdError } from '../api/errors.ts';
import { fromKey, prefixEnd } from '../api/bytes.ts';
import { newStore, ok, putAll, read } from './_test/stores.ts';

test('a new store is at revision 1; the first put is revision 2, each later write one more', (t) => {
  const store = newStore();
  t.is(store.revision, 1);
  t.is(ok(store.put({ key: 'a', value: '1' })).response.header.revision, 2);
  t.is(ok(store.put({ key: 'b', value: '2' })).response.header.revision, 3);
  t.is(store.deleteRange({ key: 'a' }).response.header.revision, 4);
  t.is(store.revision, 4);
});

test('deleting a missing key changes nothing and does not bump the revision', (t) => {
  const store = newStore();
  putAll(store, ['a', '1']);
  const result = store.deleteRange({ key: 'zzz' });
  t.is(result.response.deleted, 0);
  t.is(result.response.header.revision, 2);
  t.deepEqual(result.events, []);
  t.is(store.revision, 2);
});

test('a key keeps its create revision and counts versions within a generation; a delete starts a new one', (t) => {
  const store = newStore();
  putAll(store, ['k', 'v1'], ['k', 'v2']);
  let kv = ok(store.range({ key: 'k' })).kvs[0]!;
  t.deepEqual([kv.createRevision, kv.modRevision, kv.version], [2, 3, 2]);
  store.deleteRange({ key: 'k' });
  putAll(store, ['k', 'v3']);
  kv = ok(store.range({ key: 'k' })).kvs[0]!;
  t.deepEqual([kv.createRevision, kv.modRevision, kv.version], [5, 5, 1]);
});

test('range forms: single key, [key, end), prefix, from key ("\\0"), everything ("\\0", "\\0")', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['ab', '2'], ['abc', '3'], ['b', '4'], ['c', '5']);
  t.deepEqual(read(store, 'ab'), ['ab=2']);
  t.deepEqual(read(store, 'a', 'b'), ['a=1', 'ab=2', 'abc=3']);
  t.deepEqual(read(store, 'ab', prefixEnd('ab')), ['ab=2', 'abc=3']);
  t.deepEqual(read(store, 'b', fromKey), ['b=4', 'c=5']);
  t.deepEqual(read(store, '\0', fromKey), ['a=1', 'ab=2', 'abc=3', 'b=4', 'c=5']);
  t.deepEqual(read(store, '', fromKey), ['a=1', 'ab=2', 'abc=3', 'b=4', 'c=5'], 'the store itself takes an empty key with "\\0" as everything');
  t.deepEqual(read(store, 'c', 'a'), [], 'an end before the key is an empty range');
  t.is(prefixEnd('a\xff'), 'b');
  t.is(prefixEnd('\xff\xff'), fromKey);
});

test('keys are byte strings in byte order', (t) => {
  const store = newStore();
  putAll(store, ['\xff', 'high'], ['\x00x', 'nul'], ['A', 'upper'], ['a', 'lower']);
  t.deepEqual(read(store, '\0', fromKey), ['\x00x=nul', 'A=upper', 'a=lower', '\xff=high']);
});

test('limit cuts the result and sets more; count is every key in range', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['b', '2'], ['c', '3']);
  const limited = ok(store.range({ key: 'a', rangeEnd: 'z', limit: 2 }));
  t.deepEqual(limited.kvs.map((kv) => kv.key), ['a', 'b']);
  t.true(limited.more);
  t.is(limited.count, 3);
  const exact = ok(store.range({ key: 'a', rangeEnd: 'z', limit: 3 }));
  t.false(exact.more);
});

test('countOnly returns the count and no kvs; keysOnly drops values', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['b', '2']);
  const counted = ok(store.range({ key: 'a', rangeEnd: 'z', countOnly: true, limit: 1 }));
  t.deepEqual([counted.kvs.length, counted.count, counted.more], [0, 2, false]);
  const keys = ok(store.range({ key: 'a', rangeEnd: 'z', keysOnly: true }));
  t.deepEqual(keys.kvs.map((kv) => [kv.key, kv.value, kv.modRevision]), [['a', '', 2], ['b', '', 3]]);
});

test('sort order and target; a non-key target sorts ascending by default', (t) => {
  const store = newStore();
  putAll(store, ['a', 'z'], ['b', 'y'], ['c', 'x'], ['a', 'w']);
  const keys = (request: object) => ok(store.range({ key: 'a', rangeEnd: 'z', ...request })).kvs.map((kv) => kv.key);
  t.deepEqual(keys({ sortOrder: 'DESCEND' }), ['c', 'b', 'a']);
  t.deepEqual(keys({ sortTarget: 'VALUE' }), ['a', 'c', 'b']);
  t.deepEqual(keys({ sortTarget: 'MOD', sortOrder: 'DESCEND' }), ['a', 'c', 'b']);
  t.deepEqual(keys({ sortTarget: 'CREATE', sortOrder: 'DESCEND' }), ['c', 'b', 'a']);
  t.deepEqual(keys({ sortTarget: 'VERSION', sortOrder: 'DESCEND' }), ['a', 'b', 'c'], 'ties keep key order');
  const limited = ok(store.range({ key: 'a', rangeEnd: 'z', sortTarget: 'VALUE', limit: 1 }));
  t.deepEqual([limited.kvs[0]!.key, limited.more, limited.count], ['a', true, 3], 'sorted first, then cut');
});

test('min/max mod and create revision filter after the fetch; count ignores them (etcd)', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['b', '2'], ['c', '3'], ['a', '4']); // a: create 2 mod 5; b: 3/3; c: 4/4
  const keys = (request: object) => ok(store.range({ key: 'a', rangeEnd: 'z', ...request }));
  t.deepEqual(keys({ minModRevision: 4 }).kvs.map((kv) => kv.key), ['a', 'c']);
  t.deepEqual(keys({ maxModRevision: 3 }).kvs.map((kv) => kv.key), ['b']);
  t.deepEqual(keys({ minCreateRevision: 3, maxCreateRevision: 3 }).kvs.map((kv) => kv.key), ['b']);
  t.is(keys({ minModRevision: 4 }).count, 3);
  const limited = keys({ minModRevision: 4, limit: 1 });
  t.deepEqual([limited.kvs.map((kv) => kv.key), limited.more], [['a'], true]);
});

test('historical reads answer with the current revision in the header (etcd kv_test TestKVRangeRev)', (t) => {
  const store = newStore();
  putAll(store, ['foo', 'bar'], ['foo1', 'bar1'], ['foo2', 'bar2']);
  for (const [revision, keys] of [[-1, 3], [0, 3], [2, 1], [3, 2], [4, 3]] as const) {
    const response = ok(store.range({ key: 'foo', rangeEnd: 'foo3', revision }));
    t.is(response.header.revision, 4);
    t.is(response.kvs.length, keys, `at revision ${revision}`);
  }
});

test("put a, put b, delete a, compact 3: range at 2 is compacted, at 3 and 4 it works, at 5 it is a future revision", (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['b', '2']);
  store.deleteRange({ key: 'a' });
  ok(store.compact({ revision: 3 }));
  t.is(store.range({ key: 'a', revision: 2 }), ErrCompacted);
  t.deepEqual(read(store, 'a', fromKey, 3), ['a=1', 'b=2'], 'the compaction revision itself is readable');
  t.deepEqual(read(store, 'a', fromKey, 4), ['b=2']);
  t.is(store.range({ key: 'a', revision: 5 }), ErrFutureRev);
});

test('range at 10 on a store at 5 is a future revision; bad revisions after compacting at 4 (etcd TestKVRangeBadRev)', (t) => {
  const store = newStore();
  putAll(store, ['foo', 'bar'], ['foo1', 'bar1'], ['foo2', 'bar2'], ['foo3', 'bar3']);
  t.is(store.range({ key: 'foo', revision: 10 }), ErrFutureRev);
  ok(store.compact({ revision: 4 }));
  for (const [revision, error] of [[-1, null], [0, null], [1, ErrCompacted], [3, ErrCompacted], [4, null], [5, null], [6, ErrFutureRev], [100, ErrFutureRev]] as const) {
    const response = store.range({ key: 'foo', rangeEnd: 'foo3', revision });
    t.is(isEtcdError(response) ? response : null, error, `revision ${revision}`);
  }
});

test('compact boundaries: at or below the last compaction is ErrCompacted, above the current revision ErrFutureRev', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['a', '2']);
  t.is(store.compact({ revision: 4 }), ErrFutureRev);
  t.is(store.compact({ revision: -1 }), ErrCompacted, 'below the initial compaction revision -1');
  ok(store.compact({ revision: 2 }));
  t.is(store.compact({ revision: 2 }), ErrCompacted);
  t.is(store.compact({ revision: 1 }), ErrCompacted);
  t.is(ok(store.compact({ revision: 3 })).header.revision, 3);
  t.is(store.compactRevision, 3);
});

test('compaction keeps the last value at or before its revision (etcd TestKVCompactReserveLastValue)', (t) => {
  const store = newStore({ leases: { exists: () => true } });
  ok(store.put({ key: 'foo', value: 'bar0', lease: 1 }));
  ok(store.put({ key: 'foo', value: 'bar1', lease: 2 }));
  store.deleteRange({ key: 'foo' });
  ok(store.put({ key: 'foo', value: 'bar2', lease: 3 }));
  const expected = [
    [1, [{ key: 'foo', value: 'bar0', createRevision: 2, modRevision: 2, version: 1, lease: 1 }]],
    [2, [{ key: 'foo', value: 'bar1', createRevision: 2, modRevision: 3, version: 2, lease: 2 }]],
    [3, []],
    [4, [{ key: 'foo', value: 'bar2', createRevision: 5, modRevision: 5, version: 1, lease: 3 }]],
  ] as const;
  for (const [revision, kvs] of expected) {
    ok(store.compact({ revision }));
    store.finishCompaction();
    t.deepEqual(ok(store.range({ key: 'foo', revision: revision + 1 })).kvs, kvs, `after compacting at ${revision}`);
  }
});

test('a compaction of the index in slices (2 keys a slice): reads between slices refuse the compacted revisions and see every later one as before, writes land between them, and nothing leaves the key bucket before the last slice', (t) => {
  const store = newStore({ compactionIndexSliceKeys: 2 });
  const unsliced = newStore();
  const both = (write: (s: typeof store) => void) => [store, unsliced].forEach(write);
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  for (const key of keys) both((s) => putAll(s, [key, `${key}1`], [key, `${key}2`]));
  both((s) => s.deleteRange({ key: 'b' }));
  const at = 10;
  /** Revisions in the key bucket at or below the compaction's. */
  const revisionsIn = (s: typeof store) => {
    let count = 0;
    s.backend.scan(0, 0, at, () => ++count > 0);
    return count;
  };
  const all = (s: typeof store, revision: number) => ok(s.range({ key: '\0', rangeEnd: '\0', revision })).kvs;
  both((s) => ok(s.compact({ revision: at })));
  const before = revisionsIn(store);
  let slices = 0;
  while (store.compactingIndex) {
    t.is(store.range({ key: 'a', revision: at - 1 }), ErrCompacted, 'below the compaction: refused from its apply on');
    for (let revision = at; revision <= store.revision; revision++) t.deepEqual(all(store, revision), all(unsliced, revision), `between slices, at ${revision}`);
    t.deepEqual(store.hashKV(), unsliced.hashKV(), 'HashKV between slices');
    t.is(revisionsIn(store), before, 'no removal before the keep set is whole');
    both((s) => putAll(s, [`b${slices}`, 'new'], ['c', `c${3 + slices}`]));
    store.stepCompaction();
    slices++;
  }
  t.true(slices >= 3, `${slices} slices after the first (7 keys, 2 a slice)`);
  store.finishCompaction();
  unsliced.finishCompaction();
  t.false(store.compacting);
  for (let revision = at; revision <= store.revision; revision++) t.deepEqual(all(store, revision), all(unsliced, revision), `after, at ${revision}`);
  t.is(revisionsIn(store), revisionsIn(unsliced), 'the same revisions kept');
  t.deepEqual(store.hashKV(), unsliced.hashKV());
});

test('put with prevKv returns the replaced value; a new key has none', (t) => {
  const store = newStore();
  const first = ok(store.put({ key: 'a', value: '1', prevKv: true }));
  t.false('prevKv' in first.response);
  const second = ok(store.put({ key: 'a', value: '2', prevKv: true }));
  t.is(second.response.prevKv?.value, '1');
  t.deepEqual(second.events, [{ type: 'PUT', kv: ok(store.range({ key: 'a' })).kvs[0]!, prevKv: second.response.prevKv! }]);
});

test('ignoreValue and ignoreLease keep the current value and lease; on a missing key they fail with ErrKeyNotFound', (t) => {
  const store = newStore({ leases: { exists: (lease) => lease === 7 || lease === 8 } });
  t.is(store.put({ key: 'a', ignoreValue: true }), ErrKeyNotFound);
  t.is(store.put({ key: 'a', ignoreLease: true, value: 'x' }), ErrKeyNotFound);
  t.is(store.revision, 1, 'a refused put changes nothing');
  ok(store.put({ key: 'a', value: 'v', lease: 7 }));
  ok(store.put({ key: 'a', ignoreValue: true, lease: 8 }));
  let kv = ok(store.range({ key: 'a' })).kvs[0]!;
  t.deepEqual([kv.value, kv.lease, kv.version], ['v', 8, 2]);
  ok(store.put({ key: 'a', value: 'w', ignoreLease: true }));
  kv = ok(store.range({ key: 'a' })).kvs[0]!;
  t.deepEqual([kv.value, kv.lease], ['w', 8]);
});

test('a put naming a lease that does not exist fails with ErrLeaseNotFound before anything is written', (t) => {
  const store = newStore();
  t.is(store.put({ key: 'a', value: '1', lease: 5 }), ErrLeaseNotFound);
  t.is(store.revision, 1);
  t.deepEqual(store.leasedKeys(), new Map());
});

test('delete range returns the count, prevKvs and DELETE events whose kv carries the deletion revision', (t) => {
  const store = newStore();
  putAll(store, ['foo', 'bar'], ['foo1', 'bar1'], ['foo2', 'bar2']);
  const result = store.deleteRange({ key: 'foo', rangeEnd: 'foo2', prevKv: true });
  t.is(result.response.deleted, 2);
  t.deepEqual(result.response.prevKvs.map((kv) => kv.value), ['bar', 'bar1']);
  t.deepEqual(
    result.events.map((event) => [event.type, event.kv.key, event.kv.modRevision, event.kv.version, event.prevKv?.value]),
    [['DELETE', 'foo', 5, 0, 'bar'], ['DELETE', 'foo1', 5, 0, 'bar1']],
  );
  t.deepEqual(read(store, 'foo', fromKey), ['foo2=bar2']);
});

test('with eventsCarryPrevKv off events have no prevKv, and the responses still carry what was asked', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['b', '2']);
  store.eventsCarryPrevKv = false;
  const put = ok(store.put({ key: 'a', value: '3', prevKv: true }));
  t.is(put.response.prevKv?.value, '1');
  t.deepEqual(put.events, [{ type: 'PUT', kv: ok(store.range({ key: 'a' })).kvs[0]! }]);
  const deleted = store.deleteRange({ key: 'a', rangeEnd: 'c', prevKv: true });
  t.deepEqual(deleted.response.prevKvs.map((kv) => kv.value), ['3', '2']);
  t.deepEqual(deleted.events.map((event) => [event.type, event.kv.key, 'prevKv' in event]), [['DELETE', 'a', false], ['DELETE', 'b', false]]);
  store.eventsCarryPrevKv = true;
  putAll(store, ['a', '4']);
  t.deepEqual(ok(store.put({ key: 'a', value: '5' })).events[0]!.prevKv?.value, '4');
});

test('delete range counts (etcd kv_test TestKVDeleteRange)', (t) => {
  const cases: [string, string | undefined, number, number][] = [
    ['foo', undefined, 5, 1],
    ['foo', 'foo1', 5, 1],
    ['foo', 'foo2', 5, 2],
    ['foo', 'foo3', 5, 3],
    ['foo3', 'foo8', 4, 0],
    ['foo3', undefined, 4, 0],
  ];
  for (const [key, rangeEnd, revision, deleted] of cases) {
    const store = newStore();
    putAll(store, ['foo', 'bar'], ['foo1', 'bar1'], ['foo2', 'bar2']);
    const result = store.deleteRange({ key, ...(rangeEnd === undefined ? {} : { rangeEnd }) });
    t.deepEqual([result.response.header.revision, result.response.deleted], [revision, deleted], `${key}..${rangeEnd}`);
  }
});

test('leasedKeys lists the live keys that carry a lease', (t) => {
  const store = newStore({ leases: { exists: () => true } });
  ok(store.put({ key: 'a', value: '1', lease: 3 }));
  ok(store.put({ key: 'b', value: '2', lease: 4 }));
  ok(store.put({ key: 'c', value: '3' }));
  store.deleteRange({ key: 'b' });
  t.deepEqual(store.leasedKeys(), new Map([['a', 3]]));
});
