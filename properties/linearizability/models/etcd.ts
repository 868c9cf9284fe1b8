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
 * The semantics of each request are in `etcdApply.ts`. Historical reads, compaction and its
 * errors are modelled; serializable reads (ranges, and txns of serializable ranges only) are
 * not linearizable and are checked as etcd guarantees them (see `stepSerializable`).
 */
import type { Model } from '../model.ts';
import { applying, compactionError, errorFits, execute, rangeMatches } from './etcdApply.ts';
import { describeEtcdRequest, keysTouched } from './etcdDescribe.ts';
import { gapCandidates } from './etcdGapCandidates.ts';
import { analyzeEtcd } from './etcdLookahead.ts';
import { changedStore, mayWrite } from './etcdObservations.ts';
import { unobservedCompactionFates } from './etcdUnobservedCompactions.ts';
import { unobservedWriteStandIns } from './etcdUnobservedWrites.ts';
import { afterCompaction, afterWrite, describeEtcdState, initialEtcdState, keysAt, sameEtcdState, type EtcdState } from './etcdState.ts';
import { isSerializableRead, modelledError, type EtcdCompactRequest, type EtcdRangeRequest, type EtcdRequest, type EtcdResponse, type EtcdTxnRequest } from './etcdTypes.ts';

export interface EtcdModelOptions {
  /** The revision of the store before the history: 1 for a new etcd cluster. */
  readonly initialRevision?: number;
  /**
   * How many times the search backtracks before the model reads every response for its
   * lookahead (`etcdLookahead.ts`); 0: at once. Default: `activationBacktracks`.
   */
  readonly lookaheadAfterBacktracks?: number;
}

export function createEtcdModel(options: EtcdModelOptions = {}): Model<EtcdState, EtcdRequest, EtcdResponse> {
  const initialRevision = options.initialRevision ?? 1;
  const initial = initialEtcdState(initialRevision);
  return {
    name: 'etcd',
    init: () => initial,
    step(state, request, response) {
      if (request.kind === 'compact') return stepCompaction(state, request, response);
      if ((request.kind === 'range' || request.kind === 'txn') && isSerializableRead(request)) return stepSerializable(state, request, response);
      const into = applying(state);
      const error = response?.error;
      const applied = execute(request, error === undefined ? response : undefined, into);
      // An error response means no effect: it must be the error met here, if the model knows it.
      if (error !== undefined) return errorFits(error, applied) ? state : undefined;
      if (applied === 'differs') return undefined;
      // Met with an error, the request took no effect: impossible with a normal response.
      if (applied !== 'matches') return response === undefined ? state : undefined;
      const revision = into.changed ? into.writeRevision : state.revision;
      if (response?.revision !== undefined && response.revision !== revision) return undefined;
      return into.changed ? afterWrite(state, into.keys) : state;
    },
    analyze(operations) {
      const standIns = unobservedWriteStandIns(operations);
      const fates = unobservedCompactionFates(operations);
      const analysis = analyzeEtcd(operations, initialRevision, options.lookaheadAfterBacktracks);
      return { ...analysis, ...(standIns === undefined ? {} : { standIns }), ...(fates === undefined ? {} : { fates }) };
    },
    stateBytes: (state, previous) => (state.keys === previous.keys ? 96 : 96 + 120 * (treeHeight(state) + 1)),
    hash: (state) => state.hash,
    equal: sameEtcdState,
    readOnly: (request, response) => (response === undefined ? !mayWrite(request) : response.error !== undefined || changedStore(request, response) === false),
    sequence: {
      keyOf(request, response) {
        if (response.revision === undefined || response.error !== undefined) return undefined;
        if (isSerializableRead(request)) return undefined;
        // A compaction's header is only an upper bound of the revision it took effect at.
        if (request.kind === 'compact') return undefined;
        const wrote = changedStore(request, response);
        if (wrote === undefined) return undefined;
        // A write that created r sits between the reads at r - 1 and the reads at r.
        return wrote ? response.revision - 0.5 : response.revision;
      },
      floor: (state) => state.revision,
      unknownCandidates: gapCandidates,
      changesWithoutRevision: (request) => request.kind === 'compact',
      // A response's revision R is the state's after the step (R - 1 before, for a write); a
      // serializable read's is one the cluster had reached; a compaction's says only how late.
      earliestFloor(request, response) {
        if (response.revision === undefined || response.error !== undefined || request.kind === 'compact') return undefined;
        if (isSerializableRead(request)) return response.revision;
        return response.revision - 1;
      },
      // A serializable read judges the keyspace at a revision the store has reached, which never
      // changes again once the store is there (nor does the refusal of a revision past its
      // header). An error answer depends on the compaction revision, which still moves.
      // A compaction, see `compactionSettledFrom`.
      // Every other response's revision is one the store reached; a compaction's says only how
      // late it was answered (the model holds it to no more), so it says nothing here.
      floorsOf(request, response) {
        if (response.revision === undefined || response.error !== undefined || request.kind === 'compact') return {};
        // Any other request's step makes the state's revision its response's (a serializable
        // read's only needs the store to have reached it).
        const latest = isSerializableRead(request) ? undefined : response.revision;
        const made = changedStore(request, response) !== false ? response.revision : undefined;
        return { reached: response.revision, ...(made === undefined ? {} : { made }), ...(latest === undefined ? {} : { latest }) };
      },
      settledFrom(request, response) {
        if (request.kind === 'compact') return compactionSettledFrom(request, response);
        if (!isSerializableRead(request) || response.revision === undefined || response.error !== undefined) return undefined;
        return response.revision;
      },
    },
    describeOperation: describeEtcdRequest,
    describeState: (state, focus) => describeEtcdState(state, focus === undefined ? undefined : keysTouched(focus, state)),
  };
}

export const etcdModel = createEtcdModel();

function stepCompaction(state: EtcdState, request: EtcdCompactRequest, response: EtcdResponse | undefined): EtcdState | undefined {
  const met = compactionError(request, state);
  if (response?.error !== undefined) {
    const modelled = modelledError(response.error);
    return modelled === undefined || modelled === met ? state : undefined;
  }
  if (met !== undefined) return response === undefined ? state : undefined;
  // etcd answers a compaction with the store's revision at reply time (v3_server.go's Compact:
  // `resp.Header.Revision = s.kv.Rev()`, after waiting for the physical compaction when asked),
  // so writes applied meanwhile put it past the revision the compaction took effect at.
  if (response?.revision !== undefined && state.revision > response.revision) return undefined;
  return afterCompaction(state, request.revision);
}

/**
 * From which floor a compaction's refusal is final (`SequenceOrder.settledFrom`), following
 * `stepCompaction`. One that succeeded at c is legal where the compaction revision is below c, the
 * store at c or past it, and not past the header (when there is one); once the store has reached
 * c only the first and the last can fail, and neither comes back: the compaction revision and the
 * store revision never go down. One refused with ErrFutureRev is legal only where c is above
 * both, which is final from the start. One refused with ErrCompacted is not settled: it becomes
 * legal when a compaction passes c. (etcd-watch seed 1238: an unknown compaction to 53, taken
 * early, made a completed one to 51 impossible, and the search went on placing every other
 * operation around it, with every subset of 30 unknown writes, past 5,000,000 steps; etcd-compaction
 * seed 1524 the same with 38 and 34.)
 */
function compactionSettledFrom(request: EtcdCompactRequest, response: EtcdResponse): number | undefined {
  if (response.error === undefined) return request.revision;
  return modelledError(response.error) === 'future' ? -Infinity : undefined;
}

/**
 * A serializable read is served by one member from its local state, which may lag behind: it is
 * not linearizable. What etcd does guarantee: every member applies the same sequence of
 * revisions, and none is ahead of the cluster. So the read shows the keyspace at its header
 * revision rv (or at its `revision`, which must then be ≤ rv), a revision of this history that
 * the cluster had reached when the read completed: the read is placed, within its interval, in
 * a state whose revision is at least rv. Nothing is assumed about how stale rv is — a client that
 * fails over to a lagging member may see revisions go back — and the member's compaction may lag
 * too, so data below the cluster's compaction revision is accepted; its ErrCompacted only below
 * the cluster's, and ErrFutureRev always (the member may be behind).
 *
 * A txn of serializable ranges only (etcd's IsTxnSerializable) is served the same way: its
 * compares and the ranges of the branch they chose are judged in the keyspace at its header
 * revision. Its errors are taken as they are (only a range at a revision could meet one, and the
 * member's compaction may lag).
 */
function stepSerializable(state: EtcdState, request: EtcdRangeRequest | EtcdTxnRequest, response: EtcdResponse | undefined): EtcdState | undefined {
  if (response === undefined) return state;
  if (response.error !== undefined) {
    if (request.kind === 'txn') return state;
    const modelled = modelledError(response.error);
    if (modelled === 'compacted') return (request.revision ?? 0) > 0 && request.revision! < state.compactRevision ? state : undefined;
    return state;
  }
  const served = response.revision;
  if (served === undefined) return state;
  if (served > state.revision) return undefined;
  if (request.kind === 'txn') {
    const keys = keysAt(state, served);
    if (keys === null) return state;
    // The member's store at `served`: a range in the txn at a revision is read against it.
    const into = { state: { ...state, revision: served }, keys, writeRevision: served + 1, changed: false };
    return execute(request, response, into) === 'matches' && !into.changed ? state : undefined;
  }
  const revision = (request.revision ?? 0) > 0 ? request.revision! : served;
  if (revision > served) return undefined;
  const keys = keysAt(state, revision);
  if (keys === null) return state;
  return rangeMatches(request, response, keys) ? state : undefined;
}

function treeHeight(state: EtcdState): number {
  return state.keys?.height ?? 0;
}
