import type { ClientId, DurableState, DurableWrite, NodeId, RequestId, StreamFrame } from './node.ts';

/**
 * The ports a host gives the host loop. The simulator implements them over its virtual network,
 * disks and clocks; the runtime over sockets, files and the system clock. Completion is signalled
 * by a plain callback, never a Promise, so that the simulator stays synchronous.
 */
export interface Transport<Message> {
  /** Fire and forget: the network may lose, delay, duplicate or reorder it. */
  send(to: NodeId, message: Message): void;
}

export interface ReplyPort<Reply> {
  /** A reply to call `id`; with `stream`, one of the replies on the stream `id` opened, in sequence order. */
  reply(client: ClientId, id: RequestId, reply: Reply, stream?: StreamFrame): void;
}

export interface DurableStore {
  /** Buffers the writes (a page cache): visible to `read`, lost on crash until synced. */
  write(writes: readonly DurableWrite[]): void;
  /** Makes every buffered write durable, then calls `done` (after the disk's sync latency). */
  sync(done: () => void): void;
  /**
   * Calls `done` once every write that a completed sync covered (those handed over before it was
   * asked for) is durable, which is already so unless the store let some of them lag behind that
   * sync. The runtime's FileStore does for its db: a write held behind a rewrite, or behind a
   * large append being framed in turns, is durable only once that is in, after syncs that did not
   * wait for it (the simulator's disk with `DiskOptions.lag` does the same; without a lag it calls
   * `done` at once, synchronously). Absent: a sync covers every write. A reply that promises
   * writes (`ClientReply.promisesWrites`) has its Ready sync first: this only waits for the lag.
   */
  caughtUp?(done: () => void): void;
  /** What survived: the durable state as a restarting process reads it. */
  read(): DurableState;
}

/** Drives `tick()` at a fixed interval on the host's own clock. */
export interface Timer {
  start(onTick: () => void): void;
  stop(): void;
}

export interface HostPorts<Message, Reply> {
  readonly transport: Transport<Message>;
  readonly replies: ReplyPort<Reply>;
  readonly store: DurableStore;
  /**
   * Runs `run` in a later turn of the host's loop, after the input already waiting (a node's
   * deferred work, see HostedNode.hasDeferredWork). Absent: the loop does the work at once.
   */
  readonly later?: (run: () => void) => void;
}
