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
import { lowerBound } from './etcdObservations.ts';
import type { EtcdState } from './etcdState.ts';
import type { EtcdKeyValue, EtcdRequest, EtcdResponse } from './etcdTypes.ts';

/** Per gap revision: each key shown written there, with its value (undefined: a keys-only read saw it). */
type Written = Map<number, Map<string, string | undefined>>;

export function gapCandidates(
  completed: readonly (readonly [EtcdRequest, EtcdResponse | undefined])[],
  unknown: readonly EtcdRequest[],
  keys: Float64Array = new Float64Array(0),
): (state: EtcdState) => readonly number[] | undefined {
  if (unknown.length === 0) return () => undefined;
  // Read the responses only when the search first meets a gap: many searches never do.
  let candidatesAt: ((state: EtcdState) => readonly number[] | undefined) | undefined;
  return (state) => (candidatesAt ??= evidence(completed, unknown, keys))(state);
}

/** `keys`: the completed operations' sequence keys, ascending (a write that made r has r - 0.5). */
function evidence(completed: readonly (readonly [EtcdRequest, EtcdResponse | undefined])[], unknown: readonly EtcdRequest[], keys: Float64Array): (state: EtcdState) => readonly number[] | undefined {
  // Only revisions that no completed write is known to have made can be gaps: evidence about the
  // others is not needed (and keeping it for every revision of a long history would cost more
  // than the search). The sequence keys say which those are: reading every response again to
  // find the writes cost a tenth of a cold 100,000-operation check.
  const made = (revision: number) => {
    const at = lowerBound(keys, revision - 0.5);
    return at < keys.length && keys[at] === revision - 0.5;
  };
  const written: Written = new Map();
  // Per gap revision: keys shown absent there (created at the next one).
  const absent = new Map<number, Set<string>>();
  const shown = (kv: EtcdKeyValue, withValue: boolean) => {
    const revision = kv.modRevision;
    if (revision !== undefined && !made(revision)) observe(kv, withValue, revision, written);
    // Created at c: the write that made c put the key (with some value), and it was absent at c - 1.
    const created = kv.createRevision;
    if (created !== undefined && created > 0 && created !== revision && !made(created)) observe(kv, false, created, written);
    if (created !== undefined && created > 1 && !made(created - 1)) {
      const keys = absent.get(created - 1);
      if (keys === undefined) absent.set(created - 1, new Set([kv.key]));
      else keys.add(kv.key);
    }
  };
  for (let index = 0; index < completed.length; index++) {
    const pair = completed[index]!;
    if (pair[1] !== undefined) collect(pair[0], pair[1], shown);
  }
  if (written.size === 0 && absent.size === 0) return () => undefined;
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
  const pinned = pinnedWrites(completed, unknown, written, byKey);
  // Without evidence at a revision, every unknown write but the pinned ones.
  const unpinned = pinned.size === 0 ? undefined : unknown.flatMap((_, index) => (pinned.has(index) ? [] : [index]));
  const memo = new Map<number, readonly number[] | undefined>();
  return (state) => {
    const revision = state.revision + 1;
    if (memo.has(revision)) return memo.get(revision);
    const keys = written.get(revision);
    let candidates: readonly number[] | undefined = unpinned;
    if (keys !== undefined) {
      const entries = [...keys];
      const fitting = (byKey.get(entries[0]![0]) ?? []).filter((index) => (pinned.get(index) ?? revision) === revision && entries.every(([key, value]) => mayPut(unknown[index]!, key, value)));
      candidates = mergeAscending(fitting, compactions);
    }
    // A plain put of a key absent there did not make it. (Only a list is narrowed: the search
    // scans a list for the pending ones, and a list of every unknown write made a 100,000-operation
    // check a third slower than none.)
    const gone = absent.get(revision);
    if (gone !== undefined && candidates !== undefined) {
      candidates = candidates.filter((index) => {
        const request = unknown[index]!;
        return request.kind !== 'put' || !gone.has(request.key);
      });
    }
    memo.set(revision, candidates);
    return candidates;
  };
}

/**
 * The unknown writes pinned to one revision: a kv shown with mod revision r (a gap) and value v was
 * written at r by a request that puts v at that key; when exactly one request of the whole
 * partition may do so (one unknown write, no completed operation), that write took effect at r,
 * and a request takes effect once: it fills no other gap. (etcd-standard seed 250: the unknown
 * put of r/a shown at revision 58 was tried in the gaps at 32-40, in every order with the other
 * unknown writes, and only refused when the search reached 58: 7.8 M steps.) A write shown at two
 * revisions is pinned to none (NaN): it can be the one of neither.
 */
function pinnedWrites(completed: readonly (readonly [EtcdRequest, EtcdResponse | undefined])[], unknown: readonly EtcdRequest[], written: Written, byKey: ReadonlyMap<string, readonly number[]>): Map<number, number> {
  const pinned = new Map<number, number>();
  let completedPuts: Set<string> | undefined;
  for (const [revision, keys] of written) {
    for (const [key, value] of keys) {
      if (value === undefined) continue;
      const writers = (byKey.get(key) ?? []).filter((index) => mayPut(unknown[index]!, key, value));
      if (writers.length !== 1) continue;
      completedPuts ??= putsOf(completed);
      if (completedPuts.has(key + '\u0000' + value)) continue;
      const writer = writers[0]!;
      const before = pinned.get(writer);
      pinned.set(writer, before === undefined || before === revision ? revision : NaN);
    }
  }
  return pinned;
}

/** Every key and value some completed request may put, as `key \0 value`. */
function putsOf(completed: readonly (readonly [EtcdRequest, EtcdResponse | undefined])[]): Set<string> {
  const puts = new Set<string>();
  const add = (request: EtcdRequest): void => {
    if (request.kind === 'put') puts.add(request.key + '\u0000' + request.value);
    else if (request.kind === 'txn') for (const inner of [...request.success, ...request.failure]) add(inner);
  };
  for (const [request] of completed) add(request);
  return puts;
}

/** Each kv one response shows (a txn's: its branch's responses' too), and whether with its value. */
function collect(request: EtcdRequest, response: EtcdResponse, shown: (kv: EtcdKeyValue, withValue: boolean) => void): void {
  const kvs = response.kvs;
  if (kvs !== undefined) {
    // A keys-only range shows empty values: only the keys and revisions are evidence.
    const values = request.kind !== 'range' || request.keysOnly !== true;
    for (let index = 0; index < kvs.length; index++) shown(kvs[index]!, values);
  }
  const prevKvs = response.prevKvs;
  if (prevKvs !== undefined) for (let index = 0; index < prevKvs.length; index++) shown(prevKvs[index]!, true);
  const prevKv = response.prevKv;
  if (prevKv !== undefined && prevKv !== null) shown(prevKv, true);
  if (request.kind === 'txn' && response.responses !== undefined && response.succeeded !== undefined) {
    const branch = response.succeeded ? request.success : request.failure;
    const responses = response.responses;
    for (let index = 0; index < responses.length && index < branch.length; index++) collect(branch[index]!, responses[index]!, shown);
  }
}

/** Records that `kv` was written at gap revision `revision`. */
function observe(kv: EtcdKeyValue, withValue: boolean, revision: number, written: Written): void {
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
export function mayPut(request: EtcdRequest, key: string, value: string | undefined): boolean {
  if (request.kind === 'put') return request.key === key && (value === undefined || request.value === value);
  if (request.kind === 'txn') return request.success.some((inner) => mayPut(inner, key, value)) || request.failure.some((inner) => mayPut(inner, key, value));
  return false;
}
