import type { Event } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { LogicalWatchSpec, WatchLogListener, WatchRecord, WatchSegment } from '../../sim/watchLog.ts';
import { partialEvent } from '../etcd/wholeKeyValue.ts';
import { describeEvent, differ, type EventLedger } from './eventLedger.ts';

/** What the watch checks saw, for a run's summary and the benchmark. */
export interface WatchCheckStats {
  responses: number;
  events: number;
  progress: number;
  revisionsScanned: number;
}

/** One logical watch as the checks follow it across its segments (resumes on other streams and members). */
interface FollowedWatch {
  readonly spec: LogicalWatchSpec;
  /** Every event the watch covers at or below this revision was delivered (or its loss excused by a compaction cancel). */
  delivered: number;
  started: boolean;
}

/**
 * etcd's watch guarantees (api/v3 docs, tests/robustness/validate/watch.go), checked on every
 * response as the client receives it, against the revision history the members agreed on
 * (`EventLedger`):
 *
 * - ordered and unique: revisions only grow along a watch, across resumes too;
 * - reliable: no revision the watch covers is skipped between two it was sent, nor between its
 *   start and the first (a compaction cancel is the only excuse: the client watches again from it);
 * - atomic: a revision's events come whole, in one response (fragments joined);
 * - every event is the change the members made at that revision: type, key, value, create
 *   revision (IsCreate), version, lease, and prev_kv when asked (absent only where a catch-up
 *   read it from a compacted revision); filters respected;
 * - every KeyValue an event carries (kv, prev_kv) is whole, every field there
 *   (../etcd/wholeKeyValue.ts): judged before the comparison with the members' change, which
 *   names the field that differs less plainly;
 * - bookmarkable: a progress notification at R means every event at or below R was sent;
 *   and a watch's own progress notification is never below its start (etcd #20221);
 * - resumable: a resumed watch starts right after what was delivered (the client's rule).
 */
export class WatchChecks implements WatchLogListener {
  readonly stats: WatchCheckStats = { responses: 0, events: 0, progress: 0, revisionsScanned: 0 };
  private readonly ledger: EventLedger;
  private readonly watches = new Map<number, FollowedWatch>();

  constructor(ledger: EventLedger) {
    this.ledger = ledger;
  }

  record(record: WatchRecord): void {
    switch (record.kind) {
      case 'created':
        return this.created(record.segment);
      case 'events':
        return this.events(record.segment, record.events);
      case 'progress':
        return this.progress(record.segment, record.revision, record.requested);
      case 'compacted':
        return this.compacted(record.segment, record.compactRevision);
      case 'ended':
        return;
    }
  }

  private created(segment: WatchSegment): void {
    let watch = this.watches.get(segment.watch);
    if (watch === undefined) {
      watch = { spec: segment.spec, delivered: 0, started: false };
      this.watches.set(segment.watch, watch);
    }
    if (!watch.started) {
      watch.started = true;
      watch.delivered = segment.startRevision === 0 ? segment.createdRevision : segment.startRevision - 1;
      return;
    }
    if (segment.startRevision > watch.delivered + 1) this.fail(segment, `resumed from revision ${segment.startRevision}, skipping past ${watch.delivered + 1} (everything up to ${watch.delivered} was delivered)`);
  }

  private events(segment: WatchSegment, events: readonly Event[]): void {
    const watch = this.followed(segment);
    this.stats.responses++;
    this.stats.events += events.length;
    const partial = partialEvent(events);
    if (partial !== null) this.fail(segment, `was sent a response whose ${partial}`);
    let i = 0;
    while (i < events.length) {
      const revision = events[i]!.kv.modRevision;
      let j = i;
      while (j < events.length && events[j]!.kv.modRevision === revision) j++;
      this.revision(segment, watch, revision, events.slice(i, j));
      i = j;
    }
  }

  /** One revision's events as delivered: after everything delivered, nothing covered skipped, the members' change exactly. */
  private revision(segment: WatchSegment, watch: FollowedWatch, revision: number, delivered: readonly Event[]): void {
    if (revision <= watch.delivered) {
      this.fail(segment, `sent revision ${revision} (${delivered.map(describeEvent).join(', ')}) after everything up to ${watch.delivered} was delivered or bookmarked: out of order or twice`);
    }
    this.noneMissed(segment, watch, revision - 1, `before revision ${revision}`);
    const expected = this.expected(segment, watch.spec, revision);
    if (expected === undefined) this.fail(segment, `sent revision ${revision}, which no member applied`);
    const difference = differ(expected, delivered, false);
    if (difference !== null) this.fail(segment, `revision ${revision} differs from what the members applied: ${difference}`);
    if (watch.spec.prevKv) this.checkPrevKv(segment, revision, expected, delivered);
    watch.delivered = revision;
  }

  private checkPrevKv(segment: WatchSegment, revision: number, expected: readonly Event[], delivered: readonly Event[]): void {
    const excused = revision - 1 < this.ledger.compactRevision;
    for (let k = 0; k < expected.length; k++) {
      const want = expected[k]!.prevKv;
      const got = delivered[k]!.prevKv;
      if (got === undefined && (want === undefined || excused)) continue;
      const difference = differ([expected[k]!], [delivered[k]!], true);
      if (difference !== null) this.fail(segment, `revision ${revision}: ${difference}`);
      if (got !== undefined && want === undefined) this.fail(segment, `revision ${revision}: a prev_kv for a key that did not exist`);
    }
  }

  private progress(segment: WatchSegment, revision: number, requested: boolean): void {
    const watch = this.followed(segment);
    this.stats.progress++;
    if (!requested && segment.startRevision > 0 && revision < segment.startRevision - 1) {
      this.fail(segment, `progress notification at revision ${revision}, below the watch's start ${segment.startRevision} (etcd #20221)`);
    }
    if (revision <= watch.delivered) return;
    this.noneMissed(segment, watch, revision, `yet a progress notification said revision ${revision} was reached`);
    watch.delivered = revision;
  }

  private compacted(segment: WatchSegment, compactRevision: number): void {
    const watch = this.followed(segment);
    if (compactRevision > this.ledger.compactRevision) this.fail(segment, `cancelled as compacted at ${compactRevision}, beyond any compaction applied (${this.ledger.compactRevision})`);
    if (compactRevision <= watch.delivered + 1) this.fail(segment, `cancelled as compacted at ${compactRevision} though its next revision ${watch.delivered + 1} is retained`);
    // The events between are gone for good: the client watches again from the compaction.
    watch.delivered = compactRevision - 1;
  }

  /** Every revision the watch covers in (delivered, upTo] must have been delivered: none may have events for it. */
  private noneMissed(segment: WatchSegment, watch: FollowedWatch, upTo: number, context: string): void {
    for (let revision = watch.delivered + 1; revision <= upTo; revision++) {
      this.stats.revisionsScanned++;
      const events = this.ledger.events(revision);
      // Most revisions concern other keys: judge them without building the watch's view.
      if (events !== undefined && !events.some((event) => sees(watch.spec, event))) continue;
      const expected = this.expected(segment, watch.spec, revision);
      if (expected !== undefined && expected.length > 0) {
        this.fail(segment, `never sent revision ${revision} (${expected.map(describeEvent).join(', ')}) ${context}`);
      }
    }
  }

  /** A revision's events as the watch should see them (covered, filtered, prev_kv kept only when asked); undefined if no member applied it. */
  private expected(segment: WatchSegment, spec: LogicalWatchSpec, revision: number): Event[] | undefined {
    const events = this.ledger.events(revision);
    if (events === undefined) return revision <= this.ledger.highest && revision > 1 ? this.failMissing(segment, revision) : undefined;
    const selected: Event[] = [];
    for (const event of events) {
      if (!sees(spec, event)) continue;
      selected.push(spec.prevKv || event.prevKv === undefined ? event : { type: event.type, kv: event.kv });
    }
    return selected;
  }

  private failMissing(segment: WatchSegment, revision: number): never {
    return this.fail(segment, `revision ${revision} is below the highest applied (${this.ledger.highest}) but no member's apply of it was seen`);
  }

  private followed(segment: WatchSegment): FollowedWatch {
    const watch = this.watches.get(segment.watch);
    if (watch === undefined || !watch.started) this.fail(segment, 'a response for a watch never created');
    return watch;
  }

  private fail(segment: WatchSegment, message: string): never {
    const range = segment.spec.rangeEnd === undefined ? JSON.stringify(segment.spec.key) : `[${JSON.stringify(segment.spec.key)}, ${JSON.stringify(segment.spec.rangeEnd)})`;
    throw new AssertionError(`watch: client ${segment.client}'s watch ${segment.watch} on ${range} (watch id ${segment.watchId} on member ${segment.node}, from revision ${segment.startRevision}) ${message}`);
  }
}

/** Whether the watch is sent this event: its key covered, its type not filtered out. */
function sees(spec: LogicalWatchSpec, event: Event): boolean {
  return covers(spec, event.kv.key) && (spec.filters.length === 0 || !spec.filters.includes(event.type === 'PUT' ? 'NOPUT' : 'NODELETE'));
}

function covers(spec: LogicalWatchSpec, key: string): boolean {
  const end = spec.rangeEnd;
  if (end === undefined || end.length === 0) return key === spec.key;
  return key >= spec.key && (end === '\0' || key < end);
}
