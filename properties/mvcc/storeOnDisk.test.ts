import test from 'ava';
import { ok, read } from '../../core/mvcc/_test/stores.ts';
import { relocatedValues, useSlabSize } from '../../core/mvcc/valueSlabs.ts';
import { StoreOnDisk, checkSameDatabase } from './storeOnDisk.ts';

/** Runs `body` with allocators of 1 KiB slabs (a value of 100-106 bytes: nine or ten a slab). */
function withSmallSlabs(body: () => void): void {
  const previous = useSlabSize(1024);
  try {
    body();
  } finally {
    useSlabSize(previous);
  }
}

const longValue = (round: number, i: number) => `${round}:${i}:`.padEnd(100 + (i % 7), 'v');

test('values in slabs read back from bytes as the same database across crashes, compactions and relocations, though each reader puts them elsewhere', (t) => {
  withSmallSlabs(() => {
    const member = new StoreOnDisk({ throughBytes: true });
    const relocatedBefore = relocatedValues();
    for (let round = 0; round < 4; round++) {
      // One key in nine is written once a round: after a compaction, about one value a slab survives.
      for (let i = 0; i < 90; i++) ok(member.store.put({ key: i % 9 === 0 ? `s${i}` : `hot${i % 2}`, value: longValue(round, i) }));
      if (round === 2) {
        ok(member.store.compact({ revision: member.store.revision - 5 }));
        member.store.finishCompaction();
      }
      member.commitAndSync();
      member.crashAndRestart(); // throws when the two readings differ
    }
    t.true(relocatedValues() > relocatedBefore, 'the compaction relocated values out of sparse slabs');
    t.deepEqual(read(member.store, 's0', 's1'), [`s0=${longValue(3, 0)}`]);
  });
});

test('the check fails a database whose value differs in one byte, and names the change', (t) => {
  withSmallSlabs(() => {
    const opened = (last: string) => {
      const member = new StoreOnDisk();
      ok(member.store.put({ key: 'a', value: longValue(0, 0) }));
      ok(member.store.put({ key: 'b', value: longValue(0, 1).slice(0, -1) + last }));
      member.commitAndSync();
      return member.crashAndRestart();
    };
    t.throws(() => checkSameDatabase(opened('w'), opened('v')), { message: /the change at 3\.0/ });
    t.notThrows(() => checkSameDatabase(opened('v'), opened('v')));
  });
});
