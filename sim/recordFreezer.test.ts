import test from 'ava';
import { SlabKeyValue, ValueSlabs } from '../core/mvcc/valueSlabs.ts';
import { RecordFreezer } from './recordFreezer.ts';

test('a slab value is frozen by its region: values appended to the slab later pass, an edit of its bytes is caught at the read', (t) => {
  const freezer = new RecordFreezer();
  const values = new ValueSlabs();
  const kv = values.keyValue('k', 2, 2, 1, 'v'.repeat(200), 0) as SlabKeyValue;
  t.true(kv instanceof SlabKeyValue);
  const record = { changes: [kv] };
  freezer.freeze(record);
  t.true(Object.isFrozen(kv));
  const later = values.keyValue('k', 2, 3, 2, 'w'.repeat(200), 0) as SlabKeyValue;
  t.is(later.slab, kv.slab);
  t.notThrows(() => freezer.verify(record, 'db'));
  kv.slab[kv.offset + 10] = 0x78;
  t.throws(() => freezer.verify(record, 'db'), { message: /slab value of a record was edited/ });
  kv.slab[kv.offset + 10] = 0x76;
});

test('a slab value\'s region is watched after every event as a byte array is: an edit of it is caught at the event that made it, not only at a read (values appended later pass)', (t) => {
  const freezer = new RecordFreezer();
  freezer.checkEdits(0);
  const values = new ValueSlabs();
  const kv = values.keyValue('k', 2, 2, 1, 'x'.repeat(300), 0) as SlabKeyValue;
  t.true(kv instanceof SlabKeyValue);
  freezer.freezeWrite({ changes: [kv] }, 'node 1 file db');
  for (let event = 1; event <= 3; event++) freezer.checkEdits(event);
  const later = values.keyValue('k', 2, 3, 2, 'y'.repeat(300), 0) as SlabKeyValue;
  t.is(later.slab, kv.slab, 'the next value lands in the same slab, after the region');
  t.notThrows(() => freezer.checkEdits(4));
  kv.slab[kv.offset] = 0x7a;
  try {
    t.throws(() => freezer.checkEdits(5), {
      message: 'node 1 file db: a slab value of a record was edited in place after it was written to the disk (written at event 1, its ends unchanged after event 4, changed by event 5; records are immutable once written)',
    });
  } finally {
    kv.slab[kv.offset] = 0x78;
  }
});

test('an edit in the middle of a slab value\'s region is caught when the region is read whole, 16 events after the write', (t) => {
  const freezer = new RecordFreezer();
  freezer.checkEdits(0);
  const kv = new ValueSlabs().keyValue('k', 2, 2, 1, 'm'.repeat(500), 0) as SlabKeyValue;
  freezer.freezeWrite({ changes: [kv] }, 'node 2 file db');
  freezer.checkEdits(1);
  kv.slab[kv.offset + 250] = 0x21;
  try {
    for (let event = 2; event < 17; event++) freezer.checkEdits(event);
    t.throws(() => freezer.checkEdits(17), { message: /^node 2 file db: a slab value of a record was edited in place .*\(written at event 1, whole after event 0, changed by event 17;/ });
  } finally {
    kv.slab[kv.offset + 250] = 0x6d;
  }
});
