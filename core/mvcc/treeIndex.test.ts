import test from 'ava';
import { revision } from './revision.ts';
import { TreeIndex } from './treeIndex.ts';

test('liveAt gives the index of each key in the range that exists at the revision, in key order', (t) => {
  const index = new TreeIndex();
  index.put('a', revision(2, 0));
  index.put('b', revision(3, 0));
  index.put('c', revision(4, 0));
  index.tombstone('b', revision(5, 0));
  index.put('d', revision(6, 0));
  const live = (key: string, end: string | null, atRev: number) => index.liveAt(key, end, atRev).map((keyIndex) => keyIndex.key);
  t.deepEqual(live('a', '', 4), ['a', 'b', 'c'], 'b before its delete, d not yet');
  t.deepEqual(live('a', '', 6), ['a', 'c', 'd'], 'b deleted');
  t.deepEqual(live('b', 'd', 6), ['c'], 'the end is exclusive');
  t.deepEqual(live('b', null, 4), ['b'], 'one key');
  t.deepEqual(live('b', null, 5), [], 'one deleted key');
  t.is(index.liveAt('c', null, 6)[0], index.keyIndex('c'), 'the index itself, not a copy');
});
