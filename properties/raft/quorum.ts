import type { ConfState, NodeId } from '../../core/raft/index.ts';

/**
 * Whether `has` holds for a quorum of `config`: a majority of its voters and, in a joint
 * configuration, a majority of the outgoing voters as well. Written plainly, apart from Raft's own
 * quorum code, so that a bug there does not hide itself here.
 */
export function quorumHolds(config: ConfState, has: (id: NodeId) => boolean): boolean {
  const majority = (ids: readonly NodeId[]): boolean => ids.length === 0 || ids.filter(has).length * 2 > ids.length;
  if (config.voters.length === 0 && config.votersOutgoing.length === 0) return false;
  return majority(config.voters) && majority(config.votersOutgoing);
}
