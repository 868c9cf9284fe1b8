/**
 * etcd's KV API as a sequential model: range, put, delete and txn with compares, where every
 * response carries the store revision (etcd's `ResponseHeader.revision`).
 *
 * The revision does more than get checked: it orders the history. A request that changed the
 * store created revision r and ran when the store was at r - 1; one that changed nothing ran at
 * r. So a response's revision fixes the operation's place among all others that have one, and the
 * checker's search over them becomes a sort (its `SequenceOrder`). Only operations without a
 * revision (unknown outcomes) are left to search for, and only in the gaps of the revision
 * sequence, where some unacknowledged write must have landed.
 *
 * Semantics follow etcd's mvcc store (server/storage/mvcc): a transaction bumps the revision once
 * if it changed any key (`txnWrite.End`); a delete that matched nothing changes nothing; reads in
 * a transaction see its earlier writes; a value compare on a missing key is false, the other
 * targets compare against zero (`applyCompare`).
 */
import type { Model } from '../model.ts';
import { etcdState, describeEtcdState, sameEtcdState, showsStoredKey, storedKey, type EtcdState, type StoredKey } from './etcdState.ts';
import { rangeHigh, type EtcdCompare, type EtcdKeyValue, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';
import { mapDelete, mapForRange, mapGet, mapSet, type SortedMap } from './persistentSortedMap.ts';
import { describeEtcdRequest, keysTouched } from './etcdDescribe.ts';

export interface EtcdModelOptions {
  /** The revision of the store before the history: 1 for a new etcd cluster. */
  readonly initialRevision?: number;
}

export function createEtcdModel(options: EtcdModelOptions = {}): Model<EtcdState, EtcdRequest, EtcdResponse> {
  const initial = etcdState(options.initialRevision ?? 1, undefined);
  return {
    name: 'etcd',
    init: () => initial,
    step(state, request, response) {
      const applying: Applying = { keys: state.keys, writeRevision: state.revision + 1, changed: false };
      if (!execute(request, response, applying)) return undefined;
      const revision = applying.changed ? applying.writeRevision : state.revision;
      if (response?.revision !== undefined && response.revision !== revision) return undefined;
      return applying.changed ? etcdState(revision, applying.keys) : state;
    },
    hash: (state) => state.hash,
    equal: sameEtcdState,
    readOnly: (request, response) => (response === undefined ? !mayWrite(request) : changedStore(request, response) === false),
    sequence: {
      keyOf(request, response) {
        if (response.revision === undefined) return undefined;
        const wrote = changedStore(request, response);
        if (wrote === undefined) return undefined;
        // A write that created r sits between the reads at r - 1 and the reads at r.
        return wrote ? response.revision - 0.5 : response.revision;
      },
      floor: (state) => state.revision,
      unknownFilter: gapFilter,
    },
    describeOperation: describeEtcdRequest,
    describeState: (state, focus) => describeEtcdState(state, focus === undefined ? undefined : keysTouched(focus, state)),
  };
}

export const etcdModel = createEtcdModel();

/** A request being applied: the keyspace so far and whether anything changed. */
interface Applying {
  keys: SortedMap<StoredKey>;
  readonly writeRevision: number;
  changed: boolean;
}

/** Applies `request`; false when `expected` (when known) shows something else. */
function execute(request: EtcdRequest, expected: EtcdResponse | undefined, applying: Applying): boolean {
  switch (request.kind) {
    case 'range':
      return expected === undefined || rangeMatches(request.key, request.rangeEnd, request.limit ?? 0, expected, applying.keys);
    case 'put': {
      const previous = mapGet(applying.keys, request.key);
      if (expected?.prevKv !== undefined && !showsPrevious(expected.prevKv, request.key, previous)) return false;
      const created = previous === undefined ? applying.writeRevision : previous.createRevision;
      const version = previous === undefined ? 1 : previous.version + 1;
      applying.keys = mapSet(applying.keys, request.key, storedKey(request.value, created, applying.writeRevision, version));
      applying.changed = true;
      return true;
    }
    case 'delete': {
      const doomed: [string, StoredKey][] = [];
      mapForRange(applying.keys, request.key, rangeHigh(request.key, request.rangeEnd), (key, stored) => doomed.push([key, stored]) > 0);
      if (expected?.deleted !== undefined && expected.deleted !== doomed.length) return false;
      if (expected?.prevKvs !== undefined && !showsAll(expected.prevKvs, doomed)) return false;
      for (const [key] of doomed) applying.keys = mapDelete(applying.keys, key);
      if (doomed.length > 0) applying.changed = true;
      return true;
    }
    case 'txn': {
      const succeeded = request.compare.every((compare) => compareHolds(compare, mapGet(applying.keys, compare.key)));
      if (expected?.succeeded !== undefined && expected.succeeded !== succeeded) return false;
      const branch = succeeded ? request.success : request.failure;
      const responses = expected?.responses;
      if (responses !== undefined && responses.length !== branch.length) return false;
      return branch.every((inner, index) => execute(inner, responses?.[index], applying));
    }
  }
}

function rangeMatches(key: string, rangeEnd: string | undefined, limit: number, expected: EtcdResponse, keys: SortedMap<StoredKey>): boolean {
  const cap = limit > 0 ? limit : Infinity;
  const kvs = expected.kvs;
  let count = 0;
  let shown = true;
  mapForRange(keys, key, rangeHigh(key, rangeEnd), (found, stored) => {
    if (kvs !== undefined && count < cap) {
      const kv = kvs[count];
      shown = kv !== undefined && showsStoredKey(kv, found, stored);
    }
    count++;
    // Past the limit only the count matters; stop early when the response has none.
    return shown && (count < cap || expected.count !== undefined || expected.more !== undefined);
  });
  if (!shown) return false;
  if (kvs !== undefined && kvs.length !== Math.min(count, cap)) return false;
  if (expected.count !== undefined && expected.count !== count) return false;
  return expected.more === undefined || expected.more === count > cap;
}

function compareHolds(compare: EtcdCompare, stored: StoredKey | undefined): boolean {
  if (compare.target === 'value') {
    if (stored === undefined) return false;
    return ordered(stored.value, compare.operand, compare.result);
  }
  const actual = stored === undefined ? 0 : compare.target === 'version' ? stored.version : compare.target === 'create' ? stored.createRevision : stored.modRevision;
  return ordered(actual, compare.operand, compare.result);
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

/**
 * Every kv a response shows with a mod revision says what the write that made that revision
 * wrote: that key, that value (etcd keeps one value per key and revision). In a gap of the
 * revision sequence, which only an unknown-outcome write can fill, only a request that puts
 * all of them can be the one.
 */
function gapFilter(completed: readonly (readonly [EtcdRequest, EtcdResponse])[]): (state: EtcdState, request: EtcdRequest) => boolean {
  const written = new Map<number, Map<string, string>>();
  const observe = (kv: EtcdKeyValue | null | undefined) => {
    if (kv?.modRevision === undefined) return;
    let keys = written.get(kv.modRevision);
    if (keys === undefined) written.set(kv.modRevision, (keys = new Map()));
    keys.set(kv.key, kv.value);
  };
  const visit = (response: EtcdResponse) => {
    response.kvs?.forEach(observe);
    response.prevKvs?.forEach(observe);
    observe(response.prevKv);
    response.responses?.forEach(visit);
  };
  for (const [, response] of completed) visit(response);
  return (state, request) => {
    const keys = written.get(state.revision + 1);
    return keys === undefined || [...keys].every(([key, value]) => mayPut(request, key, value));
  };
}

function mayPut(request: EtcdRequest, key: string, value: string): boolean {
  if (request.kind === 'put') return request.key === key && request.value === value;
  if (request.kind === 'txn') return [...request.success, ...request.failure].some((inner) => mayPut(inner, key, value));
  return false;
}

/** Whether the request could change the store in some state. */
function mayWrite(request: EtcdRequest): boolean {
  switch (request.kind) {
    case 'range':
      return false;
    case 'put':
    case 'delete':
      return true;
    case 'txn':
      return request.success.some(mayWrite) || request.failure.some(mayWrite);
  }
}

/** Whether the response says the request changed the store; undefined when it does not say. */
function changedStore(request: EtcdRequest, response: EtcdResponse | undefined): boolean | undefined {
  switch (request.kind) {
    case 'range':
      return false;
    case 'put':
      return true;
    case 'delete':
      return response?.deleted === undefined ? undefined : response.deleted > 0;
    case 'txn': {
      if (response?.succeeded === undefined) return mayWrite(request) ? undefined : false;
      const branch = response.succeeded ? request.success : request.failure;
      const changes = branch.map((inner, index) => changedStore(inner, response.responses?.[index]));
      return changes.includes(true) ? true : changes.includes(undefined) ? undefined : false;
    }
  }
}
