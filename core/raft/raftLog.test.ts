import test from 'ava';
import { entriesOfSize, entriesWithTerms } from './_test/entries.ts';
import { MemoryStorage } from './memoryStorage.ts';
import { noLimit, RaftLog } from './raftLog.ts';
import { isStorageError } from './storage.ts';

/** A log whose first `stable` entries are in storage and the rest unstable. */
function logWith(terms: readonly number[], stable = terms.length): RaftLog {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms(1, terms.slice(0, stable)));
  const log = new RaftLog(storage, noLimit, null);
  if (stable < terms.length) log.append(entriesWithTerms(stable + 1, terms.slice(stable)));
  return log;
}

const termsOf = (log: RaftLog): number[] => log.allEntries().map((e) => e.term);

test('maybeAppend appends after a matching entry and truncates a conflicting tail', (t) => {
  const log = logWith([1, 1, 2, 2], 2);
  t.is(log.maybeAppend(2, 1, 0, entriesWithTerms(3, [3, 3, 3])), 5);
  t.deepEqual(termsOf(log), [1, 1, 3, 3, 3]);
  // Entries already present are not re-appended.
  t.is(log.maybeAppend(3, 3, 4, entriesWithTerms(4, [3])), 4);
  t.deepEqual(termsOf(log), [1, 1, 3, 3, 3]);
  t.is(log.committed, 4, 'commit is bounded by the last new entry');
  t.is(log.maybeAppend(5, 2, 0, []), null, 'no match at (5, 2)');
});

test('a conflict below the commit index is an invariant violation', (t) => {
  const log = logWith([1, 1, 1]);
  log.commitTo(3);
  t.throws(() => log.maybeAppend(1, 1, 3, entriesWithTerms(2, [2])), { message: /conflicts with committed entry/ });
});

test('findConflictByTerm returns the last index at or below with a term at most the given one', (t) => {
  // Indexes 1..9 with terms 1 3 3 3 5 5 5 5 5 (the example of etcd-io/raft's comments).
  const log = logWith([1, 3, 3, 3, 5, 5, 5, 5, 5]);
  t.deepEqual(log.findConflictByTerm(9, 2), { index: 1, term: 1 });
  t.deepEqual(log.findConflictByTerm(9, 4), { index: 4, term: 3 });
  t.deepEqual(log.findConflictByTerm(9, 5), { index: 9, term: 5 });
  t.deepEqual(log.findConflictByTerm(3, 0), { index: 0, term: 0 });
});

test('terms and slices span storage and the unstable log; compacted ranges report it', (t) => {
  const log = logWith([1, 2, 3, 4, 5], 3);
  t.deepEqual([0, 1, 3, 4, 5].map((i) => log.term(i)), [0, 1, 3, 4, 5]);
  t.is(log.term(6), 'unavailable');
  const slice = log.slice(2, 6, noLimit);
  t.false(isStorageError(slice));
  if (!isStorageError(slice)) t.deepEqual(slice.map((e) => e.index), [2, 3, 4, 5]);
  (log.storage as MemoryStorage).compact(2);
  t.is(log.slice(1, 3, noLimit), 'compacted');
  t.is(log.term(1), 'compacted');
  t.is(log.term(2), 2, 'the term at the compaction point is kept');
});

test('slices are cut to the size limit across the storage boundary', (t) => {
  const storage = new MemoryStorage();
  storage.append(entriesOfSize(1, 1, 3, 10));
  const log = new RaftLog(storage, noLimit, null);
  log.append(entriesOfSize(4, 1, 3, 10));
  const cut = (maxSize: number) => {
    const entries = log.slice(1, 7, maxSize);
    return isStorageError(entries) ? entries : entries.length;
  };
  t.is(cut(0), 1);
  t.is(cut(20), 2);
  t.is(cut(45), 4);
  t.is(cut(noLimit), 6);
});

test('isUpToDate compares the last term first, then the last index (§5.4.1)', (t) => {
  const log = logWith([1, 2, 2]);
  t.true(log.isUpToDate(1, 3));
  t.true(log.isUpToDate(3, 2));
  t.false(log.isUpToDate(2, 2));
  t.false(log.isUpToDate(9, 1));
});

test('maybeCommit only commits an entry of the given term', (t) => {
  const log = logWith([1, 1, 2]);
  t.false(log.maybeCommit(2, 2), 'index 2 is of term 1');
  t.true(log.maybeCommit(3, 2));
  t.is(log.committed, 3);
  t.false(log.maybeCommit(2, 1), 'never backwards');
});

test('committed entries are handed out once, within the apply budget', (t) => {
  const storage = new MemoryStorage();
  storage.append(entriesOfSize(1, 1, 4, 10));
  const log = new RaftLog(storage, 25, null);
  log.commitTo(4);
  const first = log.nextCommittedEntries();
  t.deepEqual(first.map((e) => e.index), [1, 2]);
  log.acceptApplying(2, 20);
  t.false(log.hasNextCommittedEntries(), 'paused until applied');
  log.appliedTo(2, 20);
  t.deepEqual(log.nextCommittedEntries().map((e) => e.index), [3, 4]);
});

test('the commit index never passes the last index', (t) => {
  const log = logWith([1]);
  t.throws(() => log.commitTo(2), { message: /out of range/ });
});
