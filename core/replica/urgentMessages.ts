import type { Outbound } from '../host/node.ts';
import type { Message, RawNode } from '../raft/index.ts';

const none: readonly Outbound<Message>[] = Object.freeze([]);

/**
 * What a Raft host sends while its Ready waits for the sync (`HostedNode.takeUrgentMessages`):
 * the heartbeats and heartbeat answers Raft raised meanwhile (RawNode.takeHeartbeats; etcd-io/raft
 * keeps them in `msgs`, apart from `msgsAfterAppend`). They promise nothing about the writes in
 * flight. With no Ready out there is nothing urgent: everything goes in the next Ready. The one
 * rule for both hosts (LogReplica, EtcdServer).
 */
export function takeUrgentHeartbeats(raft: RawNode, readyOut: boolean): readonly Outbound<Message>[] {
  if (!readyOut) return none;
  const heartbeats = raft.takeHeartbeats();
  return heartbeats.length === 0 ? none : heartbeats.map((message) => ({ to: message.to, message, beforeSync: true }));
}
