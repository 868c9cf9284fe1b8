import type { Bytes, Event, WatchFilter } from '../api/index.ts';

/**
 * What a watch covers and how it wants its events (etcd's watcher, mvcc/watcher.go): one key when
 * `end` is null, every key from `key` on when it is '', otherwise [key, end).
 */
export interface WatchSpec {
  readonly key: Bytes;
  readonly end: Bytes | null;
  readonly filters: readonly WatchFilter[];
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
}

/**
 * Something the watchable store has for a watcher's stream: events (in revision order, all of a
 * revision in one notice; `revision` is the store's revision when they were taken, the response
 * header's), a progress notification at `revision`, or the cancel of a watch whose next revision
 * was compacted (with the compaction's revision).
 */
export type WatchNotice =
  | { readonly kind: 'events'; readonly watcher: Watcher; readonly revision: number; readonly events: readonly Event[] }
  /** A progress notification; `watcher` null: for the whole stream (the answer to a progress request). */
  | { readonly kind: 'progress'; readonly watcher: Watcher | null; readonly revision: number }
  | { readonly kind: 'compacted'; readonly watcher: Watcher; readonly revision: number; readonly compactRevision: number };

/**
 * A watcher's stream as the store sees it: etcd's bounded `chan WatchResponse`. `offer` is a
 * non-blocking send: false when the stream's buffer is full (the watcher becomes a victim and is
 * retried later, as etcd's `w.send` in a select with a default).
 */
export interface WatchSink {
  offer(notice: WatchNotice): boolean;
}

/** Which group a watcher is in (etcd's synced / unsynced watcherGroups and the victims' batches). */
export type WatcherState = 'synced' | 'unsynced' | 'victim' | 'done';

/**
 * One watch (etcd's `watcher`). `minRev` is the next revision it must be sent: updated on every
 * send, synced or not (etcd #15271's fix: a synced watcher whose minRev stayed at its creation
 * replayed old revisions after its member restored a snapshot).
 */
export class Watcher {
  readonly id: number;
  readonly spec: WatchSpec;
  readonly sink: WatchSink;
  /** The revision the watch asked to start from (0: now). */
  readonly startRevision: number;
  minRev: number;
  state: WatcherState = 'unsynced';
  /** A victim's notices not yet taken by its full stream, in order. */
  pending: WatchNotice[] = [];

  constructor(id: number, spec: WatchSpec, sink: WatchSink, startRevision: number, minRev: number) {
    this.id = id;
    this.spec = spec;
    this.sink = sink;
    this.startRevision = startRevision;
    this.minRev = minRev;
  }

  /** Whether `key` is in the watched range. */
  covers(key: Bytes): boolean {
    const { key: from, end } = this.spec;
    if (end === null) return key === from;
    return key >= from && (end === '' || key < end);
  }

  /** The event as this watcher is sent it, or null when it is not covered or filtered out. */
  view(event: Event): Event | null {
    if (!this.covers(event.kv.key)) return null;
    const filters = this.spec.filters;
    if (filters.length > 0 && filters.includes(event.type === 'PUT' ? 'NOPUT' : 'NODELETE')) return null;
    if (this.spec.prevKv || event.prevKv === undefined) return event;
    return { type: event.type, kv: event.kv };
  }

  /** The events of one revision that this watcher is sent, in sub-revision order. */
  select(events: readonly Event[]): Event[] {
    return this.selectIn(events, 0, events.length);
  }

  /**
   * `select` of `events[from, to)`: the store's notify passes the part of a revision's events in
   * key order that this watcher's range covers (see `KeyOrderedEvents`), not all of them.
   */
  selectIn(events: readonly Event[], from: number, to: number): Event[] {
    const selected: Event[] = [];
    for (let i = from; i < to; i++) {
      const viewed = this.view(events[i]!);
      if (viewed !== null) selected.push(viewed);
    }
    return selected;
  }
}
