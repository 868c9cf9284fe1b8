import type { Event } from '../api/index.ts';
import type { EtcdServer } from './etcdServer.ts';
import type { InternalOp } from './internalRequest.ts';
import type { ServerRequest } from './serverRequest.ts';
import type { ApplyOutcome } from './stateMachine.ts';

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
  /**
   * The request of the entry at `index` was applied here and this is what the member computed:
   * its response or error and its changes (called before `onEvents` and `onApplied` for the
   * index; not for replayed or duplicated entries, which apply nothing). An observation for
   * checkers (properties/etcd/applyReference.ts): the listener must not change the outcome or
   * the member.
   */
  onOutcome?(server: EtcdServer, index: number, op: InternalOp, outcome: ApplyOutcome): void;
  /**
   * A read (Range, or a read-only Txn) was served from this member's state as it is now, with this
   * result (a response, its header not yet completed, or an error): an observation for checkers,
   * as `onOutcome` is for applied requests.
   */
  onServed?(server: EtcdServer, request: ServerRequest, result: unknown): void;
  /** The entry at `index` is applied (every entry, replayed ones included). */
  onApplied(server: EtcdServer, index: number): void;
  /** The state was replaced by a snapshot's: `server.state` is a new store. */
  onRestored(server: EtcdServer): void;
}
