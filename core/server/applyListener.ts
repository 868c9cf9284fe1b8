import type { Event } from '../api/index.ts';
import type { EtcdServer } from './etcdServer.ts';

/**
 * Where the lease and watch layers (issue 9) hook into the member: the watchable store is fed
 * every apply's changes, progress notifications follow the applied index, and a snapshot install
 * (which replaces the store object) makes watchers catch up from the new store. Listeners run
 * inside the apply, so what they queue (watch responses) leaves with the Ready that applied it,
 * after its writes are durable. The member registers its watchable store first; checkers may add
 * read-only listeners (properties/watch's EventLedger).
 */
export interface ApplyListener {
  /**
   * Whether this listener reads events' prevKv: asked before each write's apply, which reads
   * each changed key's previous value only when some listener says yes (absent: yes).
   */
  wantsPrevKv?(): boolean;
  /**
   * A write applied at `revision` made these changes, in order (puts, deletes), carrying prevKv
   * when some listener wanted it.
   */
  onEvents(server: EtcdServer, events: readonly Event[], revision: number): void;
  /** The entry at `index` is applied (every entry, replayed ones included). */
  onApplied(server: EtcdServer, index: number): void;
  /** The state was replaced by a snapshot's: `server.state` is a new store. */
  onRestored(server: EtcdServer): void;
}
