import type { NodeId } from '../host/node.ts';
import type { ConfChange, ConfState } from '../raft/index.ts';

/*
 * Removed members, as etcd treats them (v3.4.23). A member removed from the cluster is removed for
 * good: its id goes into the cluster's removed set (`members_removed`) and is never reused —
 * ValidateConfigurationChange answers ErrIDRemoved to an add of it. Peers refuse its Raft messages:
 * EtcdServer.Process answers "cannot process message from removed member" (403), rafthttp's stream
 * handler answers "removed member" (410 Gone), and the sender that reads either reports
 * errMemberRemoved as a critical error and stops. etcd-io/raft alone would let a removed voter
 * that never learned of its removal campaign with ever higher terms and depose every leader
 * (thesis §4.2.3: pre-vote and the check-quorum lease only partly help); this refusal is what ends
 * it. Both hosted nodes (the etcd member and the replicated log) follow these rules.
 */

/** Whether Raft's configuration still holds `id`, in either half of a joint one, voter or learner. */
export function inConfiguration(confState: ConfState, id: NodeId): boolean {
  return confState.voters.includes(id) || confState.votersOutgoing.includes(id) || confState.learners.includes(id) || confState.learnersNext.includes(id);
}

/**
 * etcd's transport rule: a message from a removed member is refused — once Raft's configuration no
 * longer holds it. A voter removed by a joint change still votes, and may lead, in the outgoing
 * half until the joint configuration is left; refusing it earlier would depose a healthy leader.
 */
export function refusesPeer(removed: readonly NodeId[], confState: ConfState, from: NodeId): boolean {
  return removed.includes(from) && !inConfiguration(confState, from);
}

/** The ids a conf change took out of the configuration: in some half before, in none after. */
export function leftConfiguration(before: ConfState, after: ConfState): NodeId[] {
  const was = [...before.voters, ...before.votersOutgoing, ...before.learners, ...before.learnersNext];
  return [...new Set(was)].filter((id) => !inConfiguration(after, id));
}

/** `removed` with `ids` added: ascending, frozen, each once (a value a snapshot may share). */
export function withRemoved(removed: readonly NodeId[], ids: readonly NodeId[]): readonly NodeId[] {
  if (ids.every((id) => removed.includes(id))) return removed;
  return Object.freeze([...new Set([...removed, ...ids])].sort((a, b) => a - b));
}

/** The removed id a conf change would add back, if any (etcd: ErrIDRemoved — ids are never reused). */
export function readdsRemoved(removed: readonly NodeId[], change: ConfChange): NodeId | null {
  if (removed.length === 0) return null;
  for (const single of change.changes) if (single.type !== 'removeNode' && removed.includes(single.nodeId)) return single.nodeId;
  return null;
}
