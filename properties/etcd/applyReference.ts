import { isEtcdError, type Event } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { NodeProtocol } from '../../core/host/node.ts';
import type { ApplyListener } from '../../core/server/applyListener.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { InternalOp } from '../../core/server/internalRequest.ts';
import type { ApplyOutcome } from '../../core/server/stateMachine.ts';
import { applying, compactionError, execute, rangeMatches } from '../linearizability/models/etcdApply.ts';
import { afterCompaction, afterWrite, describeStoredKey, initialEtcdState, keysAt, showsStoredKey, storedKey, type EtcdState, type StoredKey } from '../linearizability/models/etcdState.ts';
import { modelledError, type EtcdRequest, type EtcdResponse } from '../linearizability/models/etcdTypes.ts';
import { mapDelete, mapGet, mapSet, type SortedMap } from '../linearizability/models/persistentSortedMap.ts';
import { memberRequestInput, modelResponse } from './etcdHistory.ts';
import { listeningProtocol } from './listeningProtocol.ts';

/**
 * Answers kept for comparison with later appliers, by index (they hold the changes' values): a
 * member further behind is sent a snapshot, and a restarted one re-applies what it lost of the
 * last few commits; an older index is not compared.
 */
const keptAnswers = 2_000;

/**
 * Compactions kept (index applied, revision), for the compaction a member has applied at its
 * applied index; a member further behind than the oldest kept (restarted from an old backend) has
 * its reads below the model's compaction left unjudged.
 */
const keptCompactions = 1_000;

/** Counts for a run's summary and the tests. */
export interface ApplyReferenceStats {
  /** Requests the reference model stepped through and judged the first applier's answer by. */
  modelled: number;
  /** Requests the model learned from the first applier's changes (leases, alarms, membership, inexpressible writes). */
  learned: number;
  /** Later appliers' answers compared with the first's. */
  compared: number;
  /** Reads served from a member's state judged by the model at the revision they read. */
  reads: number;
  /** Of those, ranges at a revision below the model's compaction that the member had not compacted yet (their answer judged) or had (ErrCompacted required). */
  readsBelowCompaction: number;
}

/**
 * The apply check (session 20, task shadow): every member's answer at each applied index agrees
 * with the reference model and with every other member's and incarnation's answer at that index,
 * judged at the apply, the first wrong step — not after the run, by the history check, and only
 * if a client happened to see it. The first member to apply an index steps the model (the history
 * checker's own etcd model, properties/linearizability/models) and its answer must be the model's;
 * every later applier of that index (another member, a restarted incarnation re-applying past its
 * durable consistent index) must give the same answer, error or response. The model is shared: a
 * member that installs a snapshot just continues at its new index (some member applied every
 * index below it first).
 *
 * What the model covers: Put, DeleteRange, Txn (as the history checker expresses them) — the
 * response (count, more, kvs, prev_kv, deleted, succeeded, each op's answer), the header revision
 * and whether the write changed anything; Compact's ErrCompacted/ErrFutureRev; LeaseRevoke's
 * deletes of the lease's keys. Other requests (lease grants and checkpoints, alarms, membership)
 * and writes the model cannot express are compared member against member only; the model learns
 * their changes from the first applier's events. An error answer (other than the revision errors)
 * is compared member against member; the model takes the changes the member made, if any.
 *
 * A read-only apply listener: it asks for no prevKv, so a run is the same with it and without it.
 */
export class ApplyReference {
  private model: EtcdState = initialEtcdState(1);
  /**
   * The last index the model stepped through (every entry up to it was applied by some member);
   * null until the first apply: a new cluster's members start past their bootstrap conf changes,
   * which change no key.
   */
  private modelIndex: number | null = null;
  /** The first applier's answer by index (only indexes whose entry applied a request). */
  private readonly answers = new Map<number, { readonly member: number; readonly outcome: ApplyOutcome }>();
  private keptFrom = 1;
  /** The compactions the model applied, by the index they applied at, oldest first (at most keptCompactions). */
  private readonly compactions: { readonly index: number; readonly revision: number }[] = [];
  /** Whether compactions were dropped from the front of `compactions`. */
  private compactionsTrimmed = false;
  readonly stats: ApplyReferenceStats = { modelled: 0, learned: 0, compared: 0, reads: 0, readsBelowCompaction: 0 };

  /** Every incarnation of every member is observed: the protocol's nodes start with the listener. */
  checking(protocol: NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer>): NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
    return listeningProtocol(protocol, () => this.listener());
  }

  listener(): ApplyListener {
    return {
      wantsPrevKv: () => false,
      onEvents: () => {},
      onOutcome: (server, index, op, outcome) => this.outcome(server.id, index, op, outcome),
      onServed: (server, request, result) => this.served(server.id, server.state.kv.revision, request, result, server.appliedIndex),
      onApplied: (server, index) => this.applied(server.id, index),
      onRestored: () => {},
    };
  }

  /** A member's answer at `index`: the first steps the model, the others are compared with it. */
  outcome(member: number, index: number, op: InternalOp, outcome: ApplyOutcome): void {
    const modelIndex = this.modelIndex ?? index - 1;
    if (index <= modelIndex) {
      if (index < this.keptFrom) return;
      const first = this.answers.get(index);
      this.stats.compared++;
      if (first === undefined) throw new AssertionError(`apply check: member ${member} applied a ${op.kind} at index ${index}, where the first member to apply it applied no request`);
      if (!sameAnswer(first.outcome, outcome)) throw new AssertionError(`apply check: member ${member} answered the ${op.kind} at index ${index} with ${answerText(outcome)}, member ${first.member} with ${answerText(first.outcome)}`);
      return;
    }
    if (index !== modelIndex + 1) throw new AssertionError(`apply check: member ${member} applied index ${index} before any member applied index ${modelIndex + 1}`);
    this.step(member, index, op, outcome);
    this.modelIndex = index;
    this.answers.set(index, { member, outcome });
    while (this.answers.size > keptAnswers) {
      const oldest = this.answers.keys().next().value!;
      this.answers.delete(oldest);
      this.keptFrom = oldest + 1;
    }
  }

  /**
   * A read a member served from its state at `revision`, having applied `appliedIndex` (a Range, or
   * a read-only Txn): the model's keyspace at the revision it read must give the same answer. The
   * model keeps every revision, so a range below the model's compaction is judged too, by the
   * compaction the member itself had applied (the model's last at or below `appliedIndex`: a member
   * applies a compaction when it applies its entry, and reopens to its backend's): below that, only
   * ErrCompacted is right; at or above it, the keyspace there, even where the model (the first
   * member to apply) has compacted since; ErrCompacted there is wrong. ErrFutureRev is judged
   * against the member's own revision. Other errors are the history check's (what clients saw).
   */
  served(member: number, revision: number, request: ServerRequest, result: unknown, appliedIndex: number): void {
    if (request.method !== 'Range' && request.method !== 'Txn') return;
    const input = memberRequestInput(request);
    if (input === null) return;
    if (isEtcdError(result)) {
      if (input.kind === 'range') this.servedError(member, revision, input.revision ?? 0, modelledError(result), appliedIndex);
      return;
    }
    const header = headerRevision(result);
    if (header !== revision) throw new AssertionError(`apply check: member ${member} served a ${request.method} at header revision ${header} from its store at revision ${revision}`);
    if (revision > this.model.revision) throw new AssertionError(`apply check: member ${member} served a ${request.method} at revision ${revision}, which no member applied (the model is at ${this.model.revision})`);
    const expected = responseOf(request, result, () => `apply check: member ${member} served ${JSON.stringify(result)} for ${request.method}`);
    if (input.kind === 'range') {
      const readAt = input.revision !== undefined && input.revision > 0 ? input.revision : revision;
      if (readAt > revision) throw new AssertionError(`apply check: member ${member} served ${JSON.stringify(input)} at revision ${readAt}, above its own revision ${revision} (ErrFutureRev)`);
      let below = false;
      if (readAt < this.model.compactRevision) {
        const compacted = this.compactionAt(appliedIndex);
        if (compacted === null) return;
        if (readAt < compacted) throw new AssertionError(`apply check: member ${member} served ${JSON.stringify(input)} at revision ${readAt}, below the compaction at revision ${compacted} it applied (at or below its applied index ${appliedIndex}), where it must answer ErrCompacted`);
        below = true;
      }
      const keys = keysAt(this.model, readAt);
      if (keys === null) return;
      this.stats.reads++;
      if (below) this.stats.readsBelowCompaction++;
      if (!rangeMatches(input, expected, keys)) throw new AssertionError(`apply check: member ${member} served ${JSON.stringify(input)} at revision ${readAt} with ${JSON.stringify(result)}, which the model's keyspace there does not give`);
      return;
    }
    const keys = keysAt(this.model, revision);
    if (keys === null) return;
    const at: EtcdState = { ...this.model, revision, keys };
    this.stats.reads++;
    const met = execute(input, expected, applying(at));
    if (met !== 'matches') throw new AssertionError(`apply check: member ${member} served ${JSON.stringify(input)} at revision ${revision} with ${JSON.stringify(result)}, which the model's keyspace there ${met === 'differs' ? 'does not give' : `refuses (${met})`}`);
  }

  /** A range a member answered with an error: ErrCompacted only below its own compaction, ErrFutureRev only above its revision. */
  private servedError(member: number, revision: number, readAt: number, error: 'compacted' | 'future' | undefined, appliedIndex: number): void {
    if (error === 'future') {
      if (readAt <= revision) throw new AssertionError(`apply check: member ${member} answered ErrFutureRev to a range at revision ${readAt}, at or below its own revision ${revision}`);
      this.stats.reads++;
      return;
    }
    if (error !== 'compacted') return;
    const compacted = this.compactionAt(appliedIndex);
    if (compacted === null) return;
    if (readAt <= 0 || readAt >= compacted) throw new AssertionError(`apply check: member ${member} answered ErrCompacted to a range at revision ${readAt > 0 ? readAt : `${revision} (its current)`}, not below the compaction at revision ${compacted} it applied (at or below its applied index ${appliedIndex})`);
    this.stats.reads++;
    if (readAt < this.model.compactRevision) this.stats.readsBelowCompaction++;
  }

  /** The revision of the last compaction the model applied at or below `index` (-1: none), or null when that is no longer known. */
  private compactionAt(index: number): number | null {
    for (let i = this.compactions.length - 1; i >= 0; i--) if (this.compactions[i]!.index <= index) return this.compactions[i]!.revision;
    return this.compactionsTrimmed ? null : -1;
  }

  /** An entry applied (a request, a no-op, a conf change, a replayed or duplicated entry): the model passes the indexes that apply nothing. */
  applied(member: number, index: number): void {
    const modelIndex = this.modelIndex ?? index - 1;
    if (index <= modelIndex) return;
    if (index !== modelIndex + 1) throw new AssertionError(`apply check: member ${member} applied index ${index} before any member applied index ${modelIndex + 1}`);
    this.modelIndex = index;
  }

  private step(member: number, index: number, op: InternalOp, outcome: ApplyOutcome): void {
    const where = `apply check: member ${member}, the first to apply index ${index} (a ${op.kind}),`;
    const request = modelInput(op);
    if (op.kind === 'compaction' && request !== null && request.kind === 'compact') {
      const met = compactionError(request, this.model);
      const answered = outcome.error === null ? undefined : modelledError(outcome.error);
      if (outcome.error === null ? met !== undefined : answered !== undefined && answered !== met) {
        throw new AssertionError(`${where} answered ${outcome.error === null ? 'success' : outcome.error.message} where the model ${met === undefined ? 'compacts' : `meets ${met === 'compacted' ? 'ErrCompacted' : 'ErrFutureRev'}`} (revision ${request.revision}, compacted at ${this.model.compactRevision}, current ${this.model.revision})`);
      }
      if (outcome.error === null) {
        this.model = afterCompaction(this.model, request.revision);
        this.compactions.push({ index, revision: request.revision });
        if (this.compactions.length > keptCompactions) {
          this.compactions.shift();
          this.compactionsTrimmed = true;
        }
      }
      this.stats.modelled++;
      return;
    }
    if (request === null || appliedError(outcome) !== null) {
      this.learn(where, outcome.events);
      return;
    }
    const into = applying(this.model);
    const expected = op.kind === 'leaseRevoke' ? undefined : responseOf(serverRequest(op), outcome.response, () => `${where} answered ${answerText(outcome)}`);
    const met = execute(request, expected, into);
    if (met !== 'matches') throw new AssertionError(`${where} answered ${answerText(outcome)}, which the model ${met === 'differs' ? 'does not give' : `refuses (${met})`} for ${JSON.stringify(request)} at revision ${this.model.revision}`);
    if (into.changed !== outcome.events.length > 0) throw new AssertionError(`${where} made ${outcome.events.length} changes where the model ${into.changed ? 'changes keys' : 'changes nothing'}`);
    const next = into.changed ? afterWrite(this.model, into.keys) : this.model;
    const revision = headerRevision(outcome.response);
    if (revision !== undefined && revision !== next.revision) throw new AssertionError(`${where} answered at header revision ${revision} where the model is at ${next.revision}`);
    const wrong = wrongEvent(outcome.events, next.keys);
    if (wrong !== null) throw new AssertionError(`${where} ${wrong}`);
    this.model = next;
    this.stats.modelled++;
  }

  /** A request the model does not cover: it takes the member's changes (compared with the other members' answers, and by EventLedger and the state digests). */
  private learn(where: string, events: readonly Event[]): void {
    this.stats.learned++;
    if (events.length === 0) return;
    let keys = this.model.keys;
    const revision = this.model.revision + 1;
    for (const event of events) {
      if (event.kv.modRevision !== revision) throw new AssertionError(`${where} changed ${JSON.stringify(event.kv.key)} at mod revision ${event.kv.modRevision}, not the model's next revision ${revision}`);
      const { key, value, createRevision, modRevision, version, lease } = event.kv;
      keys = event.type === 'PUT' ? mapSet(keys, key, storedKey(value, createRevision, modRevision, version, lease)) : mapDelete(keys, key);
    }
    this.model = afterWrite(this.model, keys);
  }
}

/** The model's response for a member's answer; an answer whose shape does not fit the request (a txn's responses not in its ops' order) fails here. */
function responseOf(request: ServerRequest, response: unknown, what: () => string): EtcdResponse {
  try {
    return modelResponse(request, response, true);
  } catch (error) {
    throw new AssertionError(`${what()}, which does not fit the request (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** The model's request for an applied op, or null when the model does not cover it. */
function modelInput(op: InternalOp): EtcdRequest | null {
  switch (op.kind) {
    case 'put':
    case 'deleteRange':
    case 'txn':
      return memberRequestInput(serverRequest(op));
    case 'compaction':
      return { kind: 'compact', revision: op.request.revision };
    case 'leaseRevoke':
      return { kind: 'leaseRevoke', lease: op.ID };
    default:
      return null;
  }
}

function serverRequest(op: InternalOp): Extract<ServerRequest, { method: 'Put' | 'DeleteRange' | 'Txn' }> {
  switch (op.kind) {
    case 'put':
      return { method: 'Put', request: op.request };
    case 'deleteRange':
      return { method: 'DeleteRange', request: op.request };
    case 'txn':
      return { method: 'Txn', request: op.request };
    default:
      throw new AssertionError(`${op.kind} is not a key-value write`);
  }
}

/**
 * A member's answer as text, for comparing members: the response (no member-specific header at
 * the apply) or the error, and the changes it made (without prev_kv, which a member reads only
 * when one of its own watchers asks).
 */
export function answerText(outcome: ApplyOutcome): string {
  const error = appliedError(outcome);
  const answer = error === null ? JSON.stringify(outcome.response) : `error ${error.code} ${JSON.stringify(error.message)}`;
  if (outcome.events.length === 0) return answer;
  return `${answer}, changes ${JSON.stringify(outcome.events.map((event) => [event.type, event.kv]))}`;
}

/** Whether two members' answers are the same: the response or error, and the changes (without prev_kv), as `answerText` shows them. */
export function sameAnswer(a: ApplyOutcome, b: ApplyOutcome): boolean {
  const errorA = appliedError(a);
  const errorB = appliedError(b);
  if (errorA !== null || errorB !== null) {
    if (errorA === null || errorB === null || errorA.code !== errorB.code || errorA.message !== errorB.message) return false;
  } else if (!sameJson(a.response, b.response)) return false;
  if (a.events.length !== b.events.length) return false;
  for (let i = 0; i < a.events.length; i++) {
    const x = a.events[i]!;
    const y = b.events[i]!;
    if (x.type !== y.type || !sameJson(x.kv, y.kv)) return false;
  }
  return true;
}

/** Deep equality of plain data (what JSON.stringify would show alike, absent and undefined fields alike). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  // A slab-valued KeyValue (core/mvcc/valueSlabs.ts) compares as the plain KeyValue it stands for.
  if (hasToJson(a) || hasToJson(b)) return sameJson(hasToJson(a) ? a.toJSON() : a, hasToJson(b) ? b.toJSON() : b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key in left) if (!sameJson(left[key], right[key])) return false;
  for (const key in right) if (!(key in left) && right[key] !== undefined) return false;
  return true;
}

function hasToJson(value: object): value is { toJSON(): unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/**
 * The error of an apply that changed nothing. A write over the quota is applied and answered
 * NOSPACE by the member whose own backend is past it (etcd's quotaApplierV3): members' backends
 * differ in size, so that error is the member's, and its answer is the write's response.
 */
function appliedError(outcome: ApplyOutcome): ApplyOutcome['error'] {
  return outcome.overQuota ? null : outcome.error;
}

function headerRevision(response: unknown): number | undefined {
  const header = (response as { header?: { revision?: number } } | null)?.header;
  return header?.revision;
}

/** The first change the model's keyspace after the write does not show, or null. */
function wrongEvent(events: readonly Event[], keys: SortedMap<StoredKey>): string | null {
  for (const event of events) {
    const stored = mapGet(keys, event.kv.key);
    if (event.type === 'DELETE' ? stored !== undefined : stored === undefined || !showsStoredKey(event.kv, event.kv.key, stored)) {
      return `made the change ${event.type} ${JSON.stringify(event.kv.key)} (mod ${event.kv.modRevision}, version ${event.kv.version}) where the model holds ${describeStoredKey(event.kv.key, stored)}`;
    }
  }
  return null;
}
