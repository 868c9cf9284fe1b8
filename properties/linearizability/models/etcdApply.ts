/**
 * One etcd request applied to the model's state and checked against the response the client got,
 * following etcd's mvcc store and apply code (server/etcdserver/apply.go, server/storage/mvcc):
 *
 * - A request or txn that changes something creates one revision (`storeTxnWrite.End`: only when
 *   there were changes — deleting a missing key creates none); reads inside a txn see its earlier
 *   writes; a put keeps the key's create revision and counts its version up, a delete ends the
 *   key's generation.
 * - A range reads the keyspace at `revision` when given (0 or absent: the latest); above the
 *   current revision it fails with ErrFutureRev, below the compaction revision with ErrCompacted
 *   (the compaction revision itself stays readable). `count` is the number of keys in the range,
 *   `more` whether `limit` cut it; keys-only drops values, count-only drops the kvs.
 * - Compact(r) fails with ErrCompacted when r is at or below the compaction revision, with
 *   ErrFutureRev when above the current revision; it changes no revision.
 * - A txn compare on a range needs every key in it to hold; on a missing key or an empty range a
 *   value compare is false and the others compare zeros (applyCompare).
 * - An error response means nothing changed; ErrCompacted and ErrFutureRev must be the error the
 *   request meets in this state, other errors are not the model's to check.
 */
import { keysAt, storedKey, showsStoredKey, type EtcdState, type StoredKey } from './etcdState.ts';
import { modelledError, rangeHigh, type EtcdCompactRequest, type EtcdCompare, type EtcdKeyValue, type EtcdRangeRequest, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';
import { mapDelete, mapForRange, mapGet, mapSet, type SortedMap } from './persistentSortedMap.ts';

/** What `unobservedWrite` leaves at a key only deletes look at: one value, so that states merge. */
export const existingStandIn = storedKey('', 0, 0, 0, 0);

/** A request being applied: the keyspace so far and whether anything changed. */
export interface Applying {
  readonly state: EtcdState;
  keys: SortedMap<StoredKey>;
  readonly writeRevision: number;
  changed: boolean;
}

/** What applying a request found: it matches the response (or none is known), it does not, or it fails with an error. */
export type Applied = 'matches' | 'differs' | 'compacted' | 'future';

export function applying(state: EtcdState): Applying {
  return { state, keys: state.keys, writeRevision: state.revision + 1, changed: false };
}

/** Applies `request` (not a compaction) in `into`; `expected` is the response, when known. */
export function execute(request: EtcdRequest, expected: EtcdResponse | undefined, into: Applying): Applied {
  switch (request.kind) {
    case 'range':
      return executeRange(request, expected, into);
    case 'put':
      return executePut(request.key, request.value, request.lease ?? 0, expected, into);
    case 'delete':
      return executeDelete(request.key, request.rangeEnd, expected, into);
    case 'txn': {
      const succeeded = request.compare.every((compare) => compareHolds(compare, into.keys));
      if (expected?.succeeded !== undefined && expected.succeeded !== succeeded) return 'differs';
      const branch = succeeded ? request.success : request.failure;
      const responses = expected?.responses;
      if (responses !== undefined && responses.length !== branch.length) return 'differs';
      for (let index = 0; index < branch.length; index++) {
        const applied = execute(branch[index]!, responses?.[index], into);
        if (applied !== 'matches') return applied;
      }
      return 'matches';
    }
    case 'leaseGrant':
      return 'matches';
    case 'leaseRevoke': {
      const attached: string[] = [];
      mapForRange(into.keys, '', undefined, (key, stored) => (stored.lease === request.lease ? attached.push(key) > 0 : true));
      for (const key of attached) into.keys = mapDelete(into.keys, key);
      if (attached.length > 0) into.changed = true;
      return 'matches';
    }
    case 'compact':
      // A compaction is not allowed inside a txn (it is not a RequestOp); the codec refuses it.
      return 'differs';
    case 'unobservedWrite':
      if (request.key !== undefined && mapGet(into.keys, request.key) !== existingStandIn) into.keys = mapSet(into.keys, request.key, existingStandIn);
      into.changed = true;
      return 'matches';
  }
}

/** The error a compaction to `request.revision` meets in `state`, if any. */
export function compactionError(request: EtcdCompactRequest, state: EtcdState): 'compacted' | 'future' | undefined {
  if (request.revision <= state.compactRevision) return 'compacted';
  if (request.revision > state.revision) return 'future';
  return undefined;
}

function executeRange(request: EtcdRangeRequest, expected: EtcdResponse | undefined, into: Applying): Applied {
  const revision = request.revision ?? 0;
  // Inside a txn that already wrote, the txn's own revision is the current one (storeTxnWrite.Range).
  const current = into.changed ? into.writeRevision : into.state.revision;
  let keys = into.keys;
  if (revision > 0) {
    if (revision > current) return 'future';
    if (revision < into.state.compactRevision) return 'compacted';
    if (revision < current) {
      const past = keysAt(into.state, revision);
      // Before the history began the keyspace is not known: the response is taken as it is.
      if (past === null) return 'matches';
      keys = past;
    }
  }
  return expected === undefined || rangeMatches(request, expected, keys) ? 'matches' : 'differs';
}

function executePut(key: string, value: string, lease: number, expected: EtcdResponse | undefined, into: Applying): Applied {
  const previous = mapGet(into.keys, key);
  if (expected?.prevKv !== undefined && !showsPrevious(expected.prevKv, key, previous)) return 'differs';
  const created = previous === undefined ? into.writeRevision : previous.createRevision;
  const version = previous === undefined ? 1 : previous.version + 1;
  into.keys = mapSet(into.keys, key, storedKey(value, created, into.writeRevision, version, lease));
  into.changed = true;
  return 'matches';
}

function executeDelete(key: string, rangeEnd: string | undefined, expected: EtcdResponse | undefined, into: Applying): Applied {
  const doomed: [string, StoredKey][] = [];
  mapForRange(into.keys, key, rangeHigh(key, rangeEnd), (found, stored) => doomed.push([found, stored]) > 0);
  if (expected?.deleted !== undefined && expected.deleted !== doomed.length) return 'differs';
  if (expected?.prevKvs !== undefined && !showsAll(expected.prevKvs, doomed)) return 'differs';
  for (const [found] of doomed) into.keys = mapDelete(into.keys, found);
  if (doomed.length > 0) into.changed = true;
  return 'matches';
}

/** Whether a range's response shows `keys` (etcd's Range: count before limit, more when cut). */
export function rangeMatches(request: EtcdRangeRequest, expected: EtcdResponse, keys: SortedMap<StoredKey>): boolean {
  const limit = request.countOnly === true ? 0 : request.limit !== undefined && request.limit > 0 ? request.limit : Infinity;
  const kvs = expected.kvs;
  const keysOnly = request.keysOnly === true;
  let count = 0;
  let shown = true;
  const needsCount = expected.count !== undefined || expected.more !== undefined;
  mapForRange(keys, request.key, rangeHigh(request.key, request.rangeEnd), (found, stored) => {
    if (kvs !== undefined && count < limit) {
      const kv = kvs[count];
      shown = kv !== undefined && showsStoredKey(kv, found, stored, keysOnly);
    }
    count++;
    // Past the limit only the count matters; stop early when the response has none.
    return shown && (count < limit || needsCount);
  });
  if (!shown) return false;
  if (kvs !== undefined && kvs.length !== Math.min(count, limit)) return false;
  if (expected.count !== undefined && expected.count !== count) return false;
  return expected.more === undefined || expected.more === (request.countOnly !== true && count > limit);
}

function compareHolds(compare: EtcdCompare, keys: SortedMap<StoredKey>): boolean {
  if (compare.rangeEnd === undefined || compare.rangeEnd === '') return compareKey(compare, mapGet(keys, compare.key));
  let any = false;
  let holds = true;
  mapForRange(keys, compare.key, rangeHigh(compare.key, compare.rangeEnd), (_, stored) => {
    any = true;
    holds = compareKey(compare, stored);
    return holds;
  });
  return any ? holds : compareKey(compare, undefined);
}

function compareKey(compare: EtcdCompare, stored: StoredKey | undefined): boolean {
  if (compare.target === 'value') {
    if (stored === undefined) return false;
    return ordered(stored.value, compare.operand, compare.result);
  }
  return ordered(stored === undefined ? 0 : numberTarget(compare.target, stored), compare.operand, compare.result);
}

function numberTarget(target: Exclude<EtcdCompare['target'], 'value'>, stored: StoredKey): number {
  switch (target) {
    case 'version':
      return stored.version;
    case 'create':
      return stored.createRevision;
    case 'mod':
      return stored.modRevision;
    case 'lease':
      return stored.lease;
  }
}

function ordered(actual: string | number, operand: string | number, result: EtcdCompare['result']): boolean {
  switch (result) {
    case '=':
      return actual === operand;
    case '!=':
      return actual !== operand;
    case '<':
      return actual < operand;
    case '>':
      return actual > operand;
  }
}

function showsPrevious(shown: EtcdKeyValue | null, key: string, previous: StoredKey | undefined): boolean {
  return shown === null ? previous === undefined : previous !== undefined && showsStoredKey(shown, key, previous);
}

function showsAll(shown: readonly EtcdKeyValue[], entries: readonly [string, StoredKey][]): boolean {
  return shown.length === entries.length && entries.every(([key, stored], index) => showsStoredKey(shown[index]!, key, stored));
}

/** Whether `error` is what a request that met `met` answers (unmodelled errors always pass). */
export function errorFits(error: NonNullable<EtcdResponse['error']>, met: Applied): boolean {
  const modelled = modelledError(error);
  return modelled === undefined || modelled === met;
}
