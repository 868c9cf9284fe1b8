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
