import { ErrConfChangeNotApplicable, ErrMemberNotFound, type EtcdError, type Member } from '../api/index.ts';
import type { ConfChangeEntry, ConfState } from '../raft/index.ts';
import type { EtcdServer } from './etcdServer.ts';
import type { ConfChangeContext } from './internalRequest.ts';
import type { Membership } from './membership.ts';
import { answer, bareHeader } from './requestHandling.ts';

/**
 * Applies a committed conf change entry (etcd's applyConfChange): validated again now, against
 * Raft's configuration and the membership as of this entry (etcd's ValidateConfigurationChange),
 * because changes committed before it may have made it invalid; a change that no longer fits is
 * skipped (etcd turns it into a no-op) and its proposer told why. Otherwise Raft switches
 * configuration and the membership changes with it, in the same entry's batch.
 *
 * While replaying entries the backend already holds, the same decisions are taken against the
 * membership replayed from the WAL's snapshot, and only Raft and that membership move.
 */
export function applyConfChangeEntry(server: EtcdServer, entry: ConfChangeEntry, replayed: boolean): ConfState {
  const change = entry.change;
  const context = server.requests.decodeContext(change.context);
  const membership = server.applyingMembership;
  const raftRefusal = server.raft.checkConfChange(change);
  const changed = raftRefusal === null ? changeMembership(membership, entry, context) : { error: ErrConfChangeNotApplicable };
  let confState = server.confState;
  if (!('error' in changed)) {
    confState = server.raft.applyConfChange(change);
    server.confState = confState;
    server.setApplyingMembership(changed.membership, replayed);
  }
  if (!replayed) {
    if (context !== null && context.header.member === server.id) answerConfChange(server, context, 'error' in changed ? changed.error : null);
    server.stopIfRemoved();
  }
  return confState;
}

/** The membership after the change's single changes, in order, or why one of them does not fit. */
function changeMembership(membership: Membership, entry: ConfChangeEntry, context: ConfChangeContext | null): { membership: Membership } | { error: EtcdError } {
  let next = membership;
  let learnersAdded = 0;
  for (const single of entry.change.changes) {
    const id = single.nodeId;
    if (single.type === 'removeNode') {
      const refused = next.checkRemove(id);
      if (refused !== null) return { error: refused };
      next = next.withRemoved(id);
    } else if (single.type === 'addNode' && context?.promoted.includes(id) === true) {
      const refused = next.checkPromote(id);
      if (refused !== null) return { error: refused };
      next = next.withPromoted(id);
    } else {
      const added = context?.added.find((member) => member.ID === id);
      if (added === undefined) return { error: ErrMemberNotFound };
      const member: Member = { ...added, isLearner: single.type === 'addLearner' };
      const refused = next.checkAdd(member, learnersAdded);
      if (refused !== null) return { error: refused };
      next = next.withAdded(member);
      if (member.isLearner) learnersAdded++;
    }
  }
  return { membership: next };
}

function answerConfChange(server: EtcdServer, context: ConfChangeContext, error: EtcdError | null): void {
  const waiter = server.waiters.proposals.take(context.header.id);
  if (waiter === undefined) return;
  if (error !== null) return server.replyError(waiter, error);
  const header = bareHeader(server.state.kv.revision);
  const members = server.state.membership.members;
  const added = context.added.map((member) => server.state.membership.member(member.ID) ?? member);
  switch (waiter.request.method) {
    case 'MemberAdd':
      return answer(server, waiter, { header, member: added[0]!, members });
    case 'MemberReconfigure':
      return answer(server, waiter, { header, added, members });
    default:
      return answer(server, waiter, { header, members });
  }
}
