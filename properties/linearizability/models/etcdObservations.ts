/**
 * What completed etcd responses show of the keyspace at a known revision, read once for the
 * model's inferences (`etcdGapEvidence.ts`, `etcdLookahead.ts`):
 * - a linearizable range shows the keyspace at its header revision (or at its own `revision`);
 *   a single-key range that found nothing, and a complete listing of a range, show the keys it
 *   does not list as absent there;
 * - a txn that changed nothing shows, in its ranges and in compares that held, the keyspace at
 *   its header revision; one that changed the store created that revision, so its compares and
 *   the ranges before its first write saw the one before, as does that first write's previous kv
 *   (a put's or a delete's);
 * - a put's or a delete's previous kvs show the keyspace at the revision before the one it made.
 * Serializable reads (ranges, and txns of serializable ranges only) are left out (they may be
 * served from a lagging member) and so are responses
 * that do not say whether they changed the store (a lease revoke's).
 */
import { isSerializableRead, rangeHigh, type EtcdCompare, type EtcdKeyValue, type EtcdRangeRequest, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';

export interface KeyspaceObserver {
  /**
   * `kv` (only the fields it has) was in the keyspace at `revision`; `withValue` false when its
   * value is not shown. `placedAt`: the revision the response itself sits at (its header's).
   */
  shown(kv: EtcdKeyValue, revision: number, withValue: boolean, placedAt: number): void;
  absent(key: string, revision: number, placedAt: number): void;
  /** The range [low, high) (high undefined: to the end) held `count` keys at `revision`. */
  counted?(low: string, high: string | undefined, count: number, revision: number, placedAt: number): void;
}

/**
 * Calls the observer for everything the responses show. Keys a range listing leaves out are
 * reported absent only among `keysOfInterest` (ascending): the others are never asked about.
 */
export function observeKeyspaces(completed: readonly (readonly [EtcdRequest, EtcdResponse])[], keysOfInterest: readonly string[], observer: KeyspaceObserver): void {
  const listing = (request: EtcdRangeRequest, response: EtcdResponse, current: number, placedAt: number) => {
    const at = (request.revision ?? 0) > 0 ? request.revision! : current;
    if (response.count !== undefined && request.rangeEnd !== undefined && request.rangeEnd !== '') observer.counted?.(request.key, rangeHigh(request.key, request.rangeEnd), response.count, at, placedAt);
    const kvs = response.kvs;
    if (kvs !== undefined) for (const kv of kvs) observer.shown(kv, at, request.keysOnly !== true, placedAt);
    if (kvs === undefined || request.countOnly === true) return;
    if (request.rangeEnd === undefined || request.rangeEnd === '') {
      if (kvs.length === 0) observer.absent(request.key, at, placedAt);
      return;
    }
    // Keys of the range that a complete listing does not show were absent.
    const limit = request.limit ?? 0;
    if (limit > 0 && kvs.length >= limit && response.more !== false) return;
    const high = rangeHigh(request.key, request.rangeEnd);
    const listed = new Set(kvs.map((kv) => kv.key));
    for (let index = lowerBound(keysOfInterest, request.key); index < keysOfInterest.length && (high === undefined || keysOfInterest[index]! < high); index++) {
      if (!listed.has(keysOfInterest[index]!)) observer.absent(keysOfInterest[index]!, at, placedAt);
    }
  };
  for (const [request, response] of completed) {
    const revision = response.revision;
    if (revision === undefined || response.error !== undefined) continue;
    if (request.kind === 'range') {
      if (request.serializable !== true) listing(request, response, revision, revision);
      continue;
    }
    if (isSerializableRead(request)) continue;
    const changed = changedStore(request, response);
    if (changed === undefined) continue;
    const before = changed ? revision - 1 : revision;
    if (request.kind === 'txn' && response.succeeded === true) for (const compare of request.compare) compareHeld(compare, before, revision, observer);
    const ops = request.kind === 'txn' ? (response.succeeded === undefined ? [] : response.succeeded ? request.success : request.failure) : [request];
    const responses = request.kind === 'txn' ? (response.responses ?? []) : [response];
    for (let index = 0; index < ops.length && index < responses.length; index++) {
      const op = ops[index]!;
      const answer = responses[index]!;
      if (op.kind === 'range') {
        listing(op, answer, before, revision);
        continue;
      }
      // The first write saw the keyspace before the request; what follows sees its writes.
      if (op.kind === 'put' && answer.prevKv !== undefined) {
        if (answer.prevKv === null) observer.absent(op.key, before, revision);
        else observer.shown(answer.prevKv, before, true, revision);
      }
      if (op.kind === 'delete') answer.prevKvs?.forEach((kv) => observer.shown(kv, before, true, revision));
      break;
    }
  }
}

/** A compare on one key that held (etcd's applyCompare: a missing key compares as zeros, and no value). */
function compareHeld(compare: EtcdCompare, revision: number, placedAt: number, observer: KeyspaceObserver): void {
  if (compare.rangeEnd !== undefined && compare.rangeEnd !== '') return;
  if (compare.result !== '=') return;
  const key = compare.key;
  if (compare.target === 'value') {
    if (typeof compare.operand === 'string') observer.shown({ key, value: compare.operand }, revision, true, placedAt);
    return;
  }
  if (typeof compare.operand !== 'number') return;
  if (compare.operand === 0) {
    // Version and create revision are 0 only for a missing key; a lease or mod compare of 0 says less.
    if (compare.target === 'version' || compare.target === 'create') observer.absent(key, revision, placedAt);
    return;
  }
  const field = { version: 'version', create: 'createRevision', mod: 'modRevision', lease: 'lease' } as const;
  observer.shown({ key, [field[compare.target]]: compare.operand }, revision, false, placedAt);
}

/** Intervals (start, end] of revisions, e.g. those in which a key is known unmodified. */
export class Spans {
  readonly #spans: [number, number][] = [];
  #starts: Float64Array | undefined;
  #reach: Float64Array | undefined;

  add(start: number, end: number): void {
    if (end > start) this.#spans.push([start, end]);
  }

  /** Whether `revision` is in some (start, end]. */
  covers(revision: number): boolean {
    if (this.#starts === undefined) this.#index();
    const low = lowerBound(this.#starts!, revision);
    return low > 0 && this.#reach![low - 1]! >= revision;
  }

  #index(): void {
    this.#spans.sort((a, b) => a[0] - b[0]);
    this.#starts = Float64Array.from(this.#spans, (span) => span[0]);
    this.#reach = new Float64Array(this.#spans.length);
    let reach = -Infinity;
    this.#spans.forEach(([, end], index) => {
      reach = Math.max(reach, end);
      this.#reach![index] = reach;
    });
  }
}

/** The index of the first of the ascending `sorted` at or above `key`. */
export function lowerBound<T extends string | number>(sorted: ArrayLike<T>, key: T): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Whether the request could change the store in some state. */
export function mayWrite(request: EtcdRequest): boolean {
  switch (request.kind) {
    case 'range':
    case 'leaseGrant':
      return false;
    case 'put':
    case 'delete':
    case 'compact':
    case 'leaseRevoke':
    case 'unobservedWrite':
      return true;
    case 'txn':
      return request.success.some(mayWrite) || request.failure.some(mayWrite);
  }
}

/** Whether the response says the request changed the store; undefined when it does not say. */
export function changedStore(request: EtcdRequest, response: EtcdResponse | undefined): boolean | undefined {
  if (response?.error !== undefined) return false;
  switch (request.kind) {
    case 'range':
    case 'leaseGrant':
      return false;
    case 'put':
    case 'compact':
    case 'unobservedWrite':
      return true;
    case 'leaseRevoke':
      // Its response does not say whether any key was attached.
      return undefined;
    case 'delete':
      return response?.deleted === undefined ? undefined : response.deleted > 0;
    case 'txn': {
      if (response?.succeeded === undefined) return mayWrite(request) ? undefined : false;
      const branch = response.succeeded ? request.success : request.failure;
      let unsure = false;
      for (let index = 0; index < branch.length; index++) {
        const changed = changedStore(branch[index]!, response.responses?.[index]);
        if (changed === true) return true;
        if (changed === undefined) unsure = true;
      }
      return unsure ? undefined : false;
    }
  }
}

/** Keys any of the requests may put (nested ones too), ascending, once each. */
export function keysPutBy(requests: Iterable<EtcdRequest>): string[] {
  const keys = new Set<string>();
  const visit = (request: EtcdRequest) => {
    if (request.kind === 'put') keys.add(request.key);
    else if (request.kind === 'txn') {
      request.success.forEach(visit);
      request.failure.forEach(visit);
    }
  };
  for (const request of requests) visit(request);
  return [...keys].sort();
}
