import type { HostedNode, NodeId } from '../../core/host/node.ts';
import type { Message } from '../../core/raft/index.ts';
import type { RaftNodeView } from '../../core/replica/raftNodeView.ts';
import type { SimObserver } from '../../sim/observer.ts';
import type { Simulation } from '../../sim/simulation.ts';

/**
 * What the Raft checkers watch: any node that hosts Raft, exchanges Raft's messages and shows its
 * state (a RaftNodeView) — the replicated log (core/replica) and the etcd member (core/server).
 */
export type RaftHost<Q, R> = HostedNode<Message, Q, R> & RaftNodeView;
export type HostSimulation<Q, R, N extends RaftHost<Q, R>> = Simulation<Message, Q, R, N>;
export type RaftHostObserver<Q, R, N extends RaftHost<Q, R>> = SimObserver<Message, Q, R, N>;

const hooks = ['onSend', 'onDeliver', 'onRequest', 'onReply', 'afterEvent', 'onFault', 'onCrash', 'onRestart', 'onPause', 'onResume', 'onClockJump', 'finish'] as const;

/**
 * A Raft checker for nodes whose peers also exchange messages of their own (the etcd member
 * forwards lease calls to its leader): it is shown Raft's messages only, and the nodes as the
 * RaftNodeView it reads.
 */
export function raftTrafficOnly<M, Q, R, N extends HostedNode<M, Q, R> & RaftNodeView>(
  observer: RaftHostObserver<Q, R, RaftHost<Q, R>>,
  isRaft: (message: M) => message is M & Message,
): SimObserver<M, Q, R, N> {
  const inner = observer as unknown as Record<string, ((...args: unknown[]) => void) | undefined>;
  const wrapped: Record<string, (...args: unknown[]) => void> = {};
  for (const hook of hooks) {
    const method = inner[hook];
    if (method === undefined) continue;
    const carriesMessage = hook === 'onSend' || hook === 'onDeliver';
    wrapped[hook] = carriesMessage ? (...args) => (isRaft(args[2] as M) ? method.apply(inner, args) : undefined) : (...args) => method.apply(inner, args);
  }
  return wrapped as SimObserver<M, Q, R, N>;
}

/** The same for a list of checkers. */
export function raftTrafficOnlyAll<M, Q, R, N extends HostedNode<M, Q, R> & RaftNodeView>(
  observers: readonly RaftHostObserver<Q, R, RaftHost<Q, R>>[],
  isRaft: (message: M) => message is M & Message,
): SimObserver<M, Q, R, N>[] {
  return observers.map((observer) => raftTrafficOnly<M, Q, R, N>(observer, isRaft));
}

/**
 * For checks that look at a leader's own state once every `sampleUs` (its progress, say): a node
 * is sampled when it leads and was not sampled in the last `sampleUs`.
 */
export class LeaderSampler {
  private readonly sampledAt = new Map<NodeId, number>();
  /** When the node `sample` last returned was sampled before, or undefined: never. */
  previousUs: number | undefined = undefined;

  constructor(private readonly sampleUs: number) {}

  /** Node `id` if it leads and is due a sample (then it is sampled now), or null. */
  sample<Q, R, N extends RaftHost<Q, R>>(sim: HostSimulation<Q, R, N>, id: NodeId): N | null {
    const node = sim.node(id);
    if (node === null || node.softState.role !== 'leader') return null;
    const now = sim.nowUs;
    const last = this.sampledAt.get(id);
    if (last !== undefined && now - last < this.sampleUs) return null;
    this.sampledAt.set(id, now);
    this.previousUs = last;
    return node;
  }
}
