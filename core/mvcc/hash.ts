import { ErrCompacted, ErrFutureRev, type EtcdError } from '../api/errors.ts';
import { changeAt, changeCount, isTombstone, keyValueOfChange, type BackendImage } from './backendImage.ts';
import { ByteWriter, crc32cOfBytes, crc32cUpdate, writeBucketEntry } from './kvCodec.ts';
import type { MvccState } from './mvccState.ts';

export interface KeyValueHash {
  /** CRC-32C of the key bucket as etcd's kvHasher feeds it. */
  readonly hash: number;
  readonly compactRevision: number;
  readonly revision: number;
}

const writer = new ByteWriter();

/**
 * etcd's HashKV (main: store.hashByRev + kvHasher): a CRC-32C over "key" and then, in revision
 * order, each key bucket entry's bucket key and marshalled value, for every revision up to
 * `revision` except, at or below the compaction revision, those the compaction does not keep
 * and a tombstone at exactly the compaction revision. Byte for byte etcd's, so the value matches
 * a real etcd's for the same writes. A revision below the compaction revision is ErrCompacted
 * (the compaction revision itself hashes, as on etcd's main), above the current ErrFutureRev;
 * 0 hashes at the current revision.
 *
 * One deviation: etcd hashes every entry at or below the compaction revision when the index
 * keeps nothing (`len(keep) > 0`), which makes members that have and have not yet physically
 * removed those entries disagree. Here such entries are always skipped, so the hash does not
 * depend on how far a compaction has got, nor on restarts.
 */
export function hashByRevision(state: MvccState, revision: number): KeyValueHash | EtcdError {
  const compactRevision = state.compactMainRevision;
  if (revision > 0 && revision < compactRevision) return ErrCompacted;
  if (revision > 0 && revision > state.currentRevision) return ErrFutureRev;
  if (revision === 0) revision = state.currentRevision;
  const keep = state.index.keep(revision);
  let crc = crc32cOfBytes('key');
  state.backend.scan(0, 0, revision, (main, sub, kv) => {
    if (main <= compactRevision && (!keep.has(main, sub) || (main === compactRevision && isTombstone(kv)))) return true;
    writer.reset();
    writeBucketEntry(writer, main, sub, kv);
    crc = crc32cUpdate(crc, writer);
    return true;
  });
  return { hash: crc >>> 0, compactRevision, revision };
}

/**
 * A whole backend image's hash (what etcd's Hash RPC and `etcdctl snapshot status` report, in
 * spirit: every key bucket entry and the meta bucket, not only the keyspace as HashKV). Two
 * images with the same contents hash alike; used to tag a snapshot sent to a client.
 */
export function hashBackendImage(image: BackendImage): number {
  let crc = crc32cOfBytes('key');
  for (const [main, changes] of image.keys.entries()) {
    const count = changeCount(changes);
    for (let sub = 0; sub < count; sub++) {
      const change = changeAt(changes, sub);
      if (change === undefined) continue;
      writer.reset();
      writeBucketEntry(writer, main, sub, keyValueOfChange(change, main));
      crc = crc32cUpdate(crc, writer);
    }
  }
  const { consistentIndex, term, scheduledCompactRevision, finishedCompactRevision, buckets } = image.meta;
  crc = crc32cOfBytes(`meta:${consistentIndex}:${term}:${scheduledCompactRevision}:${finishedCompactRevision}`, crc);
  for (const name of Object.keys(buckets).sort()) crc = crc32cOfBytes(`${name}=${JSON.stringify(buckets[name])}`, crc);
  return crc >>> 0;
}
