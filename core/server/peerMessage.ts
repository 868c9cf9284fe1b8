import { digestMessage, type Message } from '../raft/index.ts';

/**
 * What members send each other, discriminated by `type`: Raft's messages (`MsgApp`, `MsgVote`,
 * ...), and the server's own peer messages, none yet (the lessor will add a follower's lease
 * keep-alives forwarded to the leader and its answers, as etcd's /leases peer endpoint does).
 */
export type PeerMessage = Message;

export function digestPeerMessage(message: PeerMessage): number {
  return digestMessage(message);
}
