import type { WatchResponse } from '../../core/api/index.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import { isErrorReply } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';

/**
 * On the member's side, as each Watch response leaves: it carries only revisions that member has
 * applied (its header's, its events'), so a response can never run ahead of its member's store —
 * the first wrong step of a watch that would otherwise show a write before the member applied it.
 */
export function watchRepliesApplied(): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    onReply(node, client, _id, reply, sim) {
      if (reply.method !== 'Watch' || isErrorReply(reply)) return;
      const response = reply.response as WatchResponse;
      const member = sim.node(node);
      if (member === null) return;
      const applied = member.state.kv.revision;
      const highest = Math.max(response.header.revision, ...response.events.map((event) => event.kv.modRevision));
      if (highest > applied) sim.fail(`watch: member ${node} sent client ${client} watch ${response.watchId} a response at revision ${highest} before applying it (its store is at ${applied})`);
    },
  };
}
