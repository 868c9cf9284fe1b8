/**
 * core/watch: etcd's watchable store (synced, unsynced and victim watchers, catch-up from the key
 * bucket, compaction cancels, progress). The member's Watch streams (core/server) sit on it.
 */
export { readRevisions, type RevisionEvents } from './history.ts';
export { defaultWatchableStoreOptions, WatchableStore, type WatchableStoreOptions } from './watchableStore.ts';
export { Watcher, type WatchNotice, type WatchSink, type WatchSpec, type WatcherState } from './watcher.ts';
