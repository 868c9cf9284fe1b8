import { isEtcdError, type Event, type KeyValue } from '../api/index.ts';
import { isTombstone, type KvStore } from '../mvcc/index.ts';
import type { Watcher } from './watcher.ts';

/** The changes of revisions [from, to] for one watcher: its events, grouped by revision, ascending. */
export interface RevisionEvents {
  readonly revision: number;
  readonly events: readonly Event[];
}

/**
 * Reads a watcher's events of revisions [from, to] from the store's key bucket (etcd's
 * syncWatchers: `UnsafeRange(keyBucket, minRev, curRev+1)` then `kvsToEvents`). A tombstone is a
 * DELETE whose kv holds the key and the deletion's revision. With prev_kv, each event carries the
 * key's value at the revision before (etcd's watch server reads it with a range at ModRevision - 1;
 * absent when the key did not exist then, or that revision is compacted).
 *
 * Every change of a revision at or after the compaction revision is in the bucket (compaction keeps
 * each key's latest change at or below it, tombstones at it included: etcd #18089's fix), so the
 * caller must only read from the compaction revision on.
 */
export function readRevisions(store: KvStore, watcher: Watcher, from: number, to: number): RevisionEvents[] {
  const batches: RevisionEvents[] = [];
  let revision = -1;
  let events: Event[] = [];
  store.backend.scan(from, 0, to, (main, _sub, kv) => {
    if (main !== revision) {
      if (events.length > 0) batches.push({ revision, events });
      revision = main;
      events = [];
    }
    if (!watcher.covers(kv.key)) return true;
    const event = toEvent(kv);
    const viewed = watcher.view(event);
    if (viewed === null) return true;
    events.push(watcher.spec.prevKv ? withPrevKv(store, viewed) : viewed);
    return true;
  });
  if (events.length > 0) batches.push({ revision, events });
  return batches;
}

function toEvent(kv: KeyValue): Event {
  return isTombstone(kv) ? { type: 'DELETE', kv } : { type: 'PUT', kv };
}

function withPrevKv(store: KvStore, event: Event): Event {
  const before = store.range({ key: event.kv.key, revision: event.kv.modRevision - 1 });
  if (isEtcdError(before) || before.kvs.length === 0) return event;
  return { type: event.type, kv: event.kv, prevKv: before.kvs[0]! };
}
