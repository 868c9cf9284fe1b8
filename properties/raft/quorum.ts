import type { ConfState, NodeId } from '../../core/raft/index.ts';

/**
 * Whether `has` holds for a quorum of `config`: a majority of its voters and, in a joint
 * configuration, a majority of the outgoing voters as well. Written plainly, apart from Raft's own
 * quorum code, so that a bug there does not hide itself here.
 */
export function quorumHolds(config: ConfState, has: (id: NodeId) => boolean): boolean {
  if (config.voters.length === 0 && config.votersOutgoing.length === 0) return false;
  return majorityHolds(config.voters, has) && majorityHolds(config.votersOutgoing, has);
}

/** Whether `has` holds for more than half of `ids` (an empty half holds). Counts; checkers call it on every commit. */
function majorityHolds(ids: readonly NodeId[], has: (id: NodeId) => boolean): boolean {
  let holding = 0;
  for (let i = 0; i < ids.length; i++) if (has(ids[i]!)) holding++;
  return ids.length === 0 || holding * 2 > ids.length;
}
