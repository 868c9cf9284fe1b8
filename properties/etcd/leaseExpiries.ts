import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';
import { LeaseLogCursors } from '../lease/leaseLogCursors.ts';
import type { LeaseExpiry } from './etcdHistory.ts';

/**
 * The revokes of expired leases, as the members' lease logs show them while the run goes: when a
 * leader first proposed each, and when and at which revision a member first applied it. The
 * history check places them like the clients' writes (etcd's robustness tests read such
 * server-made requests from the members' WALs).
 */
export class LeaseExpiryRecorder {
  private readonly proposedUs = new Map<number, number>();
  private readonly applied = new Map<number, LeaseExpiry>();
  private readonly cursors = new LeaseLogCursors();

  get expiries(): readonly LeaseExpiry[] {
    return [...this.applied.values()];
  }

  observer(): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
    return {
      afterEvent: (sim) =>
        this.cursors.afterEvent(sim, (_id, _server, entry) => {
          if (entry.kind === 'expiring') {
            if (!this.proposedUs.has(entry.ID)) this.proposedUs.set(entry.ID, sim.nowUs);
          } else if (entry.kind === 'revoked' && entry.expired && !this.applied.has(entry.ID)) {
            this.applied.set(entry.ID, { lease: entry.ID, proposedUs: this.proposedUs.get(entry.ID) ?? sim.nowUs, appliedUs: sim.nowUs, revision: entry.revision });
          }
        }),
    };
  }
}
