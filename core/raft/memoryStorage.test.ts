import test from 'ava';
import { entriesOfSize, entriesWithTerms } from './_test/entries.ts';
import { MemoryStorage } from './memoryStorage.ts';
import { emptyConfState } from './state.ts';

function storageWith(terms: readonly number[]): MemoryStorage {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms(1, terms));
  return storage;
}

test('an empty storage: first index 1, last index 0, term 0 at index 0', (t) => {
  const storage = new MemoryStorage();
  t.is(storage.firstIndex(), 1);
  t.is(storage.lastIndex(), 0);
  t.is(storage.term(0), 0);
  t.is(storage.term(1), 'unavailable');
});

test('appending truncates a conflicting tail and ignores compacted entries', (t) => {
  const storage = storageWith([1, 1, 1, 1]);
  storage.append(entriesWithTerms(3, [2, 2, 2]));
  t.deepEqual([1, 2, 3, 4, 5].map((i) => storage.term(i)), [1, 1, 2, 2, 2]);
  storage.compact(3);
  storage.append(entriesWithTerms(2, [2, 2, 3]));
  t.is(storage.firstIndex(), 4);
  t.deepEqual([3, 4].map((i) => storage.term(i)), [2, 3]);
  t.is(storage.lastIndex(), 4);
});

test('entries are cut to the size limit but never to nothing', (t) => {
  const storage = new MemoryStorage();
  storage.append(entriesOfSize(1, 1, 5, 10));
  const cut = (maxSize: number) => {
    const entries = storage.entries(1, 6, maxSize);
    return typeof entries === 'string' ? entries : entries.length;
  };
  t.is(cut(0), 1);
  t.is(cut(25), 2);
  t.is(cut(50), 5);
  t.is(storage.entries(0, 2, 100), 'compacted');
});

test('compaction keeps the term of the compacted index for matching', (t) => {
  const storage = storageWith([1, 2, 3, 3]);
  t.is(storage.compact(2), null);
  t.is(storage.firstIndex(), 3);
  t.is(storage.term(2), 2);
  t.is(storage.term(1), 'compacted');
  t.is(storage.compact(2), 'compacted');
});

test('snapshots: created from the log, applied over it, refused when older', (t) => {
  const storage = storageWith([1, 1, 2]);
  const created = storage.createSnapshot(2, { ...emptyConfState, voters: [1] }, 'state');
  t.not(typeof created, 'string');
  t.deepEqual(storage.snapshot().metadata, { index: 2, term: 1, confState: { ...emptyConfState, voters: [1] } });
  t.is(storage.createSnapshot(2, emptyConfState, 'again'), 'snapshot-out-of-date');

  const follower = storageWith([1]);
  t.is(follower.applySnapshot(storage.snapshot()), null);
  t.is(follower.firstIndex(), 3);
  t.is(follower.lastIndex(), 2);
  t.is(follower.term(2), 1);
  t.is(follower.applySnapshot(storage.snapshot()), 'snapshot-out-of-date');
});

test('bootstrap records the configuration without a log', (t) => {
  const storage = MemoryStorage.bootstrap({ ...emptyConfState, voters: [1, 2, 3] });
  t.deepEqual(storage.initialState().confState.voters, [1, 2, 3]);
  t.is(storage.lastIndex(), 0);
});
