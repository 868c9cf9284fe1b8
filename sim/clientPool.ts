import type { Random } from '../core/base/random.ts';
import type { ClientId, NodeId } from '../core/host/node.ts';
import type { HistoryEntry, Workload } from './client.ts';
import { EventKind, skipped } from './eventKind.ts';
import type { RandomStreams } from './rng.ts';
import type { Scheduler } from './scheduler.ts';

/** A client's request on its way to a node. */
export interface RequestEnvelope<Q> {
  readonly id: number;
  readonly request: Q;
}

/** A node's reply on its way to a client. */
export interface ReplyEnvelope<R> {
  readonly id: number;
  readonly reply: R;
}

/** A client event: time for the next operation, or the timeout of operation `entry`. */
export interface ClientWake {
  readonly kind: 'next' | 'timeout';
  readonly entry: number;
}

const nextOperation: ClientWake = { kind: 'next', entry: -1 };

/** One simulated client: at most one operation outstanding. */
class SimClient {
  readonly id: ClientId;
  readonly random: Random;
  operations = 0;
  /** The history index of the outstanding operation, or -1. */
  outstanding = -1;
  done = false;

  constructor(id: ClientId, random: Random) {
    this.id = id;
    this.random = random;
  }
}

/**
 * The clients of a run and the history they record. Each client invokes an operation, waits for
 * its reply or its timeout, thinks, and invokes the next; a reply after the timeout is ignored
 * (the operation stays unknown), as a real client that gave up would.
 */
export class ClientPool<Q, R> {
  readonly history: HistoryEntry<Q, R>[] = [];
  readonly firstClient: ClientId;
  private readonly clients: SimClient[] = [];
  private readonly workload: Workload<Q, R> | undefined;
  private readonly scheduler: Scheduler;
  private readonly route: (from: number, to: number, kind: number, payload: unknown) => void;
  private readonly digestRequest: (request: Q) => number;
  private readonly digestReply: (reply: R) => number;

  constructor(config: {
    workload: Workload<Q, R> | undefined;
    firstClient: ClientId;
    streams: RandomStreams;
    scheduler: Scheduler;
    route: (from: number, to: number, kind: number, payload: unknown) => void;
    digestRequest: (request: Q) => number;
    digestReply: (reply: R) => number;
  }) {
    this.workload = config.workload;
    this.firstClient = config.firstClient;
    this.scheduler = config.scheduler;
    this.route = config.route;
    this.digestRequest = config.digestRequest;
    this.digestReply = config.digestReply;
    const count = config.workload?.clientCount ?? 0;
    for (let i = 0; i < count; i++) this.clients.push(new SimClient(config.firstClient + i, config.streams.stream(`client/${i + 1}`)));
  }

  get count(): number {
    return this.clients.length;
  }

  start(): void {
    for (const client of this.clients) this.scheduleNext(client, this.workload?.startUs?.(client.id) ?? 0);
  }

  /** A client event fired; returns its digest for the trace, or `skipped`. */
  wake(clientId: ClientId, wake: ClientWake): number {
    const client = this.clients[clientId - this.firstClient]!;
    const workload = this.workload!;
    const nowUs = this.scheduler.nowUs;
    if (wake.kind === 'timeout') {
      if (client.outstanding !== wake.entry) return skipped;
      // The client gives up: whether the operation took effect is unknown.
      client.outstanding = -1;
      workload.onComplete?.(client.id, this.history[wake.entry]!.request, null);
      this.scheduleNext(client, this.think(client));
      return 2;
    }
    if (client.done || client.outstanding >= 0) return skipped;
    const operation = client.operations >= workload.operationsPerClientMax ? null : workload.next(client.id, client.random, nowUs);
    if (operation === null) {
      client.done = true;
      return 3;
    }
    const id = this.history.length;
    this.history.push({ client: client.id, id, to: operation.to, invokeUs: nowUs, completeUs: null, request: operation.request, reply: null, outcome: 'unknown' });
    client.operations++;
    client.outstanding = id;
    this.route(client.id, operation.to, EventKind.request, { id, request: operation.request } satisfies RequestEnvelope<Q>);
    this.scheduler.schedule(nowUs + workload.timeoutUs, EventKind.client, client.id, 0, { kind: 'timeout', entry: id } satisfies ClientWake);
    return (id * 0x01000193) ^ this.digestRequest(operation.request);
  }

  /** A reply reached client `clientId` from `node`; returns its digest for the trace. */
  reply(clientId: ClientId, _node: NodeId, envelope: ReplyEnvelope<R>): number {
    const client = this.clients[clientId - this.firstClient]!;
    const digest = (envelope.id * 0x01000193) ^ this.digestReply(envelope.reply);
    if (client.outstanding !== envelope.id) return digest ^ 1; // late or duplicated: ignored
    const entry = this.history[envelope.id]!;
    entry.completeUs = this.scheduler.nowUs;
    entry.reply = envelope.reply;
    entry.outcome = this.workload!.outcome(envelope.reply);
    client.outstanding = -1;
    this.workload!.onComplete?.(clientId, entry.request, envelope.reply);
    this.scheduleNext(client, this.think(client));
    return digest;
  }

  private scheduleNext(client: SimClient, delayUs: number): void {
    this.scheduler.schedule(this.scheduler.nowUs + delayUs, EventKind.client, client.id, 0, nextOperation);
  }

  private think(client: SimClient): number {
    const workload = this.workload!;
    if (workload.think !== undefined) return workload.think(client.id, client.random, this.scheduler.nowUs);
    return client.random.between(workload.thinkUsMin, workload.thinkUsMax);
  }
}
