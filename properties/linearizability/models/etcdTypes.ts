/**
 * The requests and responses of etcd's v3 KV API as the checker sees them (`rpc.proto`: Range,
 * Put, DeleteRange, Txn), with the field names of etcd's JSON gateway in camelCase. Only what a
 * history needs is kept; leases, historical reads and watch live elsewhere.
 */

export type EtcdRequest = EtcdRangeRequest | EtcdPutRequest | EtcdDeleteRequest | EtcdTxnRequest;

/**
 * `rangeEnd` absent: the single key. Otherwise the keys in [key, rangeEnd), where a rangeEnd of
 * "\u0000" means every key from `key` on (etcd's convention). Keys compare as JavaScript strings,
 * which is etcd's byte order for ASCII keys.
 */
export interface EtcdRangeRequest {
  readonly kind: 'range';
  readonly key: string;
  readonly rangeEnd?: string;
  /** At most this many kvs in the response; 0 or absent means no limit. */
  readonly limit?: number;
}

export interface EtcdPutRequest {
  readonly kind: 'put';
  readonly key: string;
  readonly value: string;
}

export interface EtcdDeleteRequest {
  readonly kind: 'delete';
  readonly key: string;
  readonly rangeEnd?: string;
}

/** etcd's `Compare`, for a single key. */
export interface EtcdCompare {
  readonly key: string;
  readonly target: 'value' | 'version' | 'create' | 'mod';
  readonly result: '=' | '!=' | '<' | '>';
  /** A string for `value`, a number for the others. */
  readonly operand: string | number;
}

export interface EtcdTxnRequest {
  readonly kind: 'txn';
  readonly compare: readonly EtcdCompare[];
  readonly success: readonly EtcdRequest[];
  readonly failure: readonly EtcdRequest[];
}

/** A key as a response shows it. Revision fields that a response leaves out are not checked. */
export interface EtcdKeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision?: number;
  readonly modRevision?: number;
  readonly version?: number;
}

/**
 * One shape for every response; which fields matter follows the request. The checker compares
 * every field that is present with what the model computes, and ignores absent ones.
 */
export interface EtcdResponse {
  /** The header revision: the store's revision after the request (top level only). */
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
}

/** The rangeEnd that means "every key from `key` on". */
export const rangeToEnd = '\u0000';

/** The upper bound of a range for iteration: undefined means unbounded, key + "\0" one key. */
export function rangeHigh(key: string, rangeEnd: string | undefined): string | undefined {
  if (rangeEnd === undefined) return `${key}\u0000`;
  return rangeEnd === rangeToEnd ? undefined : rangeEnd;
}
