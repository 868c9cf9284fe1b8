import { ErrKeyNotFound, isEtcdError, type EtcdError } from '../api/errors.ts';
import type { KeyValue } from '../api/kv.ts';
import { revisionHeader, type DeleteRangeRequest, type DeleteRangeResponse, type PutRequest, type PutResponse } from '../api/rpc.ts';
import { assert } from '../base/assert.ts';
import { allKeys } from './mvccState.ts';
import { indexEnd } from './treeIndex.ts';
import type { WriteTxn } from './writeTxn.ts';

/**
 * A Put as etcd's applier does it (apply.go Put), inside a write transaction: with ignoreValue /
 * ignoreLease the key must exist (ErrKeyNotFound) and keeps its value / lease; prevKv returns the
 * value it replaced. The lease's existence is checked by the caller, before the transaction.
 */
export function applyPut(txn: WriteTxn, request: PutRequest): PutResponse | EtcdError {
  let value = request.value ?? '';
  let lease = request.lease ?? 0;
  let previous: KeyValue | undefined;
  if (request.ignoreValue === true || request.ignoreLease === true || request.prevKv === true) {
    const read = txn.range(request.key, null, allKeys);
    assert(!isEtcdError(read), 'a read at the latest revision failed');
    previous = read.kvs[0];
  }
  if (request.ignoreValue === true || request.ignoreLease === true) {
    if (previous === undefined) return ErrKeyNotFound;
    if (request.ignoreValue === true) value = previous.value;
    if (request.ignoreLease === true) lease = previous.lease;
  }
  const header = revisionHeader(txn.put(request.key, value, lease));
  return request.prevKv === true && previous !== undefined ? { header, prevKv: previous } : { header };
}

/**
 * A DeleteRange as etcd's applier does it: prevKv returns every deleted KeyValue. etcd reads them
 * with a range before the delete; here the delete hands them over as it tombstones each key (the
 * same keys in the same order, read at the same revision), not a second walk of the range and a
 * second lookup per key (issue 10: a 55k-key prefix).
 */
export function applyDeleteRange(txn: WriteTxn, request: DeleteRangeRequest): DeleteRangeResponse {
  const end = indexEnd(request.rangeEnd);
  const prevKvs: KeyValue[] | null = request.prevKv === true ? [] : null;
  const { deleted, revision } = txn.deleteRange(request.key, end, prevKvs);
  return { header: revisionHeader(revision), deleted, prevKvs: prevKvs ?? [] };
}

/**
 * A DeleteRange applied in slices, each in a later turn of the member's loop (issue 10: one
 * DeleteRange of a million keys held the loop for seconds). Its write transaction stays open from
 * the first slice to `finish()`: the store's revision stays where it was until then, so reads at
 * the current revision (and watch catch-ups, HashKV) keep the view before the delete, and the
 * backend refuses a commit meanwhile (it would hold part of the transaction). Nothing else may
 * write the store until it finishes. The changes, events and response are those of `applyDeleteRange`.
 */
export class DeleteRangeJob {
  private readonly txn: WriteTxn;
  private readonly request: DeleteRangeRequest;
  private readonly end: ReturnType<typeof indexEnd>;
  private readonly prevKvs: KeyValue[] | null;
  private deleted = 0;
  private done = false;

  constructor(txn: WriteTxn, request: DeleteRangeRequest) {
    this.txn = txn;
    this.request = request;
    this.end = indexEnd(request.rangeEnd);
    this.prevKvs = request.prevKv === true ? [] : null;
  }

  /** Deletes up to `limit` more keys (at least one); true once the range holds no live key. */
  step(limit: number): boolean {
    assert(!this.done && limit >= 1, 'a delete range stepped after its end, or by nothing');
    const deleted = this.txn.deleteSlice(this.request.key, this.end, this.prevKvs, limit);
    this.deleted += deleted;
    this.done = deleted < limit;
    return this.done;
  }

  /** Whether every key is deleted (`finish` may be called). */
  get finished(): boolean {
    return this.done;
  }

  /** Ends the transaction: the revision moves (if anything was deleted), and the response and events are final. */
  finish(): { readonly response: DeleteRangeResponse; readonly events: WriteTxn['events'] } {
    assert(this.done, 'a delete range finished before its last slice');
    const revision = this.txn.readRevision;
    this.txn.end();
    return { response: { header: revisionHeader(revision), deleted: this.deleted, prevKvs: this.prevKvs ?? [] }, events: this.txn.events };
  }
}
