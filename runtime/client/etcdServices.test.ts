import test from 'ava';
import { hasUnsafeInteger } from './etcdServices.ts';

test('hasUnsafeInteger finds a rounded int64 at any depth of a request, in objects and lists, and skips bytes', (t) => {
  const unsafe = 2 ** 53;
  t.false(hasUnsafeInteger({ key: Buffer.from('k'), value: Buffer.alloc(300, 1), lease: 7, prevKv: false }));
  t.true(hasUnsafeInteger({ key: Buffer.from('k'), lease: unsafe }));
  t.true(hasUnsafeInteger({ compare: [], success: [{ requestRange: { key: Buffer.from('a'), revision: unsafe } }] }));
  t.true(hasUnsafeInteger({ ids: [1, 2, -unsafe] }));
  t.true(hasUnsafeInteger({ ttl: 1.5 }), 'not an integer either');
  t.false(hasUnsafeInteger({ success: [{ requestPut: { key: Buffer.from('a'), lease: 2 ** 53 - 1 } }], failure: [], header: null }));
  t.false(hasUnsafeInteger({}));
});
