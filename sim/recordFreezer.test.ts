import test from 'ava';
import { SlabKeyValue, storedKeyValue } from '../core/mvcc/valueSlabs.ts';
import { RecordFreezer } from './recordFreezer.ts';

test('a slab value is frozen by its region: values appended to the slab later pass, an edit of its bytes is caught at the read', (t) => {
  const freezer = new RecordFreezer();
  const kv = storedKeyValue('k', 2, 2, 1, 'v'.repeat(200), 0) as SlabKeyValue;
  t.true(kv instanceof SlabKeyValue);
  const record = { changes: [kv] };
  freezer.freeze(record);
  t.true(Object.isFrozen(kv));
  const later = storedKeyValue('k', 2, 3, 2, 'w'.repeat(200), 0) as SlabKeyValue;
  t.is(later.slab, kv.slab);
  t.notThrows(() => freezer.verify(record, 'db'));
  kv.slab[kv.offset + 10] = 0x78;
  t.throws(() => freezer.verify(record, 'db'), { message: /slab value of a record was edited/ });
  kv.slab[kv.offset + 10] = 0x76;
});
