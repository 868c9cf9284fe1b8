import test from 'ava';
import { tornRecord, type DurableState } from '../host/node.ts';
import { emptyConfState, MemoryStorage, normalEntry, type Entry, type HardState } from '../raft/index.ts';
import { compactedWal, readyWrites, recoverWal, walFile, type WalRecord } from './wal.ts';

const entry = (index: number, term: number, byte = index): Entry => normalEntry(new Uint8Array([byte]), term, index);
const hard = (term: number, commit: number, vote = 0): HardState => ({ term, vote, commit });
const disk = (records: readonly unknown[]): DurableState => ({ files: new Map([[walFile, records]]) });
const terms = (storage: MemoryStorage) => {
  const out: number[] = [];
  for (let i = storage.firstIndex(); i <= storage.lastIndex(); i++) out.push(storage.term(i) as number);
  return out;
};

test('a Ready becomes one WAL append: snapshot, entries, hard state, in that order', (t) => {
  const snapshot = { metadata: { index: 5, term: 2, confState: emptyConfState }, data: null };
  const writes = readyWrites({ softState: null, hardState: hard(2, 5), readStates: [], entries: [entry(6, 2)], snapshot, committedEntries: [], messages: [], mustSync: true });
  t.is(writes.length, 1);
  t.deepEqual(
    (writes[0]!.records as WalRecord[]).map((r) => r.type),
    ['snapshot', 'entries', 'hardState'],
  );
  t.deepEqual(readyWrites({ softState: null, hardState: null, readStates: [], entries: [], snapshot: null, committedEntries: [], messages: [], mustSync: false }), []);
});

test('recovery replays entries with truncation: a later append at an index replaces the tail', (t) => {
  const recovered = recoverWal(
    disk([
      { type: 'entries', entries: [entry(1, 1), entry(2, 1), entry(3, 1)] },
      { type: 'hardState', hardState: hard(1, 1) },
      { type: 'entries', entries: [entry(2, 2)] },
      { type: 'hardState', hardState: hard(2, 2, 3) },
    ] satisfies WalRecord[]),
  );
  t.deepEqual(terms(recovered.storage), [1, 2]);
  t.deepEqual(recovered.hardState, hard(2, 2, 3));
  t.deepEqual(recovered.storage.initialState().hardState, hard(2, 2, 3));
  t.false(recovered.torn);
  t.is(recovered.records, 4);
});

test('recovery stops at a torn record and says so; what came before it stands', (t) => {
  const recovered = recoverWal(disk([{ type: 'entries', entries: [entry(1, 1)] }, { type: 'hardState', hardState: hard(1, 1) }, tornRecord, { type: 'entries', entries: [entry(2, 1)] }]));
  t.true(recovered.torn);
  t.is(recovered.records, 2);
  t.is(recovered.storage.lastIndex(), 1);
  t.deepEqual(recovered.hardState, hard(1, 1));
});

test('a compacted WAL recovers to the same storage as the WAL it replaces', (t) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
  storage.createSnapshot(3, { ...emptyConfState, voters: [1, 2, 3] }, { values: [], valueIndexes: [], count: 0, digest: 7 });
  storage.compact(2);
  const write = compactedWal(storage, hard(2, 4));
  t.is(write.kind, 'replace');
  const recovered = recoverWal(disk(write.records));
  t.is(recovered.storage.snapshot().metadata.index, 3);
  t.deepEqual(recovered.storage.snapshot().metadata.confState.voters, [1, 2, 3]);
  t.is(recovered.storage.lastIndex(), 4);
  t.is(recovered.storage.term(4), 2);
  t.deepEqual(recovered.hardState, hard(2, 4));
});

test('an empty disk recovers to an empty storage', (t) => {
  const recovered = recoverWal({ files: new Map() });
  t.is(recovered.records, 0);
  t.is(recovered.storage.lastIndex(), 0);
});
