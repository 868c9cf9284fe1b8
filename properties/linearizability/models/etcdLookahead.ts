/**
 * The etcd model's lookahead (`Model.analyze`): what the completed responses say about the
 * keyspace at each revision, checked as soon as the search makes that revision, instead of where
 * the read that saw it is finally placed. Each rule is a necessary condition, so verdicts stay
 * exact (property-tested against the plain search):
 *
 * - A kv shown in the keyspace at revision R with create revision c and mod revision m fixes the
 *   key in between: absent at c - 1, present in one generation (no delete, no re-creation)
 *   throughout (c, R], and exactly as shown throughout [m, R], so not modified in (m, R]. A
 *   historical read's view of an older revision is checked at that revision.
 * - A key seen absent at R (or created at R + 1) cannot be present at r ≤ R unless something may
 *   delete it in (r, R]: a completed write that made a revision there, or — at a gap, which only
 *   a write of unknown revision can make — an unknown-outcome one the search has not taken yet,
 *   a completed one whose revision is unknown, or a lease revoke when it may hold a lease. The
 *   same for a range counted n keys at R and holding more (deleting) or fewer (putting) at r.
 * - A fact about a key at revision x holds at the latest x' ≤ x at which something may modify it
 *   (absent: delete it), and is checked there too (`carryBack`).
 * - A kv shown at version v with mod revision m and create revision c < m: version v - 1 at m - 1
 *   in that generation, and no version ≥ v before m.
 * - A value that only one request of the history may put at a key, shown there with mod revision
 *   m, was put at m and at no other revision.
 *
 * The revision of a keyspace never changes once the search has passed it, so a state that
 * contradicts one of these has no completion. Without them, a wrong guess about which
 * unknown-outcome write filled a gap in the revisions (etcd-compaction seed 242: a put of d/c at
 * revision 3, where a read at 23 shows d/c created at 4) was found only after every way of
 * filling the 18 gaps between had been tried: more than 5,000,000 steps for 100 operations.
 *
 * Reading every response costs a pass over the history, which a search that needs no guessing
 * (most: revisions place almost every operation) would spend for nothing: the 100,000-operation
 * benchmark's search backtracks 3,445 times and finishes in fewer steps than the pass costs. So
 * the facts are gathered only once the search has backtracked more than `activationBacktracks`
 * times; until then every configuration is viable, which is always allowed.
 */
import type { Operation } from '../history.ts';
import type { HistoryAnalysis } from '../model.ts';
import { existingStandIn } from './etcdApply.ts';
import { mayPut } from './etcdGapCandidates.ts';
import { changedStore, keysPutBy, lowerBound, observeKeyspaces, Spans } from './etcdObservations.ts';
import { keysAt, type EtcdState, type PastRevision, type StoredKey } from './etcdState.ts';
import { rangeHigh, type EtcdKeyValue, type EtcdRequest, type EtcdResponse, type EtcdTxnRequest } from './etcdTypes.ts';
import { mapChangedKeys, mapForRange, mapGet, type SortedMap } from './persistentSortedMap.ts';

/** The key at one revision, as a response showed it (only the fields shown), or absent. */
interface Fact {
  readonly key: string;
  /** null: absent. */
  readonly shown: EtcdKeyValue | null;
  /** Whether `shown.value` is the value (not a keys-only read's empty one). */
  readonly withValue: boolean;
}

/** What the responses say about one key that a step modifying it must respect. */
interface KeyFacts {
  /** Spans (m, R] in which it was not modified at all. */
  readonly unmodified: Spans;
  /** Spans (c, R] in which it stayed present in one generation. */
  readonly alive: Spans;
  /** The revisions it was seen absent at (unsorted until gathered). */
  readonly absences: number[];
  /** Per create revision shown: the version shown with each later mod revision in that generation. */
  readonly versions: Map<number, Map<number, number>>;
  /** The same, per create revision: the mod revisions ascending and the version shown with each (versions grow with them). */
  readonly versionOrder: Map<number, { readonly modified: number[]; readonly versions: number[] }>;
  /** Per value shown: the mod revision it was shown with (NaN when several). */
  readonly shownWith: Map<string, number>;
  /** Per value shown: how many requests of the history may put it at this key. */
  readonly putters: Map<string, number>;
  /** Whether it may be deleted at any revision (a completed request whose revision is unknown, a lease revoke). */
  deletableAnywhere: boolean;
  /** The revisions at which a completed request that changed the store may have deleted it, ascending. */
  readonly deletedAt: number[];
  /** How many unknown-outcome requests may delete it. */
  unknownDeleters: number;
  /** How many of those the search has not taken. */
  pendingDeleters: number;
  /** The ranges whose counts were shown that hold it. */
  readonly ranges: RangeCount[];
}

/** What the responses say about how many keys a range held, and what may change that. */
interface RangeCount {
  readonly low: string;
  readonly high: string | undefined;
  /** The revisions it was counted at, ascending, and the count at each. */
  readonly revisions: number[];
  readonly counts: number[];
  /** The revisions at which a completed write may have deleted or put a key of it, ascending. */
  readonly deletedAt: number[];
  readonly putAt: number[];
  /** Whether a completed write whose revision is unknown (or a lease revoke) may delete or put one. */
  deletesAnywhere: boolean;
  putsAnywhere: boolean;
  /** Unknown-outcome requests that may delete or put a key of it, and how many of them the search has not taken. */
  unknownDeleters: number;
  pendingDeleters: number;
  unknownPutters: number;
  pendingPutters: number;
  /** `countStamp` when last counted. */
  stamp: number;
}

/** What the search checks a new revision against. */
interface KeyspaceFacts {
  /** Facts about the keyspace at exactly this revision. */
  readonly at: Map<number, Fact[]>;
  readonly keys: Map<string, KeyFacts>;
  /** The keys of `keys`, ascending. */
  readonly keyed: readonly string[];
  /** Per revision up to the highest a completed write made: the latest at or below it that none made (a gap), or -Infinity. */
  readonly lastGap: Float64Array;
  /** Per kept id of an unknown-outcome request: the ranges it may delete from and put into (filled by the lookahead). */
  readonly rangeWriters: Map<number, { readonly deletes: RangeCount[]; readonly puts: RangeCount[] }>;
}

/** Backtracks before the lookahead reads the responses: some (a pass over a short history costs little), and more for a longer history. */
export function activationBacktracks(operationCount: number): number {
  return Math.max(250, operationCount >> 3);
}

/** `activateAfter`: backtracks before the facts are gathered (default `activationBacktracks`). */
export function analyzeEtcd(operations: readonly Operation<EtcdRequest, EtcdResponse>[], initialRevision: number, activateAfter?: number): HistoryAnalysis<EtcdState> {
  // Without unknown-outcome writes every revision is made by a completed request that the
  // sequence order places: there is nothing to guess, so nothing to look ahead for.
  if (!operations.some((operation) => operation.outcome === 'unknown')) return {};
  return {
    lookahead: (kept) => {
      const threshold = activateAfter ?? activationBacktracks(operations.length);
      let backtracks = 0;
      // Which operations the search has taken, and per unknown-outcome one the keys it may delete.
      const taken = new Uint8Array(kept.length);
      let deleting: (readonly KeyFacts[] | undefined)[] = [];
      let rangeWriting: ({ readonly deletes: RangeCount[]; readonly puts: RangeCount[] } | undefined)[] = [];
      let facts: KeyspaceFacts | undefined;
      const gather = () => {
        facts = gatherFacts(operations, initialRevision);
        const { keys, keyed } = facts;
        deleting = kept.map((position, id) => {
          const operation = operations[position]!;
          if (operation.outcome !== 'unknown') return undefined;
          const deleted = keysDeletedBy(operation.input, undefined, keyed).map((key) => keys.get(key)!);
          if (taken[id] === 1) for (const found of deleted) found.pendingDeleters--;
          return deleted.length === 0 ? undefined : deleted;
        });
        rangeWriting = kept.map((position, id) => {
          const writes = facts!.rangeWriters.get(position);
          if (writes !== undefined && taken[id] === 1) countPending(writes, -1);
          return writes;
        });
      };
      if (threshold === 0) gather();
      // Gathered late, the facts must also judge the revisions already made on the search's stack:
      // the first of them that contradicts one dooms every state built on it.
      let stackChecked = threshold === 0;
      let doomed: { readonly revision: number; readonly keys: SortedMap<StoredKey> } | undefined;
      return {
        track(id, took) {
          if (taken[id] === (took ? 1 : 0)) return;
          taken[id] = took ? 1 : 0;
          const deleted = deleting[id];
          if (deleted !== undefined) for (const found of deleted) found.pendingDeleters += took ? -1 : 1;
          const writes = rangeWriting[id];
          if (writes !== undefined) countPending(writes, took ? -1 : 1);
          if (!took && facts === undefined && ++backtracks > threshold) gather();
        },
        viable(state) {
          if (facts === undefined) return true;
          if (!stackChecked) {
            stackChecked = true;
            doomed = firstContradiction(facts, state.past);
          }
          if (doomed !== undefined) {
            if (state.revision >= doomed.revision && keysAt(state, doomed.revision) === doomed.keys) return false;
            // The search has backtracked below it, for good.
            doomed = undefined;
          }
          return revisionHolds(facts, state.revision, state.keys, state.past?.revision === state.revision - 1 ? state.past.keys : 'unknown', true);
        },
      };
    },
  };
}

function countPending(writes: { readonly deletes: readonly RangeCount[]; readonly puts: readonly RangeCount[] }, by: number): void {
  for (const range of writes.deletes) range.pendingDeleters += by;
  for (const range of writes.puts) range.pendingPutters += by;
}

function keyFacts(): KeyFacts {
  return { unmodified: new Spans(), alive: new Spans(), absences: [], versions: new Map(), versionOrder: new Map(), shownWith: new Map(), putters: new Map(), deletableAnywhere: false, deletedAt: [], unknownDeleters: 0, pendingDeleters: 0, ranges: [] };
}

/** One pass over the responses (and the requests, for who may put or delete what). */
function gatherFacts(operations: readonly Operation<EtcdRequest, EtcdResponse>[], initialRevision: number): KeyspaceFacts {
  const requests = operations.map((operation) => operation.input);
  const keyed = keysPutBy(requests);
  const facts: KeyspaceFacts = { at: new Map(), keys: new Map(), keyed, lastGap: gapsBelow(operations), rangeWriters: new Map() };
  const ranges = new Map<string, RangeCount>();
  const fact = (revision: number, key: string, shown: EtcdKeyValue | null, withValue: boolean) => {
    // The model knows nothing of the keyspace before the history began.
    if (revision <= initialRevision) return;
    const list = facts.at.get(revision);
    if (list === undefined) facts.at.set(revision, [{ key, shown, withValue }]);
    else list.push({ key, shown, withValue });
  };
  for (const key of keyed) facts.keys.set(key, keyFacts());
  // Many reads show the same version of a key: per key and mod (or create) revision, the kv and
  // the latest revision it was seen at are all the facts need.
  const versions = new Map<string, Map<number, { kv: EtcdKeyValue; withValue: boolean; until: number }>>();
  const generations = new Map<string, Map<number, number>>();
  observeKeyspaces(
    operations.flatMap((operation) => (operation.outcome === 'ok' && operation.output !== undefined ? [[operation.input, operation.output] as const] : [])),
    keyed,
    {
      shown(kv, revision, withValue, placedAt) {
        // What a read sees where it is placed is checked there by the read itself; a historical
        // read's view of an older revision is worth checking when the search makes that revision.
        if (revision < placedAt - 1) fact(revision, kv.key, kv, withValue);
        const modified = kv.modRevision;
        if (modified !== undefined && modified <= revision) {
          let byRevision = versions.get(kv.key);
          if (byRevision === undefined) versions.set(kv.key, (byRevision = new Map()));
          const known = byRevision.get(modified);
          if (known === undefined) byRevision.set(modified, { kv, withValue, until: revision });
          else {
            if (revision > known.until) known.until = revision;
            if (withValue && !known.withValue) Object.assign(known, { kv, withValue });
          }
          const found = facts.keys.get(kv.key);
          if (found !== undefined && withValue && kv.value !== undefined) {
            const before = found.shownWith.get(kv.value);
            if (before === undefined) found.shownWith.set(kv.value, modified);
            else if (before !== modified) found.shownWith.set(kv.value, NaN);
          }
        }
        const created = kv.createRevision;
        if (created !== undefined && modified !== undefined && kv.version !== undefined && created > 0 && created < modified && modified <= revision) {
          const found = facts.keys.get(kv.key)?.versions;
          const shownAt = found?.get(created);
          if (shownAt === undefined) found?.set(created, new Map([[modified, kv.version]]));
          else shownAt.set(modified, kv.version);
        }
        if (created !== undefined && created > 0 && created <= revision) {
          let byRevision = generations.get(kv.key);
          if (byRevision === undefined) generations.set(kv.key, (byRevision = new Map()));
          if ((byRevision.get(created) ?? -Infinity) < revision) byRevision.set(created, revision);
        }
      },
      absent(key, revision, placedAt) {
        if (revision < placedAt - 1) fact(revision, key, null, false);
        facts.keys.get(key)?.absences.push(revision);
      },
      counted(low, high, count, revision) {
        if (revision <= initialRevision) return;
        const id = `${low}\u0000${high ?? ''}`;
        let range = ranges.get(id);
        if (range === undefined) {
          range = { low, high, revisions: [], counts: [], deletedAt: [], putAt: [], deletesAnywhere: false, putsAnywhere: false, unknownDeleters: 0, pendingDeleters: 0, unknownPutters: 0, pendingPutters: 0, stamp: 0 };
          ranges.set(id, range);
        }
        range.revisions.push(revision);
        range.counts.push(count);
      },
    },
  );
  for (const [key, byRevision] of versions) {
    for (const [modified, { kv, withValue, until }] of byRevision) {
      fact(modified, key, kv, withValue);
      facts.keys.get(key)?.unmodified.add(modified, until);
    }
  }
  for (const [key, byRevision] of generations) {
    const found = facts.keys.get(key);
    for (const [created, until] of byRevision) {
      fact(created - 1, key, null, false);
      fact(created, key, { key, createRevision: created }, false);
      found?.alive.add(created, until);
      // Absent at created - 1, so (unless something may delete it in between) never put before.
      found?.absences.push(created - 1);
    }
  }
  countWriters(operations, facts.keys, keyed);
  for (const [key, found] of facts.keys) {
    found.absences.sort((a, b) => a - b);
    found.deletedAt.sort((a, b) => a - b);
    // Absent at R, and nothing may delete it after w ≤ R: absent at w already.
    for (let index = 0; index < found.absences.length; index++) {
      const absent = found.absences[index]!;
      if (index + 1 < found.absences.length && found.absences[index + 1] === absent) continue;
      // (The model knows nothing before the history began: not before initialRevision + 1.)
      const since = Math.max(lastDeletionAtOrBelow(facts, found, absent), initialRevision + 1);
      if (since < absent) fact(since, key, null, false);
    }
    // Shown at version v with mod revision m > its create revision c: at m - 1 in that generation, at v - 1.
    for (const [created, shown] of found.versions) {
      for (const [modified, version] of shown) fact(modified - 1, key, { key, createRevision: created, version: version - 1 }, false);
      const modified = [...shown.keys()].sort((a, b) => a - b);
      found.versionOrder.set(created, { modified, versions: modified.map((revision) => shown.get(revision)!) });
    }
  }
  for (const request of requests) if (request.kind === 'txn') heldCompares(request, facts.keys, fact);
  carryBack(facts, operations, versions, generations, initialRevision, fact);
  countedRanges(facts, operations, [...ranges.values()]);
  return facts;
}

/**
 * A range counted n keys at R, and holds c ≠ n at r < R: some request deleted (c > n) or put
 * (c < n) a key of it in (r, R]. As for absences, a completed write may have done it only at its
 * revision, and anything else only at a gap, when it is not taken yet. (etcd-standard seed 250:
 * k/ held 7 keys at 60, listed with a limit, which hides the absent ones.)
 */
function countedRanges(facts: KeyspaceFacts, operations: readonly Operation<EtcdRequest, EtcdResponse>[], ranges: RangeCount[]): void {
  if (ranges.length === 0) return;
  for (const range of ranges) {
    const order = range.revisions.map((_, index) => index).sort((a, b) => range.revisions[a]! - range.revisions[b]!);
    const revisions = order.map((index) => range.revisions[index]!);
    const counts = order.map((index) => range.counts[index]!);
    range.revisions.splice(0, Infinity, ...revisions);
    range.counts.splice(0, Infinity, ...counts);
  }
  const inRange = (range: RangeCount, keys: readonly string[]) => keys.some((key) => key >= range.low && (range.high === undefined || key < range.high));
  const { leaseRevokes, leased } = leases(operations);
  for (const operation of operations) {
    const request = operation.input;
    if (operation.outcome === 'fail' || request.kind === 'compact' || operation.outcome === 'unknown') continue;
    const output = operation.output!;
    const changed = changedStore(request, output);
    if (changed === false) continue;
    const deleted = keysDeletedBy(request, output, facts.keyed);
    const put = keysPutIn(request, output);
    if (deleted.length === 0 && put.length === 0) continue;
    for (const range of ranges) {
      const deletes = inRange(range, deleted);
      const puts = inRange(range, put);
      if (changed === true && output.revision !== undefined) {
        if (deletes) range.deletedAt.push(output.revision);
        if (puts) range.putAt.push(output.revision);
      } else {
        range.deletesAnywhere ||= deletes;
        range.putsAnywhere ||= puts;
      }
    }
  }
  for (const range of ranges) {
    range.deletedAt.sort((a, b) => a - b);
    range.putAt.sort((a, b) => a - b);
    if (leaseRevokes && inRange(range, [...leased])) range.deletesAnywhere = true;
    for (let index = lowerBound(facts.keyed, range.low); index < facts.keyed.length && (range.high === undefined || facts.keyed[index]! < range.high); index++) facts.keys.get(facts.keyed[index]!)!.ranges.push(range);
  }
  // The unknown-outcome requests, by position in `operations`: filled in per kept id by the lookahead.
  operations.forEach((operation, position) => {
    if (operation.outcome !== 'unknown') return;
    const deleted = keysDeletedBy(operation.input, undefined, facts.keyed);
    const put = keysPutIn(operation.input, undefined);
    const deletes = ranges.filter((range) => inRange(range, deleted));
    const puts = ranges.filter((range) => inRange(range, put));
    for (const range of deletes) range.unknownDeleters++;
    for (const range of puts) range.unknownPutters++;
    if (deletes.length > 0 || puts.length > 0) facts.rangeWriters.set(position, { deletes, puts });
  });
  for (const range of ranges) {
    range.pendingDeleters = range.unknownDeleters;
    range.pendingPutters = range.unknownPutters;
  }
}

/** Whether any request revokes a lease, and the keys some request may put with a lease (a revoke may delete them). */
function leases(operations: readonly Operation<EtcdRequest, EtcdResponse>[]): { leaseRevokes: boolean; leased: Set<string> } {
  let leaseRevokes = false;
  const leased = new Set<string>();
  const visit = (request: EtcdRequest): void => {
    if (request.kind === 'leaseRevoke') leaseRevokes = true;
    else if (request.kind === 'put' && (request.lease ?? 0) !== 0) leased.add(request.key);
    else if (request.kind === 'txn') [...request.success, ...request.failure].forEach(visit);
  };
  for (const operation of operations) visit(operation.input);
  return { leaseRevokes, leased };
}

/** The keys `request` may put (only its branch that ran, when `response` says), maybe repeated. */
function keysPutIn(request: EtcdRequest, response: EtcdResponse | undefined): string[] {
  if (request.kind === 'put') return [request.key];
  if (request.kind !== 'txn') return [];
  const put: string[] = [];
  const visit = (branch: readonly EtcdRequest[]) => {
    for (const inner of branch) put.push(...keysPutIn(inner, undefined));
  };
  if (response?.succeeded !== false) visit(request.success);
  if (response?.succeeded !== true) visit(request.failure);
  return put;
}

/** Whether the count shown next for `range` (at R ≥ revision) may still hold, given `keys` at `revision`. */
function countHolds(facts: KeyspaceFacts, range: RangeCount, revision: number, keys: SortedMap<StoredKey>, pendingKnown: boolean): boolean {
  const next = lowerBound(range.revisions, revision);
  if (next === range.revisions.length) return true;
  const counted = range.revisions[next]!;
  const expected = range.counts[next]!;
  let held = 0;
  mapForRange(keys, range.low, range.high, () => ++held <= expected);
  if (held === expected) return true;
  const gap = lastGapAtOrBelow(facts, counted) > revision;
  const within = (at: readonly number[]) => {
    const first = lowerBound(at, revision + 1);
    return first < at.length && at[first]! <= counted;
  };
  if (held > expected) return (gap && (range.deletesAnywhere || (pendingKnown ? range.pendingDeleters : range.unknownDeleters) > 0)) || within(range.deletedAt);
  return (gap && (range.putsAnywhere || (pendingKnown ? range.pendingPutters : range.unknownPutters) > 0)) || within(range.putAt);
}

/**
 * A key as it was at revision x is as it was at x', the latest revision at or below x at which
 * some request may modify it: a completed write that made x', a request whose revision is unknown
 * (anywhere), or, at a gap, an unknown-outcome write that fits what the responses show written
 * there (`etcdGapCandidates.ts`). So every fact about a present key is also checked at x'.
 * (etcd-standard seed 250: d/a shown at version 3 with mod revision 46 was at version 2 at 45;
 * the gaps at 45, 42, 41 and 40 were made by writes of other keys, so d/a was at version 2 at 39
 * already, not only where the search reached 45.)
 */
function carryBack(
  facts: KeyspaceFacts,
  operations: readonly Operation<EtcdRequest, EtcdResponse>[],
  versions: ReadonlyMap<string, ReadonlyMap<number, { readonly kv: EtcdKeyValue; readonly withValue: boolean }>>,
  generations: ReadonlyMap<string, ReadonlyMap<number, number>>,
  initialRevision: number,
  fact: (revision: number, key: string, shown: EtcdKeyValue | null, withValue: boolean) => void,
): void {
  const modifiers = new Map<string, { readonly completedAt: number[]; anywhere: boolean; readonly unknown: EtcdRequest[] }>();
  for (const key of facts.keyed) modifiers.set(key, { completedAt: [], anywhere: false, unknown: [] });
  const { leaseRevokes, leased } = leases(operations);
  for (const operation of operations) {
    const request = operation.input;
    if (operation.outcome === 'fail') continue;
    const output = operation.outcome === 'ok' ? operation.output : undefined;
    const changed = output === undefined ? undefined : changedStore(request, output);
    if (changed === false || request.kind === 'compact') continue;
    for (const key of keysModifiedBy(request, output, facts.keyed)) {
      const found = modifiers.get(key);
      if (found === undefined) continue;
      if (output === undefined) found.unknown.push(request);
      else if (changed === true && output.revision !== undefined) found.completedAt.push(output.revision);
      else found.anywhere = true;
    }
  }
  for (const [key, found] of modifiers) {
    found.completedAt.sort((a, b) => a - b);
    if (leaseRevokes && leased.has(key)) found.anywhere = true;
  }
  // What the responses show written at each gap: the write that made it put these keys (these values).
  const written = new Map<number, [string, string | undefined][]>();
  const wrote = (revision: number, key: string, value: string | undefined) => {
    if (lastGapAtOrBelow(facts, revision) !== revision) return;
    const list = written.get(revision);
    if (list === undefined) written.set(revision, [[key, value]]);
    else list.push([key, value]);
  };
  for (const [key, byRevision] of versions) for (const [modified, { kv, withValue }] of byRevision) wrote(modified, key, withValue ? kv.value : undefined);
  for (const [key, byRevision] of generations) for (const created of byRevision.keys()) wrote(created, key, undefined);
  const mayModifyAt = (key: string, gap: number): boolean => {
    const found = modifiers.get(key)!;
    if (found.anywhere) return true;
    const shown = written.get(gap);
    return found.unknown.some((request) => shown === undefined || shown.every(([other, value]) => mayPut(request, other, value)));
  };
  const lastModification = (key: string, revision: number): number => {
    const found = modifiers.get(key);
    if (found === undefined) return revision;
    const at = lowerBound(found.completedAt, revision + 1) - 1;
    const completed = at >= 0 ? found.completedAt[at]! : -Infinity;
    let gap = lastGapAtOrBelow(facts, revision);
    // Past a few hundred gaps, stop looking: an earlier revision only prunes more.
    for (let walked = 0; gap > completed && gap > initialRevision; walked++) {
      if (walked > 256 || mayModifyAt(key, gap)) return gap;
      gap = lastGapAtOrBelow(facts, gap - 1);
    }
    return completed;
  };
  for (const [revision, list] of [...facts.at]) {
    for (const { key, shown, withValue } of [...list]) {
      if (shown === null) continue;
      const since = lastModification(key, revision);
      if (since < revision && since > initialRevision) fact(since, key, shown, withValue);
    }
  }
}

/** The keys of `keyed` (ascending) that `request` may put or delete (only its branch that ran, when `response` says). */
function keysModifiedBy(request: EtcdRequest, response: EtcdResponse | undefined, keyed: readonly string[]): string[] {
  if (request.kind === 'put') return [request.key];
  if (request.kind === 'delete') return keysDeletedBy(request, undefined, keyed);
  if (request.kind === 'unobservedWrite') return request.key === undefined ? [] : [request.key];
  if (request.kind !== 'txn') return [];
  const branches = response?.succeeded === undefined ? [request.success, request.failure] : [response.succeeded ? request.success : request.failure];
  const modified = new Set<string>();
  for (const branch of branches) for (const inner of branch) for (const key of keysModifiedBy(inner, undefined, keyed)) modified.add(key);
  return [...modified];
}

/**
 * A txn that put a value only it may put, shown with mod revision m, made m through the branch
 * that puts it; when that is its success branch, its compares held at m - 1. A value compare
 * (=) names a value there, and when that value too has one putter, shown with mod revision m',
 * the key was not modified in (m', m - 1]; a mod compare (=) says the same with m' its operand.
 * (etcd-standard seed 250: an unknown txn putting t/a when its value was still the c13.1 written
 * at 4 is shown at 57; an unknown put of t/a tried in the gaps at 32-40 was refused only when the
 * search reached 56, after every way of filling the gaps between: 7.8 M steps.)
 */
function heldCompares(request: EtcdTxnRequest, keys: Map<string, KeyFacts>, fact: (revision: number, key: string, shown: EtcdKeyValue | null, withValue: boolean) => void): void {
  let made: number | undefined;
  for (const inner of request.success) {
    if (inner.kind !== 'put') continue;
    const found = keys.get(inner.key);
    const shownWith = found?.shownWith.get(inner.value);
    if (shownWith === undefined || Number.isNaN(shownWith) || found!.putters.get(inner.value) !== 1) continue;
    if (request.failure.some((other) => mayPut(other, inner.key, inner.value))) continue;
    made = shownWith;
    break;
  }
  if (made === undefined) return;
  const before = made - 1;
  for (const compare of request.compare) {
    if (compare.rangeEnd !== undefined || compare.result !== '=') continue;
    const found = keys.get(compare.key);
    let modified: number | undefined;
    if (compare.target === 'mod' && typeof compare.operand === 'number' && compare.operand > 0) modified = compare.operand;
    else if (compare.target === 'value' && typeof compare.operand === 'string' && found?.putters.get(compare.operand) === 1) modified = found.shownWith.get(compare.operand);
    if (modified === undefined || Number.isNaN(modified) || modified > before) continue;
    found?.unmodified.add(modified, before);
    fact(before, compare.key, { key: compare.key, modRevision: modified }, false);
  }
}

/**
 * Who may put each value shown, and who may delete each key: a completed request that changed the
 * store at a known revision only there, one whose response does not say (or a lease revoke, for a
 * key put with a lease) anywhere, and an unknown-outcome one wherever the search has not taken it.
 */
function countWriters(operations: readonly Operation<EtcdRequest, EtcdResponse>[], keys: Map<string, KeyFacts>, keyed: readonly string[]): void {
  let leaseRevokes = false;
  const leased = new Set<string>();
  const visit = (request: EtcdRequest) => {
    if (request.kind === 'put') {
      const found = keys.get(request.key);
      if (found?.shownWith.has(request.value) === true) found.putters.set(request.value, (found.putters.get(request.value) ?? 0) + 1);
      if ((request.lease ?? 0) !== 0) leased.add(request.key);
    } else if (request.kind === 'leaseRevoke') {
      leaseRevokes = true;
    } else if (request.kind === 'txn') {
      // A value put twice by one request counts twice: more putters only rule out less.
      request.success.forEach(visit);
      request.failure.forEach(visit);
    }
  };
  for (const operation of operations) {
    visit(operation.input);
    if (operation.outcome === 'fail') continue;
    const output = operation.outcome === 'ok' ? operation.output : undefined;
    const changed = output === undefined ? undefined : changedStore(operation.input, output);
    if (changed === false) continue;
    for (const key of keysDeletedBy(operation.input, output, keyed)) {
      const found = keys.get(key)!;
      if (output === undefined) found.unknownDeleters++;
      else if (changed === true && output.revision !== undefined) found.deletedAt.push(output.revision);
      else found.deletableAnywhere = true;
    }
  }
  for (const [key, found] of keys) {
    if (leaseRevokes && leased.has(key)) found.deletableAnywhere = true;
    found.pendingDeleters = found.unknownDeleters;
  }
}

/** The keys of `keyed` (ascending) that `request` may delete (only its branch that ran, when `response` says). */
export function keysDeletedBy(request: EtcdRequest, response: EtcdResponse | undefined, keyed: readonly string[]): string[] {
  if (request.kind === 'delete') {
    const high = rangeHigh(request.key, request.rangeEnd);
    const deleted: string[] = [];
    for (let index = lowerBound(keyed, request.key); index < keyed.length && (high === undefined || keyed[index]! < high); index++) deleted.push(keyed[index]!);
    return deleted;
  }
  if (request.kind !== 'txn') return [];
  const branches = response?.succeeded === undefined ? [request.success, request.failure] : [response.succeeded ? request.success : request.failure];
  const deleted = new Set<string>();
  for (const branch of branches) for (const inner of branch) for (const key of keysDeletedBy(inner, undefined, keyed)) deleted.add(key);
  return [...deleted];
}

/**
 * Whether the keyspace `keys` at `revision` (made from `previous`, the one at revision - 1, when
 * known) fits the facts; `pendingKnown`: whether the unknown-outcome requests the search has not
 * taken are the pending ones of this state (else every one may still delete).
 */
function revisionHolds(facts: KeyspaceFacts, revision: number, keys: SortedMap<StoredKey>, previous: SortedMap<StoredKey> | 'unknown', pendingKnown: boolean): boolean {
  const here = facts.at.get(revision);
  if (here !== undefined && !here.every((fact) => holds(fact, mapGet(keys, fact.key)))) return false;
  if (previous === 'unknown') return true;
  // The keys this revision modified, against what is known of them across it.
  const stamp = ++countStamp;
  return mapChangedKeys(previous, keys, (key, stored) => {
    const found = facts.keys.get(key);
    if (found !== undefined) {
      for (const range of found.ranges) {
        if (range.stamp === stamp) continue;
        range.stamp = stamp;
        if (!countHolds(facts, range, revision, keys, pendingKnown)) return false;
      }
    }
    // A stand-in's key (`etcdUnobservedWrites.ts`): nothing observes it from here on.
    if (found === undefined || stored === existingStandIn) return true;
    if (found.unmodified.covers(revision)) return false;
    if ((stored === undefined || stored.createRevision === revision) && found.alive.covers(revision)) return false;
    if (stored === undefined) return true;
    if (!deletedBeforeAbsence(facts, found, revision, pendingKnown)) return false;
    // Versions grow with mod revisions: the next one shown bounds it.
    const generation = found.versionOrder.get(stored.createRevision);
    if (generation !== undefined) {
      const next = lowerBound(generation.modified, revision + 1);
      if (next < generation.modified.length && stored.version >= generation.versions[next]!) return false;
    }
    const shownWith = found.shownWith.get(stored.value);
    return shownWith === undefined || Number.isNaN(shownWith) || shownWith === revision || found.putters.get(stored.value) !== 1;
  });
}

/** Marks the ranges one `revisionHolds` has counted already. */
let countStamp = 0;

/**
 * A key present at `revision` and seen absent at a later R was deleted in (revision, R]: by a
 * completed request that changed the store there, or one whose revision is unknown, or an
 * unknown-outcome request the search has not taken yet. Whether one of them may.
 */
function deletedBeforeAbsence(facts: KeyspaceFacts, found: KeyFacts, revision: number, pendingKnown: boolean): boolean {
  const absences = found.absences;
  const next = lowerBound(absences, revision);
  if (next === absences.length) return true;
  const absent = absences[next]!;
  // A request whose revision is unknown makes one no completed write made: a gap.
  if ((found.deletableAnywhere || (pendingKnown ? found.pendingDeleters : found.unknownDeleters) > 0) && lastGapAtOrBelow(facts, absent) > revision) return true;
  const deleter = lowerBound(found.deletedAt, revision + 1);
  return deleter < found.deletedAt.length && found.deletedAt[deleter]! <= absent;
}

/** The latest revision at or below `revision` at which something may delete the key (-Infinity: none). */
function lastDeletionAtOrBelow(facts: KeyspaceFacts, found: KeyFacts, revision: number): number {
  const deleter = lowerBound(found.deletedAt, revision + 1) - 1;
  const completed = deleter >= 0 ? found.deletedAt[deleter]! : -Infinity;
  return found.deletableAnywhere || found.unknownDeleters > 0 ? Math.max(completed, lastGapAtOrBelow(facts, revision)) : completed;
}

function lastGapAtOrBelow(facts: KeyspaceFacts, revision: number): number {
  return revision < facts.lastGap.length ? facts.lastGap[revision]! : revision;
}

/** `KeyspaceFacts.lastGap` of the revisions the completed writes made. */
function gapsBelow(operations: readonly Operation<EtcdRequest, EtcdResponse>[]): Float64Array {
  const made: number[] = [];
  for (const operation of operations) {
    const output = operation.output;
    // A compaction's header is not a revision it made (`SequenceOrder.keyOf`).
    if (operation.outcome === 'ok' && output?.revision !== undefined && operation.input.kind !== 'compact' && changedStore(operation.input, output) === true) made.push(output.revision);
  }
  const highest = made.reduce((a, b) => Math.max(a, b), 0);
  const isMade = new Uint8Array(highest + 1);
  for (const revision of made) isMade[revision] = 1;
  const lastGap = new Float64Array(highest + 1);
  let gap = -Infinity;
  for (let revision = 0; revision <= highest; revision++) {
    if (isMade[revision] === 0) gap = revision;
    lastGap[revision] = gap;
  }
  return lastGap;
}

/** The earliest revision of a state's past that contradicts the facts, if any. */
function firstContradiction(facts: KeyspaceFacts, past: PastRevision | undefined): { revision: number; keys: SortedMap<StoredKey> } | undefined {
  const chain: PastRevision[] = [];
  for (let node = past; node !== undefined; node = node.previous) chain.push(node);
  chain.reverse();
  for (let index = 0; index < chain.length; index++) {
    const node = chain[index]!;
    const before = chain[index - 1];
    // What was pending when the search made that revision is not known: every unknown-outcome request may still delete.
    if (!revisionHolds(facts, node.revision, node.keys, before !== undefined && before.revision === node.revision - 1 ? before.keys : 'unknown', false)) return node;
  }
  return undefined;
}

function holds(fact: Fact, stored: StoredKey | undefined): boolean {
  const shown = fact.shown;
  if (shown === null) return stored === undefined;
  if (stored === undefined) return false;
  return (
    (shown.createRevision === undefined || shown.createRevision === stored.createRevision) &&
    (shown.modRevision === undefined || shown.modRevision === stored.modRevision) &&
    (!fact.withValue || shown.value === undefined || shown.value === stored.value) &&
    (shown.version === undefined || shown.version === stored.version) &&
    (shown.lease === undefined || shown.lease === stored.lease)
  );
}
