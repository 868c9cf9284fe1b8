import type { Compare, DeleteRangeResponse, KeyValue, PutResponse, RangeRequest, RangeResponse, RequestOp, ResponseOp, TxnRequest, TxnResponse } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import { isSerializableTxn } from '../../core/server/internalRequest.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { HistoryEntry } from '../../sim/client.ts';
import { isMutation } from '../../sim/etcdClient.ts';
import type { TypedHistory } from '../linearizability/formats/typedHistory.ts';
import type { Operation } from '../linearizability/history.ts';
import { modelledError, rangeToEnd, type EtcdCompare, type EtcdKeyValue, type EtcdRequest, type EtcdResponse } from '../linearizability/models/etcdTypes.ts';

/**
 * The etcd clients' history in the linearizability checker's terms (its `etcd` model and the
 * JSON-lines format `detcd-sim check` reads): every KV call with its outcome, request and
 * response, times in simulated microseconds, the header revisions included so that the checker
 * mostly sorts instead of searching.
 *
 * Serializable reads (checked as etcd guarantees them: the keyspace at a revision the cluster had
 * reached), ranges at a past revision (Kubernetes' list pages after the first), keys-only and
 * count-only ranges are in the history, and so are compactions and the refusals the model checks:
 * a range or a compaction refused with ErrCompacted or ErrFutureRev. (A compaction's header
 * revision is the store's at reply time, `resp.Header.Revision = s.kv.Rev()` in v3_server.go,
 * after waiting for a physical compaction: the model takes it as an upper bound of the revision
 * the compaction took effect at.) What the model cannot express is left out and counted, and all
 * of it is read-only or changes no key, so leaving it out never hides a write:
 * - ranges with sort options or revision filters;
 * - membership, maintenance and alarm calls (not key-value state);
 * - lease grants, keep-alives, time-to-live and lease lists: they change no key (the lease checks,
 *   properties/lease, judge them).
 * Puts with a lease and revokes are in the history (the model deletes a revoked lease's keys in
 * one revision), and so are the revokes the leader proposed for expired leases, which no client
 * asked for: each becomes an operation of its own process (`expiryProcessBase` on), invoked when a
 * leader first proposed it and completed, at the revision it made, when a member first applied it.
 * A write the model cannot express (ignore_value / ignore_lease, a range compare) is a bug in a
 * workload: it throws.
 */
export interface EtcdHistory {
  readonly history: TypedHistory & { readonly model: 'etcd' };
  /** For each operation of `history`, the index of the client call it came from. */
  readonly callOf: readonly number[];
  /** Calls left out, by reason. */
  readonly leftOut: Readonly<Record<LeftOutReason, number>>;
}

export type LeftOutReason = 'rangeOptions' | 'cluster' | 'lease';

/** The keyspace of the lease workloads (a convention of the workloads: nothing else writes there). */
export const leaseKeyPrefix = 'lease/';

/** A lease the leader revoked because it expired: when first proposed, and when and at which revision first applied. */
export interface LeaseExpiry {
  readonly lease: number;
  readonly proposedUs: number;
  readonly appliedUs: number;
  readonly revision: number;
}

/** The processes of expiry revokes (one each: a process has one operation at a time); `callOf` says -1. */
export const expiryProcessBase = 1_000_000_000;

export function etcdHistory(calls: readonly HistoryEntry<ServerRequest, ServerReply>[], expiries: readonly LeaseExpiry[] = []): EtcdHistory {
  const operations: Operation<EtcdRequest, EtcdResponse>[] = [];
  const callOf: number[] = [];
  const leftOut: Record<LeftOutReason, number> = { rangeOptions: 0, cluster: 0, lease: 0 };
  for (const call of calls) {
    const input = modelRequest(call.request);
    if (typeof input === 'string') {
      leftOut[input]++;
      continue;
    }
    const base = { process: call.client, invokedAt: call.invokeUs, input };
    callOf.push(call.id);
    if (call.outcome === 'ok' && call.reply !== null && call.completeUs !== null && !isErrorReply(call.reply)) {
      operations.push({ ...base, completedAt: call.completeUs, output: modelResponse(call.request, call.reply.response, true), outcome: 'ok' });
    } else if (call.reply !== null && call.completeUs !== null && isErrorReply(call.reply) && isRevisionRefusal(call.request, call.reply.error)) {
      operations.push({ ...base, completedAt: call.completeUs, output: { error: { code: call.reply.error.code, message: call.reply.error.message } }, outcome: 'ok' });
    } else if (call.outcome === 'fail') {
      operations.push({ ...base, completedAt: call.completeUs ?? call.invokeUs, output: undefined, outcome: 'fail' });
    } else {
      operations.push({ ...base, completedAt: Infinity, output: undefined, outcome: 'unknown' });
    }
  }
  expiries.forEach((expiry, index) => {
    callOf.push(-1);
    const input: EtcdRequest = { kind: 'leaseRevoke', lease: expiry.lease };
    operations.push({ process: expiryProcessBase + index, invokedAt: expiry.proposedUs, completedAt: expiry.appliedUs, input, output: { revision: expiry.revision }, outcome: 'ok' });
  });
  return { history: { model: 'etcd', operations, initialRevision: 1 }, callOf, leftOut };
}

/** The model's request, or why the call is left out. */
function modelRequest(request: ServerRequest): EtcdRequest | LeftOutReason {
  switch (request.method) {
    case 'LeaseRevoke':
      return { kind: 'leaseRevoke', lease: request.request.ID };
    case 'LeaseGrant':
    case 'LeaseKeepAlive':
    case 'LeaseTimeToLive':
    case 'LeaseLeases':
      return 'lease';
    case 'Range': {
      const why = whyRangeLeftOut(request.request);
      return why ?? rangeInput(request.request);
    }
    case 'Put':
    case 'DeleteRange':
    case 'Txn': {
      const why = request.method === 'Txn' ? whyTxnLeftOut(request.request) : null;
      if (why === null) return writeInput(request);
      if (isMutation(request)) throw new AssertionError(`a write the checker's model cannot express (${why}): ${JSON.stringify(request.request)}`);
      return why;
    }
    case 'Compact':
      return { kind: 'compact', revision: request.request.revision, ...(request.request.physical === true ? { physical: true } : {}) };
    default:
      return 'cluster';
  }
}

/** A request a member applied or served (a Put, DeleteRange or Txn entry, a Range) as the model's request, or null when the model cannot express it. */
export function memberRequestInput(request: Extract<ServerRequest, { method: 'Put' | 'DeleteRange' | 'Txn' | 'Range' }>): EtcdRequest | null {
  if (request.method === 'Range') return whyRangeLeftOut(request.request) === null ? rangeInput(request.request) : null;
  if (request.method === 'Put' && (request.request.ignoreValue === true || request.request.ignoreLease === true)) return null;
  if (request.method === 'Txn' && (whyTxnLeftOut(request.request) !== null || txnIgnores(request.request))) return null;
  return writeInput(request);
}

/** Whether a txn holds a put with ignore_value or ignore_lease (at any depth). */
function txnIgnores(txn: TxnRequest): boolean {
  for (const op of [...(txn.success ?? []), ...(txn.failure ?? [])]) {
    if (op.requestPut !== undefined && (op.requestPut.ignoreValue === true || op.requestPut.ignoreLease === true)) return true;
    if (op.requestTxn !== undefined && txnIgnores(op.requestTxn)) return true;
  }
  return false;
}

function whyRangeLeftOut(range: RangeRequest): LeftOutReason | null {
  const sorted = (range.sortOrder ?? 'NONE') !== 'NONE' || (range.sortTarget ?? 'KEY') !== 'KEY';
  const filtered = (range.minModRevision ?? 0) + (range.maxModRevision ?? 0) + (range.minCreateRevision ?? 0) + (range.maxCreateRevision ?? 0) > 0;
  return sorted || filtered ? 'rangeOptions' : null;
}

/** A range inside a txn: as at the top level, and not at a past revision (the model reads a txn's ranges at the txn's own revision). */
function whyTxnRangeLeftOut(range: RangeRequest): LeftOutReason | null {
  return (range.revision ?? 0) > 0 ? 'rangeOptions' : whyRangeLeftOut(range);
}

/** A range or a compaction refused with ErrCompacted or ErrFutureRev: a response the model checks. */
function isRevisionRefusal(request: ServerRequest, error: { readonly code: number; readonly message: string }): boolean {
  return (request.method === 'Range' || request.method === 'Compact') && modelledError(error) !== undefined;
}

function whyTxnLeftOut(txn: TxnRequest): LeftOutReason | null {
  // A txn's ranges are linearizable whatever the call says: it is one request.
  for (const compare of txn.compare ?? []) if ((compare.rangeEnd ?? '') !== '' || compare.target === 'LEASE') return 'rangeOptions';
  for (const op of [...(txn.success ?? []), ...(txn.failure ?? [])]) {
    const why = op.requestRange !== undefined ? whyTxnRangeLeftOut(op.requestRange) : op.requestTxn !== undefined ? whyTxnLeftOut(op.requestTxn) : null;
    if (why !== null) return why;
  }
  return null;
}

function rangeInput(range: RangeRequest): EtcdRequest {
  const rangeEnd = range.rangeEnd ?? '';
  return {
    kind: 'range',
    key: range.key,
    ...(rangeEnd === '' ? {} : { rangeEnd: rangeEnd === '\0' ? rangeToEnd : rangeEnd }),
    ...((range.limit ?? 0) > 0 ? { limit: range.limit! } : {}),
    ...((range.revision ?? 0) > 0 ? { revision: range.revision! } : {}),
    ...(range.serializable === true ? { serializable: true } : {}),
    ...(range.keysOnly === true ? { keysOnly: true } : {}),
    ...(range.countOnly === true ? { countOnly: true } : {}),
  };
}

function writeInput(request: Extract<ServerRequest, { method: 'Put' | 'DeleteRange' | 'Txn' }>): EtcdRequest {
  if (request.method === 'Put') {
    const put = request.request;
    if (put.ignoreValue === true || put.ignoreLease === true) throw new AssertionError(`a put the checker's model cannot express: ${JSON.stringify(put)}`);
    const lease = put.lease ?? 0;
    return { kind: 'put', key: put.key, value: put.value ?? '', ...(lease === 0 ? {} : { lease }) };
  }
  if (request.method === 'DeleteRange') {
    const rangeEnd = request.request.rangeEnd ?? '';
    return { kind: 'delete', key: request.request.key, ...(rangeEnd === '' ? {} : { rangeEnd: rangeEnd === '\0' ? rangeToEnd : rangeEnd }) };
  }
  return txnInput(request.request);
}

/**
 * A txn of serializable ranges only is served from the member's state (etcd's IsTxnSerializable,
 * core/server's serveRead) and keeps its ranges' flag, by which the model judges it at its header
 * revision; any other txn (and one nested in it) is one linearizable request whatever its ranges say.
 */
function txnInput(txn: TxnRequest, serializable = isSerializableTxn(txn)): EtcdRequest {
  const op = (each: RequestOp) => opInput(each, serializable);
  return { kind: 'txn', compare: (txn.compare ?? []).map(compareInput), success: (txn.success ?? []).map(op), failure: (txn.failure ?? []).map(op) };
}

function opInput(op: RequestOp, serializable: boolean): EtcdRequest {
  if (op.requestRange !== undefined) return rangeInput({ ...op.requestRange, serializable });
  if (op.requestPut !== undefined) return writeInput({ method: 'Put', request: op.requestPut });
  if (op.requestDeleteRange !== undefined) return writeInput({ method: 'DeleteRange', request: op.requestDeleteRange });
  if (op.requestTxn !== undefined) return txnInput(op.requestTxn, false);
  throw new AssertionError('an empty txn op');
}

const compareResults = { EQUAL: '=', NOT_EQUAL: '!=', LESS: '<', GREATER: '>' } as const;

function compareInput(compare: Compare): EtcdCompare {
  const result = compareResults[compare.result];
  switch (compare.target) {
    case 'VALUE':
      return { key: compare.key, target: 'value', result, operand: compare.value ?? '' };
    case 'VERSION':
      return { key: compare.key, target: 'version', result, operand: compare.version ?? 0 };
    case 'CREATE':
      return { key: compare.key, target: 'create', result, operand: compare.createRevision ?? 0 };
    case 'MOD':
      return { key: compare.key, target: 'mod', result, operand: compare.modRevision ?? 0 };
    default:
      throw new AssertionError(`a compare the checker's model cannot express: ${compare.target}`);
  }
}

/** The model's response: every field the call asked for, the header revision at the top level only. */
export function modelResponse(request: ServerRequest, response: unknown, top: boolean): EtcdResponse {
  const revision = top ? { revision: (response as { header: { revision: number } }).header.revision } : {};
  switch (request.method) {
    case 'Range': {
      const range = response as RangeResponse;
      if (request.request.countOnly === true) return { ...revision, count: range.count };
      return { ...revision, kvs: range.kvs.map(keyValue), count: range.count, more: range.more };
    }
    case 'Put': {
      const put = response as PutResponse;
      return request.request.prevKv === true ? { ...revision, prevKv: put.prevKv === undefined ? null : keyValue(put.prevKv) } : revision;
    }
    case 'DeleteRange': {
      const deleted = response as DeleteRangeResponse;
      return { ...revision, deleted: deleted.deleted, ...(request.request.prevKv === true ? { prevKvs: deleted.prevKvs.map(keyValue) } : {}) };
    }
    case 'Txn': {
      const txn = response as TxnResponse;
      const branch = (txn.succeeded ? request.request.success : request.request.failure) ?? [];
      return { ...revision, succeeded: txn.succeeded, responses: txn.responses.map((op, index) => opResponse(branch[index]!, op)) };
    }
    case 'LeaseRevoke':
    case 'Compact':
      return revision;
    default:
      throw new AssertionError(`${request.method} has no key-value response`);
  }
}

function opResponse(op: RequestOp, response: ResponseOp): EtcdResponse {
  if (op.requestRange !== undefined) return modelResponse({ method: 'Range', request: op.requestRange }, response.responseRange, false);
  if (op.requestPut !== undefined) return modelResponse({ method: 'Put', request: op.requestPut }, response.responsePut, false);
  if (op.requestDeleteRange !== undefined) return modelResponse({ method: 'DeleteRange', request: op.requestDeleteRange }, response.responseDeleteRange, false);
  return modelResponse({ method: 'Txn', request: op.requestTxn! }, response.responseTxn, false);
}

function keyValue(kv: KeyValue): EtcdKeyValue {
  return { key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease };
}
