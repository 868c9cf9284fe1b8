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

test('the coverage counts: a cut of entries in flight (past the stable part, or reaching into it) and a storage ack of a replaced entry', (t) => {
  const unstable = new Unstable(5);
  unstable.truncateAndAppend(entriesWithTerms(5, [1, 1, 1]));
  unstable.truncateAndAppend(entriesWithTerms(8, [1]));
  t.deepEqual(unstable.counts, { cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 }, 'appends, nothing in flight');
  unstable.truncateAndAppend(entriesWithTerms(7, [2]));
  t.deepEqual(unstable.counts, { cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 }, 'a cut of entries not handed out yet');
  unstable.acceptInProgress();
  unstable.truncateAndAppend(entriesWithTerms(6, [3]));
  t.deepEqual(unstable.counts, { cutsInFlight: 1, midTailCuts: 1, staleAcks: 0 }, 'a cut past the stable part, inside the write in flight');
  unstable.stableTo(7, 2);
  t.is(unstable.counts.staleAcks, 0, 'index 7 is gone: nothing to judge');
  unstable.truncateAndAppend(entriesWithTerms(7, [3]));
  unstable.stableTo(7, 2);
  t.is(unstable.counts.staleAcks, 1, 'index 7 now holds term 3, the write was of term 2');
  unstable.truncateAndAppend(entriesWithTerms(5, [4]));
  t.deepEqual(unstable.counts, { cutsInFlight: 2, midTailCuts: 1, staleAcks: 1 }, 'a cut of everything in flight, from the offset');
});
