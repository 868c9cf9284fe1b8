import type { Entry } from './entry.ts';
import type { Message } from './message.ts';
import type { HardState, ReadState, Snapshot, SoftState } from './state.ts';

/**
 * What the host must do now (etcd-io/raft's Ready). Handle it in this order, then call
 * `advance()`:
 *
 *   1. persist `snapshot`, then `entries`, then `hardState`, durably if `mustSync`;
 *   2. send `messages`;
 *   3. apply `snapshot` (if any), then `committedEntries`, in order;
 *   4. `advance()`.
 *
 * The node may be stepped and ticked between `ready()` and `advance()`, but the next Ready waits
 * for `advance()`. Everything in a Ready is immutable.
 */
export interface Ready {
  /**
   * The leader and this node's role, when they changed since the last Ready; null otherwise.
   * Informational: nothing to persist.
   */
  readonly softState: SoftState | null;
  /**
   * The term, vote and commit index to persist, when they changed; null otherwise. Persist it
   * BEFORE sending `messages`: a vote or a term may be promised in them.
   */
  readonly hardState: HardState | null;
  /**
   * ReadIndex answers: once the applied index reaches `index`, the read with that context may be
   * served. Deliver them after applying `committedEntries`.
   */
  readonly readStates: readonly ReadState[];
  /**
   * Entries to append to stable storage BEFORE sending `messages`. They may overwrite stored
   * entries at the same indexes (a new leader replacing an uncommitted tail): the stored log is
   * truncated at the first entry's index.
   */
  readonly entries: readonly Entry[];
  /**
   * A snapshot received from the leader, to persist (replacing the stored log) and to apply to the
   * application state; null if none. Never delivered together with `committedEntries`.
   */
  readonly snapshot: Snapshot | null;
  /**
   * Committed entries to apply, in order. They were persisted before (in an earlier Ready) or are
   * persisted in this one's `entries` first. Conf change entries must be applied by calling
   * `RawNode.applyConfChange`.
   */
  readonly committedEntries: readonly Entry[];
  /**
   * Messages to send AFTER `entries`, `hardState` and `snapshot` are persisted (and synced when
   * `mustSync`): acknowledgements and votes among them promise that durability. The network may
   * lose, delay, duplicate or reorder them; Raft tolerates all of that. A MsgSnap must be
   * followed by `reportSnapshot` once delivery is known to have failed or succeeded (optional).
   */
  readonly messages: readonly Message[];
  /**
   * Whether the writes must be synced to disk before anything leaves: true when there are entries
   * or a snapshot, or the term or vote changed (Raft §3.8). A commit-index change alone need not
   * be synced. (etcd-io/raft leaves the snapshot out and etcd syncs it separately; here the
   * snapshot's acknowledgement promises it, so it is synced like entries.)
   */
  readonly mustSync: boolean;
}

/** Whether persisting (state, entries, snapshot) needs a sync, compared with what was persisted before. */
export function mustSync(state: HardState, previous: HardState, entryCount: number, hasSnapshot: boolean): boolean {
  return entryCount !== 0 || hasSnapshot || state.vote !== previous.vote || state.term !== previous.term;
}
