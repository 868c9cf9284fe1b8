import type { Event, WatchFilter } from '../core/api/index.ts';
import type { ClientId, NodeId } from '../core/host/node.ts';

/** What a logical watch covers (etcd's WatchCreateRequest, minus the start revision, which each segment has). */
export interface LogicalWatchSpec {
  readonly key: string;
  readonly rangeEnd?: string;
  readonly prevKv: boolean;
  readonly filters: readonly WatchFilter[];
  readonly progressNotify: boolean;
}

/**
 * One stretch of a logical watch: the server watch that served it on one stream of one member,
 * from the start revision the client asked for.
 */
export interface WatchSegment {
  readonly client: ClientId;
  /** The logical watch it continues (unique in the run). */
  readonly watch: number;
  readonly node: NodeId;
  readonly stream: number;
  readonly watchId: number;
  readonly spec: LogicalWatchSpec;
  /** What the create asked for: 0 is "from the next revision". */
  readonly startRevision: number;
  /** The created response's header revision. */
  readonly createdRevision: number;
}

/**
 * What a watch client saw, as it saw it, in order: segments created, events (a whole response,
 * fragments joined), progress notifications (one per segment a stream-wide one covers), compaction
 * cancels and segments ending. Checkers subscribe and judge each record as it comes.
 */
export type WatchRecord =
  | { readonly kind: 'created'; readonly segment: WatchSegment }
  | { readonly kind: 'events'; readonly segment: WatchSegment; readonly events: readonly Event[]; readonly revision: number }
  | { readonly kind: 'progress'; readonly segment: WatchSegment; readonly revision: number; readonly requested: boolean }
  | { readonly kind: 'compacted'; readonly segment: WatchSegment; readonly compactRevision: number }
  | { readonly kind: 'ended'; readonly segment: WatchSegment };

export interface WatchLogListener {
  record(record: WatchRecord, nowUs: number): void;
}

/** Records a log keeps at most (for benchmarks and reports; the checks judge them as they come). */
const recordsKept = 200_000;

/** The watch clients' shared log: counts, the records with their times, and the listeners (checkers) told of every record. */
export class WatchLog {
  private readonly listeners: WatchLogListener[] = [];
  readonly records: { readonly record: WatchRecord; readonly atUs: number }[] = [];
  readonly counts = { segments: 0, responses: 0, events: 0, progress: 0, compacted: 0, resumes: 0 };

  listen(listener: WatchLogListener): void {
    this.listeners.push(listener);
  }

  record(record: WatchRecord, nowUs: number): void {
    const counts = this.counts;
    if (record.kind === 'created') counts.segments++;
    else if (record.kind === 'events') {
      counts.responses++;
      counts.events += record.events.length;
    } else if (record.kind === 'progress') counts.progress++;
    else if (record.kind === 'compacted') counts.compacted++;
    if (this.records.length < recordsKept) this.records.push({ record, atUs: nowUs });
    for (const listener of this.listeners) listener.record(record, nowUs);
  }
}
