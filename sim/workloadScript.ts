import type { ClientId, NodeId } from '../core/host/node.ts';
import type { ClientOperation, Workload } from './client.ts';

/**
 * A workload written out: what each client asked, of whom, and when. Recording a run's workload
 * and replaying the recording gives the same run (the same trace hash): a replayed client issues
 * the recorded operations at their times, and draws nothing from its stream. A script can be
 * edited — operations removed, clients dropped — and the operations left keep their times, which
 * is what shrinking a failing case needs (a race survives the removal of unrelated operations).
 */
export interface WorkloadScript<Request> {
  /** One list per client, in client order: the first belongs to client nodeCount + 1. */
  readonly clients: readonly (readonly ScriptedOperation<Request>[])[];
}

export interface ScriptedOperation<Request> {
  readonly to: NodeId;
  readonly request: Request;
  /**
   * When to invoke it: a replay invokes it then, or as soon as the client's previous operation has
   * ended when that is later. Without it, the operation follows the previous one's pause.
   */
  readonly invokeUs?: number;
  /**
   * The pause after it ended, before the next operation (used when that one has no `invokeUs`, and
   * after the last one); absent when the recording run ended before the client paused.
   */
  readonly thinkUs?: number;
}

/**
 * The pause of a replayed client whose recording ends before its next pause: it waits past any
 * run's end (2^50 µs is 35 years, and still a safe integer when added to any run's time).
 */
export const pauseForeverUs = 2 ** 50;

/** The number of operations in a script. */
export function scriptOperations(script: WorkloadScript<unknown>): number {
  return script.clients.reduce((sum, operations) => sum + operations.length, 0);
}

/**
 * Wraps a workload so that what its clients do is written down as they do it. The pauses are
 * drawn exactly as the client pool would draw them, so the recording run is the run it wraps.
 */
export function recordingWorkload<Q, R>(inner: Workload<Q, R>, firstClient: ClientId): { readonly workload: Workload<Q, R>; script(): WorkloadScript<Q> } {
  const clients: { to: NodeId; request: Q; invokeUs: number; thinkUs?: number }[][] = Array.from({ length: inner.clientCount }, () => []);
  const workload: Workload<Q, R> = {
    ...inner,
    next(client, random, nowUs): ClientOperation<Q> | null {
      const operation = inner.next(client, random, nowUs);
      if (operation !== null) clients[client - firstClient]!.push({ to: operation.to, request: operation.request, invokeUs: nowUs });
      return operation;
    },
    think(client, random, nowUs): number {
      const pauseUs = inner.think !== undefined ? inner.think(client, random, nowUs) : random.between(inner.thinkUsMin, inner.thinkUsMax);
      const operations = clients[client - firstClient]!;
      const last = operations[operations.length - 1];
      // A replayed client that ran out of recorded pauses waits forever: nothing to write down.
      if (last !== undefined && pauseUs !== pauseForeverUs) last.thinkUs = pauseUs;
      return pauseUs;
    },
  };
  return { workload, script: () => ({ clients: clients.map((operations) => operations.map((operation) => ({ ...operation }))) }) };
}

/**
 * A workload that replays `script`: each client issues its operations in order and pauses as
 * recorded; a client whose script is used up is done. Outcomes, retries and completion callbacks
 * are the inner workload's, so the checks see the same history.
 *
 * The inner workload is still asked for each operation and pause, and its answer dropped: a
 * client library keeps state between calls (etcd's round-robin balancer picks a retry's endpoint
 * from the cursor its calls advanced, its auto-sync decides when to list the members), and that
 * state must move as it did in the recording, or a replayed retry goes elsewhere. Asking it
 * draws what the recording drew from the client's stream, so an unedited script replays to the
 * same trace hash; an edited one (shrunk) is a run of its own, as deterministic.
 */
export function scriptedWorkload<Q, R>(inner: Workload<Q, R>, script: WorkloadScript<Q>, firstClient: ClientId): Workload<Q, R> {
  const cursors = new Array<number>(script.clients.length).fill(0);
  const longest = Math.max(0, ...script.clients.map((operations) => operations.length));
  return {
    ...inner,
    name: `${inner.name} (scripted)`,
    clientCount: script.clients.length,
    operationsPerClientMax: Math.max(longest, 1),
    next(client, random, nowUs): ClientOperation<Q> | null {
      const index = client - firstClient;
      const operation = script.clients[index]![cursors[index]!];
      if (operation === undefined) return null;
      inner.next(client, random, nowUs);
      cursors[index]!++;
      return { to: operation.to, request: operation.request };
    },
    think(client, random, nowUs): number {
      if (inner.think !== undefined) inner.think(client, random, nowUs);
      else random.between(inner.thinkUsMin, inner.thinkUsMax);
      const index = client - firstClient;
      const operations = script.clients[index]!;
      const next = operations[cursors[index]!];
      // The next operation keeps its time (so that removing one does not move the others), or
      // goes as soon as the client is free when this run is running late.
      if (next?.invokeUs !== undefined) return Math.max(0, next.invokeUs - nowUs);
      return operations[cursors[index]! - 1]?.thinkUs ?? pauseForeverUs;
    },
    startUs(client): number {
      return script.clients[client - firstClient]![0]?.invokeUs ?? 0;
    },
  };
}
