import type { Bytes } from '../api/bytes.ts';
import { ErrCompacted, ErrFutureRev, type EtcdError } from '../api/errors.ts';
import type { KeyValue } from '../api/kv.ts';
import { AssertionError } from '../base/assert.ts';
import type { Backend } from './backend.ts';
import { TreeIndex, type IndexEnd } from './treeIndex.ts';

/** The options of one read of the store (etcd's mvcc.RangeOptions). */
export interface RangeOptions {
  /** At most this many KeyValues (0: all). The count is of every key in range regardless. */
  readonly limit: number;
  /** The revision to read at; <= 0 reads at the view's revision. */
  readonly revision: number;
  /** Count only: no KeyValues are fetched. */
  readonly count: boolean;
}

export const allKeys: RangeOptions = Object.freeze({ limit: 0, revision: 0, count: false });

/** What a read found (etcd's mvcc.RangeResult). */
export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  /** Keys in the range at the revision, before any limit. */
  readonly count: number;
  /** The view's revision (not the revision read at: etcd answers a historical read with the current one). */
  readonly revision: number;
}

/** What reads inside a request go through: the store itself, or a write transaction that sees its own changes. */
export interface ReadView {
  range(key: Bytes, end: IndexEnd, options: RangeOptions): RangeResult | EtcdError;
}

/**
 * The store's state, shared by the parts that make etcd's store (reads, write transactions,
 * compaction, restore, hash): the backend with the values, the index saying which revision of a
 * key to read, and the two revisions. Invariant: `compactMainRevision <= currentRevision`
 * except right after a restore that found only a compaction mark (then equal).
 */
export class MvccState {
  readonly backend: Backend;
  /** Replaced only by a restore (`restoreState`), before the store serves anything. */
  index = new TreeIndex();
  /** The revision of the last write transaction that changed something; 1 for an empty store. */
  currentRevision = 1;
  /** The revision of the last compaction, -1 before the first (etcd's compactMainRev). */
  compactMainRevision = -1;
  /**
   * Whether write events carry `prevKv` (a backend read per changed key). etcd reads it only on
   * demand (a watcher with prev_kv); the member turns it off before an apply nobody will read it
   * in (issue 10: 50k prevKv reads, ~50 ms, in check perf's cleanup delete). Responses' prevKv
   * (Put, DeleteRange) is read by the request itself, whatever this says.
   */
  eventsCarryPrevKv = true;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /**
   * Reads [key, end) as of `options.revision` in a view at `viewRevision` (etcd's rangeKeys):
   * above the view is ErrFutureRev, below the compaction revision ErrCompacted (the compaction
   * revision itself is still readable).
   */
  rangeKeys(key: Bytes, end: IndexEnd, viewRevision: number, options: RangeOptions): RangeResult | EtcdError {
    let atRevision = options.revision;
    if (atRevision > viewRevision) return ErrFutureRev;
    if (atRevision <= 0) atRevision = viewRevision;
    if (atRevision < this.compactMainRevision) return ErrCompacted;
    if (end === null) {
      // One key: its revision read where the key index holds it (no list made).
      const keyIndex = this.index.keyIndex(key);
      const at = keyIndex === undefined ? -1 : keyIndex.positionAt(atRevision);
      if (at < 0 || options.count) return { kvs: [], count: at < 0 ? 0 : 1, revision: viewRevision };
      const main = keyIndex!.numberAt(at);
      const sub = keyIndex!.numberAt(at + 1);
      const kv = this.backend.get(main, sub);
      if (kv === undefined) throw new AssertionError(`the index points at ${main}.${sub}, which the key bucket lacks`);
      return { kvs: [kv], count: 1, revision: viewRevision };
    }
    const revisions: number[] = [];
    const count = this.index.revisionPairs(key, end, atRevision, options.count ? 0 : options.limit <= 0 ? Infinity : options.limit, revisions);
    if (count === 0 || options.count) return { kvs: [], count, revision: viewRevision };
    const limit = revisions.length / 2;
    const kvs = new Array<KeyValue>(limit);
    for (let i = 0; i < limit; i++) {
      const main = revisions[2 * i]!;
      const sub = revisions[2 * i + 1]!;
      const kv = this.backend.get(main, sub);
      // Not assert(…, closure): this runs per key read (see assert's note).
      if (kv === undefined) throw new AssertionError(`the index points at ${main}.${sub}, which the key bucket lacks`);
      kvs[i] = kv;
    }
    return { kvs, count, revision: viewRevision };
  }
}
