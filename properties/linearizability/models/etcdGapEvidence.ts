/**
 * Which unknown-outcome writes can fill a gap of the revision sequence (`SequenceOrder.unknownCandidates`
 * of the etcd model). A revision that no completed write made was made by some unknown-outcome
 * one; trying every pending unknown write there, in every order, is what made a 100-operation
 * history with 45 unknown writes and a run of six gaps (etcd-compaction seed 242) need more than
 * 5,000,000 steps. What the completed responses say rules most of them out, each rule a
 * necessary condition, so verdicts stay exact:
 *
 * - **What was written at r.** A kv shown with mod revision r says what the write that made r
 *   put: that key, that value (etcd keeps one value per key and revision). Only a request that
 *   may put all of them can be the one.
 * - **Quiet keys.** A kv of key k shown with mod revision m in the keyspace at revision R says that
 *   nothing modified k in (m, R]: a write that would put or delete k cannot fill a gap there.
 * - **Pinned values.** When a kv shows value v at key k with mod revision m and only one request of
 *   the history may put v at k, that request took effect at m, so at no other revision.
 * - **Absent keys.** A key shown absent at revision R was not put at any r ≤ R unless something
 *   may delete it again in between: when no request of the history may delete k (no delete
 *   covering it, no lease revoke that could hold it), a write that puts k fills no gap at or
 *   below R.
 *
 * A request may write in several ways (a txn's two branches): it is ruled out only when every
 * way it could change the store is. Keys a request would not surely modify (a range delete's,
 * a lease revoke's) rule nothing out. Compactions fill no revision and are always candidates.
 */
import { changedStore, mayWrite, observeKeyspaces, Spans } from './etcdObservations.ts';
import { rangeHigh, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';
import type { EtcdState } from './etcdState.ts';

/** One way a request may change the store: the keys it surely modifies then. */
interface WriteWay {
  /** [key, value] of each put it surely leaves in place. */
  readonly puts: readonly (readonly [string, string])[];
  /** Keys it surely deletes. */
  readonly deletes: readonly string[];
}

/** What the completed responses say about the keys the unknown writes may modify. */
interface KeyEvidence {
  /** Intervals (m, R] in which the key was not modified. */
  readonly quiet: Spans;
  /** The highest revision at which the key was seen absent (-Infinity: never). */
  absentAt: number;
  /** Per value shown: the mod revisions it was shown with. */
  shownAt: Map<string, Set<number>>;
  /** Whether some request of the history may delete the key. */
  mayBeDeleted: boolean;
  /** Per value: how many requests of the history may put it at this key. */
  putters: Map<string, number>;
}

export function gapCandidates(completed: readonly (readonly [EtcdRequest, EtcdResponse])[], unknown: readonly EtcdRequest[]): (state: EtcdState) => readonly number[] | undefined {
  if (unknown.length === 0) return () => [];
  const ways = unknown.map(writeWays);
  const evidence = new Map<string, KeyEvidence>();
  for (const way of ways.flat()) {
    for (const [key] of way.puts) evidence.set(key, emptyEvidence());
    for (const key of way.deletes) evidence.set(key, emptyEvidence());
  }
  const written = collectEvidence(completed, unknown, evidence);
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
  const ruledOut = (way: WriteWay, revision: number): boolean => {
    const modifies = (key: string) => evidence.get(key)!.quiet.covers(revision);
    if (way.deletes.some(modifies)) return true;
    return way.puts.some(([key, value]) => {
      if (modifies(key)) return true;
      const found = evidence.get(key)!;
      if (!found.mayBeDeleted && found.absentAt >= revision) return true;
      const shown = found.shownAt.get(value);
      return shown !== undefined && found.putters.get(value) === 1 && !shown.has(revision);
    });
  };
  const fits = (index: number, revision: number) => {
    const requestWays = ways[index]!;
    return requestWays.length === 0 || requestWays.some((way) => !ruledOut(way, revision));
  };
  const memo = new Map<number, readonly number[]>();
  return (state) => {
    const revision = state.revision + 1;
    const known = memo.get(revision);
    if (known !== undefined) return known;
    const keys = written.get(revision);
    let fitting: number[];
    if (keys === undefined) {
      fitting = [];
      for (let index = 0; index < unknown.length; index++) if (unknown[index]!.kind !== 'compact' && fits(index, revision)) fitting.push(index);
    } else {
      const [firstKey] = keys.keys();
      fitting = (byKey.get(firstKey!) ?? []).filter((index) => [...keys].every(([key, value]) => mayPut(unknown[index]!, key, value)) && fits(index, revision));
    }
    const candidates = compactions.length === 0 ? fitting : [...fitting, ...compactions].sort((a, b) => a - b);
    memo.set(revision, candidates);
    return candidates;
  };
}

function emptyEvidence(): KeyEvidence {
  return { quiet: new Spans(), absentAt: -Infinity, shownAt: new Map(), mayBeDeleted: false, putters: new Map() };
}

/**
 * Reads every completed response once: what was written at each revision that no completed write
 * made (the gaps), and for each key in `evidence` what it says. Returns the former.
 */
function collectEvidence(completed: readonly (readonly [EtcdRequest, EtcdResponse])[], unknown: readonly EtcdRequest[], evidence: Map<string, KeyEvidence>): Map<number, Map<string, string | undefined>> {
  const watchedKeys = [...evidence.keys()].sort();
  // Only revisions that no completed write is known to have made can be gaps: what was written at
  // the others is not needed (and keeping it for every revision of a long history would cost
  // more than the search).
  const made = new Set<number>();
  for (const [request, response] of completed) if (response.revision !== undefined && response.error === undefined && request.kind !== 'compact' && changedStore(request, response) === true) made.add(response.revision);
  const written = new Map<number, Map<string, string | undefined>>();
  observeKeyspaces(completed, watchedKeys, {
    shown(kv, at, withValue) {
      const modRevision = kv.modRevision;
      if (modRevision === undefined) return;
      const value = withValue ? kv.value : undefined;
      if (!made.has(modRevision)) {
        let keys = written.get(modRevision);
        if (keys === undefined) written.set(modRevision, (keys = new Map()));
        if (value !== undefined || !keys.has(kv.key)) keys.set(kv.key, value);
      }
      const found = evidence.get(kv.key);
      if (found === undefined) return;
      found.quiet.add(modRevision, at);
      if (value !== undefined) {
        const revisions = found.shownAt.get(value);
        if (revisions === undefined) found.shownAt.set(value, new Set([modRevision]));
        else revisions.add(modRevision);
      }
    },
    absent(key, at) {
      const found = evidence.get(key);
      if (found !== undefined && at > found.absentAt) found.absentAt = at;
    },
  });
  // Who may put each value, and whether anything may delete each key, over every request.
  let leaseRevokes = false;
  const leasedKeys = new Set<string>();
  const deleteRanges: [string, string | undefined][] = [];
  const count = (request: EtcdRequest) => {
    if (request.kind === 'put') {
      const found = evidence.get(request.key);
      if (found !== undefined) found.putters.set(request.value, (found.putters.get(request.value) ?? 0) + 1);
      if ((request.lease ?? 0) !== 0) leasedKeys.add(request.key);
    } else if (request.kind === 'delete') {
      deleteRanges.push([request.key, rangeHigh(request.key, request.rangeEnd)]);
    } else if (request.kind === 'leaseRevoke') {
      leaseRevokes = true;
    } else if (request.kind === 'txn') {
      // A value put twice by one request counts once per put: more putters only rules out less.
      request.success.forEach(count);
      request.failure.forEach(count);
    }
  };
  for (const [request] of completed) count(request);
  unknown.forEach(count);
  const uniqueRanges = new Map(deleteRanges.map((range) => [`${range[0]}\u0000${range[1] ?? ''}`, range]));
  for (const [key, found] of evidence) {
    found.mayBeDeleted = (leaseRevokes && leasedKeys.has(key)) || [...uniqueRanges.values()].some(([low, high]) => key >= low && (high === undefined || key < high));
  }
  return written;
}

/** The ways the request may change the store; empty when it cannot be told (it is never ruled out then). */
function writeWays(request: EtcdRequest): WriteWay[] {
  switch (request.kind) {
    case 'put':
      return [{ puts: [[request.key, request.value]], deletes: [] }];
    case 'delete':
      return isSingleKey(request.rangeEnd) ? [{ puts: [], deletes: [request.key] }] : [];
    case 'txn': {
      const branches = [request.success, request.failure].filter((branch) => branch.some(mayWrite));
      const ways = branches.map(branchWay);
      return ways.some((way) => way === undefined) ? [] : (ways as WriteWay[]);
    }
    default:
      return [];
  }
}

/** What a txn branch that changes the store surely modifies; undefined when nothing is sure. */
function branchWay(branch: readonly EtcdRequest[]): WriteWay | undefined {
  const deletes = branch.filter((op) => op.kind === 'delete');
  // A put whose key a delete of the same branch may cover is not sure to stay.
  const covered = (key: string) => deletes.some((op) => op.kind === 'delete' && key >= op.key && (rangeHigh(op.key, op.rangeEnd) === undefined || key < rangeHigh(op.key, op.rangeEnd)!));
  const puts = branch.flatMap((op) => (op.kind === 'put' && !covered(op.key) ? [[op.key, op.value] as const] : []));
  // Of two puts of one key in a branch, the last one stays.
  const lastPuts = [...new Map(puts.map(([key, value]) => [key, value])).entries()];
  const others = branch.filter((op) => op.kind !== 'range' && op.kind !== 'put' && op.kind !== 'delete');
  // With no put, the one single-key delete (and nothing else that writes) must have deleted.
  const onlyDelete = lastPuts.length === 0 && others.length === 0 && deletes.length === 1 && deletes[0]!.kind === 'delete' && isSingleKey(deletes[0]!.rangeEnd) ? [deletes[0]!.key] : [];
  if (lastPuts.length === 0 && onlyDelete.length === 0) return undefined;
  return { puts: lastPuts, deletes: onlyDelete };
}

function isSingleKey(rangeEnd: string | undefined): boolean {
  return rangeEnd === undefined || rangeEnd === '';
}

function keysPut(request: EtcdRequest): string[] {
  if (request.kind === 'put') return [request.key];
  if (request.kind === 'txn') return [...request.success, ...request.failure].flatMap(keysPut);
  return [];
}

/** Whether the request could put `value` (any value, when undefined: a keys-only read saw it) at `key`. */
function mayPut(request: EtcdRequest, key: string, value: string | undefined): boolean {
  if (request.kind === 'put') return request.key === key && (value === undefined || request.value === value);
  if (request.kind === 'txn') return [...request.success, ...request.failure].some((inner) => mayPut(inner, key, value));
  return false;
}
