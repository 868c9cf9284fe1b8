import type { Bytes } from './bytes.ts';
import {
  ErrDuplicateKey,
  ErrEmptyKey,
  ErrIntegerTooLarge,
  ErrInvalidSortOption,
  ErrKeyNotFound,
  ErrLeaseProvided,
  ErrTooManyOps,
  ErrValueProvided,
  type EtcdError,
} from './errors.ts';
import { requestOpKind, type Compare, type DeleteRangeRequest, type PutRequest, type RangeRequest, type RequestOp, type TxnRequest } from './rpc.ts';

/*
 * The checks etcd makes at the API edge, before a request is proposed (api/v3rpc/key.go): the
 * server calls these and refuses a request that fails one without proposing it. Each returns the
 * error or null. They also refuse what a JS number cannot hold (detcd's own, see ErrIntegerTooLarge).
 */

/** etcd's default `--max-txn-ops`. */
export const defaultMaxTxnOps = 128;

const sortOrders: ReadonlySet<string> = new Set(['NONE', 'ASCEND', 'DESCEND']);
const sortTargets: ReadonlySet<string> = new Set(['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']);

function unsafeInteger(...values: (number | undefined)[]): boolean {
  for (const value of values) if (value !== undefined && !Number.isSafeInteger(value)) return true;
  return false;
}

export function checkRangeRequest(request: RangeRequest): EtcdError | null {
  if (unsafeInteger(request.limit, request.revision, request.minModRevision, request.maxModRevision, request.minCreateRevision, request.maxCreateRevision)) return ErrIntegerTooLarge;
  if (request.key.length === 0) return ErrEmptyKey;
  // etcd's main branch refuses unknown enum values; v3.4 silently ignored them.
  if (request.sortOrder !== undefined && !sortOrders.has(request.sortOrder)) return ErrInvalidSortOption;
  if (request.sortTarget !== undefined && !sortTargets.has(request.sortTarget)) return ErrInvalidSortOption;
  return null;
}

export function checkPutRequest(request: PutRequest): EtcdError | null {
  if (unsafeInteger(request.lease)) return ErrIntegerTooLarge;
  if (request.key.length === 0) return ErrEmptyKey;
  if (request.ignoreValue === true && (request.value ?? '').length !== 0) return ErrValueProvided;
  if (request.ignoreLease === true && (request.lease ?? 0) !== 0) return ErrLeaseProvided;
  return null;
}

export function checkDeleteRequest(request: DeleteRangeRequest): EtcdError | null {
  if (request.key.length === 0) return ErrEmptyKey;
  return null;
}

function checkCompare(compare: Compare): EtcdError | null {
  if (unsafeInteger(compare.version, compare.createRevision, compare.modRevision, compare.lease)) return ErrIntegerTooLarge;
  if (compare.key.length === 0) return ErrEmptyKey;
  return null;
}

/**
 * etcd's `checkTxnRequest`: at most `maxTxnOps` compares and ops per branch, no empty key, every op
 * well formed. A nested txn may use only what its parent left (`maxTxnOps - opc`, as etcd has it).
 */
export function checkTxnRequest(request: TxnRequest, maxTxnOps = defaultMaxTxnOps): EtcdError | null {
  const compares = request.compare ?? [];
  const success = request.success ?? [];
  const failure = request.failure ?? [];
  const opCount = Math.max(compares.length, success.length, failure.length);
  if (opCount > maxTxnOps) return ErrTooManyOps;
  for (const compare of compares) {
    const refused = checkCompare(compare);
    if (refused !== null) return refused;
  }
  for (const op of success) {
    const refused = checkRequestOp(op, maxTxnOps - opCount);
    if (refused !== null) return refused;
  }
  for (const op of failure) {
    const refused = checkRequestOp(op, maxTxnOps - opCount);
    if (refused !== null) return refused;
  }
  return null;
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): EtcdError | null {
  switch (requestOpKind(op)) {
    case 'requestRange':
      return checkRangeRequest(op.requestRange!);
    case 'requestPut':
      return checkPutRequest(op.requestPut!);
    case 'requestDeleteRange':
      return checkDeleteRequest(op.requestDeleteRange!);
    case 'requestTxn':
      return checkTxnRequest(op.requestTxn!, maxTxnOps);
    case null:
      return ErrKeyNotFound; // etcd: "empty op / nil entry"; detcd: also an op with two requests set
  }
}

/** What etcd's v3rpc `Txn` checks before proposing: the shape, then put/delete overlaps in each branch. */
export function validateTxn(request: TxnRequest, maxTxnOps = defaultMaxTxnOps): EtcdError | null {
  const refused = checkTxnRequest(request, maxTxnOps);
  if (refused !== null) return refused;
  const success = checkIntervals(request.success ?? []);
  if (!('puts' in success)) return success;
  const failure = checkIntervals(request.failure ?? []);
  return 'puts' in failure ? null : failure;
}

/**
 * A half-open key interval as etcd's `adt.StringAffineInterval`: `end` '' is +infinity, and
 * nothing else is special — in particular a delete's range end `"\0"` is just the string "\0", so
 * [key, "\0") is empty and overlaps nothing (etcd's checkIntervals lets such deletes through).
 */
interface Interval {
  readonly begin: Bytes;
  readonly end: Bytes;
}

/** a < b with '' as +infinity. */
function affineLess(a: Bytes, b: Bytes): boolean {
  if (a.length === 0) return false;
  if (b.length === 0) return true;
  return a < b;
}

function overlaps(x: Interval, y: Interval): boolean {
  return affineLess(x.begin, y.end) && affineLess(y.begin, x.end);
}

const pointOf = (key: Bytes): Interval => ({ begin: key, end: `${key}\0` });
const everything: Interval = { begin: '\0', end: '' };
const intersectsPoint = (deletes: readonly Interval[], key: Bytes) => {
  const point = pointOf(key);
  return deletes.some((interval) => overlaps(interval, point));
};

/**
 * etcd's `checkIntervals` (api/v3rpc/key.go), rule for rule, quirks included: within one branch
 * a key may be put at most once and not inside a range deleted at the same level or by a nested
 * txn checked before it; a nested txn's then/else may put the same key (only one runs). Deletes
 * may overlap each other. A nested txn's puts are checked only against deletes seen so far, so a
 * put in an earlier nested txn and a delete in a later one pass, as in etcd.
 */
export function checkIntervals(ops: readonly RequestOp[]): { readonly puts: ReadonlySet<Bytes>; readonly deletes: readonly Interval[] } | EtcdError {
  const deletes: Interval[] = [];
  for (const op of ops) {
    if (requestOpKind(op) !== 'requestDeleteRange') continue;
    const del = op.requestDeleteRange!;
    const end = del.rangeEnd ?? '';
    deletes.push(end.length !== 0 ? { begin: del.key, end } : pointOf(del.key));
  }
  const puts = new Set<Bytes>();
  for (const op of ops) {
    if (requestOpKind(op) !== 'requestTxn') continue;
    const txn = op.requestTxn!;
    const then = checkIntervals(txn.success ?? []);
    if (!('puts' in then)) return then;
    const otherwise = checkIntervals(txn.failure ?? []);
    if (!('puts' in otherwise)) return otherwise;
    for (const key of then.puts) {
      if (puts.has(key) || intersectsPoint(deletes, key)) return ErrDuplicateKey;
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) return ErrDuplicateKey;
      if (intersectsPoint(deletes, key)) return ErrDuplicateKey;
      puts.add(key);
    }
    for (const interval of [...then.deletes, ...otherwise.deletes]) if (overlaps(interval, everything)) deletes.push(interval);
  }
  for (const op of ops) {
    if (requestOpKind(op) !== 'requestPut') continue;
    const put = op.requestPut!;
    if (puts.has(put.key) || intersectsPoint(deletes, put.key)) return ErrDuplicateKey;
    puts.add(put.key);
  }
  return { puts, deletes };
}
