import { HostLoop } from '../core/host/hostLoop.ts';
import type { ClientId, HostedNode, NodeId, NodeProtocol, RequestId, StreamFrame } from '../core/host/node.ts';
import type { DurableStore, Timer, Transport } from '../core/host/ports.ts';
import type { Random } from '../core/base/random.ts';
import { trace } from './latencyTrace.ts';

export interface NodeHostOptions<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly protocol: NodeProtocol<M, Q, R, N>;
  readonly id: NodeId;
  readonly members: readonly NodeId[];
  readonly random: Random;
  readonly store: DurableStore;
  readonly transport: Transport<M>;
  readonly timer: Timer;
  /** The client id this process's requests carry: unique in the cluster and across restarts. */
  readonly client: ClientId;
  /** Requests waiting for their reply, at most; more are refused at once (a bounded table). */
  readonly pendingRequestsMax: number;
  /** Called after every pump: the node's state may have changed (metrics read it here); `pumpMs`: how long the pump took. */
  readonly afterPump?: (node: N, pumpMs: number) => void;
  /** Called with every reply, before its caller sees it; `elapsedMs` since it was submitted. */
  readonly onReply?: (request: Q, reply: R, elapsedMs: number) => void;
  /** Called when a request got no reply in time (its outcome is unknown). */
  readonly onTimeout?: (request: Q) => void;
  /** Send what a Ready marks `beforeSync` while its writes are synced (HostLoopOptions). */
  readonly sendBeforeSync?: boolean;
}

export type SubmitOutcome<R> =
  | { readonly outcome: 'ok'; readonly reply: R }
  /** No reply in time: the request may still take effect (an unknown outcome, never a failure). */
  | { readonly outcome: 'timeout' }
  /** Refused before it reached the node: surely not done. */
  | { readonly outcome: 'refused'; readonly reason: 'too-many-requests' | 'stopping' };

/**
 * A stream open on the node (etcd's Watch): `send` passes the client's next message, `close` says
 * the client is gone. The node's replies reach `onReply` in order; `end` is the last (the node
 * closed it; `reply` null: the host stopped).
 */
export interface HostStream<Q> {
  send(request: Q): void;
  close(): void;
}

interface Pending<Q, R> {
  readonly request: Q;
  readonly resolve: (outcome: SubmitOutcome<R>) => void;
  readonly timer: NodeJS.Timeout;
  readonly submittedMs: number;
}

/**
 * A node on a real host: the runtime's counterpart of the simulator's SimProcess. It starts the
 * node from what the store recovered, drives it through the one HostLoop (persist → send →
 * reply → advance), feeds it ticks from the timer and messages from the transport, and turns
 * client calls into `submit`s whose replies resolve promises. Nothing here knows what the node
 * computes.
 */
export class NodeHost<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly node: N;
  readonly loop: HostLoop<M, Q, R>;
  private readonly options: NodeHostOptions<M, Q, R, N>;
  private readonly pending = new Map<RequestId, Pending<Q, R>>();
  private readonly streams = new Map<RequestId, (reply: R | null, end: boolean) => void>();
  private nextRequest: RequestId;
  private stopped = false;
  private pumpScheduled = false;

  constructor(options: NodeHostOptions<M, Q, R, N>) {
    this.options = options;
    // Request ids start at a random point so that a restarted process's ids do not meet the
    // previous incarnation's, whose proposals may still commit.
    this.nextRequest = 1 + options.random.below(0x4000_0000);
    this.node = options.protocol.start({ id: options.id, members: options.members, random: options.random, durable: options.store.read() });
    this.loop = new HostLoop(trace.enabled ? tracedNode(this.node) : this.node, {
      transport: options.transport,
      store: options.store,
      replies: { reply: (_client, id, reply, stream) => (stream === undefined ? this.answer(id, reply) : this.streamReply(id, reply, stream)) },
      // The node's deferred work (a huge range delete's slices) goes on in a later turn of the
      // event loop, after the I/O that came meanwhile (heartbeats): one slice per turn.
      later: (run) => {
        setImmediate(() => {
          if (!this.stopped) this.timed(run);
        });
      },
    }, { sendBeforeSync: options.sendBeforeSync ?? false });
  }

  /** Starts ticking and handles what the node has to do on boot. */
  start(): void {
    this.options.timer.start(() => {
      if (this.stopped) return;
      if (trace.enabled) trace.mark('tick');
      this.node.tick();
      this.schedulePump();
    });
    this.pump();
  }

  receive(from: NodeId, message: M): void {
    if (this.stopped) return;
    // A removed member's message is dropped (the node's rule; answering the sender is not modelled here).
    if (this.node.refuses?.(from) === true) return;
    this.node.receive(from, message);
    this.schedulePump();
  }

  /** Runs `action` on the node (a transport report), then pumps. */
  poke(action: (node: N) => void): void {
    if (this.stopped) return;
    action(this.node);
    this.schedulePump();
  }

  get pendingRequests(): number {
    return this.pending.size;
  }

  /** How many waiting requests `predicate` picks (the metrics count proposals among them). */
  countPending(predicate: (request: Q) => boolean): number {
    let count = 0;
    for (const pending of this.pending.values()) if (predicate(pending.request)) count++;
    return count;
  }

  submit(request: Q, timeoutMs: number): Promise<SubmitOutcome<R>> {
    if (this.stopped) return Promise.resolve({ outcome: 'refused', reason: 'stopping' });
    if (this.pending.size >= this.options.pendingRequestsMax) return Promise.resolve({ outcome: 'refused', reason: 'too-many-requests' });
    const id = this.takeRequestId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.options.onTimeout?.(request);
        resolve({ outcome: 'timeout' });
      }, timeoutMs);
      this.pending.set(id, { request, resolve, timer, submittedMs: performance.now() });
      if (trace.enabled) trace.mark('submit');
      this.node.submit(this.options.client, id, request);
      this.schedulePump();
    });
  }

  /**
   * Opens a stream with its first message (etcd's Watch); the node's replies on it reach
   * `onReply`. Null when the host is stopping or holds too many requests and streams.
   */
  openStream(request: Q, onReply: (reply: R | null, end: boolean) => void): HostStream<Q> | null {
    if (this.stopped || this.pending.size + this.streams.size >= this.options.pendingRequestsMax) return null;
    const stream = this.takeRequestId();
    this.streams.set(stream, onReply);
    this.node.submit(this.options.client, stream, request);
    this.schedulePump();
    return {
      send: (next) => {
        if (this.stopped || !this.streams.has(stream)) return;
        this.node.submit(this.options.client, this.takeRequestId(), next, stream);
        this.schedulePump();
      },
      close: () => {
        if (!this.streams.delete(stream) || this.stopped) return;
        this.node.closeStream?.(this.options.client, stream);
        this.schedulePump();
      },
    };
  }

  private takeRequestId(): RequestId {
    const id = this.nextRequest;
    this.nextRequest = this.nextRequest >= 0xffff_fff0 ? 1 : this.nextRequest + 1;
    return id;
  }

  private streamReply(stream: RequestId, reply: R, frame: StreamFrame): void {
    const onReply = this.streams.get(stream);
    if (onReply === undefined) return; // closed by its client meanwhile
    if (frame.end) this.streams.delete(stream);
    onReply(reply, frame.end);
  }

  /**
   * Stops taking input and ticks. What the node already handed to the store is flushed by the
   * caller (the store's `close`); requests still waiting resolve as timeouts (their outcome is
   * unknown: they may commit on the other members).
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.timer.stop();
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.resolve({ outcome: 'timeout' });
    }
    for (const [stream, onReply] of this.streams) {
      this.streams.delete(stream);
      onReply(null, true);
    }
  }

  /**
   * Pumps once the inputs that arrived together have all been taken: every message and call read
   * in one turn of the event loop goes into one Ready (one WAL write and fsync, one append per
   * follower, the answers in one write per connection), as etcd's raft loop batches what queued
   * up while it was busy.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.stopped) this.pump();
    });
  }

  private pump(): void {
    this.timed(this.pumpLoop);
  }

  private readonly pumpLoop = (): void => this.loop.pump();

  /** Runs a turn's work on the node (a pump, or a slice of deferred work and its pump), timed for `afterPump`. */
  private timed(run: () => void): void {
    if (trace.enabled) trace.mark('pump');
    const startedMs = performance.now();
    run();
    this.options.afterPump?.(this.node, performance.now() - startedMs);
    if (trace.enabled) trace.mark('pump.end');
  }

  private answer(id: RequestId, reply: R): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return; // timed out meanwhile, or asked by an earlier incarnation
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (trace.enabled) trace.mark('reply');
    this.options.onReply?.(pending.request, reply, performance.now() - pending.submittedMs);
    pending.resolve({ outcome: 'ok', reply });
  }
}

/** The node as the loop sees it, marking each Ready and advance on the latency trace (DETCD_LATENCY_TRACE). */
function tracedNode<M, Q, R>(node: HostedNode<M, Q, R>): HostedNode<M, Q, R> {
  const traced = Object.create(node) as HostedNode<M, Q, R>;
  traced.ready = () => {
    trace.mark('ready');
    const ready = node.ready();
    trace.mark(`ready.taken w${ready.writes.length} m${ready.messages.length} r${ready.replies.length}${ready.mustSync ? ' sync' : ''}`);
    return ready;
  };
  traced.advance = () => {
    trace.mark('advance');
    node.advance();
    trace.mark('advance.end');
  };
  return traced;
}
