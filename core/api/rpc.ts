import type { Bytes } from './bytes.ts';
import type { KeyValue } from './kv.ts';

/*
 * etcd's v3 KV and maintenance messages (etcdserverpb/rpc.proto), named as protobufjs renders them:
 * fields in camelCase, enums as their proto names, each oneof as optional fields of which one is
 * set. Proto3 semantics: an absent field is its zero value (0, '', false, the first enum value),
 * so request fields are optional. int64 fields are JS numbers (safe integers).
 */

/**
 * Every response's header. The store fills `revision` (the store's revision when the request was
 * served); the server fills the rest before replying (`withHeader`).
 */
export interface ResponseHeader {
  readonly clusterId: number;
  readonly memberId: number;
  readonly revision: number;
  readonly raftTerm: number;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

/**
 * Range forms (etcd's): `rangeEnd` absent or '' reads the single `key`; `"\0"` reads every key
 * from `key` on; any other end reads [key, rangeEnd) (a prefix is `prefixEnd(prefix)`); key
 * `"\0"` with end `"\0"` reads everything. `revision` <= 0 reads the latest. `limit` 0 is none.
 */
export interface RangeRequest {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly limit?: number;
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  /** Served from local state, possibly stale: the server's business, the store ignores it. */
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface RangeResponse {
  readonly header: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` let through. */
  readonly more: boolean;
  /** Keys in the range at the revision, before limit and before the min/max revision filters (etcd's). */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Bytes;
  readonly value?: Bytes;
  readonly lease?: number;
  readonly prevKv?: boolean;
  /** Keep the current value (the key must exist; `value` must be empty). */
  readonly ignoreValue?: boolean;
  /** Keep the current lease (the key must exist; `lease` must be 0). */
  readonly ignoreLease?: boolean;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly prevKv?: boolean;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

/** oneof request: exactly one should be set; none set is refused with ErrKeyNotFound (etcd's). */
export interface RequestOp {
  readonly requestRange?: RangeRequest;
  readonly requestPut?: PutRequest;
  readonly requestDeleteRange?: DeleteRangeRequest;
  readonly requestTxn?: TxnRequest;
}

/** oneof response: the one matching the request. */
export interface ResponseOp {
  readonly responseRange?: RangeResponse;
  readonly responsePut?: PutResponse;
  readonly responseDeleteRange?: DeleteRangeResponse;
  readonly responseTxn?: TxnResponse;
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

/**
 * One txn condition. The operand is the oneof field that matches `target` (`version`,
 * `createRevision`, `modRevision`, `value`, `lease`); absent means its zero value. With
 * `rangeEnd`, every key in the range must satisfy it. A missing key compares as a KeyValue of
 * zeros, except that a VALUE compare on a missing key is always false (etcd's applyCompare).
 */
export interface Compare {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly version?: number;
  readonly createRevision?: number;
  readonly modRevision?: number;
  readonly value?: Bytes;
  readonly lease?: number;
}

export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly RequestOp[];
  readonly failure?: readonly RequestOp[];
}

export interface TxnResponse {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  /** One per op of the branch that ran, in order. */
  readonly responses: readonly ResponseOp[];
}

export interface CompactionRequest {
  readonly revision: number;
  /** Reply only once the compacted revisions are physically removed: the server's business. */
  readonly physical?: boolean;
}

export interface CompactionResponse {
  readonly header: ResponseHeader;
}

export interface HashKVRequest {
  /** 0 hashes at the current revision. */
  readonly revision?: number;
}

export interface HashKVResponse {
  readonly header: ResponseHeader;
  /** CRC-32C of the key bucket up to `hashRevision` (etcd's kvHasher): equal on members that applied the same writes. */
  readonly hash: number;
  /** The store's compaction revision (-1 when it never compacted, as etcd reports). */
  readonly compactRevision: number;
  readonly hashRevision: number;
}

/** A header carrying only the store's revision; the server completes it. */
export function revisionHeader(revision: number): ResponseHeader {
  return { clusterId: 0, memberId: 0, revision, raftTerm: 0 };
}

/** The response with its header completed by the server (a shallow copy; responses are immutable). */
export function withHeader<Response extends { readonly header: ResponseHeader }>(
  response: Response,
  header: { readonly clusterId: number; readonly memberId: number; readonly raftTerm: number },
): Response {
  return { ...response, header: { clusterId: header.clusterId, memberId: header.memberId, revision: response.header.revision, raftTerm: header.raftTerm } };
}

export type RequestOpKind = 'requestRange' | 'requestPut' | 'requestDeleteRange' | 'requestTxn';

/** Which request a RequestOp holds; null when none or more than one is set (not a valid oneof). */
export function requestOpKind(op: RequestOp): RequestOpKind | null {
  let kind: RequestOpKind | null = null;
  let count = 0;
  if (op.requestRange !== undefined) (kind = 'requestRange'), count++;
  if (op.requestPut !== undefined) (kind = 'requestPut'), count++;
  if (op.requestDeleteRange !== undefined) (kind = 'requestDeleteRange'), count++;
  if (op.requestTxn !== undefined) (kind = 'requestTxn'), count++;
  return count === 1 ? kind : null;
}
