import type { NodeProtocol } from '../../core/host/node.ts';
import type { ApplyListener } from '../../core/server/applyListener.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';

type EtcdProtocol = NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

/** The protocol with a checker's read-only apply listener added to every incarnation of every member it starts. */
export function listeningProtocol(protocol: EtcdProtocol, listener: () => ApplyListener): EtcdProtocol {
  return {
    ...protocol,
    start: (start) => {
      const node = protocol.start(start);
      node.applyListeners.push(listener());
      return node;
    },
  };
}
