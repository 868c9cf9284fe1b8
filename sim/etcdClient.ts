import { ErrNoLeader, ErrNotSupportedForLearner, ErrProposalDropped, ErrStopped, ErrTooManyRequests, ErrUnhealthy, GrpcCode, type EtcdError } from '../core/api/index.ts';
import { finalize32, mix32 } from '../core/base/hash.ts';
import type { Random } from '../core/base/random.ts';
import type { ClientId, NodeId } from '../core/host/node.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../core/server/index.ts';
import type { ClientOperation, ClientRetry, Outcome, Workload } from './client.ts';

/**
 * Simulated etcd clients, behaving as etcd's Go client (clientv3, v3.4) does towards a cluster:
 * each has a list of endpoints and sends each call to the next one (the round-robin balancer),
 * gives every call one deadline (the request timeout) over all its attempts, and retries on
 * another endpoint only when that is safe (clientv3's retry interceptor, `retry.go`):
 *
 * - A refused connection (the member's process is down) is retried for every call: the request
 *   never reached a server ("there is no connection available").
 * - A read (Range, a txn without writes, MemberList, Status, HashKV, Alarm GET) is retried on
 *   any Unavailable error (`isSafeRetryImmutableRPC`): it changes nothing, so running it twice
 *   is harmless.
 * - A write is retried only on the Unavailable errors that a detcd member returns before the
 *   request reaches Raft: "no leader" (it waited an election timeout for one) and "rpc not
 *   supported for learner". (clientv3 3.4 retries writes on connection errors only; these two are
 *   as safe, because the member answers them before proposing.)
 *
 * And what an answer says about a write (its outcome in the history):
 * - a response: ok;
 * - an error the member returns before proposing, or that an apply answers without changing
 *   anything (invalid requests, a txn reading a compacted revision, "too many requests", "raft
 *   proposal dropped", no leader, learner, a membership change refused as unhealthy): fail,
 *   surely not done;
 * - any error that may follow a proposal (request timed out, leader changed, server stopped),
 *   NOSPACE (etcd applies a write past the quota and still answers NOSPACE), and any error not
 *   known to be a refusal: unknown.
 *
 * The clients hold connections (`Workload.connections`): gRPC over TCP neither loses nor
 * duplicates a request or a reply, only delays it, and a request to a machine whose process is
 * down is refused at once.
 */
export interface EtcdClientOptions {
  /** The pause before a retry (clientv3's 25 ms linear backoff, ±10% jitter). */
  readonly backoffUs: number;
  /** Attempts per call at most (clientv3's defaultUnaryMaxRetries, 100); the deadline usually ends it first. */
  readonly attemptsMax: number;
}

export const defaultEtcdClientOptions: EtcdClientOptions = { backoffUs: 25_000, attemptsMax: 100 };

/** Whether a call may change the cluster's state (clientv3's nonRepeatable retry policy). */
export function isMutation(request: ServerRequest): boolean {
  switch (request.method) {
    case 'Range':
    case 'MemberList':
    case 'Status':
    case 'HashKV':
    case 'Snapshot':
    // A keep-alive renews on the primary only and moves nothing through Raft (clientv3's
    // keep-alive loop resends it freely); time-to-live and the lease list read.
    case 'LeaseKeepAlive':
    case 'LeaseTimeToLive':
    case 'LeaseLeases':
      return false;
    case 'Txn':
      return !isReadOnlyTxn(request.request);
    case 'Alarm':
      return request.request.action !== 'GET';
    default:
      return true;
  }
}

/** As the server decides (etcd's isTxnReadonly): every op of both branches is a range. */
function isReadOnlyTxn(txn: Extract<ServerRequest, { method: 'Txn' }>['request']): boolean {
  return [...(txn.success ?? []), ...(txn.failure ?? [])].every((op) => op.requestRange !== undefined);
}

/** The Unavailable errors a detcd member returns for a write only before proposing it (safe to retry). */
function refusedBeforeRaft(error: EtcdError): boolean {
  return error.message === ErrNoLeader.message || error.message === ErrNotSupportedForLearner.message;
}

/** Unavailable, but surely not applied: a membership change refused by --strict-reconfig-check before it was proposed. */
function refusedUnhealthy(error: EtcdError): boolean {
  return error.message === ErrUnhealthy.message;
}

/** Codes of errors that refuse a request, before Raft or at an apply that then changes nothing. */
const refusalCodes: ReadonlySet<number> = new Set([GrpcCode.InvalidArgument, GrpcCode.OutOfRange, GrpcCode.NotFound, GrpcCode.FailedPrecondition, GrpcCode.AlreadyExists, GrpcCode.PermissionDenied, GrpcCode.Unauthenticated]);

/** What an answer says about whether the call took effect. Unsure means unknown. */
export function etcdOutcome(request: ServerRequest, reply: ServerReply): Outcome {
  if (!isErrorReply(reply)) return 'ok';
  if (!isMutation(request)) return 'fail';
  const error = reply.error;
  if (refusalCodes.has(error.code)) return 'fail';
  switch (error.code) {
    case GrpcCode.Unavailable:
      return refusedBeforeRaft(error) || refusedUnhealthy(error) ? 'fail' : 'unknown';
    case GrpcCode.ResourceExhausted:
      // NOSPACE may come from the apply of a write that stays (etcd's quotaApplierV3).
      return error.message === ErrTooManyRequests.message ? 'fail' : 'unknown';
    case GrpcCode.Unknown:
      return error.message === ErrProposalDropped.message ? 'fail' : 'unknown';
    default:
      return 'unknown';
  }
}

/** Whether to try an answer's call again on another endpoint (see the rules above). */
export function safeToRetry(request: ServerRequest, reply: ServerReply | null): boolean {
  if (reply === null) return true;
  if (!isErrorReply(reply) || reply.error.code !== GrpcCode.Unavailable) return false;
  return !isMutation(request) || refusedBeforeRaft(reply.error);
}

/**
 * One client's connection: its endpoints and the balancer's cursor. A member that answers "server
 * stopped" was removed from the cluster; the balancer drops it, unless it is the last endpoint
 * left. With auto-sync (clientv3's AutoSyncInterval) the client lists the members every so often
 * and makes them its endpoints, so it follows a cluster whose members are replaced.
 */
export class EtcdConnection {
  private endpoints: readonly NodeId[];
  private cursor: number;
  /** The endpoint the latest call or attempt went to. */
  private latest: NodeId;
  private readonly autoSyncUs: number | null;
  private nextSyncUs: number;
  /** The call in flight is the connection's own member list, not the traffic's. */
  syncing = false;

  constructor(endpoints: readonly NodeId[], first: number, autoSyncUs: number | null = null) {
    this.endpoints = endpoints;
    this.cursor = first % endpoints.length;
    this.latest = endpoints[this.cursor]!;
    this.autoSyncUs = autoSyncUs;
    this.nextSyncUs = autoSyncUs ?? Infinity;
  }

  /** The connection's own call, when an auto-sync is due. */
  syncCall(nowUs: number): ClientOperation<ServerRequest> | null {
    if (nowUs < this.nextSyncUs) return null;
    this.syncing = true;
    return { to: this.next(), request: { method: 'MemberList', request: {} } };
  }

  /** The auto-sync's answer: the members become the endpoints. */
  synced(reply: ServerReply | null, nowUs: number): void {
    this.syncing = false;
    this.nextSyncUs = nowUs + this.autoSyncUs!;
    if (reply === null || isErrorReply(reply) || reply.method !== 'MemberList') return;
    const members = reply.response.members.map((member) => member.ID);
    if (members.length > 0) this.endpoints = members;
  }

  /** The endpoint for the next call or attempt (round robin). */
  next(): NodeId {
    const endpoint = this.endpoints[this.cursor % this.endpoints.length]!;
    this.cursor = (this.cursor + 1) % this.endpoints.length;
    this.latest = endpoint;
    return endpoint;
  }

  /** A call went to `endpoint` by the caller's choice. */
  chose(endpoint: NodeId): void {
    this.latest = endpoint;
  }

  /** Learns from an answer of the latest endpoint. */
  learn(reply: ServerReply | null): void {
    if (reply === null || !isErrorReply(reply) || reply.error.message !== ErrStopped.message || this.endpoints.length <= 1) return;
    this.endpoints = this.endpoints.filter((endpoint) => endpoint !== this.latest);
  }
}

/** A call, to the connection's next endpoint or to a member of the caller's choosing. */
export interface EtcdCall {
  readonly request: ServerRequest;
  readonly to?: NodeId;
}

/** What one simulated client does: its calls, one at a time, and what it learns from the answers. */
export interface EtcdTraffic {
  readonly name: string;
  /** The next call, or null when this client is done. */
  next(random: Random, nowUs: number): EtcdCall | null;
  /** The call ended: with its reply, or null when the client gave up or could not connect. */
  onComplete?(request: ServerRequest, reply: ServerReply | null, nowUs: number): void;
  /** The pause before the next call; without it, the workload's think time. */
  think?(random: Random, nowUs: number): number;
}

export interface EtcdClientSpec {
  readonly traffic: EtcdTraffic;
  readonly endpoints: readonly NodeId[];
  /** List the members this often and talk to them (clientv3's AutoSyncInterval); off without it. */
  readonly autoSyncUs?: number;
}

export interface EtcdWorkloadOptions {
  readonly name: string;
  readonly clients: readonly EtcdClientSpec[];
  /** The call deadline (clientv3's context timeout, over all attempts). */
  readonly timeoutUs: number;
  readonly thinkUsMin: number;
  readonly thinkUsMax: number;
  readonly operationsPerClientMax: number;
  readonly client?: EtcdClientOptions;
}

/**
 * A workload of etcd clients, each with its own traffic and connection. Clients are numbered in
 * `clients` order from the simulation's first client id.
 */
export function etcdWorkload(options: EtcdWorkloadOptions, firstClient: ClientId): Workload<ServerRequest, ServerReply> {
  const clientOptions = options.client ?? defaultEtcdClientOptions;
  const connections = options.clients.map((spec, index) => new EtcdConnection(spec.endpoints, index, spec.autoSyncUs ?? null));
  const traffic = (client: ClientId): EtcdTraffic => options.clients[client - firstClient]!.traffic;
  return {
    name: options.name,
    clientCount: options.clients.length,
    operationsPerClientMax: options.operationsPerClientMax,
    timeoutUs: options.timeoutUs,
    thinkUsMin: options.thinkUsMin,
    thinkUsMax: options.thinkUsMax,
    connections: true,
    next(client, random, nowUs): ClientOperation<ServerRequest> | null {
      const connection = connections[client - firstClient]!;
      const sync = connection.syncCall(nowUs);
      if (sync !== null) return sync;
      const call = traffic(client).next(random, nowUs);
      if (call === null) return null;
      if (call.to !== undefined) connection.chose(call.to);
      return { to: call.to ?? connection.next(), request: call.request };
    },
    think(client, random, nowUs): number {
      const own = traffic(client);
      return own.think !== undefined ? own.think(random, nowUs) : random.between(options.thinkUsMin, options.thinkUsMax);
    },
    outcome: (reply, request) => etcdOutcome(request, reply),
    retry(client, request, reply, attempt, nowUs): ClientRetry | null {
      connections[client - firstClient]!.learn(reply);
      if (attempt >= clientOptions.attemptsMax || !safeToRetry(request, reply)) return null;
      // ±10% jitter, drawn from the call itself rather than the client's stream (a replayed
      // workload draws nothing).
      const jitter = finalize32(mix32(mix32(client, attempt), nowUs)) % 21;
      return { to: connections[client - firstClient]!.next(), afterUs: Math.round((clientOptions.backoffUs * (90 + jitter)) / 100) };
    },
    onComplete(client, request, reply, nowUs): void {
      const connection = connections[client - firstClient]!;
      if (connection.syncing) connection.synced(reply, nowUs);
      else traffic(client).onComplete?.(request, reply, nowUs);
    },
  };
}
