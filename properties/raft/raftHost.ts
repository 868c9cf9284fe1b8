import type { HostedNode } from '../../core/host/node.ts';
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
