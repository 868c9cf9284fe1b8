import type { Random } from '../core/base/random.ts';
import type { ClientId, NodeId, StreamFrame } from '../core/host/node.ts';
import { EventKind, skipped } from './eventKind.ts';
import type { RandomStreams } from './rng.ts';
import type { Scheduler } from './scheduler.ts';

/**
 * What a stream client does next: close its stream, open one on a node with a first message, send
 * messages on its open stream, and ask to be woken after a while (its own timers).
 */
export interface StreamStep<Q> {
  readonly close?: boolean;
  readonly open?: { readonly to: NodeId; readonly request: Q };
  readonly send?: readonly Q[];
  readonly wakeAfterUs?: number;
}

/**
 * Clients that hold streams (etcd's Watch: a bidirectional gRPC stream) rather than making one
 * call at a time. Each has at most one open stream; it learns every reply on it in order, and that
 * the stream ended — closed by the node (an `end` frame, given to `onReply` first), or broken (its
 * member crashed, a frame could not be carried, a message was refused).
 */
export interface StreamWorkload<Q, R> {
  readonly clientCount: number;
  /** Woken: at the start (client's first wake), and whenever it asked to be. */
  wake(client: ClientId, random: Random, nowUs: number): StreamStep<Q>;
  onReply(client: ClientId, node: NodeId, reply: R, frame: StreamFrame, nowUs: number): StreamStep<Q>;
  /** The stream is gone (closed by the node or broken); the client is between streams now. */
  onBroken(client: ClientId, node: NodeId, nowUs: number): StreamStep<Q>;
}

/** A stream message on its way to a node: `stream` names the open stream, absent for the message that opens it. */
export interface StreamEnvelope<Q> {
  readonly id: number;
  readonly request: Q;
  readonly stream?: number;
  /** The client leaves the stream: the node forgets it (request is unused). */
  readonly close?: true;
}

/** Stream ids and message ids start here, far above any history index and retry id. */
export const streamIdsFrom = 2 ** 44;

class StreamClient {
  readonly id: ClientId;
  readonly random: Random;
  /** The open stream: where, its id, the next frame's sequence; null between streams. */
  stream: { readonly node: NodeId; readonly id: number; nextSequence: number } | null = null;
  /** Bumped by every requested wake, so an earlier timer is recognised and skipped. */
  wakeToken = 0;

  constructor(id: ClientId, random: Random) {
    this.id = id;
    this.random = random;
  }
}

/** A stream client's timer, or the notice that its stream broke. */
export interface StreamWake {
  readonly kind: 'stream-wake' | 'stream-broken';
  readonly token: number;
}

/**
 * The stream clients of a run. A stream's frames reach the client in sequence (the network keeps
 * a stream's traffic in order, as one HTTP/2 stream over TCP does); a frame that cannot be carried
 * breaks the stream instead of leaving a silent gap.
 */
export class StreamClients<Q, R> {
  readonly firstClient: ClientId;
  private readonly clients: StreamClient[] = [];
  private readonly workload: StreamWorkload<Q, R> | undefined;
  private readonly scheduler: Scheduler;
  private readonly route: (from: number, to: number, kind: number, payload: unknown) => boolean;
  private nextId = streamIdsFrom;
  /** Frames delivered to clients, for the run's summary. */
  framesDelivered = 0;
  streamsBroken = 0;

  constructor(config: {
    workload: StreamWorkload<Q, R> | undefined;
    firstClient: ClientId;
    streams: RandomStreams;
    scheduler: Scheduler;
    route: (from: number, to: number, kind: number, payload: unknown) => boolean;
  }) {
    this.workload = config.workload;
    this.firstClient = config.firstClient;
    this.scheduler = config.scheduler;
    this.route = config.route;
    for (let i = 0; i < (config.workload?.clientCount ?? 0); i++) this.clients.push(new StreamClient(config.firstClient + i, config.streams.stream(`stream-client/${i + 1}`)));
  }

  get count(): number {
    return this.clients.length;
  }

  owns(client: ClientId): boolean {
    return client >= this.firstClient && client < this.firstClient + this.clients.length;
  }

  start(): void {
    for (const client of this.clients) this.scheduleWake(client, 0);
  }

  wake(clientId: ClientId, wake: StreamWake): number {
    const client = this.client(clientId);
    if (wake.kind === 'stream-broken') {
      if (client.stream === null || client.stream.id !== wake.token) return skipped;
      return this.broken(client) ^ 7;
    }
    if (wake.token !== client.wakeToken) return skipped;
    this.apply(client, this.workload!.wake(client.id, client.random, this.scheduler.nowUs));
    return (client.id * 0x01000193) ^ 8;
  }

  /** A frame (or a refusal) for stream client `clientId` arrived from `node`. */
  reply(clientId: ClientId, node: NodeId, envelope: { readonly id: number; readonly reply: R; readonly refused?: true; readonly stream?: StreamFrame }): number {
    const client = this.client(clientId);
    const stream = client.stream;
    if (stream === null || stream.node !== node) return skipped;
    if (envelope.refused === true) {
      // A message of this stream found no process: the member is down, the stream with it.
      // (Ids only grow: a refusal of an earlier stream's message is older news.)
      if (envelope.id < stream.id) return skipped;
      return this.broken(client) ^ 5;
    }
    if (envelope.id !== stream.id || envelope.stream === undefined) return skipped;
    const frame = envelope.stream;
    if (frame.sequence !== stream.nextSequence && !frame.end) return this.broken(client) ^ 9;
    stream.nextSequence++;
    this.framesDelivered++;
    this.apply(client, this.workload!.onReply(client.id, node, envelope.reply, frame, this.scheduler.nowUs));
    if (frame.end && client.stream === stream) {
      client.stream = null;
      this.apply(client, this.workload!.onBroken(client.id, node, this.scheduler.nowUs));
    }
    return (envelope.id * 0x01000193) ^ frame.sequence;
  }

  /** Node `node` crashed: every stream on it breaks (the client sees its connection reset). */
  nodeCrashed(node: NodeId): void {
    for (const client of this.clients) if (client.stream?.node === node) this.scheduleBroken(client);
  }

  /** A stream frame or message could not be carried (a full link, a paused member's full inbox). */
  lost(clientId: ClientId, streamId: number): void {
    if (!this.owns(clientId)) return;
    const client = this.client(clientId);
    if (client.stream?.id === streamId) this.scheduleBroken(client);
  }

  private broken(client: StreamClient): number {
    const stream = client.stream!;
    client.stream = null;
    this.streamsBroken++;
    this.route(client.id, stream.node, EventKind.request, { id: this.nextId++, request: undefined as Q, stream: stream.id, close: true } satisfies StreamEnvelope<Q>);
    this.apply(client, this.workload!.onBroken(client.id, stream.node, this.scheduler.nowUs));
    return stream.id;
  }

  private apply(client: StreamClient, step: StreamStep<Q>): void {
    if (step.close === true && client.stream !== null) {
      const stream = client.stream;
      client.stream = null;
      this.route(client.id, stream.node, EventKind.request, { id: this.nextId++, request: undefined as Q, stream: stream.id, close: true } satisfies StreamEnvelope<Q>);
    }
    if (step.open !== undefined) {
      if (client.stream !== null) this.apply(client, { close: true });
      const id = this.nextId++;
      client.stream = { node: step.open.to, id, nextSequence: 0 };
      if (!this.route(client.id, step.open.to, EventKind.request, { id, request: step.open.request } satisfies StreamEnvelope<Q>)) this.scheduleBroken(client);
    }
    if (step.send !== undefined && client.stream !== null) {
      const stream = client.stream;
      for (const request of step.send) {
        if (!this.route(client.id, stream.node, EventKind.request, { id: this.nextId++, request, stream: stream.id } satisfies StreamEnvelope<Q>)) this.scheduleBroken(client);
      }
    }
    if (step.wakeAfterUs !== undefined) this.scheduleWake(client, step.wakeAfterUs);
  }

  private scheduleWake(client: StreamClient, afterUs: number): void {
    client.wakeToken++;
    this.scheduler.schedule(this.scheduler.nowUs + afterUs, EventKind.client, client.id, 0, { kind: 'stream-wake', token: client.wakeToken } satisfies StreamWake);
  }

  /** The client notices a broken stream a moment later (a connection reset travels too). */
  private scheduleBroken(client: StreamClient): void {
    this.scheduler.schedule(this.scheduler.nowUs + 1_000, EventKind.client, client.id, 0, { kind: 'stream-broken', token: client.stream!.id } satisfies StreamWake);
  }

  private client(clientId: ClientId): StreamClient {
    return this.clients[clientId - this.firstClient]!;
  }
}
