import type { KeyValue } from '../api/kv.ts';
import { ByteReader, ByteWriter, DecodeError } from '../base/byteCodec.ts';
import { changeAt, changeCount, keyValueOfChange, revisionChanges, storedChange, type BackendImage, type BackendMeta, type RevisionChanges, type StoredChange } from './backendImage.ts';
import { BTree } from './btree.ts';
import type { ValueSlabs } from './valueSlabs.ts';

/*
 * A backend image as bytes, for real disks and wires (the runtime's side of the simulator's
 * shared objects): the meta bucket (the server's buckets as JSON), the sizes, then every change of
 * the key bucket by revision, holes (changes a compaction removed) marked. Whole images, as the
 * simulator writes them: the runtime will want a commit's changes only (a delta), not the image.
 */

function writeKeyValue(writer: ByteWriter, kv: KeyValue): void {
  writer.string(kv.key).string(kv.value).uint53(kv.createRevision).uint53(kv.modRevision).uint53(kv.version).uint53(kv.lease);
}

function readKeyValue(reader: ByteReader, values: ValueSlabs): KeyValue {
  const key = reader.string();
  const value = reader.string();
  return Object.freeze(values.keyValue(key, reader.uint53(), reader.uint53(), reader.uint53(), value, reader.uint53()));
}

export function writeBackendImage(writer: ByteWriter, image: BackendImage): void {
  const { meta } = image;
  // The compaction marks are -1 when absent: written plus one, so they stay non-negative.
  writer.uint53(meta.consistentIndex).uint53(meta.term).uint53(meta.scheduledCompactRevision + 1).uint53(meta.finishedCompactRevision + 1);
  writer.string(JSON.stringify(meta.buckets));
  writer.uint53(image.sizeInUse).uint53(image.size);
  writer.uint32(image.keys.size);
  for (const [main, changes] of image.keys.entries()) {
    const count = changeCount(changes);
    writer.uint53(main).uint32(count);
    for (let sub = 0; sub < count; sub++) {
      const change = changeAt(changes, sub);
      writer.boolean(change !== undefined);
      if (change !== undefined) writeKeyValue(writer, keyValueOfChange(change, main));
    }
  }
}

export function readBackendImage(reader: ByteReader, values: ValueSlabs): BackendImage {
  const meta: BackendMeta = Object.freeze({
    consistentIndex: reader.uint53(),
    term: reader.uint53(),
    scheduledCompactRevision: reader.uint53() - 1,
    finishedCompactRevision: reader.uint53() - 1,
    buckets: Object.freeze(JSON.parse(reader.string()) as Record<string, unknown>),
  });
  const sizeInUse = reader.uint53();
  const size = reader.uint53();
  const mains = reader.uint32();
  const entries: [number, RevisionChanges][] = [];
  for (let i = 0; i < mains; i++) {
    const main = reader.uint53();
    const count = reader.uint32();
    const changes: (StoredChange | undefined)[] = [];
    for (let sub = 0; sub < count; sub++) changes.push(reader.boolean() ? storedChange(readKeyValue(reader, values), main) : undefined);
    if (i > 0 && main <= entries[i - 1]![0]) throw new DecodeError(`backend image revisions out of order at ${main}`);
    const stored = revisionChanges(changes);
    entries.push([main, Array.isArray(stored) ? Object.freeze(stored) : stored]);
  }
  const keys = new BTree<number, RevisionChanges>(entries);
  keys.freeze();
  return { type: 'backend-image', keys, meta, sizeInUse, size };
}

export function encodeBackendImage(image: BackendImage): Uint8Array {
  const writer = new ByteWriter(256 + image.keys.size * 64);
  writeBackendImage(writer, image);
  return writer.finish();
}

export function decodeBackendImage(bytes: Uint8Array, values: ValueSlabs): BackendImage {
  const reader = new ByteReader(bytes);
  const image = readBackendImage(reader, values);
  reader.end();
  return image;
}
