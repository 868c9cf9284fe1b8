import { assert } from '../base/assert.ts';
import type { Message } from './message.ts';
import type { NodeId } from './state.ts';

/**
 * How the leader confirms a ReadIndex request (Raft thesis §6.4):
 * - `safe`: a heartbeat round that a quorum acknowledges proves the leader still leads.
 * - `lease-based`: the leader trusts its lease (check-quorum) and answers at once. Faster, but
 *   unsafe when clocks drift without bound; requires check-quorum.
 */
export type ReadOnlyOption = 'safe' | 'lease-based';

/** A pending ReadIndex request: the commit index when it arrived and who acknowledged since. */
export interface ReadIndexStatus {
  readonly request: Message;
  readonly index: number;
  readonly acks: Map<NodeId, boolean>;
}

/**
 * The leader's queue of ReadIndex requests waiting for their heartbeat round (etcd-io/raft's
 * readOnly). Requests are identified by their context; a quorum acknowledging a later request
 * also confirms every earlier one, since the heartbeat that carried it was sent after them.
 */
export class ReadOnly {
  readonly option: ReadOnlyOption;
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /**
   * Queues a request whose read index is `index` (the leader's commit index at arrival). A context
   * already pending is ignored: contexts must be unique among pending requests.
   */
  addRequest(index: number, request: Message): void {
    const context = request.context;
    if (this.pending.has(context)) return;
    this.pending.set(context, { request, index, acks: new Map() });
    this.queue.push(context);
  }

  /** Records that `from` answered the heartbeat carrying `context`; returns the acks so far. */
  recvAck(from: NodeId, context: string): ReadonlyMap<NodeId, boolean> {
    const status = this.pending.get(context);
    if (status === undefined) return new Map();
    status.acks.set(from, true);
    return status.acks;
  }

  /**
   * A quorum acknowledged the heartbeat carrying `context`: releases that request and every one
   * queued before it, in order.
   */
  advance(context: string): ReadIndexStatus[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released: ReadIndexStatus[] = [];
    for (const key of this.queue.slice(0, at + 1)) {
      const status = this.pending.get(key);
      assert(status !== undefined, 'cannot find corresponding read state from pending map');
      released.push(status);
      this.pending.delete(key);
    }
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** The context of the newest pending request, carried by heartbeats; '' if none. */
  lastPendingRequestContext(): string {
    return this.queue.length === 0 ? '' : this.queue[this.queue.length - 1]!;
  }

  get pendingCount(): number {
    return this.queue.length;
  }
}
