import type { NodeId } from '../host/node.ts';

/**
 * When this member last heard from each peer, and since when without a break (etcd's transport
 * ActiveSince: the time a peer's stream came up, zero while it is down). A peer silent for longer
 * than `breakTicks` counts as disconnected; hearing from it again starts a new period.
 */
export class PeerActivity {
  private readonly lastHeard = new Map<NodeId, number>();
  private readonly since = new Map<NodeId, number>();
  private readonly breakTicks: number;

  constructor(breakTicks: number) {
    this.breakTicks = breakTicks;
  }

  heard(id: NodeId, nowTick: number): void {
    const last = this.lastHeard.get(id);
    if (last === undefined || nowTick - last > this.breakTicks) this.since.set(id, nowTick);
    this.lastHeard.set(id, nowTick);
  }

  /** The tick since which `id` has been heard without a break, or null when it is not heard now. */
  activeSince(id: NodeId, nowTick: number): number | null {
    const last = this.lastHeard.get(id);
    if (last === undefined || nowTick - last > this.breakTicks) return null;
    return this.since.get(id) ?? null;
  }
}
