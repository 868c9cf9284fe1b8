import type { KeyValue } from '../api/kv.ts';
import { assert } from '../base/assert.ts';
import { ByteReader, ByteWriter, DecodeError } from '../base/byteCodec.ts';
import { runToEnd, type Steps } from '../base/steps.ts';
import { decodeUtf8, encodeUtf8 } from '../base/utf8.ts';
import type { BackendDeltaRecord } from './backendDelta.ts';
import { changeCount, emptyKeyBucket, revisionChanges, type BackendImage, type BackendMeta, type RevisionChanges, type StoredChange } from './backendImage.ts';
import { SlabKeyValue, valueLength, type ValueSlabs } from './valueSlabs.ts';

/*
 * The backend's records as bytes, for real disks and for snapshots sent over the wire (the
 * simulator keeps the objects). detcd's own layout, not bbolt's: a whole image is its meta, its
 * server buckets (JSON: they are small immutable plain values), its modelled sizes and every key
 * bucket entry in revision order; a delta record lists only the main revisions and buckets a
 * commit changed (see backendDelta.ts). Keys and values are byte strings, one byte per character.
 */

const wholeTag = 1;
const deltaTag = 2;

/**
 * A backend file record (or a snapshot's image) as bytes: an image that carries a delta is written
 * as the delta. `leading`: a byte written before the record in the same buffer (the server's file
 * family byte: prepending it afterwards copied a 60k-key delete's 4 MB delta once more).
 */
export function encodeBackendRecord(image: BackendImage, leading?: number): Uint8Array {
  return image.delta === undefined ? encodeBackendImage(image, leading) : encodeDelta(image, leading);
}

/** A whole image as bytes, whatever it carries (a snapshot is always whole); `leading` as for encodeBackendRecord. */
export function encodeBackendImage(image: BackendImage, leading?: number): Uint8Array {
  // Sized by the live data too: a writer that grows copies what it holds (20 MB images, 5 times).
  // Only when the image holds that data: a metadata-only image (a WAL snapshot's, no keys) keeps
  // the keyspace's modelled size, and a writer of that size (tens of MB under check perf) for a
  // 5 kB record made V8 scavenge twice for "external memory pressure" on every member at every
  // snapshot, 15-400 ms on the event loop.
  const writer = new ByteWriter(257 + image.keys.size * 64 + (image.keys.size === 0 ? 0 : image.sizeInUse));
  if (leading !== undefined) writer.uint8(leading);
  writer.uint8(wholeTag);
  writeMeta(writer, image.meta, Object.entries(image.meta.buckets));
  writer.uint53(image.sizeInUse).uint53(image.size);
  writer.uint32(image.keys.size);
  for (const [main, changes] of image.keys.entries()) writeChanges(writer.uint53(main), main, changes);
  return writer.finish();
}

/**
 * A whole image's bytes (what `encodeBackendImage` returns) as consecutive slices of about
 * `sliceBytes` each (one change more at most), produced one at a time: the runtime encodes the
 * backend file's periodic rewrite (the whole keyspace, 100+ MB under check perf) a slice per turn
 * of its event loop, so the member keeps answering heartbeats meanwhile. A slice may end inside a
 * revision: one revision can hold a whole keyspace's changes (check perf's cleanup DeleteRange
 * tombstones 50k keys at one revision, ~15 MB), and slices of whole revisions made that one a
 * single turn of ~1 s. The image is frozen, so slices taken later read the same data.
 * `reuse`: every slice after the head is written into one writer's bytes, each valid only until
 * the next is taken (see `Codec.encodeInSlices`), instead of a new 320 KiB buffer per slice.
 */
export function* encodeBackendImageSlices(image: BackendImage, sliceBytes: number, reuse = false): Generator<Uint8Array> {
  assert(Number.isSafeInteger(sliceBytes) && sliceBytes > 0, () => `slice bytes must be a positive integer, got ${sliceBytes}`);
  const head = new ByteWriter(256);
  head.uint8(wholeTag);
  writeMeta(head, image.meta, Object.entries(image.meta.buckets));
  head.uint53(image.sizeInUse).uint53(image.size);
  head.uint32(image.keys.size);
  yield head.finish();
  const slicer = new Slicer(sliceBytes, reuse);
  for (const [main, changes] of image.keys.entries()) {
    slicer.writer.uint53(main);
    yield* writeChangesInSlices(slicer, main, changes, sliceBytes);
  }
  if (slicer.writer.byteLength > 0) yield* slicer.take();
}

/** The writer of a record's slices after its head, and how a slice is taken from it (see `encodeBackendImageSlices`). */
class Slicer {
  writer: ByteWriter;
  private readonly capacity: number;

  constructor(
    sliceBytes: number,
    private readonly reuse: boolean,
  ) {
    // A quarter more than a slice: a full one is handed out as a view (ByteWriter.finish), not copied.
    this.capacity = sliceBytes + Math.ceil(sliceBytes / 4);
    this.writer = new ByteWriter(this.capacity);
  }

  /** Yields the slice written so far: in place, then reset (`reuse`), or handed out and a fresh writer begun. */
  *take(): Generator<Uint8Array> {
    if (this.reuse) {
      yield this.writer.written();
      this.writer.reset();
    } else {
      yield this.writer.finish();
      this.writer = new ByteWriter(this.capacity);
    }
  }
}

/** Reads what `encodeBackendRecord` wrote: a whole image, or a delta record for `Backend.open` to replay. Long values go into `values`'s slabs (the decoding member's). */
export function decodeBackendRecord(bytes: Uint8Array, values: ValueSlabs): BackendImage | BackendDeltaRecord {
  const reader = new ByteReader(bytes);
  const tag = reader.uint8();
  if (tag !== wholeTag && tag !== deltaTag) throw new DecodeError(`unknown backend record tag ${tag}`);
  const meta = readMeta(reader);
  const sizeInUse = reader.uint53();
  const size = reader.uint53();
  const count = reader.uint32();
  if (tag === wholeTag) return runToEnd(readWholeImage(reader, meta, sizeInUse, size, count, Number.POSITIVE_INFINITY, values));
  const mains: [number, RevisionChanges | null][] = [];
  for (let i = 0; i < count; i++) {
    const main = reader.uint53();
    mains.push([main, reader.boolean() ? readChanges(reader, main, values) : null]);
  }
  reader.end();
  return { type: 'backend-delta', mains, ...meta, sizeInUse, size };
}

/**
 * `decodeBackendImage` in steps: a generator that reads whole revisions at each `next()` until
 * `bytesPerStep` bytes are read (or the image ends) and returns the image at the end, the same one
 * the whole decode makes. A follower receiving a leader's snapshot decodes it a few milliseconds
 * per turn of its event loop (200 MiB decoded in one go held it ~0.5 s, 1 GiB ~12 s). A step may
 * read more: one revision is never cut. `bytes` must stay unchanged until the end.
 */
export function* decodeBackendImageInSteps(bytes: Uint8Array, bytesPerStep: number, values: ValueSlabs): Steps<BackendImage> {
  assert(Number.isSafeInteger(bytesPerStep) && bytesPerStep > 0, () => `bytes per step must be a positive integer, got ${bytesPerStep}`);
  const reader = new ByteReader(bytes);
  const tag = reader.uint8();
  if (tag === deltaTag) throw new DecodeError('a backend delta where a whole image was expected');
  if (tag !== wholeTag) throw new DecodeError(`unknown backend record tag ${tag}`);
  const meta = readMeta(reader);
  const sizeInUse = reader.uint53();
  const size = reader.uint53();
  const count = reader.uint32();
  return yield* readWholeImage(reader, meta, sizeInUse, size, count, bytesPerStep, values);
}

/** A whole image's revisions, after its head, into an image; a step ends after the revision that reaches `bytesPerStep` bytes since the last. */
function* readWholeImage(reader: ByteReader, meta: MetaFields & { buckets: [string, unknown][] }, sizeInUse: number, size: number, count: number, bytesPerStep: number, values: ValueSlabs): Steps<BackendImage> {
  const keys = emptyKeyBucket();
  let stepEnd = reader.position + bytesPerStep;
  for (let i = 0; i < count; i++) {
    const main = reader.uint53();
    keys.set(main, readChanges(reader, main, values));
    if (reader.position < stepEnd) continue;
    yield;
    stepEnd = reader.position + bytesPerStep;
  }
  keys.freeze();
  reader.end();
  const { buckets, ...fields } = meta;
  const image: BackendImage = { type: 'backend-image', keys, meta: Object.freeze({ ...fields, buckets: Object.freeze(Object.fromEntries(buckets)) }), sizeInUse, size };
  return image;
}

/** A whole image from bytes (a snapshot's data); a delta here means the bytes are not a snapshot. */
export function decodeBackendImage(bytes: Uint8Array, values: ValueSlabs): BackendImage {
  const record = decodeBackendRecord(bytes, values);
  if (record.type !== 'backend-image') throw new DecodeError('a backend delta where a whole image was expected');
  return record;
}

/**
 * An image's delta as the record `deltaRecordOf(image)` is (the same bytes), written straight from
 * the image: its size counted first, exactly, so the buffer is allocated once and handed out
 * without a copy (check perf's cleanup: one record of 55k tombstones, ~17 MB).
 */
function encodeDelta(image: BackendImage, leading: number | undefined): Uint8Array {
  const delta = image.delta!;
  const mains = delta.mains;
  const changesOf: (RevisionChanges | null)[] = [];
  let size = (leading === undefined ? 0 : 1) + 1 + metaBytes + 4 + 16 + 4 + mains.length * 9;
  for (const main of mains) {
    const changes = image.keys.get(main) ?? null;
    changesOf.push(changes);
    if (changes !== null) size += changesByteSize(changes);
  }
  const buckets = delta.buckets.map((name) => [name, encodeUtf8(JSON.stringify(image.meta.buckets[name]))] as const);
  for (const [name, json] of buckets) size += 4 + name.length * 2 + 4 + json.byteLength;
  const writer = new ByteWriter(size);
  if (leading !== undefined) writer.uint8(leading);
  writer.uint8(deltaTag);
  writeMetaFields(writer, image.meta);
  writer.uint32(buckets.length);
  for (const [name, json] of buckets) writer.string(name).bytesField(json);
  writer.uint53(image.sizeInUse).uint53(image.size);
  writer.uint32(mains.length);
  for (let i = 0; i < mains.length; i++) {
    const changes = changesOf[i]!;
    writer.uint53(mains[i]!).boolean(changes !== null);
    if (changes !== null) writeChanges(writer, mains[i]!, changes);
  }
  assert(writer.byteLength === size, () => `a delta record of ${writer.byteLength} bytes was sized ${size}`);
  return writer.finish();
}

/**
 * An image's delta record (what `encodeBackendRecord` writes for an image that carries a delta) as
 * consecutive slices of about `sliceBytes` each, produced one at a time: check perf's cleanup
 * commits one DeleteRange of 55k tombstones as a ~15.9 MB delta, whose whole encoding (and CRC)
 * was the longest turn of the member's loop (issue 10, committurns). The runtime encodes a large
 * one a slice per turn (FileStore `deferAppend`). A slice may end inside a revision's changes.
 * `reuse` as for `encodeBackendImageSlices`. The image is frozen: slices taken later read the same data.
 */
export function* encodeBackendDeltaSlices(image: BackendImage, sliceBytes: number, reuse = false): Generator<Uint8Array> {
  assert(Number.isSafeInteger(sliceBytes) && sliceBytes > 0, () => `slice bytes must be a positive integer, got ${sliceBytes}`);
  const delta = image.delta;
  assert(delta !== undefined, 'an image without a delta is not a delta record');
  const head = new ByteWriter(256);
  head.uint8(deltaTag);
  writeMetaFields(head, image.meta);
  head.uint32(delta.buckets.length);
  for (const name of delta.buckets) head.string(name).bytesField(encodeUtf8(JSON.stringify(image.meta.buckets[name])));
  head.uint53(image.sizeInUse).uint53(image.size);
  head.uint32(delta.mains.length);
  yield head.finish();
  const slicer = new Slicer(sliceBytes, reuse);
  for (const main of delta.mains) {
    const changes = image.keys.get(main) ?? null;
    slicer.writer.uint53(main).boolean(changes !== null);
    if (changes === null) continue;
    yield* writeChangesInSlices(slicer, main, changes, sliceBytes);
  }
  if (slicer.writer.byteLength > 0) yield* slicer.take();
}

/** A revision's changes (count first) into the slicer's writer, a slice taken whenever it reaches `sliceBytes`. */
function* writeChangesInSlices(slicer: Slicer, main: number, changes: RevisionChanges, sliceBytes: number): Generator<Uint8Array> {
  if (!Array.isArray(changes)) {
    writeChange(slicer.writer.uint32(1), main, changes as StoredChange);
    if (slicer.writer.byteLength >= sliceBytes) yield* slicer.take();
    return;
  }
  const list = changes as readonly (StoredChange | undefined)[];
  slicer.writer.uint32(list.length);
  for (const kv of list) {
    writeChange(slicer.writer, main, kv);
    if (slicer.writer.byteLength >= sliceBytes) yield* slicer.take();
  }
}

/** How many changes an image's delta record carries (its revisions' changes, counted without encoding them): what decides whether it is encoded in slices. */
export function deltaChangeCount(image: BackendImage): number {
  let count = 0;
  for (const main of image.delta?.mains ?? []) {
    const changes = image.keys.get(main);
    if (changes !== undefined) count += changeCount(changes);
  }
  return count;
}

type MetaFields = Omit<BackendMeta, 'buckets'>;

/** The meta's fixed fields (four uint53s), before its buckets. */
const metaBytes = 32;

function writeMetaFields(writer: ByteWriter, meta: MetaFields): void {
  // Compaction marks are -1 when absent: stored shifted by one.
  writer.uint53(meta.consistentIndex).uint53(meta.term).uint53(meta.scheduledCompactRevision + 1).uint53(meta.finishedCompactRevision + 1);
}

function writeMeta(writer: ByteWriter, meta: MetaFields, buckets: readonly (readonly [string, unknown])[]): void {
  writeMetaFields(writer, meta);
  writer.uint32(buckets.length);
  for (const [name, value] of buckets) writer.string(name).bytesField(encodeUtf8(JSON.stringify(value)));
}

function readMeta(reader: ByteReader): MetaFields & { buckets: [string, unknown][] } {
  const consistentIndex = reader.uint53();
  const term = reader.uint53();
  const scheduledCompactRevision = reader.uint53() - 1;
  const finishedCompactRevision = reader.uint53() - 1;
  const count = reader.uint32();
  const buckets: [string, unknown][] = [];
  for (let i = 0; i < count; i++) buckets.push([reader.string(), deepFreeze(JSON.parse(decodeUtf8(reader.bytesField())) as unknown)]);
  return { consistentIndex, term, scheduledCompactRevision, finishedCompactRevision, buckets };
}

/*
 * A change is a kind byte, then: nothing (absent: compacted away), a whole KeyValue (its key and
 * value with their lengths, three revisions and the lease), or a tombstone as the store writes it
 * (key and deletion revision alone: its creation revision, version, value and lease are always 0,
 * 0, '' and 0). A range delete's record is its tombstones: check perf's cleanup writes 55k of them
 * in one turn of the member's loop, and the four constant fields were more of its encoding than
 * the 276-byte keys (issue 10, cleanupapply). Records written before the tombstone kind existed
 * hold tombstones as whole KeyValues, and still read back.
 */
const absentChange = 0;
const keyValueChange = 1;
const tombstoneChange = 2;

/** A KeyValue that is exactly a store's tombstone: written as a tombstone change, read back the same. */
function isBareTombstone(kv: KeyValue): boolean {
  return kv.version === 0 && kv.createRevision === 0 && kv.lease === 0 && valueLength(kv) === 0;
}

/** What `writeChange` writes for one change, exactly. */
function changeByteSize(kv: StoredChange | undefined): number {
  // Its kind byte and its fields (see above).
  if (kv === undefined) return 1;
  if (typeof kv === 'string') return 1 + 4 + kv.length + 8;
  return isBareTombstone(kv) ? 1 + 4 + kv.key.length + 8 : 1 + 4 + kv.key.length + 24 + 4 + valueLength(kv) + 8;
}

/** What `writeChanges` writes, exactly. */
function changesByteSize(changes: RevisionChanges): number {
  if (!Array.isArray(changes)) return 4 + changeByteSize(changes as StoredChange);
  let size = 4;
  for (const kv of changes as readonly (StoredChange | undefined)[]) size += changeByteSize(kv);
  return size;
}

function writeChanges(writer: ByteWriter, main: number, changes: RevisionChanges): void {
  if (!Array.isArray(changes)) {
    writeChange(writer.uint32(1), main, changes as StoredChange);
    return;
  }
  const list = changes as readonly (StoredChange | undefined)[];
  writer.uint32(list.length);
  for (const kv of list) writeChange(writer, main, kv);
}

/** One change of main revision `main` (a tombstone kept as its key has that revision). */
function writeChange(writer: ByteWriter, main: number, kv: StoredChange | undefined): void {
  if (kv === undefined) writer.uint8(absentChange);
  else if (typeof kv === 'string') writer.uint8(tombstoneChange).byteString(kv).uint53(main);
  else if (isBareTombstone(kv)) writer.uint8(tombstoneChange).byteString(kv.key).uint53(kv.modRevision);
  else {
    writer.uint8(keyValueChange).byteString(kv.key).uint53(kv.createRevision).uint53(kv.modRevision).uint53(kv.version);
    // A slab value's bytes as they are (the same bytes as its byte string, no string made).
    if (kv instanceof SlabKeyValue) writer.bytesField(kv.slab.subarray(kv.offset, kv.offset + kv.length));
    else writer.byteString(kv.value);
    writer.float64(kv.lease);
  }
}

/** The changes of main revision `main` as the bucket keeps them (a tombstone of that revision as its key alone). */
function readChanges(reader: ByteReader, main: number, values: ValueSlabs): RevisionChanges {
  const count = reader.uint32();
  const changes: (StoredChange | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const kind = reader.uint8();
    if (kind === absentChange) {
      changes.push(undefined);
      continue;
    }
    if (kind === tombstoneChange) {
      const key = reader.byteString();
      const modRevision = reader.uint53();
      changes.push(modRevision === main ? key : { key, createRevision: 0, modRevision, version: 0, value: '', lease: 0 });
      continue;
    }
    if (kind !== keyValueChange) throw new DecodeError(`unknown change kind ${kind}`);
    const key = reader.byteString();
    const createRevision = reader.uint53();
    const modRevision = reader.uint53();
    const version = reader.uint53();
    // The value's bytes copied into a slab as they are, no string made (valueSlabs.ts).
    const value = reader.bytesView();
    const lease = reader.float64();
    if (!Number.isSafeInteger(lease)) throw new DecodeError(`lease ${lease} is not a safe integer`);
    // An older record's tombstone, written whole: kept as the store keeps its own.
    if (version === 0 && createRevision === 0 && lease === 0 && value.length === 0 && modRevision === main) changes.push(key);
    else changes.push(values.keyValueOfBytes(key, createRevision, modRevision, version, value, lease));
  }
  return revisionChanges(changes);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
