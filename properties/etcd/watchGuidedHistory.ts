import type { HistoryEntry } from '../../sim/client.ts';
import type { WatchLogListener, WatchRecord } from '../../sim/watchLog.ts';
import type { RequestOp } from '../../core/api/index.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../../core/server/index.ts';

/** What the watches settled in a history. */
export interface WatchGuidance {
  /** Unknown puts a watch saw: they took effect at the revision it showed, before it was seen. */
  tookEffect: number;
  /** Unknown puts an unbroken watch on every key would have shown, and did not: they never took effect. */
  neverTookEffect: number;
}

interface EveryKeyWatch {
  /** It covers the revisions after this one (its first start). */
  readonly from: number;
  /** Every revision up to this was sent (events or a bookmark), except in `gaps`. */
  delivered: number;
  /** Revisions a compaction cancel skipped: [first, last] each. */
  readonly gaps: [number, number][];
}

/**
 * Watch-guided history patching, as etcd's robustness tests do (tests/robustness/validate/
 * patch_history.go): puts carry unique values, so a put whose outcome the client never learned
 * but whose value a watch showed took effect at that event's revision, and no later than the
 * moment the watch client saw it — it becomes an answered put with that revision. And where a
 * watch on every key ran unbroken from before a put was invoked to past every revision any client
 * was shown, a put it never showed never took effect (had it, at a revision nobody was shown, it
 * would change nothing anyone saw): it is dropped as failed. Both turn open questions the search
 * would branch on into facts, which is what makes heavy-fault histories cheap to check.
 */
export class ObservedWrites implements WatchLogListener {
  private readonly puts = new Map<string, { readonly revision: number; readonly atUs: number }>();
  private readonly everyKey = new Map<number, EveryKeyWatch>();
  /** Revisions the watch clients were shown, with when (for "what had a client seen before this call"). */
  private readonly shown: { readonly atUs: number; readonly revision: number }[] = [];

  record(record: WatchRecord, nowUs: number): void {
    const segment = record.segment;
    const coversEveryKey = segment.spec.rangeEnd === '\0' && (segment.spec.key === '\0' || segment.spec.key === '') && segment.spec.filters.length === 0;
    if (record.kind === 'created') {
      this.shown.push({ atUs: nowUs, revision: segment.createdRevision });
      if (coversEveryKey && !this.everyKey.has(segment.watch)) {
        const from = segment.startRevision === 0 ? segment.createdRevision : segment.startRevision - 1;
        this.everyKey.set(segment.watch, { from, delivered: from, gaps: [] });
      }
    }
    const followed = coversEveryKey ? this.everyKey.get(segment.watch) : undefined;
    if (record.kind === 'events') {
      for (const event of record.events) {
        if (event.type === 'PUT' && !this.puts.has(event.kv.value)) this.puts.set(event.kv.value, { revision: event.kv.modRevision, atUs: nowUs });
      }
      const last = record.events[record.events.length - 1]!.kv.modRevision;
      this.shown.push({ atUs: nowUs, revision: last });
      if (followed !== undefined) followed.delivered = Math.max(followed.delivered, last);
    } else if (record.kind === 'progress') {
      this.shown.push({ atUs: nowUs, revision: record.revision });
      if (followed !== undefined) followed.delivered = Math.max(followed.delivered, record.revision);
    } else if (record.kind === 'compacted' && followed !== undefined && record.compactRevision - 1 > followed.delivered) {
      followed.gaps.push([followed.delivered + 1, record.compactRevision - 1]);
      followed.delivered = record.compactRevision - 1;
    }
  }

  /**
   * The calls with every unknown put the watches settle settled (the others as they were). A put
   * invoked after some client was shown revision L can only take effect after L (its entry follows
   * in the log every entry applied before it was proposed); if a watch on every key was sent every
   * revision from L on, up to the highest any client was shown, and never this put's value, it took
   * effect after everything anyone saw, or never: it is dropped as failed.
   */
  patch(calls: readonly HistoryEntry<ServerRequest, ServerReply>[], guidance?: WatchGuidance): HistoryEntry<ServerRequest, ServerReply>[] {
    const shown = [...this.shown];
    for (const call of calls) {
      if (call.reply === null || call.completeUs === null || isErrorReply(call.reply)) continue;
      const revision = (call.reply.response as { readonly header?: { readonly revision: number } }).header?.revision;
      if (revision !== undefined) shown.push({ atUs: call.completeUs, revision });
    }
    shown.sort((a, b) => a.atUs - b.atUs);
    const highest = shown.reduce((max, seen) => Math.max(max, seen.revision), 0);
    const shownBefore = (atUs: number): number => {
      let max = 0;
      for (const seen of shown) {
        if (seen.atUs >= atUs) break;
        max = Math.max(max, seen.revision);
      }
      return max;
    };
    const covered = (after: number): boolean =>
      [...this.everyKey.values()].some((watch) => watch.from <= after && watch.delivered >= highest && watch.gaps.every(([, last]) => last <= after));
    const written = writtenValues(calls);
    return calls.map((call) => {
      if (call.outcome !== 'unknown') return call;
      const settled = call.request.method === 'Put' ? this.settlePut(call, written, covered, shownBefore) : call.request.method === 'Txn' ? this.settleTxn(call, written, covered, shownBefore) : null;
      if (settled === null) return call;
      if (guidance !== undefined) {
        if (settled.outcome === 'ok') guidance.tookEffect++;
        else guidance.neverTookEffect++;
      }
      return settled;
    });
  }

  /** An unknown put (without prev_kv, of a value only it writes): seen at a revision, or surely never. */
  private settlePut(call: Call, written: Map<string, number>, covered: (after: number) => boolean, shownBefore: (atUs: number) => number): Call | null {
    const request = call.request.method === 'Put' ? call.request.request : null;
    if (request === null || request.prevKv === true || request.value === undefined || written.get(request.value) !== 1) return null;
    const seen = this.puts.get(request.value);
    if (seen !== undefined) return tookEffect(call, { method: 'Put', response: { header: header(seen.revision) } }, seen.atUs);
    return covered(shownBefore(call.invokeUs)) ? neverTookEffect(call) : null;
  }

  /**
   * An unknown txn whose success branch is puts only (no prev_kv, values only it writes): all of
   * them seen at one revision, it succeeded there (its answer is then known whole); none seen, and
   * its failure branch writes nothing, it changed nothing anyone can see (a failed compare is a
   * read whose answer nobody got): dropped.
   */
  private settleTxn(call: Call, written: Map<string, number>, covered: (after: number) => boolean, shownBefore: (atUs: number) => number): Call | null {
    const txn = call.request.method === 'Txn' ? call.request.request : null;
    const success = txn?.success ?? [];
    if (txn === null || success.length === 0) return null;
    const values: string[] = [];
    for (const op of success) {
      const put = op.requestPut;
      if (put === undefined || put.prevKv === true || put.value === undefined || written.get(put.value) !== 1) return null;
      values.push(put.value);
    }
    const seen = values.map((value) => this.puts.get(value));
    if (seen.every((one) => one !== undefined)) {
      const revision = seen[0]!.revision;
      if (seen.some((one) => one!.revision !== revision)) return null;
      const responses = success.map(() => ({ responsePut: { header: header(revision) } }));
      return tookEffect(call, { method: 'Txn', response: { header: header(revision), succeeded: true, responses } }, Math.max(...seen.map((one) => one!.atUs)));
    }
    const failureWrites = (txn.failure ?? []).some((op) => op.requestRange === undefined);
    if (seen.some((one) => one !== undefined) || failureWrites) return null;
    return covered(shownBefore(call.invokeUs)) ? neverTookEffect(call) : null;
  }
}

type Call = HistoryEntry<ServerRequest, ServerReply>;

function header(revision: number): { clusterId: number; memberId: number; revision: number; raftTerm: number } {
  return { clusterId: 0, memberId: 0, revision, raftTerm: 0 };
}

function tookEffect(call: Call, reply: ServerReply, seenUs: number): Call {
  return { ...call, outcome: 'ok', reply, completeUs: Math.max(call.invokeUs, seenUs) };
}

function neverTookEffect(call: Call): Call {
  return { ...call, outcome: 'fail', completeUs: call.completeUs ?? call.invokeUs };
}

/** How many calls write each value (puts, and puts inside txns). */
function writtenValues(calls: readonly HistoryEntry<ServerRequest, ServerReply>[]): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (value: string | undefined): void => {
    if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  };
  const countOps = (ops: readonly RequestOp[] | undefined): void => {
    for (const op of ops ?? []) {
      count(op.requestPut?.value);
      if (op.requestTxn !== undefined) {
        countOps(op.requestTxn.success);
        countOps(op.requestTxn.failure);
      }
    }
  };
  for (const call of calls) {
    if (call.request.method === 'Put') count(call.request.request.value);
    else if (call.request.method === 'Txn') {
      countOps(call.request.request.success);
      countOps(call.request.request.failure);
    }
  }
  return counts;
}
