import test from 'ava';
import type { Event, KeyValue } from '../../core/api/index.ts';
import { SlabKeyValue } from '../../core/mvcc/valueSlabs.ts';
import { missingField, partialEvent } from './wholeKeyValue.ts';

const whole: KeyValue = { key: 'k', value: 'v', createRevision: 2, modRevision: 3, version: 2, lease: 0 };

function without(field: keyof KeyValue): KeyValue {
  const copy: Record<string, unknown> = { ...whole };
  delete copy[field];
  return copy as unknown as KeyValue;
}

test('a KeyValue lacking any field is named by that field; a slab value is whole without running its getter', (t) => {
  t.is(missingField(whole), null);
  t.is(missingField(without('key')), 'key');
  t.is(missingField(without('value')), 'value');
  t.is(missingField(without('createRevision')), 'create revision');
  t.is(missingField(without('modRevision')), 'mod revision');
  t.is(missingField(without('version')), 'version');
  t.is(missingField(without('lease')), 'lease');
  const slab = new SlabKeyValue('s', 2, 3, 1, 0, new Uint8Array(100), 0, 80);
  t.is(missingField(slab), null);
  // A spread copy of a slab's KeyValue loses its value (a prototype getter).
  t.is(missingField({ ...slab } as unknown as KeyValue), 'value');
});

test("a watch response's events: the first whose kv or prev_kv lacks a field is named, with the field", (t) => {
  const events: Event[] = [
    { type: 'PUT', kv: whole },
    { type: 'DELETE', kv: { key: 'k', value: '', createRevision: 0, modRevision: 4, version: 0, lease: 0 }, prevKv: whole },
  ];
  t.is(partialEvent(events), null);
  t.regex(partialEvent([...events, { type: 'PUT', kv: without('lease') }]) ?? '', /^event 2 \(PUT\) carries a KeyValue of "k" \(mod revision 3\) that has no lease$/);
  t.regex(partialEvent([{ type: 'PUT', kv: { ...whole, modRevision: 5 }, prevKv: without('version') }]) ?? '', /^event 0 \(PUT "k"@5\) carries as prev_kv a KeyValue of "k" \(mod revision 3\) that has no version$/);
});
