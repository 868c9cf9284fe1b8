import {
  ErrLearnerNotReady,
  ErrMemberBadURLs,
  ErrMemberNotEnoughStarted,
  ErrNotLeader,
  ErrProposalDropped,
  ErrUnhealthy,
  type EtcdError,
  type Member,
  type MemberAddRequest,
} from '../api/index.ts';
import type { NodeId } from '../host/node.ts';
import { confChange, type ConfChangeSingle } from '../raft/index.ts';
import type { EtcdServer } from './etcdServer.ts';
import { propose, readLinearizably, refuseProposal, serveRead } from './requestHandling.ts';
import type { Waiter } from './waiters.ts';

/** etcd's readyPercent: a learner may be promoted once its match reaches 90% of the leader's. */
const learnerReadyPercent = 0.9;

/*
 * etcd's Cluster API (server.go AddMember, RemoveMember, PromoteMember, UpdateMember and their
 * may… checks; membership/cluster.go): member changes go through Raft as conf changes whose
 * context carries the members' attributes, checked before proposing and again when applied.
 *
 * --strict-reconfig-check needs to know which members are up. etcd asks its peer streams, which
 * are up between every pair of members even when idle; a deterministic member knows only whom it
 * has heard from, and only the leader hears from everyone. So with the check on, these calls are
 * answered by the leader, and a follower answers ErrNotLeader (as etcd's promote does before it
 * forwards to the leader). A member counts as started when the leader heard from it within an
 * election timeout, and as connected since a time when it has been heard without a break since.
 */
export function handleClusterCall(server: EtcdServer, waiter: Waiter): void {
  const { request } = waiter;
  switch (request.method) {
    case 'MemberList':
      return request.request.linearizable === true ? readLinearizably(server, waiter) : serveRead(server, waiter);
    case 'MemberAdd':
      return addMembers(server, waiter, [request.request], [], []);
    case 'MemberRemove':
      return addMembers(server, waiter, [], [request.request.ID], []);
    case 'MemberPromote':
      return addMembers(server, waiter, [], [], [request.request.ID]);
    case 'MemberReconfigure': {
      const { add = [], remove = [], promote = [] } = request.request;
      return addMembers(server, waiter, add, remove, promote);
    }
    case 'MemberUpdate': {
      const { ID, peerURLs } = request.request;
      const refused = checkURLs(peerURLs) ?? server.state.membership.checkUpdate(ID, peerURLs);
      if (refused !== null) return server.replyError(waiter, refused);
      // etcd proposes a ConfChangeUpdateNode, which leaves Raft's configuration as it is: here a plain entry.
      return propose(server, waiter, { kind: 'memberUpdate', id: ID, peerURLs: [...peerURLs] });
    }
    default:
      throw new Error(`${request.method} is not a cluster call`);
  }
}

/**
 * One membership change: adds (voters or learners), removals and promotions. A single change is
 * a simple Raft change (etcd's); several enter a joint configuration that Raft leaves on its own.
 */
function addMembers(server: EtcdServer, waiter: Waiter, adds: readonly MemberAddRequest[], removes: readonly NodeId[], promotes: readonly NodeId[]): void {
  const added: Member[] = [];
  for (const add of adds) {
    const badURLs = checkURLs(add.peerURLs);
    if (badURLs !== null) return server.replyError(waiter, badURLs);
    added.push({ ID: server.config.memberIdOf(add.peerURLs), name: '', peerURLs: [...add.peerURLs], clientURLs: [], isLearner: add.isLearner === true });
  }
  const refused = checkChanges(server, added, removes, promotes) ?? checkStrict(server, added, removes, promotes);
  if (refused !== null) return server.replyError(waiter, refused);
  const refusedProposal = refuseProposal(server);
  if (refusedProposal !== null) return server.replyError(waiter, refusedProposal);
  if (server.softState.lead === 0) return server.waiters.leader.add(waiter);
  const changes: ConfChangeSingle[] = [
    ...added.map((member): ConfChangeSingle => ({ type: member.isLearner ? 'addLearner' : 'addNode', nodeId: member.ID })),
    ...removes.map((nodeId): ConfChangeSingle => ({ type: 'removeNode', nodeId })),
    ...promotes.map((nodeId): ConfChangeSingle => ({ type: 'addNode', nodeId })),
  ];
  const header = { member: server.id, id: server.requestIds.nextId() };
  const context = server.requests.encodeContext({ header, added, promoted: [...promotes] });
  if (server.raft.proposeConfChange(confChange(changes, 'auto', context)) === 'proposal-dropped') return server.replyError(waiter, ErrProposalDropped);
  server.waiters.proposals.register(header.id, waiter);
}

/** What the membership says of the changes now (checked again when they apply). */
function checkChanges(server: EtcdServer, added: readonly Member[], removes: readonly NodeId[], promotes: readonly NodeId[]): EtcdError | null {
  if (added.length + removes.length + promotes.length === 0) return ErrMemberBadURLs; // a reconfiguration that changes nothing
  let membership = server.state.membership;
  let learners = 0;
  for (const member of added) {
    const refused = membership.checkAdd(member, learners);
    if (refused !== null) return refused;
    membership = membership.withAdded(member);
    if (member.isLearner) learners++;
  }
  for (const id of removes) {
    const refused = membership.checkRemove(id);
    if (refused !== null) return refused;
    membership = membership.withRemoved(id);
  }
  for (const id of promotes) {
    const refused = membership.checkPromote(id);
    if (refused !== null) return refused;
    membership = membership.withPromoted(id);
  }
  return null;
}

/** etcd's mayAddMember, mayRemoveMember and mayPromoteMember, on the leader. */
function checkStrict(server: EtcdServer, added: readonly Member[], removes: readonly NodeId[], promotes: readonly NodeId[]): EtcdError | null {
  if (promotes.length > 0) {
    if (server.softState.lead !== server.id) return ErrNotLeader;
    for (const id of promotes) if (!isLearnerReady(server, id)) return ErrLearnerNotReady;
  }
  if (!server.config.strictReconfigCheck) return null;
  if (server.softState.lead !== server.id) return ErrNotLeader;
  const health = new ClusterHealth(server);
  if (promotes.length > 0 && !health.readyToPromote()) return ErrMemberNotEnoughStarted;
  for (const member of added) {
    if (!member.isLearner && !health.readyToAddVoter()) return ErrMemberNotEnoughStarted;
    if (!health.connectedToAllVoters()) return ErrUnhealthy;
  }
  for (const id of removes) {
    const refused = health.mayRemove(id);
    if (refused !== null) return refused;
  }
  return null;
}

/** etcd's isLearnerReady: the learner's match is at least 90% of the leader's (on the leader). */
function isLearnerReady(server: EtcdServer, id: NodeId): boolean {
  const progress = server.raft.status().progress;
  const learner = progress.get(id);
  const leader = progress.get(server.id);
  if (learner === undefined || leader === undefined) return true; // checked again when applied
  return learner.match >= leader.match * learnerReadyPercent;
}

/** etcd's IsReadyTo… counts (membership/cluster.go) and transport checks, from the leader's view. */
class ClusterHealth {
  private readonly server: EtcdServer;
  private readonly voters: readonly NodeId[];

  constructor(server: EtcdServer) {
    this.server = server;
    this.voters = server.state.membership.votingMembers.map((member) => member.ID);
  }

  private started(id: NodeId): boolean {
    return id === this.server.id || this.server.peers.activeSince(id, this.server.ticks) !== null;
  }

  private connectedSince(id: NodeId, sinceTick: number): boolean {
    if (id === this.server.id) return true;
    const active = this.server.peers.activeSince(id, this.server.ticks);
    return active !== null && active <= sinceTick;
  }

  private startedVoters(except: NodeId = 0): number {
    return this.voters.filter((id) => id !== except && this.started(id)).length;
  }

  readyToAddVoter(): boolean {
    const members = this.voters.length + 1;
    const started = this.startedVoters();
    if (started === 1 && members === 2) return true; // adding to a one-member cluster (etcd's restore case)
    return started >= Math.floor(members / 2) + 1;
  }

  readyToPromote(): boolean {
    return this.startedVoters() + 1 >= Math.floor((this.voters.length + 1) / 2) + 1;
  }

  connectedToAllVoters(): boolean {
    const since = this.server.ticks - this.server.config.healthIntervalTicks;
    return this.voters.every((id) => this.connectedSince(id, since));
  }

  mayRemove(id: NodeId): EtcdError | null {
    if (this.server.state.membership.isLearner(id)) return null;
    const remaining = this.voters.filter((voter) => voter !== id).length;
    if (this.startedVoters(id) < Math.floor(remaining / 2) + 1) return ErrMemberNotEnoughStarted;
    // A member that is down is safe to remove: it is not part of the active quorum.
    if (id !== this.server.id && this.server.peers.activeSince(id, this.server.ticks) === null) return null;
    const since = this.server.ticks - this.server.config.healthIntervalTicks;
    const active = this.voters.filter((voter) => this.connectedSince(voter, since)).length;
    return active - 1 < 1 + Math.floor((this.voters.length - 1) / 2) ? ErrUnhealthy : null;
  }
}

/** etcd's URL checks, loosely: at least one, each a scheme, a host and a port. */
function checkURLs(urls: readonly string[]): EtcdError | null {
  if (urls.length === 0) return ErrMemberBadURLs;
  for (const url of urls) if (!/^(https?|unix|unixs):\/\/[^/\s:]+:\d+$/.test(url)) return ErrMemberBadURLs;
  return null;
}
