import type { ClientId, HostedNode, NodeId, NodeProtocol } from '../core/host/node.ts';
import type { Workload } from './client.ts';
import type { FaultAction } from './faults.ts';
import type { Simulation } from './simulation.ts';

/** Checks that watch a run. Each may throw (an AssertionError) to end the run as a violation. */
export interface SimObserver<M, Q, R, N extends HostedNode<M, Q, R>> {
  /** A node handed a message to its transport (before the network decides its fate). */
  onSend?(from: NodeId, to: NodeId, message: M, sim: Simulation<M, Q, R, N>): void;
  /** A message reached a running (or paused) node; it is handled now (or on resume). */
  onDeliver?(from: NodeId, to: NodeId, message: M, sim: Simulation<M, Q, R, N>): void;
  /** A client's request is handed to a running node (now, or on resume when it arrived during a pause). */
  onRequest?(client: ClientId, node: NodeId, requestId: number, request: Q, sim: Simulation<M, Q, R, N>): void;
  /** A node's reply leaves for its client (after the Ready's writes are durable). */
  onReply?(node: NodeId, client: ClientId, requestId: number, reply: R, sim: Simulation<M, Q, R, N>): void;
  /** After every delivered event. Costly checks should sample and say at what rate. */
  afterEvent?(sim: Simulation<M, Q, R, N>): void;
  /**
   * A fault of the plan fired (after it took effect). Crashes, restarts, pauses, resumes and clock
   * jumps also come through onCrash/onRestart/onPause/onResume/onClockJump, which name the node a
   * leader fault (crash-leader, pause-leader, clock-jump-leader) picked.
   */
  onFault?(action: FaultAction, sim: Simulation<M, Q, R, N>): void;
  onCrash?(node: NodeId, sim: Simulation<M, Q, R, N>): void;
  onRestart?(node: NodeId, sim: Simulation<M, Q, R, N>): void;
  onPause?(node: NodeId, sim: Simulation<M, Q, R, N>): void;
  onResume?(node: NodeId, sim: Simulation<M, Q, R, N>): void;
  onClockJump?(node: NodeId, deltaUs: number, sim: Simulation<M, Q, R, N>): void;
  /** When the run ends without another violation: whole-history checks. */
  finish?(sim: Simulation<M, Q, R, N>): void;
}

/**
 * After the faults stop, `holds` must become true within `boundUs`, or the run fails — or, when
 * the check states its own deadline (`deadline`, asked at each probe while `holds` is false), by
 * that deadline: a check whose bound depends on what the run did (a client's own pacing).
 */
export interface LivenessCheck<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly description: string;
  readonly boundUs: number;
  holds(sim: Simulation<M, Q, R, N>): boolean;
  /** When the run fails if `holds` is still false, and why by then (absent: the quiet fault's time + `boundUs`). */
  deadline?(sim: Simulation<M, Q, R, N>): { readonly atUs: number; readonly why: string };
}

export interface SimParts<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly protocol: NodeProtocol<M, Q, R, N>;
  readonly workload?: Workload<Q, R>;
  readonly observers?: readonly SimObserver<M, Q, R, N>[];
  readonly liveness?: LivenessCheck<M, Q, R, N>;
  /** Who leads now, for the isolate-leader partition. */
  readonly leader?: (sim: Simulation<M, Q, R, N>) => NodeId | null;
  /** Keep the per-event trail (for comparing runs event by event). */
  readonly keepTrail?: boolean;
  /** Record every message's fate (`Network.recordedFates`), to pin them (NetworkOptions.fates). */
  readonly recordFates?: boolean;
  /**
   * The network reports each snapshot's fate to its sender, as the runtime's peer transport does
   * (absent: it reports nothing, and the node must not wait for a report).
   */
  readonly snapshotReports?: SnapshotReports<M, N>;
  /**
   * The network reports a peer unreachable to a sender whose message it could not hand on, as
   * the runtime's peer transport does (absent: it reports nothing). See UnreachableReports.
   */
  readonly unreachableReports?: UnreachableReports<N>;
}

/**
 * How the simulated network reports ordinary messages it could not hand on, as the runtime's
 * peer transport does (runtime/peer/peerSender.ts: a message dropped because the connection
 * failed, is re-dialling or its queue is full is reported unreachable; one written to a working
 * connection is not, whatever becomes of it) and etcd's rafthttp (peer.send's full buffer, a
 * failed pipeline POST or stream write). Decided when the message is sent: the link is cut (the
 * connection broke and cannot be re-dialled), the receiver is down (refused), the receiver is
 * paused with a full inbox (its buffers full, the sender's queue overflows) or the link is full.
 * Not reported: a message lost on a working link (the weather's loss), or one cut, dropped by a
 * crash or a full inbox on its way (written to the connection before it broke). The report
 * goes to the sending incarnation at the moment of the send, after the event that sent it;
 * snapshots are reported by SnapshotReports instead (unreachable, then failed).
 */
export interface UnreachableReports<N> {
  reportUnreachable(node: N, to: NodeId): void;
}

/**
 * How the simulated network reports snapshots, as the runtime's peer transport does
 * (runtime/peer/peerTransport.ts, etcd's rafthttp snapshotSender): a snapshot handed on to the
 * receiving node is reported finished to the sender; one the network lost (cut at send or on the
 * way, lost, a full link), or the receiver did not take (down, crashed or refusing, its paused
 * inbox full) is reported unreachable, then failed, as a broken connection is. A report goes to
 * the sender's own host, not over the network; a sender that crashed meanwhile never hears it.
 */
export interface SnapshotReports<M, N> {
  /** Whether the message carries a snapshot, whose fate is reported. */
  carriesSnapshot(message: M): boolean;
  /**
   * How long a snapshot is on the wire beyond its link's delay (absent: nothing): a snapshot is
   * a whole store, and in the runtime it is seconds between its send and its report (a 200 MiB
   * one: encoded, sent and decoded in 2-40 s), a window in which a partition, a crash or a pause
   * loses it. Without it a snapshot lives for a link's delay and a fault almost never meets one.
   */
  readonly transferUs?: number;
  reportSnapshot(node: N, to: NodeId, status: SnapshotStatus): void;
  reportUnreachable(node: N, to: NodeId): void;
}

export type SnapshotStatus = 'finished' | 'failed';

export type StopReason = 'time-limit' | 'event-limit' | 'idle' | 'live' | 'violation';

export interface Violation {
  readonly message: string;
  readonly timeUs: number;
  readonly event: number;
  readonly stack?: string;
  /**
   * When what it is about began, when the check could only see it later (AssertionError.causeUs):
   * a read that was never answered fails its bound at `timeUs`, but was lost at `causeUs`.
   */
  readonly causeUs?: number;
}

export interface RunResult {
  readonly ok: boolean;
  readonly stopReason: StopReason;
  readonly traceHash: string;
  readonly events: number;
  readonly simulatedUs: number;
  readonly violation: Violation | null;
  /** Time from the quiet fault to liveness, when a liveness check ran and held. */
  readonly convergedAfterUs: number | null;
}
