import test from 'ava';
import { Backend } from './backend.ts';
import { decodeBackendImage, encodeBackendImage } from './backendCodec.ts';
import { keyValuesOf } from './backendImage.ts';
import { ByteWriter, writeKeyValue } from './kvCodec.ts';
import { plainKeyValue, SlabKeyValue, slabValueMin, useSlabSize, valueLength, ValueSlabs } from './valueSlabs.ts';
import { newStore, ok } from './_test/stores.ts';
import { KvStore } from './kvStore.ts';
import { PreparedIndex } from './restore.ts';
import { runToEnd } from '../base/steps.ts';

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
  const kv = new ValueSlabs().keyValue('k', 2, 3, 1, valueOf(300, 1), 5);
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
  const values = new ValueSlabs();
  const decoded = decodeBackendImage(encodeBackendImage(backend.snapshot()), values);
  const read = keyValuesOf(decoded.keys.get(2)!, 2)[0]!;
  t.true(read instanceof SlabKeyValue);
  t.true(values.isCurrent((read as SlabKeyValue).slab), 'decoded into the decoder\'s slabs');
  t.deepEqual(plainKeyValue(read), plainKeyValue(kv));
});

test('after a compaction the survivors of sparse slabs are copied to the current slab, the same KeyValues', (t) => {
  const store = newStore();
  const valueSize = 4096;
  const keys = Math.ceil((2.5 * store.backend.values.slabSize) / valueSize);
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
  t.true([...slabs].some((slab) => store.backend.values.isCurrent(slab)));
});

// Determinism item 9 (ARCHITECTURE): the simulator's members share a process, so one member's
// writes must not decide whether another's compaction relocates. Each backend appends to its own
// slabs: a member's slab is never another's current one, and a member that wrote nothing since
// holds its own current slab (not sparse-checked), whatever the other wrote meanwhile.
test('each backend appends to its own slabs: another backend\'s writes neither share nor retire them', (t) => {
  const previous = useSlabSize(1024);
  try {
    const a = newStore();
    const b = newStore();
    ok(a.put({ key: 'a', value: valueOf(100, 1) }));
    ok(b.put({ key: 'b', value: valueOf(100, 2) }));
    const aKv = ok(a.range({ key: 'a' })).kvs[0] as SlabKeyValue;
    const bKv = ok(b.range({ key: 'b' })).kvs[0] as SlabKeyValue;
    t.not(aKv.slab, bKv.slab);
    t.is(aKv.slab.length, 1024, 'the size set when the backend was made');
    // b fills several slabs; a's slab stays a's current one, so a's compaction relocates nothing.
    for (let i = 0; i < 40; i++) ok(b.put({ key: `b${i}`, value: valueOf(200, i) }));
    t.true(a.backend.values.isCurrent(aKv.slab));
    t.is(a.backend.sparseSlabs().size, 0);
    t.false(b.backend.values.isCurrent(aKv.slab));
  } finally {
    useSlabSize(previous);
  }
});

test('a backend opened from an image counts its slabs in the restore\'s pass (or from the bucket when first asked): the same sparse slabs either way', (t) => {
  const previous = useSlabSize(1024);
  try {
    const backend = Backend.create();
    backend.beginWriteTxn();
    for (let i = 0; i < 40; i++) backend.append(2 + i, 0, backend.values.keyValue(`k${String(i).padStart(2, '0')}`, 2 + i, 2 + i, 1, valueOf(100, i), 0));
    backend.endWriteTxn();
    // Keep every 8th value (as a compaction would): the full slabs then hold 100-200 of 1,024 bytes.
    for (let i = 0; i < 40; i++) if (i % 8 !== 0) backend.remove(2 + i, 0);
    const slabs: Uint8Array[] = [];
    for (let i = 0; i < 40; i += 8) {
      const { slab } = backend.get(2 + i, 0) as SlabKeyValue;
      if (!slabs.includes(slab)) slabs.push(slab);
    }
    t.is(slabs.length, 4);
    const named = (sparse: ReadonlySet<Uint8Array>) => [...sparse].map((slab) => slabs.indexOf(slab)).sort();
    t.deepEqual(named(backend.sparseSlabs()), [0, 1, 2], 'every full slab, not the one it appends to');
    const image = backend.snapshot();
    // Opened from the image, a backend appends to slabs of its own: all four are sparse to it.
    // The store's restore counts them beside the index; the backend adopts them.
    t.deepEqual(named(newStoreOn(Backend.fromSnapshot(image)).backend.sparseSlabs()), [0, 1, 2, 3]);
    // A prepared index (a snapshot's, built in steps) carries them to the install.
    const prepared = runToEnd(PreparedIndex.inSteps(image.keys));
    t.deepEqual(named(KvStore.open(Backend.fromSnapshot(image), undefined, prepared.take(image.keys)).backend.sparseSlabs()), [0, 1, 2, 3]);
    // A backend alone counts its bucket when first asked, after whatever was removed since (slab 0's values).
    const alone = Backend.fromSnapshot(image);
    alone.remove(2, 0);
    alone.remove(10, 0);
    t.deepEqual(named(alone.sparseSlabs()), [1, 2, 3]);
  } finally {
    useSlabSize(previous);
  }
});

function newStoreOn(backend: Backend): KvStore {
  return KvStore.open(backend);
}
