import { ErrCompacted, ErrFutureRev, ErrKeyNotFound, ErrLeaseNotFound, isEtcdError, type EtcdError } from '../api/errors.ts';
import type { KeyValue } from '../api/kv.ts';
import { requestOpKind, revisionHeader, type Compare, type RequestOp, type ResponseOp, type TxnRequest, type TxnResponse } from '../api/rpc.ts';
import { assert } from '../base/assert.ts';
import { applyRange } from './applyRange.ts';
import { applyDeleteRange, applyPut } from './applyWrite.ts';
import { allKeys, type MvccState } from './mvccState.ts';
import { indexEnd } from './treeIndex.ts';
import { WriteTxn } from './writeTxn.ts';

/** Whether a lease exists: the lessor's business, asked before a put attaches one. */
export interface LeaseLookup {
  exists(lease: number): boolean;
}

/** Which branch each txn takes: this txn's, then, in op order, those of the nested txns in that branch. */
interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: readonly TxnPath[];
}

/**
 * A Txn as etcd's applier does it (apply.go Txn), in four steps:
 * 1. every compare of every txn that will run, nested ones included, is evaluated first, against
 *    the store as it was before the txn (a nested compare does not see earlier ops' writes);
 * 2. the puts of the chosen branches are checked (ignoreValue / ignoreLease need the key,
 *    the lease must exist) and their ranges' revisions (ErrFutureRev / ErrCompacted), so a txn
 *    either fails whole, before any write, or runs;
 * 3. the ops run in order inside one write transaction: one revision for all its changes,
 *    sub-revisions in op order, reads seeing earlier writes;
 * 4. the header carries the revision after the txn.
 * A txn whose every op in both branches is a Range (nested txns excluded, as etcd's
 * isTxnReadonly has it) is read-only: it writes nothing and does not touch the revision.
 */
export function applyTxn(state: MvccState, leases: LeaseLookup, request: TxnRequest): { readonly response: TxnResponse; readonly txn: WriteTxn } | EtcdError {
  const path = compareToPath(state, request);
  const write = !isReadOnly(request);
  const refused = (write ? checkRequests(request, path, (op) => checkPut(state, leases, op)) : null) ?? checkRequests(request, path, (op) => checkRange(state, op));
  if (refused !== null) return refused;
  const txn = new WriteTxn(state, write);
  const responses = applyOps(txn, request, path);
  const revision = txn.events.length > 0 ? txn.beginRevision + 1 : txn.beginRevision;
  txn.end();
  return { response: { header: revisionHeader(revision), succeeded: path.succeeded, responses }, txn };
}

function branch(request: TxnRequest, succeeded: boolean): readonly RequestOp[] {
  return (succeeded ? request.success : request.failure) ?? [];
}

function isReadOnly(request: TxnRequest): boolean {
  const rangeOnly = (op: RequestOp) => requestOpKind(op) === 'requestRange';
  return (request.success ?? []).every(rangeOnly) && (request.failure ?? []).every(rangeOnly);
}

function compareToPath(state: MvccState, request: TxnRequest): TxnPath {
  const succeeded = (request.compare ?? []).every((compare) => applyCompare(state, compare));
  const nested: TxnPath[] = [];
  for (const op of branch(request, succeeded)) if (requestOpKind(op) === 'requestTxn') nested.push(compareToPath(state, op.requestTxn!));
  return { succeeded, nested };
}

/** Every key in the compare's range must satisfy it; a missing key is a KeyValue of zeros, except for VALUE. */
function applyCompare(state: MvccState, compare: Compare): boolean {
  const read = state.rangeKeys(compare.key, indexEnd(compare.rangeEnd), state.currentRevision, allKeys);
  if (isEtcdError(read)) return false;
  if (read.kvs.length === 0) {
    // "nil == empty string in grpc; no way to represent missing value" (etcd).
    if (compare.target === 'VALUE') return false;
    return compareKeyValue(compare, missing);
  }
  return read.kvs.every((kv) => compareKeyValue(compare, kv));
}

const missing: KeyValue = Object.freeze({ key: '', createRevision: 0, modRevision: 0, version: 0, value: '', lease: 0 });

function compareKeyValue(compare: Compare, kv: KeyValue): boolean {
  let result = 0;
  switch (compare.target) {
    case 'VALUE': {
      const value = compare.value ?? '';
      result = kv.value < value ? -1 : kv.value > value ? 1 : 0;
      break;
    }
    case 'CREATE':
      result = Math.sign(kv.createRevision - (compare.createRevision ?? 0));
      break;
    case 'MOD':
      result = Math.sign(kv.modRevision - (compare.modRevision ?? 0));
      break;
    case 'VERSION':
      result = Math.sign(kv.version - (compare.version ?? 0));
      break;
    case 'LEASE':
      result = Math.sign(kv.lease - (compare.lease ?? 0));
      break;
  }
  switch (compare.result) {
    case 'EQUAL':
      return result === 0;
    case 'NOT_EQUAL':
      return result !== 0;
    case 'GREATER':
      return result > 0;
    case 'LESS':
      return result < 0;
    default:
      return true; // an unknown result: etcd's compareKV falls through to true
  }
}

/** Runs `check` on every non-txn op of every branch that will run, depth first. */
function checkRequests(request: TxnRequest, path: TxnPath, check: (op: RequestOp) => EtcdError | null): EtcdError | null {
  let nested = 0;
  for (const op of branch(request, path.succeeded)) {
    const refused = requestOpKind(op) === 'requestTxn' ? checkRequests(op.requestTxn!, path.nested[nested++]!, check) : check(op);
    if (refused !== null) return refused;
  }
  return null;
}

function checkPut(state: MvccState, leases: LeaseLookup, op: RequestOp): EtcdError | null {
  if (requestOpKind(op) !== 'requestPut') return null;
  const put = op.requestPut!;
  if (put.ignoreValue === true || put.ignoreLease === true) {
    const read = state.rangeKeys(put.key, null, state.currentRevision, allKeys);
    if (isEtcdError(read)) return read;
    if (read.kvs.length === 0) return ErrKeyNotFound;
  }
  const lease = put.lease ?? 0;
  if (lease !== 0 && !leases.exists(lease)) return ErrLeaseNotFound;
  return null;
}

/**
 * A nested range's revision, checked against the store before the txn: only exactly 0 means
 * "latest" here, so a negative revision compares with the compaction revision (etcd's quirk).
 */
function checkRange(state: MvccState, op: RequestOp): EtcdError | null {
  if (requestOpKind(op) !== 'requestRange') return null;
  const revision = op.requestRange!.revision ?? 0;
  if (revision === 0) return null;
  if (revision > state.currentRevision) return ErrFutureRev;
  if (revision < state.compactMainRevision) return ErrCompacted;
  return null;
}

function applyOps(txn: WriteTxn, request: TxnRequest, path: TxnPath): ResponseOp[] {
  const responses: ResponseOp[] = [];
  let nested = 0;
  for (const op of branch(request, path.succeeded)) {
    switch (requestOpKind(op)) {
      case 'requestRange': {
        const response = applyRange(txn, op.requestRange!);
        assert(!isEtcdError(response), () => `a checked range in a txn failed: ${response}`);
        responses.push({ responseRange: response as Exclude<typeof response, EtcdError> });
        break;
      }
      case 'requestPut': {
        const response = applyPut(txn, op.requestPut!);
        assert(!isEtcdError(response), () => `a checked put in a txn failed: ${response}`);
        responses.push({ responsePut: response as Exclude<typeof response, EtcdError> });
        break;
      }
      case 'requestDeleteRange':
        responses.push({ responseDeleteRange: applyDeleteRange(txn, op.requestDeleteRange!) });
        break;
      case 'requestTxn': {
        const nestedRequest = op.requestTxn!;
        const nestedPath = path.nested[nested++]!;
        const nestedResponses = applyOps(txn, nestedRequest, nestedPath);
        // etcd's nested TxnResponse keeps an empty header.
        responses.push({ responseTxn: { header: revisionHeader(0), succeeded: nestedPath.succeeded, responses: nestedResponses } });
        break;
      }
      case null:
        responses.push({}); // an empty op: etcd leaves an empty response
        break;
    }
  }
  return responses;
}
