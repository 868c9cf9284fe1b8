import type { Bytes, Event } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import type { KvStore } from '../mvcc/index.ts';
import { readRevisions } from './history.ts';
import { Watcher, type WatchNotice, type WatchSink, type WatchSpec } from './watcher.ts';

export interface WatchableStoreOptions {
  /** Revisions an unsynced watcher catches up per sync at most (etcd's watchBatchMaxRevs, 1000). */
  readonly syncBatchRevisions: number;
  /** Unsynced watchers caught up per sync at most (etcd's maxWatchersPerSync, 512). */
  readonly watchersPerSync: number;
}

export const defaultWatchableStoreOptions: WatchableStoreOptions = { syncBatchRevisions: 1000, watchersPerSync: 512 };

/**
 * etcd's watchable store (mvcc/watchable_store.go, with the fixes of its main branch), as a
 * synchronous part of the member: watchers are synced (sent every applied change as it is
 * applied), unsynced (behind: caught up from the store's key bucket in batches, on ticks), or
 * victims (their stream's buffer was full: their notices wait and are offered again on ticks).
 *
 * What it guarantees each watcher, and asserts: notices in revision order, each revision at most
 * once and whole (one notice holds every event of a revision the watcher covers), none below the
 * watch's start; a watcher whose next revision was compacted away is cancelled with the
 * compaction's revision, never silently moved past it (etcd #17529's lesson).
 */
export class WatchableStore {
  private readonly options: WatchableStoreOptions;
  private store: () => KvStore;
  private nextId = 1;
  private readonly synced = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private readonly victims = new Set<Watcher>();
  /** Synced watchers with prev_kv: the only ones `notify` gives an event's prevKv (the others read history). */
  private syncedWithPrevKv = 0;

  constructor(store: () => KvStore, options: WatchableStoreOptions = defaultWatchableStoreOptions) {
    this.store = store;
    this.options = options;
  }

  get watcherCount(): number {
    return this.synced.size + this.unsynced.size + this.victims.size;
  }

  /**
   * A new watcher from `startRevision` (0: the next revision). One at or below the current
   * revision starts unsynced and is caught up from history; any other is synced from the later
   * of the next revision and its start (a lagging member's watch on a revision it has not reached
   * waits for it: etcd #20221's fix keeps its earlier revisions from being sent).
   */
  watch(spec: WatchSpec, startRevision: number, sink: WatchSink): Watcher {
    assert(Number.isSafeInteger(startRevision) && startRevision >= 0, () => `watch from revision ${startRevision}`);
    const current = this.store().revision;
    const synced = startRevision === 0 || startRevision > current;
    const minRev = synced ? Math.max(current + 1, startRevision) : startRevision;
    const watcher = new Watcher(this.nextId++, spec, sink, startRevision, minRev);
    this.moveTo(watcher, synced ? 'synced' : 'unsynced');
    return watcher;
  }

  cancel(watcher: Watcher): void {
    this.moveTo(watcher, 'done');
    watcher.pending = [];
  }

  /** Whether the next write's events must carry prevKv: a synced watcher asked for prev_kv. */
  get wantsPrevKv(): boolean {
    return this.syncedWithPrevKv > 0;
  }

  /** Whether every watcher of `watchers` is synced (a progress request may be answered). */
  allSynced(watchers: Iterable<Watcher>): boolean {
    for (const watcher of watchers) if (watcher.state !== 'synced') return false;
    return true;
  }

  /**
   * etcd's notify: a write applied at `revision` made `events`; every synced watcher they concern
   * is sent its share. Each watcher looked at every event: a 55k-key DeleteRange (check perf's
   * cleanup) cost ~16 us per watcher on other keys, 1.6 s of one loop turn for 100 of them (issue
   * 10, cleanupapply). A range delete's events are in key order, and then each watcher takes the
   * part its range covers, found by two binary searches (etcd finds each event's watchers through
   * a map of keys and an interval tree instead).
   */
  notify(events: readonly Event[], revision: number): void {
    const ordered = events.length * this.synced.size >= keyOrderedFrom ? KeyOrderedEvents.of(events) : null;
    for (const watcher of this.synced) {
      // A watcher waiting for a later revision (a watch on a future revision) gets nothing yet.
      if (revision < watcher.minRev) continue;
      const selected = ordered === null ? watcher.select(events) : watcher.selectIn(events, ordered.from(watcher.spec.key), ordered.to(watcher.spec));
      watcher.minRev = revision + 1;
      if (selected.length === 0) continue;
      this.send(watcher, { kind: 'events', watcher, revision, events: selected });
    }
  }

  /**
   * Periodic progress (etcd's progress notify): each synced watcher that asked for it is told the
   * current revision, unless it waits for a later one (a progress below its start would take the
   * watch back: etcd #20221). A full stream skips it: progress is only ever a hint.
   */
  notifyProgress(): void {
    const revision = this.store().revision;
    for (const watcher of this.synced) {
      if (!watcher.spec.progressNotify || watcher.minRev > revision + 1) continue;
      watcher.sink.offer({ kind: 'progress', watcher, revision });
    }
  }

  /** On a tick: victims offered their notices again, then unsynced watchers caught up (etcd's syncVictimsLoop, syncWatchersLoop). */
  sync(): void {
    this.retryVictims();
    this.syncWatchers();
  }

  /**
   * The store was replaced by a snapshot's (etcd's watchableStore.Restore): every synced watcher
   * must catch up from its minRev in the new store.
   */
  restore(store: () => KvStore): void {
    this.store = store;
    for (const watcher of [...this.synced]) this.moveTo(watcher, 'unsynced');
  }

  private syncWatchers(): void {
    if (this.unsynced.size === 0) return;
    const store = this.store();
    const current = store.revision;
    const compactRevision = store.compactRevision;
    let caughtUp = 0;
    for (const watcher of [...this.unsynced]) {
      if (caughtUp++ >= this.options.watchersPerSync) break;
      if (watcher.minRev < compactRevision) {
        // Its next revision is gone: cancel with the compaction's revision (retried while the stream is full).
        if (watcher.sink.offer({ kind: 'compacted', watcher, revision: current, compactRevision })) this.moveTo(watcher, 'done');
        continue;
      }
      if (watcher.minRev > current) {
        // Waiting for a revision this member has not reached (moved here by a snapshot restore):
        // nothing to read, and its minRev must not move back to current + 1 (etcd-watch seed 188).
        this.moveTo(watcher, 'synced');
        continue;
      }
      const last = Math.min(current, watcher.minRev + this.options.syncBatchRevisions - 1);
      const from = watcher.minRev;
      const batches = readRevisions(store, watcher, from, last);
      watcher.minRev = last + 1;
      // One response for the whole batch, at the current revision, as etcd's syncWatchers sends it
      // (each revision still whole: the batch ends at a revision boundary).
      if (batches.length > 0) this.send(watcher, { kind: 'events', watcher, revision: current, events: batches.flatMap((batch) => batch.events) });
      if (watcher.state === 'unsynced' && last === current) this.moveTo(watcher, 'synced');
    }
  }

  private retryVictims(): void {
    for (const watcher of [...this.victims]) {
      while (watcher.pending.length > 0 && watcher.sink.offer(watcher.pending[0]!)) watcher.pending.shift();
      if (watcher.pending.length > 0) continue;
      this.moveTo(watcher, watcher.minRev <= this.store().revision ? 'unsynced' : 'synced');
    }
  }

  /** Offers a notice; a full stream makes the watcher a victim holding it (and whatever follows, in order). */
  private send(watcher: Watcher, notice: WatchNotice): void {
    if (watcher.state !== 'victim' && watcher.sink.offer(notice)) return;
    watcher.pending.push(notice);
    if (watcher.state !== 'victim') this.moveTo(watcher, 'victim');
  }

  private moveTo(watcher: Watcher, state: Watcher['state']): void {
    if (watcher.spec.prevKv && watcher.state === 'synced') this.syncedWithPrevKv--;
    this.groupOf(watcher.state)?.delete(watcher);
    watcher.state = state;
    this.groupOf(state)?.add(watcher);
    if (watcher.spec.prevKv && state === 'synced') this.syncedWithPrevKv++;
  }

  private groupOf(state: Watcher['state']): Set<Watcher> | null {
    switch (state) {
      case 'synced':
        return this.synced;
      case 'unsynced':
        return this.unsynced;
      case 'victim':
        return this.victims;
      case 'done':
        return null;
    }
  }
}

/** Below this many event-watcher pairs a notify looks at every event for every watcher (cheaper than checking the order). */
const keyOrderedFrom = 4096;

/**
 * A revision's events when their keys ascend (a range delete's, a txn's that happens to be), for
 * finding the events a watcher's range covers by binary search: they are a contiguous run, in
 * sub-revision order. Keys compare as the watcher's `covers` compares them (byte strings).
 */
export class KeyOrderedEvents {
  private constructor(private readonly events: readonly Event[]) {}

  /** The events as key ordered, or null when some key is below the one before it. */
  static of(events: readonly Event[]): KeyOrderedEvents | null {
    for (let i = 1; i < events.length; i++) if (events[i]!.kv.key < events[i - 1]!.kv.key) return null;
    return new KeyOrderedEvents(events);
  }

  /** The index of the first event whose key is at or above `key`. */
  from(key: Bytes): number {
    return this.firstPast(key, false);
  }

  /** The index after the last event a watch of `spec` covers (from `from(spec.key)` on). */
  to(spec: WatchSpec): number {
    if (spec.end === null) return this.firstPast(spec.key, true);
    if (spec.end === '') return this.events.length;
    return this.firstPast(spec.end, false);
  }

  /** The first index whose key is not below `key` (`pastEqual`: whose key is above it). */
  private firstPast(key: Bytes, pastEqual: boolean): number {
    const events = this.events;
    let low = 0;
    let high = events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const at = events[middle]!.kv.key;
      if (at < key || (pastEqual && at === key)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
