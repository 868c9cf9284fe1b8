import type { ClientId, NodeId } from '../../core/host/node.ts';
import { isErrorReply, type EtcdServer, type PeerMessage, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import { LeaseLogCursors } from '../../properties/lease/leaseLogCursors.ts';
import { currentLeader } from '../../properties/raft/raftLiveness.ts';
import type { SimObserver } from '../../sim/observer.ts';

/** What a run with disk stalls did while a member's disk was stalled (etcd-disk-stalls' coverage). */
export interface DiskStallCounts {
  /** Disk stalls that began on the member leading then. */
  leaderDiskStalls: number;
  /** Linearizable ranges a member answered (not an error) while its disk was stalled: a ReadIndex served meanwhile. */
  readsWhileStalled: number;
  /** Keep-alives a member acknowledged while its disk was stalled (a primary renewing leases on its clock). */
  keepAlivesWhileStalled: number;
  /** Leases a member's lessor found expired, and proposed to revoke, while its disk was stalled. */
  expiriesWhileStalled: number;
  /**
   * Events after which a member's Raft log was compacted past Raft's applied index + 1 (a Ready's
   * entries applied and snapshotted while its sync waits: etcd-io/etcd#9079's condition).
   */
  compactedPastApplied: number;
}

/**
 * Counts what disk stalls let happen (reads only: traces are unchanged): the paths a stalled disk
 * opens that the etcd-disk-stalls scenario exists to reach. A sweep requires them non-zero.
 */
export function diskStallCounts(): { readonly observer: SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer>; readonly counts: DiskStallCounts } {
  const counts: DiskStallCounts = { leaderDiskStalls: 0, readsWhileStalled: 0, keepAlivesWhileStalled: 0, expiriesWhileStalled: 0, compactedPastApplied: 0 };
  /** Linearizable ranges in flight, by client and request id. */
  const linearizable = new Set<string>();
  const key = (client: ClientId, requestId: number): string => `${client}:${requestId}`;
  const cursors = new LeaseLogCursors();
  const observer: SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> = {
    onFault(action, sim) {
      if (action.kind === 'disk-stall' && currentLeader(sim) === action.node) counts.leaderDiskStalls++;
    },
    onRequest(client, _node, requestId, request) {
      if (request.method === 'Range' && request.request.serializable !== true) linearizable.add(key(client, requestId));
    },
    onReply(node: NodeId, client, requestId, reply, sim) {
      const read = linearizable.delete(key(client, requestId));
      if (isErrorReply(reply) || !sim.diskStalled(node)) return;
      if (read) counts.readsWhileStalled++;
      else if (reply.method === 'LeaseKeepAlive') counts.keepAlivesWhileStalled++;
    },
    afterEvent(sim) {
      const id = sim.lastEventNode;
      const server = id === 0 ? null : sim.node(id);
      if (server !== null && server.storage.firstIndex() > server.raft.appliedIndex + 1) counts.compactedPastApplied++;
      cursors.afterEvent(sim, (id, _server, entry) => {
        if (entry.kind === 'expiring' && sim.diskStalled(id)) counts.expiriesWhileStalled++;
      });
    },
  };
  return { observer, counts };
}
