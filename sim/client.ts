import type { Random } from '../core/base/random.ts';
import type { ClientId, NodeId } from '../core/host/node.ts';
import type { StreamWorkload } from './streamClients.ts';

export type Outcome = 'ok' | 'fail' | 'unknown';

/** One client operation as the history records it. Times are simulated microseconds. */
export interface HistoryEntry<Request, Reply> {
  readonly client: ClientId;
  /** Unique within the run, in invocation order. */
  readonly id: number;
  readonly to: NodeId;
  readonly invokeUs: number;
  /** When the reply arrived; null when the client gave up (outcome unknown). */
  completeUs: number | null;
  /** Attempts made (a client library's retries on other nodes); 1 without retries. */
  attempts: number;
  /** The node the last attempt went to. */
  lastTo: NodeId;
  readonly request: Request;
  reply: Reply | null;
  outcome: Outcome;
}

export interface ClientRetry {
  readonly to: NodeId;
  readonly afterUs: number;
}

export interface ClientOperation<Request> {
  readonly to: NodeId;
  readonly request: Request;
}

/**
 * What simulated clients do. Each client runs one operation at a time: it invokes, waits for the
 * reply or its timeout, thinks, and invokes the next. A reply that arrives after the timeout is
 * ignored (the operation stays unknown), as a real client that gave up would.
 */
export interface Workload<Request, Reply> {
  readonly name: string;
  readonly clientCount: number;
  /** Operations per client at most: a bound on every run. */
  readonly operationsPerClientMax: number;
  readonly timeoutUs: number;
  readonly thinkUsMin: number;
  readonly thinkUsMax: number;
  /**
   * The pause before `client`'s next operation. Without it, a uniform draw in
   * [thinkUsMin, thinkUsMax] from the client's own stream. (A replayed workload gives the pauses
   * it recorded.)
   */
  think?(client: ClientId, random: Random, nowUs: number): number;
  /** When `client` first wakes (default 0): a replayed client whose first operation was cut waits. */
  startUs?(client: ClientId): number;
  /** The next operation of `client`, or null when it has nothing more to do. */
  next(client: ClientId, random: Random, nowUs: number): ClientOperation<Request> | null;
  /**
   * Whether a reply says the operation took effect (ok), surely did not (fail), or may have
   * (unknown: an error that can come after the request reached the replicated log).
   */
  outcome(reply: Reply, request: Request): Outcome;
  /**
   * Clients hold connections (gRPC streams over TCP) rather than sending datagrams: the network
   * never loses or duplicates their requests and replies, only delays them, and a request that
   * reaches a machine whose process is down is refused at once (a TCP reset) rather than lost.
   * Without it, client traffic meets the same weather as the nodes' (the Raft family's clients).
   */
  readonly connections?: boolean;
  /**
   * A client library's retries. Asked after every answer to the operation's current attempt —
   * a reply, or `null` when the connection was refused (the request reached a crashed machine) —
   * it returns where to try again and after what pause, or null to end the operation with this
   * answer. The operation keeps one deadline (`timeoutUs`) over all its attempts.
   */
  retry?(client: ClientId, request: Request, reply: Reply | null, attempt: number, nowUs: number): ClientRetry | null;
  /** Told when an operation ends: with its reply, or with null when the client gave up on it. */
  onComplete?(client: ClientId, request: Request, reply: Reply | null, nowUs: number): void;
  /** Clients that hold streams (etcd's watchers), numbered after the `clientCount` one-call-at-a-time clients. */
  readonly streams?: StreamWorkload<Request, Reply>;
}
