import test from 'ava';
import type { KeyValue, RangeResponse } from '../../core/api/index.ts';
import { rangeShapeMismatch } from './replyChecks.ts';

const kv = (key: string): KeyValue => ({ key, createRevision: 2, modRevision: 2, version: 1, value: 'v', lease: 0 });
const response = (keys: number, count: number, more: boolean): RangeResponse => ({ header: { clusterId: 1, memberId: 1, revision: 9, raftTerm: 2 }, kvs: Array.from({ length: keys }, (_, i) => kv(`k${i}`)), count, more });

test("a range's kvs, count and more that agree pass: cut by the limit, not cut, no limit", (t) => {
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l', limit: 3 }, response(3, 5, true)), null);
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l', limit: 3 }, response(3, 3, false)), null);
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l' }, response(4, 4, false)), null);
  // Count only, and min/max revision filters (applied after the count), are not judged.
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l', countOnly: true }, response(0, 4, false)), null);
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l', limit: 3, minModRevision: 5 }, response(1, 4, false)), null);
});

test('more at exactly the limit is named at the answer (mutant etcd-range-more-at-limit)', (t) => {
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l', limit: 3 }, response(3, 3, true)), 'more true while it shows 3 of 3 keys (limit 3)');
});

test('keys shown that are not the count capped at the limit are named', (t) => {
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l', limit: 3 }, response(2, 5, true)), '2 keys and count 5 under limit 3: 3 keys expected');
  t.is(rangeShapeMismatch({ key: 'k', rangeEnd: 'l' }, response(2, 3, false)), '2 keys and count 3: 3 keys expected');
});
