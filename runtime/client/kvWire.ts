import type {
  Compare,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../../core/api/index.ts';
import { SlabKeyValue } from '../../core/mvcc/index.ts';

/*
 * etcd's KV messages between the wire (proto-loader's objects: bytes as Buffers, int64 as JS
 * numbers, enums by name, each oneof named by a virtual field) and core/api (bytes as byte
 * strings, one character per byte). Only these messages carry bytes; the Cluster and Maintenance
 * ones pass through as they are. Numbers are checked at the API edge by core/api (a value at or
 * beyond 2^53 arrives rounded and is refused there as not a safe integer).
 */

/** A proto-loader object: fields by camelCase name. */
export type Wire = Record<string, unknown>;

export function bytesOf(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('latin1') : '';
}

function bufferOf(bytes: string): Buffer {
  return Buffer.from(bytes, 'latin1');
}

/**
 * A wire number, a small integer as V8's small integer: proto-loader's int64 → Number
 * (`Long#toNumber`, high * 2^32 + low) hands out heap numbers, 0 included, and one reaching a
 * KeyValue's `lease` made V8 store that field of every KeyValue as a boxed double (16 bytes and an
 * object more per put and per tombstone; docs/journal/runtime-performance.md, gcheap).
 */
function numberOf(value: unknown): number {
  if (typeof value !== 'number') return 0;
  return value === (value | 0) ? value | 0 : value;
}

function listOf(value: unknown): Wire[] {
  return Array.isArray(value) ? (value as Wire[]) : [];
}

export function rangeRequest(wire: Wire): RangeRequest {
  return {
    key: bytesOf(wire.key),
    rangeEnd: bytesOf(wire.rangeEnd),
    limit: numberOf(wire.limit),
    revision: numberOf(wire.revision),
    sortOrder: (wire.sortOrder as RangeRequest['sortOrder']) ?? 'NONE',
    sortTarget: (wire.sortTarget as RangeRequest['sortTarget']) ?? 'KEY',
    serializable: wire.serializable === true,
    keysOnly: wire.keysOnly === true,
    countOnly: wire.countOnly === true,
    minModRevision: numberOf(wire.minModRevision),
    maxModRevision: numberOf(wire.maxModRevision),
    minCreateRevision: numberOf(wire.minCreateRevision),
    maxCreateRevision: numberOf(wire.maxCreateRevision),
  };
}

export function putRequest(wire: Wire): PutRequest {
  return { key: bytesOf(wire.key), value: bytesOf(wire.value), lease: numberOf(wire.lease), prevKv: wire.prevKv === true, ignoreValue: wire.ignoreValue === true, ignoreLease: wire.ignoreLease === true };
}

export function deleteRangeRequest(wire: Wire): DeleteRangeRequest {
  return { key: bytesOf(wire.key), rangeEnd: bytesOf(wire.rangeEnd), prevKv: wire.prevKv === true };
}

export function compactionRequest(wire: Wire): CompactionRequest {
  return { revision: numberOf(wire.revision), physical: wire.physical === true };
}

function compare(wire: Wire): Compare {
  const base = { result: wire.result as Compare['result'], target: wire.target as Compare['target'], key: bytesOf(wire.key), rangeEnd: bytesOf(wire.rangeEnd) };
  // The operand is the oneof member that is set (proto-loader names it in `targetUnion`).
  switch (wire.targetUnion) {
    case 'version':
      return { ...base, version: numberOf(wire.version) };
    case 'createRevision':
      return { ...base, createRevision: numberOf(wire.createRevision) };
    case 'modRevision':
      return { ...base, modRevision: numberOf(wire.modRevision) };
    case 'value':
      return { ...base, value: bytesOf(wire.value) };
    case 'lease':
      return { ...base, lease: numberOf(wire.lease) };
    default:
      return base;
  }
}

function requestOp(wire: Wire): RequestOp {
  const inner = (wire[wire.request as string] ?? {}) as Wire;
  switch (wire.request) {
    case 'requestRange':
      return { requestRange: rangeRequest(inner) };
    case 'requestPut':
      return { requestPut: putRequest(inner) };
    case 'requestDeleteRange':
      return { requestDeleteRange: deleteRangeRequest(inner) };
    case 'requestTxn':
      return { requestTxn: txnRequest(inner) };
    default:
      return {}; // an empty op: refused by the API-edge check as etcd does
  }
}

export function txnRequest(wire: Wire): TxnRequest {
  return { compare: listOf(wire.compare).map(compare), success: listOf(wire.success).map(requestOp), failure: listOf(wire.failure).map(requestOp) };
}

export function keyValue(kv: KeyValue): Wire {
  return { key: bufferOf(kv.key), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: valueBuffer(kv), lease: kv.lease };
}

/** A KeyValue's value as a Buffer: a slab value's a view of its bytes (never written again: core/mvcc/valueSlabs.ts), no string made. */
function valueBuffer(kv: KeyValue): Buffer {
  return kv instanceof SlabKeyValue ? Buffer.from(kv.slab.buffer, kv.slab.byteOffset + kv.offset, kv.length) : bufferOf(kv.value);
}

export function rangeResponse(response: RangeResponse): Wire {
  return { header: response.header, kvs: response.kvs.map(keyValue), more: response.more, count: response.count };
}

export function putResponse(response: PutResponse): Wire {
  return { header: response.header, ...(response.prevKv === undefined ? {} : { prevKv: keyValue(response.prevKv) }) };
}

export function deleteRangeResponse(response: DeleteRangeResponse): Wire {
  return { header: response.header, deleted: response.deleted, prevKvs: response.prevKvs.map(keyValue) };
}

function responseOp(op: ResponseOp): Wire {
  if (op.responseRange !== undefined) return { responseRange: rangeResponse(op.responseRange) };
  if (op.responsePut !== undefined) return { responsePut: putResponse(op.responsePut) };
  if (op.responseDeleteRange !== undefined) return { responseDeleteRange: deleteRangeResponse(op.responseDeleteRange) };
  if (op.responseTxn !== undefined) return { responseTxn: txnResponse(op.responseTxn) };
  return {};
}

export function txnResponse(response: TxnResponse): Wire {
  return { header: response.header, succeeded: response.succeeded, responses: response.responses.map(responseOp) };
}
