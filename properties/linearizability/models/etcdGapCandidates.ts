/**
 * Which unknown-outcome writes can fill a gap of the revision sequence (`SequenceOrder.unknownCandidates`
 * of the etcd model). Every kv a response shows with a mod revision says what the write that made
 * that revision wrote: that key, that value (etcd keeps one value per key and revision). In a gap
 * of the revision sequence, which only an unknown-outcome write can fill, only a request that puts
 * all of them can be the one — found through an index of the unknown writes by key, once per
 * revision. (A compaction fills no gap and is never ruled out.)
 *
 * Written as plain loops: it reads every completed response once, which for a 100,000-operation
 * history was a tenth of the whole check when written with closures and spread iterators.
 */
import { changedStore } from './etcdObservations.ts';
import type { EtcdState } from './etcdState.ts';
import type { EtcdKeyValue, EtcdRequest, EtcdResponse } from './etcdTypes.ts';

/** Per gap revision: each key shown written there, with its value (undefined: a keys-only read saw it). */
type Written = Map<number, Map<string, string | undefined>>;

export function gapCandidates(completed: readonly (readonly [EtcdRequest, EtcdResponse])[], unknown: readonly EtcdRequest[]): (state: EtcdState) => readonly number[] | undefined {
  if (unknown.length === 0) return () => undefined;
  // Only revisions that no completed write is known to have made can be gaps: evidence about the
  // others is not needed (and keeping it for every revision of a long history would cost more
  // than the search).
  const made = new Set<number>();
  for (let index = 0; index < completed.length; index++) {
    const pair = completed[index]!;
    const request = pair[0];
    const response = pair[1];
    const revision = response.revision;
    if (revision === undefined || response.error !== undefined) continue;
    const kind = request.kind;
    if (kind === 'put' || ((kind === 'delete' || kind === 'txn') && changedStore(request, response) === true)) made.add(revision);
  }
  const written: Written = new Map();
  for (let index = 0; index < completed.length; index++) {
    const pair = completed[index]!;
    collect(pair[0], pair[1], made, written);
  }
  if (written.size === 0) return () => undefined;
  // The unknown writes by a key they may put; compactions are candidates everywhere.
  const byKey = new Map<string, number[]>();
  const compactions: number[] = [];
  unknown.forEach((request, index) => {
    if (request.kind === 'compact') compactions.push(index);
    for (const key of new Set(keysPut(request))) {
      const indexes = byKey.get(key);
      if (indexes === undefined) byKey.set(key, [index]);
      else indexes.push(index);
    }
  });
  const memo = new Map<number, readonly number[] | undefined>();
  return (state) => {
    const revision = state.revision + 1;
    if (memo.has(revision)) return memo.get(revision);
    const keys = written.get(revision);
    let candidates: readonly number[] | undefined;
    if (keys !== undefined) {
      const entries = [...keys];
      const fitting = (byKey.get(entries[0]![0]) ?? []).filter((index) => entries.every(([key, value]) => mayPut(unknown[index]!, key, value)));
      candidates = mergeAscending(fitting, compactions);
    }
    memo.set(revision, candidates);
    return candidates;
  };
}

/** What one response shows written at gap revisions (a txn's: its branch's responses too). */
function collect(request: EtcdRequest, response: EtcdResponse, made: Set<number>, written: Written): void {
  const kvs = response.kvs;
  if (kvs !== undefined) {
    // A keys-only range shows empty values: only the keys and revisions are evidence.
    const values = request.kind !== 'range' || request.keysOnly !== true;
    for (let index = 0; index < kvs.length; index++) observe(kvs[index]!, values, made, written);
  }
  const prevKvs = response.prevKvs;
  if (prevKvs !== undefined) for (let index = 0; index < prevKvs.length; index++) observe(prevKvs[index]!, true, made, written);
  const prevKv = response.prevKv;
  if (prevKv !== undefined && prevKv !== null) observe(prevKv, true, made, written);
  if (request.kind === 'txn' && response.responses !== undefined && response.succeeded !== undefined) {
    const branch = response.succeeded ? request.success : request.failure;
    const responses = response.responses;
    for (let index = 0; index < responses.length && index < branch.length; index++) collect(branch[index]!, responses[index]!, made, written);
  }
}

function observe(kv: EtcdKeyValue, withValue: boolean, made: Set<number>, written: Written): void {
  const revision = kv.modRevision;
  if (revision === undefined || made.has(revision)) return;
  let keys = written.get(revision);
  if (keys === undefined) written.set(revision, (keys = new Map()));
  const value = withValue ? kv.value : undefined;
  if (value !== undefined || !keys.has(kv.key)) keys.set(kv.key, value);
}

/** Two ascending lists as one. */
function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return a as number[];
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) merged.push(j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!);
  return merged;
}

function keysPut(request: EtcdRequest): string[] {
  if (request.kind === 'put') return [request.key];
  if (request.kind === 'txn') return [...request.success, ...request.failure].flatMap(keysPut);
  return [];
}

/** Whether the request could put `value` (any value, when undefined: a keys-only read saw it) at `key`. */
function mayPut(request: EtcdRequest, key: string, value: string | undefined): boolean {
  if (request.kind === 'put') return request.key === key && (value === undefined || request.value === value);
  if (request.kind === 'txn') return request.success.some((inner) => mayPut(inner, key, value)) || request.failure.some((inner) => mayPut(inner, key, value));
  return false;
}
