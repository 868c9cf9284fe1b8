import type { Mutation } from './catalogue.ts';

/**
 * etcd's watch bugs (issue 9, etcd-reference.md §7.2), each re-created as the class of the bug in
 * this code's terms: a one-place patch of core/watch, core/server's Watch streams or core/mvcc.
 * `caughtAt` is the first run `detcd-sim mutants --seeds 50` found: every one of them is caught by
 * seed 0 of the scenario named (one seed to catch), by the watch checks at the first wrong
 * response (measured when written, and again after the catch-up became one response per batch).
 */
export const watchFamily: readonly string[] = ['etcd-watch', 'etcd-watch-catchup'];

export const watchMutations: readonly Mutation[] = [
  {
    name: 'watch-progress-overtakes-events',
    bug: 'etcd #15220: a progress request is answered at once, ahead of the events queued on the stream and while watchers still catch up: the bookmark promises revisions the client was not sent',
    file: 'core/server/watchStreams.ts',
    find: "    if (!this.store.allSynced(open.watches.values())) return;\n    if (!open.offer({ kind: 'progress', watcher: null, revision: this.host.revision() })) return;\n",
    replace: "    open.queue.unshift({ kind: 'progress', watcher: null, revision: this.host.revision() });\n    open.buffered++;\n",
    scenarios: watchFamily,
    caughtAt: { scenario: 'etcd-watch', seed: 0, violation: 'yet a progress notification said revision' },
  },
  {
    name: 'watch-synced-minrev-stale',
    bug: "etcd #15271: a synced watcher's next revision is not moved on as it is sent events; when its member restores a snapshot (or its stream starves) it catches up from where it was created and sends old revisions again: the watch goes back in time",
    file: 'core/watch/watchableStore.ts',
    find: '      const selected = ordered === null ? watcher.select(events) : watcher.selectIn(events, ordered.from(watcher.spec.key), ordered.to(watcher.spec));\n      watcher.minRev = revision + 1;\n',
    replace: '      const selected = ordered === null ? watcher.select(events) : watcher.selectIn(events, ordered.from(watcher.spec.key), ordered.to(watcher.spec));\n',
    scenarios: [...watchFamily].reverse(),
    caughtAt: { scenario: 'etcd-watch-catchup', seed: 0, violation: 'cancelled as compacted at' },
  },
  {
    name: 'watch-starved-stream-loses-events',
    bug: "etcd #17529: a victim whose stream is still full after a retry drops the notices it held and catches up past them: events lost while a stream is starved",
    file: 'core/watch/watchableStore.ts',
    find: '      if (watcher.pending.length > 0) continue;\n',
    replace: '      if (watcher.pending.length > 0) watcher.pending = [];\n',
    scenarios: watchFamily,
    caughtAt: { scenario: 'etcd-watch-catchup', seed: 0, violation: 'never sent revision' },
  },
  {
    name: 'watch-compaction-drops-delete-tombstone',
    bug: 'etcd #18089: compaction at the revision of a delete removes its tombstone from the key bucket, so a watch from that revision never sees the DELETE',
    file: 'core/mvcc/keyIndex.ts',
    find: '      if (tombstone >= atRev) break;',
    replace: '      if (tombstone > atRev) break;',
    scenarios: watchFamily,
    caughtAt: { scenario: 'etcd-watch-catchup', seed: 0, violation: 'never sent revision' },
  },
  {
    name: 'watch-start-at-compaction-skips-it',
    bug: 'etcd #19179: a watch whose start revision is the compaction revision catches up from the revision after it, missing the events (a delete) made at the compaction revision',
    file: 'core/watch/watchableStore.ts',
    find: '      const from = watcher.minRev;\n',
    replace: '      const from = watcher.minRev === compactRevision ? watcher.minRev + 1 : watcher.minRev;\n',
    scenarios: watchFamily,
    caughtAt: { scenario: 'etcd-watch-catchup', seed: 0, violation: 'never sent revision' },
  },
  {
    name: 'watch-future-start-gets-old-events',
    bug: "etcd #20221: a lagging member's watch on a revision it has not reached is synced from its own next revision, so it is sent events (and progress) below the revision the client asked to start from",
    file: 'core/watch/watchableStore.ts',
    find: '    const minRev = synced ? Math.max(current + 1, startRevision) : startRevision;',
    replace: '    const minRev = synced ? current + 1 : startRevision;',
    scenarios: [...watchFamily].reverse(),
    // Still at etcd-watch seed 0 since the simulated network reports snapshots (simsnap), which changed that run: by the
    // progress notification below the start now, before any event out of order.
    caughtAt: { scenario: 'etcd-watch', seed: 0, violation: "below the watch's start" },
  },
];
