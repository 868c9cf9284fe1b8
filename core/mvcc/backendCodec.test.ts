import test from 'ava';
import fc from 'fast-check';
import type { KeyValue } from '../api/kv.ts';
import { encodeUtf8 } from '../base/utf8.ts';
import { Backend } from './backend.ts';
import { decodeBackendImage, decodeBackendImageInSteps, decodeBackendRecord, deltaChangeCount, encodeBackendDeltaSlices, encodeBackendImage, encodeBackendRecord } from './backendCodec.ts';
import { deltaRecordOf, wholeImage, type BackendDeltaRecord } from './backendDelta.ts';
import { keyValuesOf, type BackendImage } from './backendImage.ts';
import { ValueSlabs } from './valueSlabs.ts';

/**
 * A delta record's bytes as the format defines them, written the plain way (the layout
 * backendCodec wrote before it sized records first and wrote straight from the image): the
 * oracle the encoder is held to. A store's tombstone is a tombstone change (kind 2: key and
 * revision); `legacy`: as records before that kind held it, a whole KeyValue (kind 1).
 */
function referenceDelta(record: BackendDeltaRecord, leading?: number, legacy = false): Uint8Array {
  const bytes: number[] = [];
  const uint32 = (value: number) => bytes.push(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  const uint53 = (value: number) => {
    uint32(Math.floor(value / 0x1_0000_0000));
    uint32(value >>> 0);
  };
  const byteString = (text: string) => {
    uint32(text.length);
    for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i));
  };
  if (leading !== undefined) bytes.push(leading);
  bytes.push(2);
  uint53(record.consistentIndex);
  uint53(record.term);
  uint53(record.scheduledCompactRevision + 1);
  uint53(record.finishedCompactRevision + 1);
  uint32(record.buckets.length);
  for (const [name, value] of record.buckets) {
    uint32(name.length);
    for (let i = 0; i < name.length; i++) bytes.push(name.charCodeAt(i) >>> 8, name.charCodeAt(i) & 0xff);
    const json = encodeUtf8(JSON.stringify(value));
    uint32(json.byteLength);
    bytes.push(...json);
  }
  uint53(record.sizeInUse);
  uint53(record.size);
  uint32(record.mains.length);
  for (const [main, changes] of record.mains) {
    uint53(main);
    bytes.push(changes === null ? 0 : 1);
    if (changes === null) continue;
    const kvs = keyValuesOf(changes, main);
    uint32(kvs.length);
    for (const kv of kvs) {
      if (kv === undefined) {
        bytes.push(0);
        continue;
      }
      if (!legacy && kv.createRevision === 0 && kv.version === 0 && kv.value === '' && kv.lease === 0) {
        bytes.push(2);
        byteString(kv.key);
        uint53(kv.modRevision);
        continue;
      }
      bytes.push(1);
      byteString(kv.key);
      uint53(kv.createRevision);
      uint53(kv.modRevision);
      uint53(kv.version);
      byteString(kv.value);
      const lease = new DataView(new ArrayBuffer(8));
      lease.setFloat64(0, kv.lease);
      bytes.push(...new Uint8Array(lease.buffer));
    }
  }
  return Uint8Array.from(bytes);
}

type Op =
  | { kind: 'put'; key: string; value: string; lease: number; changes: number }
  | { kind: 'delete'; key: string; changes: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'bucket'; name: string; value: unknown }
  | { kind: 'index' }
  | { kind: 'compactMarks'; scheduled: number };

const byteString = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: byteString(300), value: byteString(300), lease: fc.oneof(fc.constant(0), fc.maxSafeNat()), changes: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: byteString(300), changes: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bucket' as const), name: fc.constantFrom('members', 'alarms', 'auth', 'ünïcode'), value: fc.jsonValue({ maxDepth: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('index' as const)}) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compactMarks' as const), scheduled: fc.integer({ min: -1, max: 1000 }) }) },
);

/** Runs the commits on a backend and returns every record its commits wrote. */
function recordsOf(commits: readonly (readonly Op[])[]): BackendImage[] {
  const backend = Backend.create();
  const live: [number, number][] = [];
  let main = 0;
  let index = 0;
  for (const ops of commits) {
    for (const o of ops) {
      if (o.kind === 'put') {
        main++;
        backend.beginWriteTxn();
        for (let sub = 0; sub < o.changes; sub++) {
          const kv: KeyValue = { key: o.key + String(sub), createRevision: main, modRevision: main, version: sub + 1, value: o.value, lease: o.lease };
          backend.append(main, sub, kv);
          live.push([main, sub]);
        }
        backend.endWriteTxn();
      } else if (o.kind === 'delete') {
        // Tombstones as the store writes them (version 0), one of each other kind of change beside them.
        main++;
        backend.beginWriteTxn();
        for (let sub = 0; sub < o.changes; sub++) {
          const kv: KeyValue = { key: o.key + String(sub), createRevision: 0, modRevision: main, version: 0, value: '', lease: 0 };
          backend.append(main, sub, kv);
          live.push([main, sub]);
        }
        backend.append(main, o.changes, { key: o.key, createRevision: 0, modRevision: main, version: 0, value: 'not bare', lease: 0 });
        live.push([main, o.changes]);
        backend.endWriteTxn();
      } else if (o.kind === 'remove' && live.length > 0) {
        const [gone] = live.splice(o.pick % live.length, 1);
        backend.remove(gone![0], gone![1]);
      } else if (o.kind === 'bucket') backend.setBucket(o.name, Object.freeze(o.value));
      else if (o.kind === 'index') backend.setConsistentIndex(++index, 1 + (index >> 2));
      else if (o.kind === 'compactMarks') {
        backend.setScheduledCompactRevision(o.scheduled);
        backend.setFinishedCompactRevision(Math.max(-1, o.scheduled - 1));
      }
    }
    backend.commit();
  }
  return backend.takeWrites().flatMap((write) => write.records as BackendImage[]);
}

test('a delta record is exactly the bytes of the plain encoding, with and without a leading byte, and reads back as its record', (t) => {
  let deltas = 0;
  let tombstoned = 0;
  fc.assert(
    fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), fc.option(fc.integer({ min: 0, max: 0xff }), { nil: undefined }), (commits, leading) => {
      for (const image of recordsOf(commits)) {
        if (image.delta === undefined) continue;
        deltas++;
        const record = deltaRecordOf(image);
        const bytes = encodeBackendRecord(image, leading);
        t.deepEqual(bytes, referenceDelta(record, leading));
        const decoded = decodeBackendRecord(leading === undefined ? bytes : bytes.subarray(1), new ValueSlabs());
        t.deepEqual(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(record)));
        // A record written before tombstone changes existed reads back the same.
        const legacy = referenceDelta(record, undefined, true);
        t.deepEqual(JSON.parse(JSON.stringify(decodeBackendRecord(legacy, new ValueSlabs()))), JSON.parse(JSON.stringify(record)));
        if (record.mains.some(([, changes]) => changes !== null && keyValuesOf(changes, 0).some((kv) => kv?.version === 0 && kv.value === ''))) tombstoned++;
      }
    }),
    { numRuns: 100 },
  );
  t.true(deltas > 100, `only ${deltas} delta records were generated`);
  t.true(tombstoned > 20, `only ${tombstoned} delta records held tombstones`);
});

test('a delta record in slices of any size (taken fresh or written over each other) is, concatenated, exactly its whole encoding', (t) => {
  let deltas = 0;
  fc.assert(
    fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 400 }), (commits, sliceBytes) => {
      for (const image of recordsOf(commits)) {
        if (image.delta === undefined) continue;
        deltas++;
        const whole = encodeBackendRecord(image);
        const fresh = [...encodeBackendDeltaSlices(image, sliceBytes)];
        t.deepEqual(Buffer.concat(fresh), Buffer.from(whole));
        // Reused: each slice is the caller's only until it takes the next, so copy each as taken.
        const copies: Uint8Array[] = [];
        for (const slice of encodeBackendDeltaSlices(image, sliceBytes, true)) copies.push(slice.slice());
        t.deepEqual(Buffer.concat(copies), Buffer.from(whole));
        let changes = 0;
        for (const [main, kvs] of deltaRecordOf(image).mains) changes += kvs === null ? 0 : keyValuesOf(kvs, main).length;
        t.is(deltaChangeCount(image), changes);
      }
    }),
    { numRuns: 100 },
  );
  t.true(deltas > 100, `only ${deltas} delta records were generated`);
  const withDelta = recordsOf([[{ kind: 'put', key: 'k', value: 'v', lease: 0, changes: 1 }], [{ kind: 'put', key: 'j', value: 'v', lease: 0, changes: 1 }]]).find((image) => image.delta !== undefined)!;
  t.throws(() => [...encodeBackendDeltaSlices(wholeImage(withDelta), 10)], { message: /without a delta/ });
});

/** One write transaction of one change (`main`'s first), committed. */
function commitChange(backend: Backend, main: number, kv: KeyValue): void {
  backend.beginWriteTxn();
  backend.append(main, 0, kv);
  backend.endWriteTxn();
  backend.commit();
}

test('a tombstone change is its key and revision: 13 bytes and the key, where a whole KeyValue took 41', (t) => {
  const backend = Backend.create();
  commitChange(backend, 1, { key: 'k0', createRevision: 1, modRevision: 1, version: 1, value: 'v0', lease: 0 });
  commitChange(backend, 2, { key: 'k0', createRevision: 0, modRevision: 2, version: 0, value: '', lease: 0 });
  const [, image] = backend.takeWrites().flatMap((write) => write.records as BackendImage[]);
  const bytes = encodeBackendRecord(image!);
  const record = deltaRecordOf(image!);
  t.is(bytes.byteLength, referenceDelta(record, undefined, true).byteLength - 28);
  const decoded = decodeBackendRecord(bytes, new ValueSlabs()) as BackendDeltaRecord;
  // Read back as the bucket keeps a store's tombstone: the key alone, the revision's one change.
  t.deepEqual(decoded.mains, [[2, 'k0']]);
  t.deepEqual(keyValuesOf(decoded.mains[0]![1]!, 2), [{ key: 'k0', createRevision: 0, modRevision: 2, version: 0, value: '', lease: 0 }]);
  t.throws(() => decodeBackendRecord(Uint8Array.from(bytes, (byte, i) => (i === bytes.byteLength - 15 ? 3 : byte)), new ValueSlabs()), { message: /unknown change kind 3/ });
});

test('a delta record of one put is these bytes (fixed: what the encoder wrote before it was made cheaper)', (t) => {
  const backend = Backend.create();
  commitChange(backend, 1, { key: 'k0', createRevision: 1, modRevision: 1, version: 1, value: 'v0', lease: 0 });
  backend.setConsistentIndex(9, 2);
  backend.setBucket('members', Object.freeze({ a: 1 }));
  commitChange(backend, 2, { key: 'k\u00ff', createRevision: 1, modRevision: 2, version: 2, value: '\u0000x', lease: 7 });
  const [, image] = backend.takeWrites().flatMap((write) => write.records as BackendImage[]);
  t.not(image!.delta, undefined);
  t.is(hex(encodeBackendRecord(image!, 5)), golden);
});

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
const golden =
  '050200000000000000090000000000000002000000000000000000000000000000000000000100000007006d0065006d0062006500720073000000077b2261223a317d00000000000050000000000000005000000000010000000000000002010000000101000000026bff000000000000000100000000000000020000000000000002000000020078401c000000000000';

test('a whole image decoded in steps of any number of revisions is the image the whole decode makes, byte for byte when encoded again; a delta is refused', (t) => {
  const backend = Backend.create();
  for (let revision = 2; revision < 300; revision++) {
    backend.setConsistentIndex(revision, 1);
    backend.beginWriteTxn();
    for (let sub = 0; sub <= revision % 3; sub++) backend.append(revision, sub, { key: `k${revision % 40}.${sub}`, createRevision: revision, modRevision: revision, version: 1, value: 'v'.repeat(revision % 17), lease: revision % 5 });
    backend.endWriteTxn();
    if (revision % 50 === 0) backend.remove(revision - 20, 0);
  }
  backend.setBucket('members', { one: [1, 2] });
  backend.defrag();
  const image = backend.takeWrites().at(-1)!.records[0] as BackendImage;
  const bytes = encodeBackendImage(image);
  const whole = decodeBackendImage(bytes, new ValueSlabs());
  for (const perStep of [1, 70, 1_000, 10_000, bytes.byteLength]) {
    const steps = decodeBackendImageInSteps(bytes, perStep, new ValueSlabs());
    let count = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) count++;
    // A step ends after the revision that reaches its bytes: none for a step of the whole image, one per revision for one byte.
    if (perStep === 1) t.is(count, image.keys.size, 'one step per revision');
    else if (perStep === bytes.byteLength) t.is(count, 0, 'one step');
    else t.true(count >= 1 && count <= Math.min(image.keys.size, bytes.byteLength / perStep), `${count} steps of ${perStep} bytes in ${bytes.byteLength}`);
    // A frozen tree's methods are functions of its own: compared by what it holds.
    const view = (decoded: BackendImage) => ({ ...decoded, keys: [...decoded.keys.entries()] });
    t.deepEqual(view(step.value), view(whole));
    t.deepEqual(Buffer.from(encodeBackendImage(step.value)), Buffer.from(bytes));
  }
  const delta = encodeBackendRecord({ ...image, delta: { mains: [2], buckets: [] } } as BackendImage);
  t.throws(() => [...decodeBackendImageInSteps(delta, 10, new ValueSlabs())], { message: /a backend delta where a whole image was expected/ });
  t.throws(() => decodeBackendImageInSteps(bytes, 0, new ValueSlabs()).next(), { message: /bytes per step must be a positive integer/ });
});
