import { assert } from '../base/assert.ts';
import type { HostedNode, NodeReady } from './node.ts';
import type { HostPorts } from './ports.ts';

export interface HostLoopOptions {
  /**
   * Send the messages and replies a Ready marks `beforeSync` as soon as its writes are handed to
   * the store, in parallel with the sync (etcd's raftNode: a leader sends its appends before its
   * own WAL write is durable; the apply loop answers clients while the WAL is written), and while
   * a sync is in flight, the node's urgent messages (`takeUrgentMessages`: heartbeats and their
   * answers) as they arise. Off, every message and reply waits for the sync.
   */
  readonly sendBeforeSync?: boolean;
}

/**
 * The one host loop: persist → send → reply → advance, for as long as the node has a Ready.
 * Both hosts (simulator and runtime) drive nodes only through this class, so the order that
 * makes Raft safe (a vote or an ack leaves only after it is durable) is written down once.
 *
 * `pump()` is called after every input to the node. While a sync is in flight the loop waits:
 * the node may take more input meanwhile, but its next Ready waits for this one's advance.
 */
export class HostLoop<Message, Request, Reply> {
  readonly node: HostedNode<Message, Request, Reply>;
  private readonly ports: HostPorts<Message, Reply>;
  private readonly sendBeforeSync: boolean;
  private syncing: NodeReady<Message, Reply> | null = null;
  private readonly onSynced = (): void => this.synced();
  private pumping = false;
  /** A later turn is asked for the node's deferred work. */
  private continuing = false;
  private readonly onLater = (): void => {
    this.continuing = false;
    this.node.continueWork!();
    this.pump();
  };

  constructor(node: HostedNode<Message, Request, Reply>, ports: HostPorts<Message, Reply>, options: HostLoopOptions = {}) {
    this.node = node;
    this.ports = ports;
    this.sendBeforeSync = options.sendBeforeSync ?? false;
  }

  /** True while a Ready waits for its sync: the process is inside fsync. */
  get waitingForSync(): boolean {
    return this.syncing !== null;
  }

  pump(): void {
    // A port may call back synchronously (a runtime sync that is a no-op): do not re-enter.
    if (this.pumping) return;
    this.pumping = true;
    try {
      if (this.syncing !== null && this.sendBeforeSync) this.sendUrgent();
      for (;;) {
        while (this.syncing === null && this.node.hasReady()) {
          const ready = this.node.ready();
          if (ready.writes.length > 0) this.ports.store.write(ready.writes);
          if (ready.mustSync) {
            // Without writes of its own, a sync makes earlier unsynced ones durable (a reply that promises them).
            assert(ready.writes.length > 0 || ready.replies.some((reply) => reply.promisesWrites === true), 'a Ready asked for a sync without writes');
            this.syncing = ready;
            if (this.sendBeforeSync) this.deliver(ready, true);
            this.ports.store.sync(this.onSynced);
            // A synchronous sync has already finished the Ready and cleared `syncing`.
            continue;
          }
          this.deliver(ready, null);
          this.node.advance();
        }
        // Deferred work goes on in a later turn of the host, or here at once when it has none.
        if (this.continuing || this.node.hasDeferredWork?.() !== true) break;
        if (this.ports.later !== undefined) {
          this.continuing = true;
          this.ports.later(this.onLater);
          break;
        }
        this.node.continueWork!();
        if (this.syncing !== null) break;
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * A slow fsync must not hold back what keeps the cluster's leases alive: with it a follower's
   * heartbeat answers (and a leader's heartbeats) waited for the disk, and under etcdctl check
   * perf a shared disk's stall past the election timeout cost a leader.
   */
  private sendUrgent(): void {
    const urgent = this.node.takeUrgentMessages?.();
    if (urgent === undefined) return;
    for (let i = 0; i < urgent.length; i++) this.ports.transport.send(urgent[i]!.to, urgent[i]!.message);
  }

  private synced(): void {
    const ready = this.syncing;
    assert(ready !== null, 'a sync completed that nobody waited for');
    this.syncing = null;
    this.deliver(ready, this.sendBeforeSync ? false : null);
    this.node.advance();
    this.pump();
  }

  /**
   * Sends the messages, then delivers the replies, whose `beforeSync` mark is `early` (null: all
   * of them). Messages go first: a reply may be an answer the messages' receivers also wait for.
   * A reply that promises writes (`promisesWrites`) waits for the store to have caught up with
   * the syncs (`DurableStore.caughtUp`): at once, in its place, unless some lag.
   */
  private deliver(ready: NodeReady<Message, Reply>, early: boolean | null): void {
    // Indexed loops: the arrays come in more than one shape (a node may hand out shared frozen
    // empty ones), and for-of over them fell back to the generic iterator on this hot path.
    const { messages, replies } = ready;
    for (let i = 0; i < messages.length; i++) {
      const outbound = messages[i]!;
      if (early === null || (outbound.beforeSync === true) === early) this.ports.transport.send(outbound.to, outbound.message);
    }
    for (let i = 0; i < replies.length; i++) {
      const reply = replies[i]!;
      if (early !== null && (reply.beforeSync === true) !== early) continue;
      if (reply.promisesWrites === true && this.ports.store.caughtUp !== undefined) {
        assert(reply.beforeSync !== true, 'a reply that promises writes was marked to leave before the sync');
        const replies = this.ports.replies;
        this.ports.store.caughtUp(() => replies.reply(reply.client, reply.id, reply.reply, reply.stream));
      } else this.ports.replies.reply(reply.client, reply.id, reply.reply, reply.stream);
    }
  }
}
