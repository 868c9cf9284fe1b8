import type { MemoryStorage } from './memoryStorage.ts';
import type { ConfState } from './state.ts';
import { isStorageError, type Storage } from './storage.ts';

/** The application's state as of its applied index, for a snapshot. */
export interface AppliedState {
  readonly index: number;
  readonly confState: ConfState;
  /** Called only when a snapshot is made. */
  data(): unknown;
}

/**
 * A storage whose snapshot is made on demand of the applied state (as etcd-io/raft's test env
 * and etcd's server do): a member added after the last compaction must find itself in the
 * snapshot's configuration, or it could not restore it. Everything else is `storage` itself.
 */
export function snapshotOnDemand(storage: MemoryStorage, applied: () => AppliedState): Storage {
  return {
    initialState: () => storage.initialState(),
    entries: (lo, hi, maxSize) => storage.entries(lo, hi, maxSize),
    term: (index) => storage.term(index),
    lastIndex: () => storage.lastIndex(),
    firstIndex: () => storage.firstIndex(),
    snapshot: () => {
      const stored = storage.snapshot();
      const state = applied();
      const term = storage.term(state.index);
      if (state.index <= stored.metadata.index || isStorageError(term)) return stored;
      return { metadata: { index: state.index, term, confState: state.confState }, data: state.data() };
    },
  };
}
