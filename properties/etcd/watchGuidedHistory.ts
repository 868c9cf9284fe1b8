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
  /** When the client learned the watch was created: a write invoked later gets a later revision. */
  readonly createdUs: number;
  /** Every revision up to this was sent (events or a bookmark). */
  delivered: number;
  /** A compaction cancel broke it: revisions in between were never shown. */
  broken: boolean;
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
  private highestShown = 0;

  record(record: WatchRecord, nowUs: number): void {
    const segment = record.segment;
    const coversEveryKey = segment.spec.rangeEnd === '\0' && (segment.spec.key === '\0' || segment.spec.key === '') && segment.spec.filters.length === 0;
    if (record.kind === 'created' && coversEveryKey && !this.everyKey.has(segment.watch)) {
      this.everyKey.set(segment.watch, { createdUs: nowUs, delivered: segment.startRevision === 0 ? segment.createdRevision : segment.startRevision - 1, broken: false });
    }
    const followed = coversEveryKey ? this.everyKey.get(segment.watch) : undefined;
    if (record.kind === 'events') {
      for (const event of record.events) {
        if (event.type === 'PUT' && !this.puts.has(event.kv.value)) this.puts.set(event.kv.value, { revision: event.kv.modRevision, atUs: nowUs });
        this.highestShown = Math.max(this.highestShown, event.kv.modRevision);
      }
      if (followed !== undefined) followed.delivered = Math.max(followed.delivered, record.events[record.events.length - 1]!.kv.modRevision);
    } else if (record.kind === 'progress') {
      if (followed !== undefined) followed.delivered = Math.max(followed.delivered, record.revision);
    } else if (record.kind === 'compacted' && followed !== undefined) followed.broken = true;
  }

  /** The calls with every unknown put the watches settle settled (the others as they were). */
  patch(calls: readonly HistoryEntry<ServerRequest, ServerReply>[], guidance?: WatchGuidance): HistoryEntry<ServerRequest, ServerReply>[] {
    let highest = this.highestShown;
    for (const call of calls) if (call.reply !== null && !isErrorReply(call.reply)) highest = Math.max(highest, (call.reply.response as { readonly header?: { readonly revision: number } }).header?.revision ?? 0);
    const unbroken = [...this.everyKey.values()].filter((watch) => !watch.broken && watch.delivered >= highest);
    const coveredFromUs = unbroken.length === 0 ? Infinity : Math.min(...unbroken.map((watch) => watch.createdUs));
    const written = writtenValues(calls);
    return calls.map((call) => {
      if (call.outcome !== 'unknown' || call.request.method !== 'Put' || call.request.request.prevKv === true || call.request.request.value === undefined) return call;
      // Only a value no other call writes names its put (an operator's fixed values do not).
      if (written.get(call.request.request.value) !== 1) return call;
      const seen = this.puts.get(call.request.request.value);
      if (seen !== undefined) {
        if (guidance !== undefined) guidance.tookEffect++;
        const reply: ServerReply = { method: 'Put', response: { header: { clusterId: 0, memberId: 0, revision: seen.revision, raftTerm: 0 } } };
        return { ...call, outcome: 'ok', reply, completeUs: Math.max(call.invokeUs, seen.atUs) };
      }
      if (call.invokeUs < coveredFromUs) return call;
      if (guidance !== undefined) guidance.neverTookEffect++;
      return { ...call, outcome: 'fail', completeUs: call.completeUs ?? call.invokeUs };
    });
  }
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
