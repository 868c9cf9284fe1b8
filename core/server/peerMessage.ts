import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { NodeId } from '../host/node.ts';
import { digestMessage, keyMessage, type Message } from '../raft/index.ts';
import type { ServerReply, ServerRequest } from './serverRequest.ts';

/**
 * A lease call a member cannot answer itself, passed to the leader (etcd's /leases and
 * /leases/internal peer endpoints: a follower forwards LeaseKeepAlive and LeaseTimeToLive, since
 * only the primary lessor knows expiries).
 */
export interface LeaseForward {
  readonly type: 'LeaseForward';
  readonly from: NodeId;
  readonly to: NodeId;
  /** The forwarding member's number for the call (local to it, not durable). */
  readonly forwardId: number;
  readonly request: Extract<ServerRequest, { method: 'LeaseKeepAlive' | 'LeaseTimeToLive' }>;
}

/** The leader's answer to a forwarded lease call; `not-primary` when it is not (or not yet) the primary lessor. */
export interface LeaseForwardReply {
  readonly type: 'LeaseForwardReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly forwardId: number;
  readonly reply: ServerReply | 'not-primary';
}

/** What members send each other, discriminated by `type`: Raft's messages and the server's own. */
export type PeerMessage = Message | LeaseForward | LeaseForwardReply;
export type ServerPeerMessage = LeaseForward | LeaseForwardReply;

export function isRaftMessage(message: PeerMessage): message is Message {
  return message.type !== 'LeaseForward' && message.type !== 'LeaseForwardReply';
}

/** What a peer message is, for keyed network draws: Raft's type and term, or the lease forward's kind. */
export function keyPeerMessage(message: PeerMessage): number {
  if (isRaftMessage(message)) return keyMessage(message);
  return message.type === 'LeaseForward' ? 0x1ea51 : 0x1ea52;
}

export function digestPeerMessage(message: PeerMessage): number {
  if (isRaftMessage(message)) return digestMessage(message);
  let h = mix32(0x1ea5, message.type === 'LeaseForward' ? 1 : 2);
  h = mixNumber(mixNumber(mixNumber(h, message.from), message.to), message.forwardId);
  return finalize32(h);
}
