import type { Bytes } from '../api/bytes.ts';
import type { EtcdError } from '../api/errors.ts';
import type { Event, KeyValue } from '../api/kv.ts';
import { assert, AssertionError } from '../base/assert.ts';
import type { MvccState, RangeOptions, RangeResult, ReadView } from './mvccState.ts';
import { formatRevision, revision, type Revision } from './revision.ts';
import type { KeyIndex } from './keyIndex.ts';
import type { IndexEnd, TombstoneWriter } from './treeIndex.ts';

/**
 * One write transaction (etcd's storeTxnWrite): every change it makes gets main revision
 * `beginRevision + 1` and the next sub revision, its reads see its own changes, and `end()` bumps
 * the store's revision once — only if something changed (deleting a missing key changes nothing).
 * The changes are recorded as events, in order, for the watchers; with prevKv only while the
 * state's `eventsCarryPrevKv` says someone reads it.
 */
export class WriteTxn implements ReadView, TombstoneWriter {
  private readonly state: MvccState;
  readonly beginRevision: number;
  readonly events: Event[] = [];
  /** False for a read-only txn's ops: they read like a write transaction but open no batch. */
  private readonly writable: boolean;
  private ended = false;
  /** While `deleteRange` runs: where its deleted keys' previous values go (a request with prev_kv), or null. */
  private prevKvs: KeyValue[] | null = null;

  constructor(state: MvccState, writable = true) {
    this.state = state;
    this.writable = writable;
    this.beginRevision = state.currentRevision;
    if (writable) state.backend.beginWriteTxn();
  }

  /** The revision reads inside the transaction see: the next one once it changed something. */
  get readRevision(): number {
    return this.events.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  range(key: Bytes, end: IndexEnd, options: RangeOptions): RangeResult | EtcdError {
    return this.state.rangeKeys(key, end, this.readRevision, options);
  }

  /** Writes key = value; returns the revision the put will have. */
  put(key: Bytes, value: Bytes, lease: number): number {
    assert(this.writable, 'a put in a read-only transaction');
    const main = this.beginRevision + 1;
    const { index, backend } = this.state;
    const keyIndex = index.keyIndex(key);
    let createRevision = main;
    let version = 1;
    let prevKv: KeyValue | undefined;
    if (keyIndex !== undefined && keyIndex.isLive()) {
      createRevision = keyIndex.liveCreated();
      version = keyIndex.liveVersion() + 1;
      if (this.state.eventsCarryPrevKv) prevKv = backend.get(keyIndex.modifiedMain, keyIndex.modifiedSub);
    }
    const sub = this.events.length;
    const kv = backend.values.keyValue(key, createRevision, main, version, value, lease);
    backend.append(main, sub, kv);
    if (keyIndex === undefined) index.putNew(key, revision(main, sub));
    else index.putExisting(keyIndex, revision(main, sub));
    this.events.push(prevKv === undefined ? { type: 'PUT', kv } : { type: 'PUT', kv, prevKv });
    return main;
  }

  /**
   * Deletes every key in the range; returns how many, and the revision the response carries.
   * `prevKvs`: each deleted key's value before the delete is pushed there, in key order (what a
   * range of it just before would read).
   */
  deleteRange(key: Bytes, end: IndexEnd, prevKvs: KeyValue[] | null = null): { readonly deleted: number; readonly revision: number } {
    const deleted = this.deleteSlice(key, end, prevKvs, Infinity);
    return { deleted, revision: this.readRevision };
  }

  /**
   * Deletes the first `limit` live keys of the range (all of them with Infinity); returns how
   * many. A range delete applied in slices calls it until it deletes fewer than `limit`: each
   * slice starts from `key` again, the keys before it being deleted already.
   */
  deleteSlice(key: Bytes, end: IndexEnd, prevKvs: KeyValue[] | null, limit: number): number {
    assert(this.writable, 'a delete in a read-only transaction');
    // The live keys' index hands over the key indexes themselves (looking each key up again in
    // the tree was a quarter of deleting a 60k-key prefix), and visits no key deleted earlier.
    this.prevKvs = prevKvs;
    const deleted = this.state.index.tombstoneLive(key, end, this.readRevision, this, limit);
    this.prevKvs = null;
    return deleted;
  }

  /**
   * A tombstone: in the key bucket the KeyValue{key} etcd stores (version 0 marks it), carrying
   * the deletion's revision as `modRevision`, which is also the DELETE event's kv. Returns its
   * revision, for the index to record: only TreeIndex.tombstoneLive calls it, for each live key of
   * the range (a method, not a closure made per transaction).
   */
  writeTombstone(keyIndex: KeyIndex): Revision {
    const main = this.beginRevision + 1;
    const sub = this.events.length;
    const { backend } = this.state;
    const key = keyIndex.key;
    const prevKvs = this.prevKvs;
    const eventsCarryPrevKv = this.state.eventsCarryPrevKv;
    const prevKv = eventsCarryPrevKv || prevKvs !== null ? backend.get(keyIndex.modifiedMain, keyIndex.modifiedSub) : undefined;
    if (prevKvs !== null) {
      // Not assert(…, closure): this runs per key deleted (see assert's note).
      if (prevKv === undefined) throw new AssertionError(`the index points at ${formatRevision(keyIndex.modified)}, which the key bucket lacks`);
      prevKvs.push(prevKv);
    }
    const tombstone: KeyValue = { key, createRevision: 0, modRevision: main, version: 0, value: '', lease: 0 };
    backend.append(main, sub, tombstone);
    this.events.push(prevKv === undefined || !eventsCarryPrevKv ? { type: 'DELETE', kv: tombstone } : { type: 'DELETE', kv: tombstone, prevKv });
    return revision(main, sub);
  }

  /** Ends the transaction: the store's revision moves by one if anything changed, never more. */
  end(): void {
    assert(!this.ended, 'a write transaction ended twice');
    this.ended = true;
    if (this.events.length > 0) this.state.currentRevision = this.beginRevision + 1;
    if (this.writable) this.state.backend.endWriteTxn();
  }
}
