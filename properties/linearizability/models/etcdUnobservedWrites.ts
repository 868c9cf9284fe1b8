/**
 * Writes that nothing in the history can see, and what the search uses in their place
 * (`HistoryAnalysis.standIns` of the etcd model).
 *
 * An unknown-outcome write that took effect must fill a gap of the revision sequence: every
 * revision between two that responses show was made by some write. Where no response shows what
 * a gap's write wrote, the search must guess which pending write made it, and every guess gives
 * a different state: with 19 gaps and 50 unknown writes (etcd-compaction seed 699) the guesses
 * multiply past any budget, although most of those writes put keys that no response ever shows.
 * Such a put changes nothing that any operation of the history can observe except the revision,
 * so all of them are the same operation to the search: "create a revision". Given identical
 * stand-ins, the search tries only the earliest pending one (its twins rule, `SearchSpace`), and
 * the states it reaches after any of them are equal (Lowe's cache merges them).
 *
 * Which keys are observed: every key whose state can decide a response the history holds or the
 * effect of a write on an observed key —
 * - the keys in a completed operation's ranges (any branch of a completed txn), since a range
 *   shows values, revisions, counts and absences;
 * - the keys of a completed put whose previous kv was asked for (or whose response is not known
 *   in enough detail to tell);
 * - the keys in any operation's compares and deletes, completed or not: they decide which branch
 *   runs and whether the request creates a revision at all (a delete of nothing creates none);
 * - the keys ever put with a lease, which a revoke deletes (and its revision depends on them).
 * A put to any other key by an unknown-outcome operation becomes `unobservedWrite` (several in one
 * branch become one), and a range without a revision inside an unknown txn is dropped: its answer
 * is unknown and it changes nothing (a range at a revision stays: it can make the txn fail).
 *
 * Exactness: the observable part of the state — the observed keys, the revision and the
 * compaction revision — evolves the same under an operation and its stand-in in every state,
 * because branch choices and deletes read only observed keys, and a put creates a revision
 * whatever it writes. Every response checked reads only that part. So a sequence is legal with the
 * stand-ins iff it is with the operations themselves (property-tested against the plain search in
 * etcdUnobservedWrites.property.test.ts). Completed operations keep their own inputs: the
 * revisions place them, and so they never multiply the search.
 */
import type { Operation } from '../history.ts';
import { keysPutBy, lowerBound } from './etcdObservations.ts';
import { rangeHigh, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';

/**
 * When the history last observes a key: the latest completion of an operation that shows all of
 * it (`full`), or only whether it exists (`existence`: only deletes look); Infinity when an
 * unknown-outcome operation looks, as it may take effect at any time.
 */
export interface Observed {
  full: number;
  existence: number;
}

const unobservedWrite: EtcdRequest = { kind: 'unobservedWrite' };

/** Per operation, its stand-in when it has one (else undefined). */
export function unobservedWriteStandIns(operations: readonly Operation<EtcdRequest, EtcdResponse>[]): (EtcdRequest | undefined)[] | undefined {
  // The operations that may get a stand-in: only the keys they put need their observers found.
  const mayStandIn: number[] = [];
  let unknown = false;
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index]!;
    if (operation.outcome === 'unknown') unknown = true;
    // A completed put whose response shows nothing of the key before it, as its own stand-in.
    if (operation.outcome === 'unknown' || isBarePut(operation)) mayStandIn.push(index);
  }
  if (!unknown) return undefined;
  const observed = observedKeys(operations, keysPutBy(mayStandIn.map((index) => operations[index]!.input)));
  let standIns: (EtcdRequest | undefined)[] | undefined;
  for (const index of mayStandIn) {
    const { input, invokedAt } = operations[index]!;
    const standIn = withoutUnobserved(input, observed, invokedAt);
    if (standIn === input) continue;
    standIns ??= new Array<EtcdRequest | undefined>(operations.length).fill(undefined);
    standIns[index] = standIn;
  }
  return standIns;
}

/** A completed put whose response shows nothing of the key before it: it may be its own stand-in. */
function isBarePut(operation: Operation<EtcdRequest, EtcdResponse>): boolean {
  const input = operation.input;
  return operation.outcome !== 'unknown' && input.kind === 'put' && operation.output?.prevKv === undefined && input.prevKv !== true;
}

/**
 * The keys some operation may put (or those of `keysOfInterest`, ascending: ranges are looked at
 * only for them) that something in the history observes, how much and until when.
 */
export function observedKeys(operations: readonly Operation<EtcdRequest, EtcdResponse>[], keysOfInterest = keysPutBy(operations.map((operation) => operation.input))): Map<string, Observed> {
  const observed = new Map<string, Observed>();
  let until = 0;
  const observe = (key: string, how: keyof Observed, forEver = false) => {
    let found = observed.get(key);
    if (found === undefined) observed.set(key, (found = { full: -Infinity, existence: -Infinity }));
    found[how] = Math.max(found[how], forEver ? Infinity : until);
  };
  // Ranges (most histories read a few prefixes over and over) are gathered first, and each is
  // spread over the keys it holds once, at the end.
  const ranges = new Map<string, Map<string, Observed>>();
  const observeRange = (key: string, rangeEnd: string | undefined, how: keyof Observed) => {
    if (rangeEnd === undefined || rangeEnd === '') {
      observe(key, how);
      return;
    }
    let byEnd = ranges.get(key);
    if (byEnd === undefined) ranges.set(key, (byEnd = new Map()));
    let found = byEnd.get(rangeEnd);
    if (found === undefined) byEnd.set(rangeEnd, (found = { full: -Infinity, existence: -Infinity }));
    found[how] = Math.max(found[how], until);
  };
  const spreadRanges = () => {
    for (const [key, byEnd] of ranges) {
      for (const [rangeEnd, found] of byEnd) {
        const high = rangeHigh(key, rangeEnd);
        for (let index = lowerBound(keysOfInterest, key); index < keysOfInterest.length && (high === undefined || keysOfInterest[index]! < high); index++) {
          for (const how of ['full', 'existence'] as const) {
            until = found[how];
            if (until > -Infinity) observe(keysOfInterest[index]!, how);
          }
        }
      }
    }
  };
  // `completed`: the request's response is checked; `response`: that response, when known.
  const visit = (request: EtcdRequest, completed: boolean, response: EtcdResponse | undefined) => {
    switch (request.kind) {
      case 'range':
        if (completed) observeRange(request.key, request.rangeEnd, 'full');
        return;
      case 'put':
        // A key once put with a lease is a revoke's business at any later time, even after a put
        // without one (which detaches it).
        if ((request.lease ?? 0) !== 0) observe(request.key, 'full', true);
        else if (completed && (request.prevKv === true || response === undefined || response.prevKv !== undefined)) observe(request.key, 'full');
        return;
      case 'delete':
        // Whether it deletes anything decides its revision; its previous kvs show the keys.
        observeRange(request.key, request.rangeEnd, completed && (request.prevKv === true || response === undefined || response.prevKvs !== undefined) ? 'full' : 'existence');
        return;
      case 'txn': {
        // A txn that can only fail reads nothing with its compares.
        if (neverSucceeds(request)) {
          request.failure.forEach((inner, index) => visit(inner, completed, response?.responses?.[index]));
          return;
        }
        for (const compare of request.compare) observeRange(compare.key, compare.rangeEnd, 'full');
        const succeeded = completed ? response?.succeeded : undefined;
        const visitBranch = (branch: readonly EtcdRequest[], ran: boolean) =>
          branch.forEach((inner, index) => visit(inner, completed, ran ? response?.responses?.[index] : undefined));
        visitBranch(request.success, succeeded === true);
        visitBranch(request.failure, succeeded === false);
        return;
      }
      default:
        return;
    }
  };
  for (const operation of operations) {
    if (operation.outcome === 'fail') continue;
    const completed = operation.outcome === 'ok';
    until = completed ? operation.completedAt : Infinity;
    visit(operation.input, completed, completed ? operation.output : undefined);
  }
  spreadRanges();
  return observed;
}

/**
 * Whether some compare of the txn can hold in no state: a number below 0 (versions, revisions and
 * leases are never negative) or a value below "" (etcd's applyCompare: such a txn runs its
 * failure branch).
 */
function neverSucceeds(request: Extract<EtcdRequest, { kind: 'txn' }>): boolean {
  return request.compare.some((compare) => compare.result === '<' && (compare.target === 'value' ? compare.operand === '' : typeof compare.operand === 'number' && compare.operand <= 0));
}

/**
 * The request invoked at `invokedAt` with its puts to keys nothing observes from then on reduced
 * to `unobservedWrite` (keeping the key when only its existence is observed); itself when nothing
 * changes. An observer that completed before the write was invoked precedes it in every
 * linearization, so it cannot see the write.
 */
function withoutUnobserved(request: EtcdRequest, observed: ReadonlyMap<string, Observed>, invokedAt: number): EtcdRequest {
  switch (request.kind) {
    case 'put': {
      if ((request.lease ?? 0) !== 0) return request;
      const found = observed.get(request.key);
      if (found === undefined || (found.full < invokedAt && found.existence < invokedAt)) return unobservedWrite;
      return found.full < invokedAt ? { kind: 'unobservedWrite', key: request.key } : request;
    }
    case 'txn': {
      if (neverSucceeds(request)) {
        // The failure branch alone, as a txn without compares runs its success branch.
        const only = branchWithoutUnobserved(request.failure, observed, invokedAt);
        return { kind: 'txn', compare: [], success: only, failure: [] };
      }
      const success = branchWithoutUnobserved(request.success, observed, invokedAt);
      const failure = branchWithoutUnobserved(request.failure, observed, invokedAt);
      return success === request.success && failure === request.failure ? request : { kind: 'txn', compare: request.compare, success, failure };
    }
    default:
      return request;
  }
}

function branchWithoutUnobserved(branch: readonly EtcdRequest[], observed: ReadonlyMap<string, Observed>, invokedAt: number): readonly EtcdRequest[] {
  const reduced: EtcdRequest[] = [];
  let changed = false;
  for (const inner of branch) {
    // An unknown txn's range answers nobody; at a revision it may still fail the txn.
    const unanswered = inner.kind === 'range' && (inner.revision ?? 0) === 0;
    const standIn = unanswered ? undefined : withoutUnobserved(inner, observed, invokedAt);
    if (standIn !== inner) changed = true;
    if (standIn === undefined || (standIn === unobservedWrite && reduced.includes(unobservedWrite))) continue;
    reduced.push(standIn);
  }
  return changed ? reduced : branch;
}
