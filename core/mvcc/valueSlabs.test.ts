import test from 'ava';
import { Backend } from './backend.ts';
import { decodeBackendImage, encodeBackendImage } from './backendCodec.ts';
import { keyValuesOf } from './backendImage.ts';
import { ByteWriter, writeKeyValue } from './kvCodec.ts';
import { currentSlabSize, isCurrentSlab, plainKeyValue, SlabKeyValue, slabValueMin, storedKeyValue, valueLength } from './valueSlabs.ts';
import { newStore, ok } from './_test/stores.ts';

/** `length` bytes running through every byte value, offset by `seed`. */
function valueOf(length: number, seed: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode((i + seed) & 0xff);
  return text;
}

test('a long value is kept in a slab and reads back as the same bytes; a short one stays a string', (t) => {
  const store = newStore();
  const long = valueOf(1000, 7);
  const short = valueOf(slabValueMin - 1, 3);
  ok(store.put({ key: 'long', value: long }));
  ok(store.put({ key: 'short', value: short }));
  const [longKv, shortKv] = ok(store.range({ key: 'long', rangeEnd: 't' })).kvs;
  t.true(longKv instanceof SlabKeyValue);
  t.false(shortKv instanceof SlabKeyValue);
  t.is(longKv!.value, long);
  t.is(valueLength(longKv!), 1000);
  t.is(shortKv!.value, short);
  // JSON and a plain copy see the value, not the slab.
  t.deepEqual(JSON.parse(JSON.stringify(longKv)), { key: 'long', createRevision: 2, modRevision: 2, version: 1, value: long, lease: 0 });
  t.deepEqual(ok(store.range({ key: 'long', keysOnly: true })).kvs[0], { key: 'long', createRevision: 2, modRevision: 2, version: 1, value: '', lease: 0 });
  // ignoreValue keeps the value through another slab copy.
  ok(store.put({ key: 'long', ignoreValue: true }));
  t.is(ok(store.range({ key: 'long' })).kvs[0]!.value, long);
});

test('a slab value encodes as the same bytes as its string (etcd bucket entry, backend records) and decodes back', (t) => {
  const kv = storedKeyValue('k', 2, 3, 1, valueOf(300, 1), 5);
  t.true(kv instanceof SlabKeyValue);
  const slab = new ByteWriter();
  const plain = new ByteWriter();
  writeKeyValue(slab, kv);
  writeKeyValue(plain, plainKeyValue(kv));
  t.deepEqual(slab.view(), plain.view());

  const backend = Backend.create();
  backend.beginWriteTxn();
  backend.append(2, 0, kv);
  backend.endWriteTxn();
  const decoded = decodeBackendImage(encodeBackendImage(backend.snapshot()));
  const read = keyValuesOf(decoded.keys.get(2)!, 2)[0]!;
  t.true(read instanceof SlabKeyValue);
  t.deepEqual(plainKeyValue(read), plainKeyValue(kv));
});

test('after a compaction the survivors of sparse slabs are copied to the current slab, the same KeyValues', (t) => {
  const store = newStore();
  const valueSize = 4096;
  const keys = Math.ceil((2.5 * currentSlabSize()) / valueSize);
  for (let i = 0; i < keys; i++) ok(store.put({ key: `k${String(i).padStart(5, '0')}`, value: valueOf(valueSize, i) }));
  // Keep every 16th key: the full slabs then hold 1/16 of their bytes.
  for (let i = 0; i < keys; i++) if (i % 16 !== 0) store.deleteRange({ key: `k${String(i).padStart(5, '0')}` });
  const before = ok(store.range({ key: 'k', rangeEnd: 'l' })).kvs;
  t.is(before.length, Math.ceil(keys / 16));
  t.true(new Set(before.map((kv) => (kv as SlabKeyValue).slab)).size >= 3);
  ok(store.compact({ revision: store.revision }));
  store.finishCompaction();
  t.false(store.compacting);
  const after = ok(store.range({ key: 'k', rangeEnd: 'l' })).kvs;
  t.deepEqual(after.map(plainKeyValue), before.map(plainKeyValue));
  // Only the slab that was current at the compaction (not sparse-checked) and the current one remain.
  const slabs = new Set(after.map((kv) => (kv as SlabKeyValue).slab));
  t.true(slabs.size <= 2);
  t.true([...slabs].some(isCurrentSlab));
});
