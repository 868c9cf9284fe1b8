import type { Bytes } from '../api/bytes.ts';
import type { KeyValue } from '../api/kv.ts';
import type { BackendDelta } from './backendDelta.ts';
import { BTree } from './btree.ts';
import { keyValueSize, revisionKeyLength, varintSize } from './kvCodec.ts';
import type { PreparedIndex } from './restore.ts';

/**
 * A change as the key bucket keeps it: the KeyValue a put wrote, or a tombstone kept as its key
 * alone (a string), which stands for the KeyValue{key, modRevision: its main revision} the store
 * writes (`keyValueOfChange` makes that object when one is read). A tombstone whose other fields
 * are not the store's (a record of an older layout) stays a KeyValue. Check perf's cleanup
 * tombstones every key: a KeyValue each was 72 bytes of heap per deleted key (issue 10, heap).
 */
export type StoredChange = KeyValue | Bytes;

/**
 * One main revision's changes in sub-revision order: a lone change as itself (most revisions hold
 * one: an array of one was 56 bytes more), several as an array, where a sub removed by compaction
 * leaves a hole. Arrays reachable from an image are never written again.
 */
export type RevisionChanges = StoredChange | readonly (StoredChange | undefined)[];

/**
 * The key bucket (etcd's bbolt bucket "key"): by main revision, the changes of that revision (see
 * `RevisionChanges`).
 */
export type KeyBucket = BTree<number, RevisionChanges>;

/** How many subs a revision's changes span (holes included). */
export function changeCount(changes: RevisionChanges): number {
  return Array.isArray(changes) ? changes.length : 1;
}

/** The change at `sub`, or undefined (a hole, or beyond the last). */
export function changeAt(changes: RevisionChanges, sub: number): StoredChange | undefined {
  if (Array.isArray(changes)) return (changes as readonly (StoredChange | undefined)[])[sub];
  return sub === 0 ? (changes as StoredChange) : undefined;
}

/** The KeyValue a change at main revision `main` stands for (a tombstone's made afresh). */
export function keyValueOfChange(change: StoredChange, main: number): KeyValue {
  return typeof change === 'string' ? { key: change, createRevision: 0, modRevision: main, version: 0, value: '', lease: 0 } : change;
}

/** A revision's changes as KeyValues in sub order, holes undefined (tests and views; the store reads them in place). */
export function keyValuesOf(changes: RevisionChanges, main: number): (KeyValue | undefined)[] {
  const out: (KeyValue | undefined)[] = [];
  for (let sub = 0; sub < changeCount(changes); sub++) {
    const change = changeAt(changes, sub);
    out.push(change === undefined ? undefined : keyValueOfChange(change, main));
  }
  return out;
}

/** The key a change writes. */
export function changeKey(change: StoredChange): Bytes {
  return typeof change === 'string' ? change : change.key;
}

/** Whether a change is a tombstone. */
export function changeIsTombstone(change: StoredChange): boolean {
  return typeof change === 'string' || change.version === 0;
}

/** How the key bucket keeps `kv` written at main revision `main`: the store's own tombstone as its key alone. */
export function storedChange(kv: KeyValue, main: number): StoredChange {
  return kv.version === 0 && kv.createRevision === 0 && kv.lease === 0 && kv.modRevision === main && kv.value === '' ? kv.key : kv;
}

/** Changes read in sub order (holes as undefined) as the bucket keeps them: one present change alone, several as an array. */
export function revisionChanges(changes: (StoredChange | undefined)[]): RevisionChanges {
  return changes.length === 1 && changes[0] !== undefined ? changes[0] : changes;
}

/** The meta bucket. Compaction marks are -1 when absent (a compaction at 0 is a real one). */
export interface BackendMeta {
  /** The index of the last Raft entry whose apply this state includes (the server writes it). */
  readonly consistentIndex: number;
  readonly term: number;
  /** Written and committed before a compaction starts (etcd's scheduledCompactRev). */
  readonly scheduledCompactRevision: number;
  /** Written with the compaction's last batch (etcd's finishedCompactRev). */
  readonly finishedCompactRevision: number;
  /**
   * The server's own buckets (etcd 3.5's `members`, `members_removed`, `alarm`, later `lease`):
   * immutable values by bucket name, committed in the same batches as the keyspace and the
   * consistent index, so a restart finds them exactly as of that index.
   */
  readonly buckets: Readonly<Record<string, unknown>>;
}

export const emptyMeta: BackendMeta = Object.freeze({ consistentIndex: 0, term: 0, scheduledCompactRevision: -1, finishedCompactRevision: -1, buckets: Object.freeze({}) });

/**
 * One committed state of the backend database: what a commit writes to the backend's file and
 * what a snapshot carries. Like a bbolt commit (a copy-on-write B+ tree whose meta page points
 * at the new root), it shares every unchanged node with the states before it, so a commit or a
 * snapshot costs O(changed nodes), and it is immutable: `keys` is a frozen tree.
 */
export interface BackendImage {
  readonly type: 'backend-image';
  readonly keys: KeyBucket;
  readonly meta: BackendMeta;
  /** Bytes of live data (modelled: see `entrySize`), as etcd's dbSizeInUse. */
  readonly sizeInUse: number;
  /** The file's size (modelled), as etcd's dbSize: it grows and only a defrag shrinks it. */
  readonly size: number;
  /**
   * On an image appended by a commit: what changed since the record before it in the file (a real
   * disk stores only that; see backendDelta.ts). Absent on the images a replace writes.
   */
  readonly delta?: BackendDelta;
  /**
   * Set on the image a runtime WAL snapshot record carries: the meta bucket (consistent index,
   * membership) without the keyspace, which stays in the db file. etcd's WAL snapshot is
   * metadata too and its db file is the state. Such an image is never installed and never sent.
   */
  readonly metadataOnly?: true;
  /**
   * Set by a host on a snapshot's image it received: the key index built from `keys` in turns of
   * its loop before stepping the message (core/server's `prepareSnapshotInSteps`). The install
   * adopts it (`PreparedIndex.take`) instead of building the index in its one step. Never encoded.
   */
  readonly prepared?: PreparedIndex;
}

/** The image without its keyspace, for a WAL snapshot record whose db file holds the rest (see `metadataOnly`). */
export function metadataOnlyImage(image: BackendImage): BackendImage {
  const keys: KeyBucket = new BTree();
  keys.freeze();
  return { type: 'backend-image', keys, meta: image.meta, sizeInUse: image.sizeInUse, size: image.size, metadataOnly: true };
}

export function isBackendImage(record: unknown): record is BackendImage {
  return typeof record === 'object' && record !== null && (record as { type?: unknown }).type === 'backend-image';
}

/** etcd stores a tombstone as KeyValue{key} under a 't'-marked bucket key; a put always has version >= 1. */
export function isTombstone(kv: KeyValue): boolean {
  return kv.version === 0;
}

/** bbolt's page size. */
export const pageSize = 4096;
/** A fresh bbolt file: two meta pages, the freelist and the root (etcd's buckets live in it). */
const emptyFilePages = 4;
/** bbolt's leaf element header, paid by every key/value pair. */
const leafElementSize = 16;

/**
 * The modelled bytes one change costs in the key bucket: bbolt's leaf header, etcd's bucket key
 * (17 bytes, 18 with the tombstone mark) and the marshalled KeyValue (a tombstone holds only its key).
 */
export function entrySize(change: StoredChange): number {
  if (typeof change === 'string') return leafElementSize + revisionKeyLength + 1 + (change.length > 0 ? 1 + varintSize(change.length) + change.length : 0);
  const kv = change;
  if (isTombstone(kv)) return leafElementSize + revisionKeyLength + 1 + (kv.key.length > 0 ? 1 + varintSize(kv.key.length) + kv.key.length : 0);
  return leafElementSize + revisionKeyLength + keyValueSize(kv);
}

/** The file size that holds `liveBytes` in whole pages (the model of dbSizeInUse). */
export function bytesInPages(liveBytes: number): number {
  return (emptyFilePages + Math.ceil(liveBytes / pageSize)) * pageSize;
}

export function emptyKeyBucket(): KeyBucket {
  return new BTree<number, RevisionChanges>();
}
