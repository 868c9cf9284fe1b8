import { AssertionError } from '../../base/assert.ts';
import type { Compare, KeyValue, RequestOp, ResponseOp, TxnResponse } from '../../api/index.ts';
import { ErrLeaderChanged, ErrNoLeader, ErrNotSupportedForLearner, ErrProposalDropped, ErrRequestTooLarge, ErrTooManyRequests, GrpcCode, type EtcdError } from '../../api/index.ts';
import type { HistoryEntry } from '../../../sim/client.ts';
import { checkLinearizability } from '../../../properties/linearizability/checker.ts';
import type { Operation } from '../../../properties/linearizability/history.ts';
import { etcdModel } from '../../../properties/linearizability/models/etcd.ts';
import type { EtcdCompare, EtcdKeyValue, EtcdRequest, EtcdResponse } from '../../../properties/linearizability/models/etcdTypes.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../serverRequest.ts';

/*
 * The smoke runs' client histories, checked with the project's linearizability checker and its
 * etcd model (the etcd scenario family has the full version). Only what the model knows is kept:
 * puts, deletes, ranges at the latest revision and single-key txns; compactions change no key.
 */

/** Errors that say the call surely took no effect: refused before it reached Raft. */
const surelyNotApplied: ReadonlySet<EtcdError> = new Set([ErrNoLeader, ErrTooManyRequests, ErrRequestTooLarge, ErrProposalDropped, ErrLeaderChanged, ErrNotSupportedForLearner]);

function toModelRequest(call: ServerRequest): EtcdRequest | null {
  switch (call.method) {
    case 'Put':
      return { kind: 'put', key: call.request.key, value: call.request.value ?? '' };
    case 'DeleteRange':
      return { kind: 'delete', key: call.request.key, ...(call.request.rangeEnd ? { rangeEnd: call.request.rangeEnd } : {}) };
    case 'Range':
      if (call.request.serializable === true || (call.request.revision ?? 0) > 0) return null;
      return { kind: 'range', key: call.request.key, ...(call.request.rangeEnd ? { rangeEnd: call.request.rangeEnd } : {}), ...(call.request.limit ? { limit: call.request.limit } : {}) };
    case 'Txn': {
      const ops = (list: readonly RequestOp[] | undefined) => (list ?? []).map((op) => toModelRequest(opCall(op)));
      const success = ops(call.request.success);
      const failure = ops(call.request.failure);
      if (success.includes(null) || failure.includes(null)) return null;
      return { kind: 'txn', compare: (call.request.compare ?? []).map(toModelCompare), success: success as EtcdRequest[], failure: failure as EtcdRequest[] };
    }
    default:
      return null;
  }
}

function opCall(op: RequestOp): ServerRequest {
  if (op.requestPut !== undefined) return { method: 'Put', request: op.requestPut };
  if (op.requestDeleteRange !== undefined) return { method: 'DeleteRange', request: op.requestDeleteRange };
  if (op.requestRange !== undefined) return { method: 'Range', request: { ...op.requestRange, serializable: false } };
  return { method: 'Status', request: {} };
}

function toModelCompare(compare: Compare): EtcdCompare {
  const result = ({ EQUAL: '=', NOT_EQUAL: '!=', LESS: '<', GREATER: '>' } as const)[compare.result];
  switch (compare.target) {
    case 'VALUE':
      return { key: compare.key, target: 'value', result, operand: compare.value ?? '' };
    case 'VERSION':
      return { key: compare.key, target: 'version', result, operand: compare.version ?? 0 };
    case 'CREATE':
      return { key: compare.key, target: 'create', result, operand: compare.createRevision ?? 0 };
    default:
      return { key: compare.key, target: 'mod', result, operand: compare.modRevision ?? 0 };
  }
}

function kv(keyValue: KeyValue): EtcdKeyValue {
  return { key: keyValue.key, value: keyValue.value, createRevision: keyValue.createRevision, modRevision: keyValue.modRevision, version: keyValue.version };
}

function toModelResponse(reply: ServerReply, nested = false): EtcdResponse {
  if (isErrorReply(reply)) throw new AssertionError('an error has no response');
  const revision = nested ? {} : { revision: reply.response.header.revision };
  switch (reply.method) {
    case 'Range':
      return { ...revision, kvs: reply.response.kvs.map(kv), count: reply.response.count, more: reply.response.more };
    case 'DeleteRange':
      return { ...revision, deleted: reply.response.deleted };
    case 'Txn':
      return { ...revision, succeeded: reply.response.succeeded, responses: reply.response.responses.map((op) => toModelResponse(opReply(op), true)) };
    default:
      return { ...revision };
  }
}

function opReply(op: ResponseOp): ServerReply {
  if (op.responseRange !== undefined) return { method: 'Range', response: op.responseRange };
  if (op.responsePut !== undefined) return { method: 'Put', response: op.responsePut };
  if (op.responseDeleteRange !== undefined) return { method: 'DeleteRange', response: op.responseDeleteRange };
  return { method: 'Txn', response: op.responseTxn as TxnResponse };
}

/** The history as the checker's operations, or null when it holds a call the model cannot say anything about. */
export function modelHistory(history: readonly HistoryEntry<ServerRequest, ServerReply>[]): Operation<EtcdRequest, EtcdResponse>[] {
  const operations: Operation<EtcdRequest, EtcdResponse>[] = [];
  for (const entry of history) {
    const input = toModelRequest(entry.request);
    if (input === null) continue;
    const reply = entry.reply;
    let outcome: 'ok' | 'fail' | 'unknown' = 'unknown';
    if (entry.outcome === 'ok' && reply !== null && !isErrorReply(reply)) outcome = 'ok';
    else if (reply !== null && isErrorReply(reply) && (surelyNotApplied.has(reply.error) || reply.error.code === GrpcCode.InvalidArgument || input.kind === 'range')) outcome = 'fail';
    operations.push({
      process: entry.client,
      invokedAt: entry.invokeUs,
      completedAt: outcome === 'unknown' ? Infinity : entry.completeUs!,
      input,
      output: outcome === 'ok' ? toModelResponse(reply!) : undefined,
      outcome,
    });
  }
  return operations;
}

/** Throws when the history is not linearizable. An inconclusive check passes: histories with many unknown writes (slow disks, 1 s client timeouts) can take the checker past any budget; 1M steps keep its memory near 200 MB. */
export function checkHistory(history: readonly HistoryEntry<ServerRequest, ServerReply>[]): void {
  const result = checkLinearizability(etcdModel, modelHistory(history), { budget: { maxSteps: 1_000_000 } });
  if (result.verdict === 'not-linearizable') throw new AssertionError(`the clients' history is not linearizable (partition ${result.violation?.partition}, stuck at ${result.violation?.stuck.join(',')})`);
}
