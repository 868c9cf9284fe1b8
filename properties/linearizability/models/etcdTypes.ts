/**
 * The requests and responses of etcd's v3 KV API as the checker sees them (`rpc.proto`: Range,
 * Put, DeleteRange, Txn, Compact), with the field names of etcd's JSON gateway in camelCase. This
 * is the `etcd` model's part of the JSON-lines history format (README, "History format"); every
 * field added since version 1 of the format is optional, so older histories read the same.
 *
 * Keys and values are strings compared in code point order: etcd's byte order for UTF-8 text,
 * and for byte strings written one byte per character (core/api's `Bytes`). Lease ids are opaque
 * numbers carried into the keys they are attached to (leases themselves are not modelled yet).
 */

export type EtcdRequest = EtcdRangeRequest | EtcdPutRequest | EtcdDeleteRequest | EtcdTxnRequest | EtcdCompactRequest | EtcdLeaseRequest | EtcdUnobservedWrite;

/**
 * `rangeEnd` absent or "": the single key. "\u0000": every key from `key` on (so key "" with
 * "\u0000" is every key). Otherwise the keys in [key, rangeEnd) — a prefix p is [p, p+1).
 */
export interface EtcdRangeRequest {
  readonly kind: 'range';
  readonly key: string;
  readonly rangeEnd?: string;
  /** At most this many kvs in the response; 0 or absent means no limit. */
  readonly limit?: number;
  /** Read the keyspace as of this revision (0 or absent: the latest). */
  readonly revision?: number;
  /** Values left out of the kvs (etcd returns them empty). */
  readonly keysOnly?: boolean;
  /** Only the count: no kvs. */
  readonly countOnly?: boolean;
  /**
   * Served from one member's local state, which may be stale: not linearizable. Checked as etcd
   * guarantees it: the response shows the keyspace at its header revision, a revision the
   * history really went through, no later than the latest one when the read completed.
   */
  readonly serializable?: boolean;
}

export interface EtcdPutRequest {
  readonly kind: 'put';
  readonly key: string;
  readonly value: string;
  /** The lease to attach the key to (0 or absent: none). */
  readonly lease?: number;
  /** Whether the previous kv was asked for (the response's `prevKv` is checked when present). */
  readonly prevKv?: boolean;
}

export interface EtcdDeleteRequest {
  readonly kind: 'delete';
  readonly key: string;
  readonly rangeEnd?: string;
  readonly prevKv?: boolean;
}

/**
 * etcd's `Compare`: on one key, or with `rangeEnd` on every key of a range, which must all
 * satisfy it. A missing key (or an empty range) compares as a key of zeros (version, create,
 * mod and lease 0), except that a `value` compare on it is false (etcd's applyCompare).
 */
export interface EtcdCompare {
  readonly key: string;
  readonly rangeEnd?: string;
  readonly target: 'value' | 'version' | 'create' | 'mod' | 'lease';
  readonly result: '=' | '!=' | '<' | '>';
  /** A string for `value`, a number for the others. */
  readonly operand: string | number;
}

/**
 * A txn whose every op, in both branches, is a serializable range is served like a serializable
 * range (etcd's IsTxnSerializable: from the member's local state, no read index), and checked as
 * one: at its header revision (`isSerializableRead`). A txn of no ops is one too, as in etcd.
 */
export interface EtcdTxnRequest {
  readonly kind: 'txn';
  readonly compare: readonly EtcdCompare[];
  readonly success: readonly EtcdRequest[];
  readonly failure: readonly EtcdRequest[];
}

/** Compacts the history up to `revision`: reads below it fail with ErrCompacted from then on. */
export interface EtcdCompactRequest {
  readonly kind: 'compact';
  readonly revision: number;
  /** Whether the client waited for the physical removal (no difference to the model). */
  readonly physical?: boolean;
}

/**
 * Lease grant and revoke, as far as the keyspace sees them (lease expiry and keep-alives are
 * the lease model's, later): a grant changes no key; a revoke deletes every key attached to the
 * lease, in one revision when there is any.
 */
export interface EtcdLeaseRequest {
  readonly kind: 'leaseGrant' | 'leaseRevoke';
  readonly lease: number;
}

/**
 * Not a request of etcd's but the checker's own, never in a history (the codecs refuse it): what
 * is left of a put to a key that nothing in the history observes (`etcdUnobservedWrites.ts`).
 * It creates a revision, as the put did, and changes no key anyone can see (beyond making `key` exist).
 */
export interface EtcdUnobservedWrite {
  readonly kind: 'unobservedWrite';
  /**
   * A key whose existence, and nothing else, the history observes (only deletes look at it): it
   * exists afterwards, with a fixed stand-in value and revisions.
   */
  readonly key?: string;
}

/** A key as a response shows it. Fields that a response leaves out are not checked. */
export interface EtcdKeyValue {
  readonly key: string;
  /** Absent (or "") in a keys-only range. */
  readonly value?: string;
  readonly createRevision?: number;
  readonly modRevision?: number;
  readonly version?: number;
  readonly lease?: number;
}

/**
 * An error the server answered with, as gRPC carries it: the status code and etcd's message.
 * ErrCompacted and ErrFutureRev are checked against the model's state; any other error means
 * the request took no effect (a client that cannot tell — a timeout — records an unknown outcome).
 */
export interface EtcdError {
  readonly code: number;
  readonly message: string;
}

/** gRPC OutOfRange, etcd's code for both revision errors. */
const outOfRange = 11;
export const errCompacted: EtcdError = { code: outOfRange, message: 'etcdserver: mvcc: required revision has been compacted' };
export const errFutureRevision: EtcdError = { code: outOfRange, message: 'etcdserver: mvcc: required revision is a future revision' };

/** Which of the two modelled errors `error` is, if either. */
export function modelledError(error: EtcdError): 'compacted' | 'future' | undefined {
  if (error.code === errCompacted.code && error.message === errCompacted.message) return 'compacted';
  if (error.code === errFutureRevision.code && error.message === errFutureRevision.message) return 'future';
  return undefined;
}

/**
 * One shape for every response; which fields matter follows the request. The checker compares
 * every field that is present with what the model computes, and ignores absent ones. A response
 * with `error` has no other field.
 */
export interface EtcdResponse {
  /** The header revision: the store's revision when the request was served (top level only). */
  readonly revision?: number;
  /** Range: the kvs returned, in key order. */
  readonly kvs?: readonly EtcdKeyValue[];
  /** Range: how many keys the range held (before `limit`). */
  readonly count?: number;
  /** Range: whether `limit` cut the result. */
  readonly more?: boolean;
  /** Put: the previous kv, null when the key was absent. */
  readonly prevKv?: EtcdKeyValue | null;
  /** Delete: how many keys it deleted. */
  readonly deleted?: number;
  /** Delete: the kvs it deleted. */
  readonly prevKvs?: readonly EtcdKeyValue[];
  /** Txn: whether every compare held (so the success branch ran). */
  readonly succeeded?: boolean;
  /** Txn: one response per request of the branch that ran. */
  readonly responses?: readonly EtcdResponse[];
  /** The request failed with this error (top level only). */
  readonly error?: EtcdError;
}

/** The rangeEnd that means "every key from `key` on". */
export const rangeToEnd = '\u0000';

/**
 * The upper bound of a range for iteration: undefined means unbounded, key + "\0" the single key
 * (an absent or empty rangeEnd, as proto3 cannot tell them apart).
 */
export function rangeHigh(key: string, rangeEnd: string | undefined): string | undefined {
  if (rangeEnd === undefined || rangeEnd === '') return `${key}\u0000`;
  return rangeEnd === rangeToEnd ? undefined : rangeEnd;
}

/**
 * Whether etcd serves `request` from one member's local state, which may lag: a serializable
 * range, or a txn of serializable ranges only (etcd's IsTxnSerializable). Such a read is not
 * linearizable; the model checks it at its header revision (`stepSerializable`).
 */
export function isSerializableRead(request: EtcdRequest): boolean {
  if (request.kind === 'range') return request.serializable === true;
  return request.kind === 'txn' && request.success.every(isSerializableRange) && request.failure.every(isSerializableRange);
}

function isSerializableRange(op: EtcdRequest): boolean {
  return op.kind === 'range' && op.serializable === true;
}
