import type { Random } from '../core/base/random.ts';
import type { HostLoop } from '../core/host/hostLoop.ts';
import type { HostedNode, NodeId } from '../core/host/node.ts';
import type { SimClock } from './clock.ts';
import type { SimDisk } from './disk.ts';

export type ProcessState = 'up' | 'paused' | 'down';

/** A sync the host loop waits for; dropped if its incarnation died meanwhile. */
/** A later turn asked for a node's deferred work (HostPorts.later), for the incarnation that asked. */
export interface WorkPayload {
  readonly incarnation: number;
  readonly run: () => void;
}

export interface SyncPayload {
  readonly incarnation: number;
  readonly mark: number;
  readonly done: () => void;
}

/** A disk's lag ends (DiskOptions.lag), for the incarnation whose disk lagged; queued for a paused process with the callers that waited for it (DurableStore.caughtUp). */
export interface DiskLagPayload {
  readonly incarnation: number;
  readonly waiters: readonly (() => void)[];
}

/** An input that reached a paused process, handled on resume. */
export interface QueuedInput {
  readonly kind: number;
  readonly source: number;
  readonly payload: unknown;
}

/** One simulated machine: its process (which may be down), its disk, clock and random stream. */
export class SimProcess<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly id: NodeId;
  readonly disk: SimDisk;
  readonly clock: SimClock;
  readonly random: Random;
  state: ProcessState = 'up';
  /** Bumped by every crash, so that a sync or tick of a dead incarnation is recognised. */
  incarnation = 0;
  tickGeneration = 0;
  node: N | null = null;
  loop: HostLoop<M, Q, R> | null = null;
  /** What arrived while paused, handled in order on resume. */
  inbox: QueuedInput[] = [];
  /** No sync completes before this time, begun before the stall or during it ('disk-stall' fault); 0: no stall. */
  diskStalledUntilUs = 0;
  tickQueued = false;

  constructor(id: NodeId, disk: SimDisk, clock: SimClock, random: Random) {
    this.id = id;
    this.disk = disk;
    this.clock = clock;
    this.random = random;
  }
}
