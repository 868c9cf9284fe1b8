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

/** After the faults stop, `holds` must become true within `boundUs`, or the run fails. */
export interface LivenessCheck<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly description: string;
  readonly boundUs: number;
  holds(sim: Simulation<M, Q, R, N>): boolean;
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
}

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
