import type { Bytes } from '../api/bytes.ts';
import { ErrLeaseNotFound, isEtcdError, type EtcdError } from '../api/errors.ts';
import type { Event } from '../api/kv.ts';
import {
  revisionHeader,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type HashKVRequest,
  type HashKVResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from '../api/rpc.ts';
import { runToEnd } from '../base/steps.ts';
import { applyRange } from './applyRange.ts';
import { applyTxn, type LeaseLookup } from './applyTxn.ts';
import { applyDeleteRange, applyPut, DeleteRangeJob } from './applyWrite.ts';
import type { Backend } from './backend.ts';
import { Compactor } from './compaction.ts';
import { hashByRevision } from './hash.ts';
import { MvccState, type ReadView } from './mvccState.ts';
import { leasedKeysInSteps, restoreState, type RestoredIndex } from './restore.ts';
import { WriteTxn } from './writeTxn.ts';

export interface KvStoreOptions {
  /** Revisions examined per compaction batch (etcd's --experimental-compaction-batch-limit, 1000). */
  readonly compactionBatchLimit: number;
  /**
   * Keys a compaction's index slice compacts (see Compactor): the first slice runs in the
   * Compact's apply (or the open that resumes one), each later one in a `stepCompaction`.
   * Absent: `defaultCompactionIndexSliceKeys`.
   */
  readonly compactionIndexSliceKeys?: number;
  /** Which leases exist; a put naming another fails with ErrLeaseNotFound. */
  readonly leases: LeaseLookup;
}

/**
 * As many keys as a range delete's slice (the runtime's applySliceKeys); more than any simulated
 * store holds. `npm run bench compactTurn` (session 19, watchwhole; 300k keys, a loaded machine):
 * the Compact's apply 128 / 133 ms (least / median) against 371 / 431 with 10,000, the install's
 * open 9 / 40 against 223 / 265.
 */
export const defaultCompactionIndexSliceKeys = 4_096;

/** Until the lessor exists, no lease does. */
export const noLeases: LeaseLookup = Object.freeze({ exists: () => false });

export const defaultKvStoreOptions: KvStoreOptions = Object.freeze({ compactionBatchLimit: 1000, leases: noLeases });

/** A write's response and the changes it made, in order (what watchers will be sent). */
export interface WriteResult<Response> {
  readonly response: Response;
  readonly events: readonly Event[];
}

/**
 * etcd's MVCC key-value store (mvcc/kvstore.go) with its applier's request semantics
 * (etcdserver/apply.go): Range, Put, DeleteRange, Txn, Compact and HashKV, each answering with
 * etcd's response or etcd's error. Requests are assumed to have passed the API-edge checks
 * (core/api `check…Request`, `validateTxn`); the store never throws on a request, only on a
 * broken invariant.
 *
 * Every write is deterministic: members that apply the same requests in the same order hold the
 * same revisions, values and HashKV. Writes land in the backend's current batch; what the host
 * must persist comes out of `backend.takeWrites()`.
 */
export class KvStore {
  readonly backend: Backend;
  private readonly state: MvccState;
  private readonly compactor: Compactor;
  private readonly leases: LeaseLookup;
  /** The leased keys a prepared index gathered, for `leasedKeys` right after the restore. */
  private restoredLeasedKeys: { readonly keys: ReadonlyMap<Bytes, number>; readonly atRevision: number } | null = null;
  /** Reads outside a write: at the current revision. */
  private readonly readView: ReadView = { range: (key, end, options) => this.state.rangeKeys(key, end, this.state.currentRevision, options) };

  private constructor(backend: Backend, options: KvStoreOptions) {
    this.backend = backend;
    this.state = new MvccState(backend);
    this.compactor = new Compactor(this.state, options.compactionBatchLimit, options.compactionIndexSliceKeys ?? defaultCompactionIndexSliceKeys);
    this.leases = options.leases;
  }

  /**
   * The store over a backend (a new one, one opened from disk, or one from a snapshot), with its
   * memory rebuilt from it and an interrupted compaction resumed (etcd's NewStore + restore()).
   * Resuming writes the scheduled mark again and commits it. `restored`: the index already built
   * from this backend's key bucket (a snapshot's `PreparedIndex`), adopted instead of a rebuild.
   */
  static open(backend: Backend, options: KvStoreOptions = defaultKvStoreOptions, restored: RestoredIndex | null = null): KvStore {
    const store = new KvStore(backend, options);
    const resume = restoreState(store.state, restored);
    if (restored !== null && restored.leasedKeys !== null) store.restoredLeasedKeys = { keys: restored.leasedKeys, atRevision: store.state.currentRevision };
    if (resume >= 0) store.compactor.resume(resume);
    return store;
  }

  /** The revision of the last write that changed something (1 for a new store). */
  get revision(): number {
    return this.state.currentRevision;
  }

  /** The last compaction's revision; -1 before the first. Reads below it fail. */
  get compactRevision(): number {
    return this.state.compactMainRevision;
  }

  /** Whether the events of writes carry prevKv (see MvccState.eventsCarryPrevKv); true unless set. */
  get eventsCarryPrevKv(): boolean {
    return this.state.eventsCarryPrevKv;
  }

  set eventsCarryPrevKv(carry: boolean) {
    this.state.eventsCarryPrevKv = carry;
  }

  /** Keys in the store now. */
  get keyCount(): number {
    return this.state.index.liveCount;
  }

  /** etcd's Range: every option, served at the current revision (`revision` reads history). */
  range(request: RangeRequest): RangeResponse | EtcdError {
    return applyRange(this.readView, request);
  }

  /** etcd's Put: ErrLeaseNotFound for an unknown lease, ErrKeyNotFound for ignoreValue/ignoreLease on a missing key. */
  put(request: PutRequest): WriteResult<PutResponse> | EtcdError {
    const lease = request.lease ?? 0;
    if (lease !== 0 && !this.leases.exists(lease)) return ErrLeaseNotFound;
    const txn = new WriteTxn(this.state);
    const response = applyPut(txn, request);
    txn.end();
    return isEtcdError(response) ? response : { response, events: txn.events };
  }

  /** etcd's DeleteRange: deleting nothing leaves the revision where it was. */
  deleteRange(request: DeleteRangeRequest): WriteResult<DeleteRangeResponse> {
    const txn = new WriteTxn(this.state);
    const response = applyDeleteRange(txn, request);
    txn.end();
    return { response, events: txn.events };
  }

  /**
   * etcd's DeleteRange in slices (see DeleteRangeJob): the write transaction opens now and stays
   * open until the job's `finish()`; nothing else may write the store, nor the backend commit, before.
   */
  beginDeleteRange(request: DeleteRangeRequest): DeleteRangeJob {
    return new DeleteRangeJob(new WriteTxn(this.state), request);
  }

  /** etcd's Txn (see applyTxn): fails whole before writing, or runs at one revision. */
  txn(request: TxnRequest): WriteResult<TxnResponse> | EtcdError {
    const result = applyTxn(this.state, this.leases, request);
    return isEtcdError(result) ? result : { response: result.response, events: result.txn.events };
  }

  /**
   * etcd's Compact: ErrCompacted at or below the last compaction, ErrFutureRev above the current
   * revision. The scheduled mark is committed before this returns, and the index's first slice
   * compacted; its other slices, then the key bucket batch by batch, follow through `stepCompaction`.
   */
  compact(request: CompactionRequest): CompactionResponse | EtcdError {
    const refused = this.compactor.compact(request.revision);
    return refused ?? { header: revisionHeader(this.state.currentRevision) };
  }

  /** Runs the next slice of the index's compaction or batch of removals (etcd runs one every 10 ms); true while more remain. */
  stepCompaction(): boolean {
    return this.compactor.step();
  }

  /** Whether compaction removals remain; a `physical` compaction replies once this is false. */
  get compacting(): boolean {
    return this.compactor.pending;
  }

  /** Whether the next `stepCompaction` compacts a slice of the index (a turn should do no more than one). */
  get compactingIndex(): boolean {
    return this.compactor.compactingIndex;
  }

  /** Runs every remaining compaction batch now. */
  finishCompaction(): void {
    this.compactor.finish();
  }

  /** etcd's HashKV (see hashByRevision). */
  hashKV(request: HashKVRequest = {}): HashKVResponse | EtcdError {
    const hashed = hashByRevision(this.state, request.revision ?? 0);
    if (isEtcdError(hashed)) return hashed;
    return { header: revisionHeader(this.state.currentRevision), hash: hashed.hash, compactRevision: hashed.compactRevision, hashRevision: hashed.revision };
  }

  /**
   * Every live key with a lease, and its lease, in key order: what the lessor re-attaches after a
   * restore (etcd's keyToLease). Gathered with a prepared index, they are handed over once, while
   * no write has moved the revision since the restore.
   */
  leasedKeys(): ReadonlyMap<Bytes, number> {
    const restored = this.restoredLeasedKeys;
    this.restoredLeasedKeys = null;
    if (restored !== null && restored.atRevision === this.state.currentRevision) return restored.keys;
    return runToEnd(leasedKeysInSteps(this.state.index, (main, sub) => this.backend.get(main, sub), Number.POSITIVE_INFINITY));
  }
}
