import type { Bytes, Event } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { NodeProtocol } from '../../core/host/node.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import { listeningProtocol } from '../etcd/listeningProtocol.ts';

/** What the check reads of a member's lessor: the lease a key is attached to (0: none). */
export interface AttachmentLookup {
  leaseOf(key: Bytes): number;
}

/**
 * The first change of a write whose key the lessor does not attach as the store now holds it: a
 * PUT's key to the lease its KeyValue names (0: none), a DELETE's key to no lease. Null when every
 * change agrees. (The lessor attaches keys as each apply's changes say; a key left on a lease it no
 * longer carries is deleted by that lease's revoke.)
 */
export function wrongAttachment(events: readonly Event[], lessor: AttachmentLookup): string | null {
  for (const event of events) {
    const key = event.kv.key;
    const expected = event.type === 'PUT' ? event.kv.lease : 0;
    const attached = lessor.leaseOf(key);
    if (attached !== expected) {
      const what = event.type === 'PUT' ? `put with lease ${expected}` : 'deleted';
      return `key ${JSON.stringify(key)} was ${what} at mod revision ${event.kv.modRevision}, but the lessor attaches it to lease ${attached}`;
    }
  }
  return null;
}

/**
 * The lease attachment check (session 20, task hunt): every member's lessor attaches each key a
 * write changed as the store now holds it, checked at the apply, the first wrong step — not at the
 * revoke that later deletes a key no longer on its lease (a rare consequence: two clients holding
 * one lock). A read-only apply listener on every incarnation of every member; it asks for no
 * prevKv, so the run is the same with it and without it.
 */
export function checkingLeaseAttachments(protocol: NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer>): NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return listeningProtocol(protocol, () => ({
    wantsPrevKv: () => false,
    onEvents: (server, events, revision) => {
      const wrong = wrongAttachment(events, server.state.lessor);
      if (wrong !== null) throw new AssertionError(`lease attachment: member ${server.id} applied revision ${revision}: ${wrong}`);
    },
    onApplied: () => {},
    onRestored: () => {},
  }));
}
