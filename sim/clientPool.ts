import type { Random } from '../core/base/random.ts';
import type { ClientId, NodeId, StreamFrame } from '../core/host/node.ts';
import type { HistoryEntry, Workload } from './client.ts';
import { EventKind, skipped } from './eventKind.ts';
import type { RandomStreams } from './rng.ts';
import type { Scheduler } from './scheduler.ts';

/**
 * A client's request on its way to a node. `id` is the request id the node sees: the history
 * entry's for a first attempt, a fresh one (from `retryIdsFrom` on) for each retry, so that a late
 * answer to an earlier attempt is told apart.
 */
export interface RequestEnvelope<Q> {
  readonly id: number;
  readonly request: Q;
}

/** A node's reply on its way to a client; `refused` when the request found the machine's process down. */
export interface ReplyEnvelope<R> {
  readonly id: number;
  readonly reply: R;
  readonly refused?: true;
  /** One reply of several on the stream `id` opened (see StreamClients). */
  readonly stream?: StreamFrame;
}

/** A client event: time for the next operation, the timeout of operation `entry`, or its next attempt. */
export interface ClientWake {
  readonly kind: 'next' | 'timeout' | 'retry';
  readonly entry: number;
  readonly to?: NodeId;
}

/** Request ids of retries start here, far above any history index. */
export const retryIdsFrom = 2 ** 40;

const nextOperation: ClientWake = { kind: 'next', entry: -1 };

/** One simulated client: at most one operation outstanding. */
class SimClient {
  readonly id: ClientId;
  readonly random: Random;
  operations = 0;
  /** The history index of the outstanding operation, or -1. */
  outstanding = -1;
  /** The request id of the outstanding operation's attempt in flight, or -1 between attempts. */
  attemptId = -1;
  /** Whether an earlier attempt of the outstanding operation may have taken effect. */
  mayHaveTakenEffect = false;
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
  private nextRetryId = retryIdsFrom;

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

  /** Whether clients hold connections: requests and replies are neither lost nor duplicated, a down machine refuses them. */
  get connections(): boolean {
    return this.workload?.connections === true;
  }

  /** A client event fired; returns its digest for the trace, or `skipped`. */
  wake(clientId: ClientId, wake: ClientWake): number {
    const client = this.clients[clientId - this.firstClient]!;
    const workload = this.workload!;
    const nowUs = this.scheduler.nowUs;
    if (wake.kind === 'timeout') {
      if (client.outstanding !== wake.entry) return skipped;
      // The client gives up. Unknown whether the operation took effect, unless every attempt was
      // answered with a refusal that says it did not (the client was waiting to retry).
      const entry = this.history[wake.entry]!;
      if (client.attemptId < 0 && !client.mayHaveTakenEffect) {
        entry.outcome = 'fail';
        entry.completeUs = nowUs;
      }
      this.finish(client, entry, null);
      return 2;
    }
    if (wake.kind === 'retry') {
      if (client.outstanding !== wake.entry || client.attemptId >= 0) return skipped;
      const entry = this.history[wake.entry]!;
      entry.attempts++;
      entry.lastTo = wake.to!;
      client.attemptId = this.nextRetryId++;
      this.route(client.id, wake.to!, EventKind.request, { id: client.attemptId, request: entry.request } satisfies RequestEnvelope<Q>);
      return (client.attemptId * 0x01000193) ^ wake.to! ^ 4;
    }
    if (client.done || client.outstanding >= 0) return skipped;
    const operation = client.operations >= workload.operationsPerClientMax ? null : workload.next(client.id, client.random, nowUs);
    if (operation === null) {
      client.done = true;
      return 3;
    }
    const id = this.history.length;
    this.history.push({ client: client.id, id, to: operation.to, invokeUs: nowUs, completeUs: null, attempts: 1, lastTo: operation.to, request: operation.request, reply: null, outcome: 'unknown' });
    client.operations++;
    client.outstanding = id;
    client.attemptId = id;
    client.mayHaveTakenEffect = false;
    this.route(client.id, operation.to, EventKind.request, { id, request: operation.request } satisfies RequestEnvelope<Q>);
    this.scheduler.schedule(nowUs + workload.timeoutUs, EventKind.client, client.id, 0, { kind: 'timeout', entry: id } satisfies ClientWake);
    return (id * 0x01000193) ^ this.digestRequest(operation.request);
  }

  /** A reply (or a refused connection) reached client `clientId` from `node`; returns its digest for the trace. */
  reply(clientId: ClientId, _node: NodeId, envelope: ReplyEnvelope<R>): number {
    const client = this.clients[clientId - this.firstClient]!;
    const digest = (envelope.id * 0x01000193) ^ (envelope.refused === true ? 5 : this.digestReply(envelope.reply));
    if (client.outstanding < 0 || client.attemptId !== envelope.id) return digest ^ 1; // late or duplicated: ignored
    const workload = this.workload!;
    const entry = this.history[client.outstanding]!;
    const reply = envelope.refused === true ? null : envelope.reply;
    const outcome = reply === null ? 'fail' : workload.outcome(reply, entry.request);
    client.attemptId = -1;
    const retry = workload.retry?.(clientId, entry.request, reply, entry.attempts, this.scheduler.nowUs) ?? null;
    if (outcome !== 'fail') client.mayHaveTakenEffect = true;
    if (retry !== null) {
      this.scheduler.schedule(this.scheduler.nowUs + retry.afterUs, EventKind.client, clientId, 0, { kind: 'retry', entry: entry.id, to: retry.to } satisfies ClientWake);
      return digest;
    }
    entry.completeUs = this.scheduler.nowUs;
    entry.reply = reply;
    // An answer that says "not done" after an attempt that may have been done leaves it unknown.
    entry.outcome = outcome === 'fail' && client.mayHaveTakenEffect ? 'unknown' : outcome;
    this.finish(client, entry, reply);
    return digest;
  }

  /** The operation ends (answered, or given up with a null reply): the client thinks, then goes on. */
  private finish(client: SimClient, entry: HistoryEntry<Q, R>, reply: R | null): void {
    client.outstanding = -1;
    client.attemptId = -1;
    this.workload!.onComplete?.(client.id, entry.request, reply, this.scheduler.nowUs);
    this.scheduleNext(client, this.think(client));
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
