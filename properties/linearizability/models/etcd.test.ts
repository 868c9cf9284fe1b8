import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../../sim/rng.ts';
import { checkLinearizability } from '../checker.ts';
import { atomicEtcd } from '../_test/atomicObjects.ts';
import { createEtcdModel, etcdModel } from './etcd.ts';
import type { EtcdState } from './etcdState.ts';
import type { EtcdRequest, EtcdResponse } from './etcdTypes.ts';

const run = (requests: readonly [EtcdRequest, EtcdResponse | undefined][]): EtcdState | undefined => {
  let state: EtcdState | undefined = etcdModel.init();
  for (const [request, response] of requests) state = state === undefined ? undefined : etcdModel.step(state, request, response);
  return state;
};

test('a new store is at revision 1; each changing request adds one', (t) => {
  const state = run([
    [{ kind: 'put', key: 'a', value: '1' }, { revision: 2, prevKv: null }],
    [{ kind: 'put', key: 'a', value: '2' }, { revision: 3, prevKv: { key: 'a', value: '1', createRevision: 2, modRevision: 2, version: 1 } }],
    [{ kind: 'delete', key: 'zzz' }, { revision: 3, deleted: 0 }],
    [{ kind: 'range', key: 'a' }, { revision: 3, kvs: [{ key: 'a', value: '2', createRevision: 2, modRevision: 3, version: 2 }], count: 1 }],
  ]);
  t.is(state?.revision, 3);
  t.is(run([[{ kind: 'put', key: 'a', value: '1' }, { revision: 3 }]]), undefined, 'a put at revision 1 creates revision 2');
  t.is(createEtcdModel({ initialRevision: 10 }).init().revision, 10);
});

test('a transaction bumps the revision once, reads its own writes, and compares missing keys as etcd does', (t) => {
  const txn: EtcdRequest = {
    kind: 'txn',
    compare: [{ key: 'a', target: 'version', result: '=', operand: 0 }],
    success: [
      { kind: 'put', key: 'a', value: 'x' },
      { kind: 'put', key: 'b', value: 'y' },
      { kind: 'range', key: 'a', rangeEnd: '\u0000' },
    ],
    failure: [],
  };
  const kvs = [
    { key: 'a', value: 'x', modRevision: 2 },
    { key: 'b', value: 'y', modRevision: 2 },
  ];
  t.is(run([[txn, { revision: 2, succeeded: true, responses: [{}, {}, { kvs, count: 2 }] }]])?.revision, 2);
  const valueOfMissing: EtcdRequest = { kind: 'txn', compare: [{ key: 'a', target: 'value', result: '!=', operand: 'q' }], success: [], failure: [] };
  t.is(run([[valueOfMissing, { revision: 1, succeeded: false }]])?.revision, 1, 'a value compare on a missing key is false');
});

test('ranges check kvs, count, limit and more', (t) => {
  const setup: [EtcdRequest, EtcdResponse][] = ['a', 'b', 'c'].map((key, i) => [{ kind: 'put', key, value: key }, { revision: i + 2 }]);
  const range = (response: EtcdResponse) => run([...setup, [{ kind: 'range', key: 'a', rangeEnd: 'c', limit: 1 }, response]]);
  t.truthy(range({ revision: 4, kvs: [{ key: 'a', value: 'a' }], count: 2, more: true }));
  t.is(range({ revision: 4, kvs: [{ key: 'a', value: 'a' }], count: 3 }), undefined);
  t.is(range({ revision: 4, kvs: [{ key: 'b', value: 'b' }] }), undefined);
  t.is(range({ revision: 4, kvs: [{ key: 'a', value: 'a' }], more: false }), undefined);
});

test('the model agrees with the reference store on random request sequences', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), (seed) => {
      const random = new SeededRandom(`etcd-model-${seed}`);
      const store = atomicEtcd(4);
      let state = etcdModel.init();
      for (let i = 0; i < 30; i++) {
        const request = store.randomInput(random);
        const response = store.apply(request);
        const next = etcdModel.step(state, request, response);
        if (next === undefined) return false;
        // The unknown-outcome step has the same effect.
        if (!etcdModel.equal(etcdModel.step(state, request, undefined)!, next)) return false;
        state = next;
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('sequence keys put a write that created r between the reads at r - 1 and at r', (t) => {
  const keyOf = etcdModel.sequence!.keyOf;
  t.is(keyOf({ kind: 'put', key: 'a', value: '1' }, { revision: 5 }), 4.5);
  t.is(keyOf({ kind: 'range', key: 'a' }, { revision: 5, kvs: [] }), 5);
  t.is(keyOf({ kind: 'delete', key: 'a' }, { revision: 5, deleted: 0 }), 5);
  t.is(keyOf({ kind: 'delete', key: 'a' }, { revision: 5 }), undefined, 'a delete whose count is unknown cannot be placed');
  t.is(keyOf({ kind: 'range', key: 'a' }, {}), undefined);
  const txn: EtcdRequest = { kind: 'txn', compare: [], success: [{ kind: 'delete', key: 'a' }], failure: [] };
  t.is(keyOf(txn, { revision: 5, succeeded: true, responses: [{ deleted: 1 }] }), 4.5);
  t.is(keyOf(txn, { revision: 5, succeeded: false }), 5);
  t.true(etcdModel.readOnly!(txn, { revision: 5, succeeded: false }));
  t.false(etcdModel.readOnly!(txn, undefined));
});

test('descriptions show requests, responses and the keys touched', (t) => {
  const state = run([[{ kind: 'put', key: 'a', value: '1' }, { revision: 2 }]])!;
  t.is(etcdModel.describeOperation({ kind: 'put', key: 'a', value: '1' }, { revision: 2 }), 'put("a", "1") → revision 2');
  t.is(etcdModel.describeOperation({ kind: 'range', key: 'a', rangeEnd: '\u0000' }, undefined), 'range("a"..end) → ?');
  t.is(etcdModel.describeState(state, { kind: 'range', key: 'a' }), 'revision 2: {"a"="1" (create 2, mod 2, version 1)}');
  t.is(etcdModel.describeState(state, { kind: 'range', key: 'b' }), 'revision 2: {"b" absent}');
});

test('a gap in the revisions is filled only by an unknown write that fits what reads saw there', (t) => {
  const put = (process: number, invokedAt: number, key: string, value: string) => ({
    process,
    invokedAt,
    completedAt: Infinity,
    input: { kind: 'put' as const, key, value },
    output: undefined,
    outcome: 'unknown' as const,
  });
  const read = (response: EtcdResponse) => ({
    process: 9,
    invokedAt: 10,
    completedAt: 11,
    input: { kind: 'range' as const, key: 'a' },
    output: response,
    outcome: 'ok' as const,
  });
  const unknown: EtcdRequest[] = [
    { kind: 'put', key: 'a', value: '1' },
    { kind: 'put', key: 'a', value: '2' },
    { kind: 'txn', compare: [], success: [], failure: [{ kind: 'put', key: 'a', value: '1' }] },
    { kind: 'compact', revision: 1 },
  ];
  const candidates = etcdModel.sequence!.unknownCandidates!([[{ kind: 'range', key: 'a' }, { revision: 2, kvs: [{ key: 'a', value: '1', modRevision: 2 }] }]], unknown, new Float64Array(0));
  t.deepEqual(candidates(etcdModel.init()), [0, 2, 3], 'the puts of a=1, and a compaction, which fills no revision');
  t.is(candidates(etcdModel.step(etcdModel.init(), { kind: 'put', key: 'b', value: '1' }, undefined)!), undefined, 'nothing was seen at revision 3');
  const seen = read({ revision: 2, kvs: [{ key: 'a', value: '1', modRevision: 2 }] });
  t.is(checkLinearizability(etcdModel, [put(0, 0, 'a', '2'), put(1, 1, 'a', '1'), seen]).verdict, 'linearizable');
  t.is(checkLinearizability(etcdModel, [put(0, 0, 'a', '2'), put(1, 1, 'b', '1'), seen]).verdict, 'not-linearizable');
});
