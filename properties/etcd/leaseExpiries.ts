import type { NodeId } from '../../core/host/node.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';
import type { Simulation } from '../../sim/simulation.ts';
import type { LeaseExpiry } from './etcdHistory.ts';

type EtcdSimulation = Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

/**
 * The revokes of expired leases, as the members' lease logs show them while the run goes: when a
 * leader first proposed each, and when and at which revision a member first applied it. The
 * history check places them like the clients' writes (etcd's robustness tests read such
 * server-made requests from the members' WALs).
 */
export class LeaseExpiryRecorder {
  private readonly proposedUs = new Map<number, number>();
  private readonly applied = new Map<number, LeaseExpiry>();
  private readonly cursors = new Map<NodeId, { server: EtcdServer; seq: number }>();

  get expiries(): readonly LeaseExpiry[] {
    return [...this.applied.values()];
  }

  observer(): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
    return {
      afterEvent: (sim) => {
        const id = sim.lastEventNode;
        if (id === 0) for (const member of sim.members) this.read(sim, member);
        else this.read(sim, id);
      },
    };
  }

  private read(sim: EtcdSimulation, id: NodeId): void {
    const server = sim.node(id);
    if (server === null) return;
    let cursor = this.cursors.get(id);
    if (cursor === undefined || cursor.server !== server) {
      cursor = { server, seq: 0 };
      this.cursors.set(id, cursor);
    }
    if (server.leaseLog.lastSeq === cursor.seq) return;
    for (const entry of server.leaseLog.since(cursor.seq)) {
      cursor.seq = entry.seq;
      if (entry.kind === 'expiring') {
        if (!this.proposedUs.has(entry.ID)) this.proposedUs.set(entry.ID, sim.nowUs);
      } else if (entry.expired && !this.applied.has(entry.ID)) {
        this.applied.set(entry.ID, { lease: entry.ID, proposedUs: this.proposedUs.get(entry.ID) ?? sim.nowUs, appliedUs: sim.nowUs, revision: entry.revision });
      }
    }
  }
}
