/**
 * The etcd model against etcd's semantics for what simulated clients do: ranges of every form,
 * limits and counts, historical reads, compaction and its errors, leases, compares over ranges,
 * serializable reads — and a witness that blames the stale read, not the write before it.
 */
import test from 'ava';
import { checkLinearizability } from '../checker.ts';
import type { Operation } from '../history.ts';
import { describeViolation } from '../witness.ts';
import { buildTimeline } from '../timeline.ts';
import { etcdModel } from './etcd.ts';
import type { EtcdState } from './etcdState.ts';
import { errCompacted, errFutureRevision, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';

type Step = readonly [EtcdRequest, EtcdResponse | undefined];

const run = (steps: readonly Step[]): EtcdState | undefined => {
  let state: EtcdState | undefined = etcdModel.init();
  for (const [request, response] of steps) state = state === undefined ? undefined : etcdModel.step(state, request, response);
  return state;
};
const legal = (steps: readonly Step[]) => run(steps) !== undefined;

const put = (key: string, value: string, revision: number, lease?: number): Step => [{ kind: 'put', key, value, ...(lease === undefined ? {} : { lease }) }, { revision }];
/** Revision 2: a=1; 3: b=2; 4: a=3; 5: c=4 (then a's versions are 1 and 2). */
const setup: readonly Step[] = [put('a', '1', 2), put('b', '2', 3), put('a', '3', 4), put('c', '4', 5)];
const range = (request: Omit<Extract<EtcdRequest, { kind: 'range' }>, 'kind'>, response: EtcdResponse): Step => [{ kind: 'range', ...request }, response];

test('range forms: single key, [key, end), prefix (key+1), from key ("\\0"), everything ("" + "\\0"), and "" as no end', (t) => {
  const kv = (key: string, value: string) => ({ key, value });
  t.true(legal([...setup, range({ key: 'a' }, { revision: 5, kvs: [kv('a', '3')], count: 1 })]));
  t.true(legal([...setup, range({ key: 'a', rangeEnd: '' }, { revision: 5, kvs: [kv('a', '3')], count: 1 })]));
  t.true(legal([...setup, range({ key: 'a', rangeEnd: 'c' }, { revision: 5, kvs: [kv('a', '3'), kv('b', '2')], count: 2 })]));
  t.true(legal([...setup, range({ key: 'b', rangeEnd: 'c' }, { revision: 5, kvs: [kv('b', '2')] })]), 'the prefix "b" is [b, c)');
  t.true(legal([...setup, range({ key: 'b', rangeEnd: '\u0000' }, { revision: 5, kvs: [kv('b', '2'), kv('c', '4')] })]));
  t.true(legal([...setup, range({ key: '', rangeEnd: '\u0000' }, { revision: 5, count: 3 })]));
  t.false(legal([...setup, range({ key: 'b', rangeEnd: '\u0000' }, { revision: 5, count: 3 })]));
});

test('limit cuts the kvs and sets more; count is before the limit; keys-only and count-only', (t) => {
  t.true(legal([...setup, range({ key: '', rangeEnd: '\u0000', limit: 2 }, { revision: 5, kvs: [{ key: 'a', value: '3' }, { key: 'b', value: '2' }], count: 3, more: true })]));
  t.false(legal([...setup, range({ key: '', rangeEnd: '\u0000', limit: 3 }, { revision: 5, count: 3, more: true })]));
  t.true(legal([...setup, range({ key: 'a', rangeEnd: 'c', keysOnly: true }, { revision: 5, kvs: [{ key: 'a' }, { key: 'b', value: '' }] })]));
  t.false(legal([...setup, range({ key: 'a', rangeEnd: 'c', keysOnly: true }, { revision: 5, kvs: [{ key: 'a', value: '3' }, { key: 'b' }] })]), 'keys-only values are empty');
  t.true(legal([...setup, range({ key: '', rangeEnd: '\u0000', countOnly: true, limit: 1 }, { revision: 5, kvs: [], count: 3, more: false })]));
  t.false(legal([...setup, range({ key: '', rangeEnd: '\u0000', countOnly: true }, { revision: 5, kvs: [{ key: 'a' }], count: 3 })]));
});

test('historical reads see the keyspace at their revision; header revision is the current one', (t) => {
  const at = (revision: number, kvs: NonNullable<EtcdResponse['kvs']>) => range({ key: 'a', revision }, { revision: 5, kvs });
  t.true(legal([...setup, at(2, [{ key: 'a', value: '1', createRevision: 2, modRevision: 2, version: 1 }])]));
  t.true(legal([...setup, at(3, [{ key: 'a', value: '1', modRevision: 2 }])]));
  t.true(legal([...setup, at(4, [{ key: 'a', value: '3', createRevision: 2, modRevision: 4, version: 2 }])]));
  t.true(legal([...setup, at(1, [])]), 'revision 1: the empty store');
  t.false(legal([...setup, at(3, [{ key: 'a', value: '3' }])]));
  t.false(legal([...setup, range({ key: 'a', revision: 2 }, { revision: 2, kvs: [{ key: 'a', value: '1' }] })]), 'the header is the current revision');
});

test('compaction: reads below it fail with ErrCompacted, at it still work; future revisions fail with ErrFutureRev', (t) => {
  const compact = (revision: number, response: EtcdResponse): Step => [{ kind: 'compact', revision }, response];
  const compacted = [...setup, compact(3, { revision: 5 })];
  t.true(legal(compacted));
  t.is(run(compacted)!.revision, 5, 'a compaction creates no revision');
  t.true(legal([...compacted, range({ key: 'a', revision: 3 }, { revision: 5, kvs: [{ key: 'a', value: '1' }] })]));
  t.true(legal([...compacted, range({ key: 'a', revision: 2 }, { error: errCompacted })]));
  t.false(legal([...compacted, range({ key: 'a', revision: 2 }, { revision: 5, kvs: [{ key: 'a', value: '1' }] })]));
  t.false(legal([...compacted, range({ key: 'a', revision: 3 }, { error: errCompacted })]));
  t.true(legal([...setup, range({ key: 'a', revision: 6 }, { error: errFutureRevision })]));
  t.false(legal([...setup, range({ key: 'a', revision: 5 }, { error: errFutureRevision })]));
  t.true(legal([...compacted, compact(3, { error: errCompacted })]), 'compacting at the compaction revision again');
  t.true(legal([...compacted, compact(2, { error: errCompacted })]));
  t.true(legal([...compacted, compact(6, { error: errFutureRevision })]));
  t.false(legal([...compacted, compact(4, { error: errCompacted })]));
  t.false(legal([...setup, compact(5, { revision: 4 })]), 'a compaction reports the current revision');
  t.true(legal([...setup, compact(0, { revision: 5 })]), 'etcd lets a new store compact revision 0');
  t.true(legal([...setup, [{ kind: 'put', key: 'x', value: 'y', lease: 99 }, { error: { code: 5, message: 'etcdserver: requested lease not found' } }]]), 'other errors: no effect');
});

test('leases are carried into kvs and compared; compares over a range need every key', (t) => {
  const withLease = [...setup, put('d', '5', 6, 7)];
  t.true(legal([...withLease, range({ key: 'd' }, { revision: 6, kvs: [{ key: 'd', value: '5', lease: 7 }] })]));
  t.false(legal([...withLease, range({ key: 'd' }, { revision: 6, kvs: [{ key: 'd', value: '5', lease: 0 }] })]));
  const txn = (compare: Extract<EtcdRequest, { kind: 'txn' }>['compare'], succeeded: boolean): Step => [{ kind: 'txn', compare, success: [], failure: [] }, { revision: 6, succeeded }];
  t.true(legal([...withLease, txn([{ key: 'd', target: 'lease', result: '=', operand: 7 }], true)]));
  t.true(legal([...withLease, txn([{ key: 'a', rangeEnd: 'd', target: 'version', result: '>', operand: 0 }], true)]), 'a, b, c all exist');
  t.true(legal([...withLease, txn([{ key: 'a', rangeEnd: 'd', target: 'version', result: '>', operand: 1 }], false)]), 'b and c have version 1');
  t.true(legal([...withLease, txn([{ key: 'x', rangeEnd: 'z', target: 'create', result: '=', operand: 0 }], true)]), 'an empty range compares zeros');
  t.true(legal([...withLease, txn([{ key: 'x', rangeEnd: 'z', target: 'value', result: '!=', operand: 'q' }], false)]), 'a value compare on an empty range is false');
  t.true(legal([...withLease, txn([{ key: 'a', rangeEnd: '\u0000', target: 'value', result: '<', operand: '9' }], true)]), 'values compare as strings');
});

test('nested txns make one revision; a range in a txn at a future revision fails the whole txn', (t) => {
  const nested: EtcdRequest = {
    kind: 'txn',
    compare: [],
    success: [{ kind: 'put', key: 'x', value: '1' }, { kind: 'txn', compare: [{ key: 'x', target: 'version', result: '=', operand: 1 }], success: [{ kind: 'put', key: 'y', value: '2' }], failure: [] }],
    failure: [],
  };
  t.is(run([...setup, [nested, { revision: 6, succeeded: true, responses: [{}, { succeeded: true, responses: [{}] }] }]])?.revision, 6);
  const future: EtcdRequest = { kind: 'txn', compare: [], success: [{ kind: 'put', key: 'x', value: '1' }, { kind: 'range', key: 'x', revision: 7 }], failure: [] };
  t.true(legal([...setup, [future, { error: errFutureRevision }]]));
  t.true(legal([...setup, [{ ...future, success: [{ kind: 'put', key: 'x', value: '1' }, { kind: 'range', key: 'x', revision: 6 }] }, { revision: 6, succeeded: true, responses: [{}, { kvs: [{ key: 'x', value: '1' }] }] }]]), 'a txn reads at its own revision');
});

test('a serializable read shows the keyspace at its header revision, which may be stale but not ahead', (t) => {
  const serializable = (revision: number, kvs: NonNullable<EtcdResponse['kvs']>) => range({ key: 'a', serializable: true }, { revision, kvs });
  t.true(legal([...setup, serializable(2, [{ key: 'a', value: '1' }])]), 'stale is allowed');
  t.false(legal([...setup, serializable(2, [{ key: 'a', value: '3' }])]), 'but it must be the state at its revision');
  t.false(legal([...setup, serializable(6, [{ key: 'a', value: '3' }])]), 'a revision the cluster has not reached');
  t.true(legal([...setup, range({ key: 'a', serializable: true, revision: 2 }, { revision: 4, kvs: [{ key: 'a', value: '1' }] })]));
  // In a history: a serializable read after a write may still miss it; a linearizable one may not.
  const history: Operation<EtcdRequest, EtcdResponse>[] = [
    { process: 0, invokedAt: 0, completedAt: 1, input: { kind: 'put', key: 'a', value: '1' }, output: { revision: 2 }, outcome: 'ok' },
    { process: 0, invokedAt: 2, completedAt: 3, input: { kind: 'put', key: 'a', value: '2' }, output: { revision: 3 }, outcome: 'ok' },
    { process: 1, invokedAt: 4, completedAt: 5, input: { kind: 'range', key: 'a', serializable: true }, output: { revision: 2, kvs: [{ key: 'a', value: '1' }] }, outcome: 'ok' },
  ];
  t.is(checkLinearizability(etcdModel, history).verdict, 'linearizable');
  const linearizable = history.map((operation, index) => (index === 2 ? { ...operation, input: { kind: 'range' as const, key: 'a' } } : operation));
  t.is(checkLinearizability(etcdModel, linearizable).verdict, 'not-linearizable');
});

test('a txn of serializable ranges only is judged as etcd serves it (IsTxnSerializable: from the member\'s state), at its header revision; any other txn linearizably', (t) => {
  // Revision 2: a=1; 3: b=2; 4: a=3; 5: c=4. The txn asks whether a is at version 1 and reads a and b.
  const txn = (serializable: readonly [boolean, boolean]): EtcdRequest => ({
    kind: 'txn',
    compare: [{ key: 'a', target: 'version', result: '=', operand: 1 }],
    success: [{ kind: 'range', key: 'a', serializable: serializable[0] }, { kind: 'range', key: 'b', serializable: serializable[1] }],
    failure: [{ kind: 'range', key: 'a', serializable: serializable[0] }],
  });
  const atThree: EtcdResponse = { revision: 3, succeeded: true, responses: [{ kvs: [{ key: 'a', value: '1' }] }, { kvs: [{ key: 'b', value: '2' }] }] };
  const atFive: EtcdResponse = { revision: 5, succeeded: false, responses: [{ kvs: [{ key: 'a', value: '3' }] }] };
  const serializable = txn([true, true]);
  t.true(legal([...setup, [serializable, atThree]]), 'stale (a member at revision 3): its compare and its ranges judged there');
  t.true(legal([...setup, [serializable, atFive]]));
  t.false(legal([...setup, [serializable, { ...atThree, succeeded: false, responses: [{ kvs: [{ key: 'a', value: '1' }] }] }]]), 'the compare held at 3');
  t.false(legal([...setup, [serializable, { ...atThree, responses: [{ kvs: [{ key: 'a', value: '1' }] }, { kvs: [] }] }]]), 'b existed at 3');
  t.false(legal([...setup, [serializable, { ...atFive, revision: 6 }]]), 'a revision the cluster has not reached');
  t.false(legal([...setup, [txn([true, false]), atThree]]), 'one linearizable range makes the whole txn linearizable (etcd reads it through a read index)');
  t.false(legal([...setup, [txn([false, false]), atThree]]));
  // In a history: after the write of a=3 completed, only the serializable txn may still show a=1.
  const write = (key: string, value: string, revision: number, at: number): Operation<EtcdRequest, EtcdResponse> => ({ process: 0, invokedAt: at, completedAt: at + 1, input: { kind: 'put', key, value }, output: { revision }, outcome: 'ok' });
  const history = (input: EtcdRequest): Operation<EtcdRequest, EtcdResponse>[] => [
    write('a', '1', 2, 0),
    write('b', '2', 3, 2),
    write('a', '3', 4, 4),
    { process: 1, invokedAt: 6, completedAt: 7, input, output: atThree, outcome: 'ok' },
  ];
  t.is(checkLinearizability(etcdModel, history(serializable)).verdict, 'linearizable');
  t.is(checkLinearizability(etcdModel, history(txn([false, false]))).verdict, 'not-linearizable');
  t.is(checkLinearizability(etcdModel, history(txn([false, true]))).verdict, 'not-linearizable');
});

test('a serializable read between the slices of a range delete: only the keyspace at its header passes (issue 10, simcheck)', (t) => {
  // Revision 5 holds a, b, c; the delete of [a, d) makes 6. A member applying it in slices still
  // answers at 5 and must show a, b and c; one that showed the keys deleted so far under 5 (the
  // mutant etcd-read-sees-open-delete), or under 6 with some left, shows no revision at all.
  const doomed: Step = [{ kind: 'delete', key: 'a', rangeEnd: 'd' }, { revision: 6, deleted: 3 }];
  const read = (revision: number, keys: readonly string[]): Step => range({ key: 'a', rangeEnd: 'd', serializable: true }, { revision, kvs: keys.map((key) => ({ key })), count: keys.length });
  t.true(legal([...setup, read(5, ['a', 'b', 'c']), doomed]), 'the store before the delete, under its revision');
  t.true(legal([...setup, doomed, read(5, ['a', 'b', 'c'])]), 'the same, read after the cluster moved on');
  t.false(legal([...setup, doomed, read(5, ['b', 'c'])]), 'the first slice done, under the revision before the delete');
  t.false(legal([...setup, doomed, read(5, ['c'])]));
  t.false(legal([...setup, doomed, read(6, ['b', 'c'])]), 'the first slice done, under the delete\'s revision');
  t.true(legal([...setup, doomed, read(6, [])]));
  // In a history, where the search may place the read anywhere in its interval: still refused.
  const history: Operation<EtcdRequest, EtcdResponse>[] = [
    ...setup.map(([input, output], index): Operation<EtcdRequest, EtcdResponse> => ({ process: 0, invokedAt: 2 * index, completedAt: 2 * index + 1, input, output: output!, outcome: 'ok' })),
    { process: 0, invokedAt: 10, completedAt: 20, input: doomed[0], output: doomed[1]!, outcome: 'ok' },
    { process: 1, invokedAt: 11, completedAt: 12, input: read(5, ['b', 'c'])[0], output: read(5, ['b', 'c'])[1]!, outcome: 'ok' },
  ];
  t.is(checkLinearizability(etcdModel, history).verdict, 'not-linearizable');
  const intact = history.map((operation, index) => (index === 5 ? { ...operation, output: read(5, ['a', 'b', 'c'])[1]! } : operation));
  t.is(checkLinearizability(etcdModel, intact).verdict, 'linearizable');
});

test('an empty keyspace at an earlier revision is known, not taken for one before the history: reads there see nothing', (t) => {
  t.false(legal([...setup, range({ key: 'a', revision: 1 }, { revision: 5, kvs: [{ key: 'a', value: '1' }] })]), 'a historical read');
  t.false(legal([...setup, range({ key: 'a', serializable: true }, { revision: 1, kvs: [{ key: 'a', value: '1' }] })]), 'a serializable read');
  t.true(legal([...setup, range({ key: 'a', serializable: true }, { revision: 1, kvs: [] })]));
  // The history that showed it (found by the settled-reads property test): the put of /k/1 is a
  // write nothing observes, so the checker searches a stand-in that creates revision 2 and no key;
  // the keyspace at 2 was then empty, and the read that claims /k/0 there passed once the store
  // had moved on, while the plain search (with /k/1 at 2) refused it.
  const history: Operation<EtcdRequest, EtcdResponse>[] = [
    { process: 0, invokedAt: 0, completedAt: Infinity, input: { kind: 'put', key: '/k/1', value: 'v0' }, output: undefined, outcome: 'unknown' },
    { process: 2, invokedAt: 1, completedAt: 6, input: { kind: 'put', key: '/k/0', value: 'v1' }, output: { revision: 3, prevKv: null }, outcome: 'ok' },
    { process: 3, invokedAt: 2, completedAt: 6, input: { kind: 'range', key: '/k/0', serializable: true }, output: { revision: 2, kvs: [{ key: '/k/0', value: 'm' }], count: 1 }, outcome: 'ok' },
    { process: 5, invokedAt: 10, completedAt: 11, input: { kind: 'put', key: '/k/0', value: 'v3' }, output: { revision: 4 }, outcome: 'ok' },
  ];
  t.is(checkLinearizability(etcdModel, history).verdict, 'not-linearizable');
});

test('the witness blames a stale read, not the write it should have seen (issue 8)', (t) => {
  const history: Operation<EtcdRequest, EtcdResponse>[] = [
    { process: 0, invokedAt: 0, completedAt: 1, input: { kind: 'put', key: 'a', value: '1' }, output: { revision: 2 }, outcome: 'ok' },
    { process: 0, invokedAt: 2, completedAt: 3, input: { kind: 'put', key: 'a', value: '2' }, output: { revision: 3 }, outcome: 'ok' },
    { process: 1, invokedAt: 4, completedAt: 5, input: { kind: 'range', key: 'a' }, output: { revision: 2, kvs: [{ key: 'a', value: '1' }] }, outcome: 'ok' },
  ];
  const result = checkLinearizability(etcdModel, history);
  t.is(result.verdict, 'not-linearizable');
  t.deepEqual(result.violation!.stuck, [2]);
  const witness = describeViolation(etcdModel, history, result);
  t.regex(witness, /none of these pending operations can take effect next \(with the state they see\):\n\s+#2 process 1 \[4, 5\] range\("a"\)/);
  t.regex(witness, /because #2 must take effect before #1 by the sequence their responses give \(revisions\), but was invoked after #1 completed/);
  const timeline = buildTimeline('stale', etcdModel, history, result);
  const violation = timeline.partitions[timeline.violation]!;
  t.deepEqual(violation.stuck, [2], 'the page paints the read red, not the put');
});

test('an unknown compaction may take effect where no revision is missing', (t) => {
  const history: Operation<EtcdRequest, EtcdResponse>[] = [
    { process: 0, invokedAt: 0, completedAt: 1, input: { kind: 'put', key: 'a', value: '1' }, output: { revision: 2 }, outcome: 'ok' },
    { process: 1, invokedAt: 2, completedAt: Infinity, input: { kind: 'compact', revision: 2 }, output: undefined, outcome: 'unknown' },
    { process: 2, invokedAt: 3, completedAt: 4, input: { kind: 'range', key: 'a', revision: 1 }, output: { error: errCompacted }, outcome: 'ok' },
  ];
  t.is(checkLinearizability(etcdModel, history).verdict, 'linearizable');
  t.is(checkLinearizability(etcdModel, history.filter((_, index) => index !== 1)).verdict, 'not-linearizable');
});
