import type { NodeId } from '../../core/host/node.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { LeaseLogEntry } from '../../core/server/leaseLog.ts';
import type { Simulation } from '../../sim/simulation.ts';

type EtcdSimulation = Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

/**
 * Reads the members' lease logs as a run goes, each entry once, right after the event that wrote
 * it (so `sim.nowUs` is when it happened): after every event, the node it touched, or every member
 * after a fault. A restarted member's new log starts again from its beginning.
 */
export class LeaseLogCursors {
  private readonly cursors = new Map<NodeId, { server: EtcdServer; seq: number }>();

  afterEvent(sim: EtcdSimulation, visit: (id: NodeId, server: EtcdServer, entry: LeaseLogEntry) => void): void {
    const id = sim.lastEventNode;
    if (id === 0) for (const member of sim.members) this.read(sim, member, visit);
    else this.read(sim, id, visit);
  }

  private read(sim: EtcdSimulation, id: NodeId, visit: (id: NodeId, server: EtcdServer, entry: LeaseLogEntry) => void): void {
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
      visit(id, server, entry);
    }
  }
}
