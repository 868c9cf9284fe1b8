import test from 'ava';
import { entriesWithTerms } from './_test/entries.ts';
import { emptyConfState, type Snapshot } from './state.ts';
import { Unstable } from './unstable.ts';

const snapshotAt = (index: number, term: number): Snapshot => ({ metadata: { index, term, confState: emptyConfState }, data: null });

test('entries handed out are in progress; only new ones are handed out next', (t) => {
  const unstable = new Unstable(5);
  unstable.truncateAndAppend(entriesWithTerms(5, [1, 1]));
  t.is(unstable.nextEntries().length, 2);
  unstable.acceptInProgress();
  t.false(unstable.hasNextEntries());
  unstable.truncateAndAppend(entriesWithTerms(7, [1]));
  t.deepEqual(unstable.nextEntries().map((e) => e.index), [7]);
});

test('truncating below the in-progress point hands the replacement out again', (t) => {
  const unstable = new Unstable(5);
  unstable.truncateAndAppend(entriesWithTerms(5, [1, 1, 1]));
  unstable.acceptInProgress();
  unstable.truncateAndAppend(entriesWithTerms(6, [2]));
  t.is(unstable.offsetInProgress, 6);
  t.deepEqual(unstable.nextEntries().map((e) => [e.index, e.term]), [[6, 2]]);
  // Replacing from before the offset replaces everything.
  unstable.truncateAndAppend(entriesWithTerms(4, [3]));
  t.is(unstable.offset, 4);
  t.deepEqual(unstable.nextEntries().map((e) => [e.index, e.term]), [[4, 3]]);
});

test('stableTo ignores an entry that was replaced meanwhile (ABA guard)', (t) => {
  const unstable = new Unstable(5);
  unstable.truncateAndAppend(entriesWithTerms(5, [1, 1]));
  unstable.acceptInProgress();
  unstable.truncateAndAppend(entriesWithTerms(6, [2]));
  unstable.stableTo(6, 1);
  t.is(unstable.offset, 5, 'the write of term 1 is not what the log now holds');
  unstable.stableTo(5, 1);
  t.is(unstable.offset, 6);
  t.deepEqual(unstable.entries.map((e) => [e.index, e.term]), [[6, 2]]);
});

test('a restored snapshot answers first index, last index and its term', (t) => {
  const unstable = new Unstable(5);
  unstable.restore(snapshotAt(10, 3));
  t.is(unstable.maybeFirstIndex(), 11);
  t.is(unstable.maybeLastIndex(), 10);
  t.is(unstable.maybeTerm(10), 3);
  t.is(unstable.maybeTerm(9), null);
  t.not(unstable.nextSnapshot(), null);
  unstable.acceptInProgress();
  t.is(unstable.nextSnapshot(), null);
  unstable.stableSnapshotTo(10);
  t.is(unstable.snapshot, null);
});
