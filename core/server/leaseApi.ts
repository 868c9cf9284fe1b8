import { ErrIntegerTooLarge, ErrLeaseTTLTooLarge, ErrTimeout, ErrTooManyRequests, maxLeaseTTL, type LeaseTimeToLiveResponse } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { NodeId } from '../host/node.ts';
import type { EtcdServer } from './etcdServer.ts';
import type { LeaseForward, LeaseForwardReply, ServerPeerMessage } from './peerMessage.ts';
import { answer, bareHeader, propose } from './requestHandling.ts';
import type { ServerReply, ServerRequest } from './serverRequest.ts';
import type { PendingRenewal, RenewalAnswer, Waiter } from './waiters.ts';

/*
 * etcd's Lease service (v3rpc/lease.go, v3_server.go LeaseGrant … LeaseLeases, leasehttp): grants
 * and revokes go through Raft; keep-alives and time-to-live are answered by the primary lessor
 * (the leader, once it applied an entry of its term) and forwarded to it by everyone else; the
 * leader's clock expires leases and proposes their revokes, and checkpoints remaining TTLs.
 */

type LeaseCall = Extract<ServerRequest, { method: 'LeaseKeepAlive' | 'LeaseTimeToLive' }>;

/** Revokes and checkpoints proposed per tick at most (etcd: half its 1000/s rates per 500 ms round). */
const revokesPerTick = 100;
const checkpointsPerTick = 100;

/** Routes a Lease call. */
export function handleLeaseCall(server: EtcdServer, waiter: Waiter): void {
  const request = waiter.request;
  switch (request.method) {
    case 'LeaseGrant': {
      const { TTL, ID = 0 } = request.request;
      if (!Number.isSafeInteger(ID) || !Number.isSafeInteger(TTL)) return server.replyError(waiter, ErrIntegerTooLarge);
      if (TTL > maxLeaseTTL) return server.replyError(waiter, ErrLeaseTTLTooLarge);
      return propose(server, waiter, { kind: 'leaseGrant', ID: ID !== 0 ? ID : chooseLeaseId(server), TTL });
    }
    case 'LeaseRevoke':
      if (!Number.isSafeInteger(request.request.ID)) return server.replyError(waiter, ErrIntegerTooLarge);
      return propose(server, waiter, { kind: 'leaseRevoke', ID: request.request.ID });
    case 'LeaseKeepAlive':
    case 'LeaseTimeToLive':
      return answerOnPrimary(server, waiter, request);
    case 'LeaseLeases':
      // etcd lists the member's own lessor: every member holds every lease.
      return answer(server, waiter, { header: bareHeader(server.state.kv.revision), leases: server.state.lessor.list().map((lease) => ({ ID: lease.id })) });
    default:
      throw new Error(`${request.method} is not a Lease call`);
  }
}

/**
 * etcd's server-chosen lease id (its reqIDGen, a member-unique 64-bit id): here a 52-bit hash of
 * the member and one of its request ids, so that members never pick the same one by construction
 * of their inputs; a collision with a live lease is ErrLeaseExist, as in etcd.
 */
function chooseLeaseId(server: EtcdServer): number {
  const requestId = server.requestIds.nextId();
  const high = finalize32(mixNumber(mix32(0x1ea5e, server.id), requestId)) & 0xfffff;
  const low = finalize32(mixNumber(mix32(0x1ea5f, requestId), server.id));
  return high * 0x1_0000_0000 + low || 1;
}

/**
 * Whether Raft itself still leads, in the term of the soft state's leadership. A leader whose Ready
 * waits for a stalled sync keeps its last soft state, so its lessor stays primary, while its Raft may
 * already follow a later leader (etcd-io/etcd#15247; etcd after 3.4.23 asks ensureLeadership before
 * it revokes, checkpoints or renews): such a stale primary neither renews a lease its successor
 * runs on its own clock, nor proposes revokes and checkpoints its Raft would forward to it.
 */
function raftLeadsNow(server: EtcdServer): boolean {
  return server.raft.currentRole === 'leader' && server.raft.currentTerm === server.hardState.term;
}

/** Whether this member's lessor may answer `request` as the primary (a renewal only while Raft still leads). */
function mayAnswerAsPrimary(server: EtcdServer, request: LeaseCall): boolean {
  return server.softState.role === 'leader' && (request.method !== 'LeaseKeepAlive' || raftLeadsNow(server));
}

/** The primary answers; any other member forwards to the leader (or waits for one). */
function answerOnPrimary(server: EtcdServer, waiter: Waiter, request: LeaseCall): void {
  // A stale primary's renewal waits like a follower's with no leader known: until its soft state catches up, then it forwards.
  const reply = mayAnswerAsPrimary(server, request) ? answerAsPrimary(server, request, { waiter }, waiter.sinceTick) : 'not-primary';
  if (reply === 'waiting') return;
  if (reply !== 'not-primary') return server.reply(waiter, completed(server, reply));
  const leader = server.softState.lead;
  if (leader === 0 || leader === server.id) return server.waiters.leases.retry(waiter);
  const forwardId = server.waiters.leases.forward(waiter);
  server.sendPeer({ type: 'LeaseForward', from: server.id, to: leader, forwardId, request });
}

/**
 * A keep-alive or time-to-live answered by this member's lessor, or 'not-primary'. Header revision
 * only. 'waiting' when a keep-alive of a checkpointed lease waits for its clearing checkpoint to
 * apply (etcd's Renew: le.cp, then refresh): `answer` is answered then (see clearingCheckpointApplied).
 */
function answerAsPrimary(server: EtcdServer, request: LeaseCall, answer: RenewalAnswer, sinceTick: number): ServerReply | 'not-primary' | 'waiting' {
  const lessor = server.state.lessor;
  if (!lessor.primary) return 'not-primary';
  const ID = request.request.ID;
  if (request.method === 'LeaseKeepAlive') {
    if (!lessor.mustClearCheckpoint(ID, server.ticks)) return renewNow(server, ID);
    // Bounded: beyond the limit the keep-alive is refused (the client keeps the lease alive by retrying).
    if (server.waiters.renewals.full) return { method: 'LeaseKeepAlive', error: ErrTooManyRequests };
    const requestId = server.proposeInternal({ kind: 'leaseCheckpoint', checkpoints: [{ ID, remainingTTL: 0 }] });
    server.leaseLog.clearing(ID, server.ticks);
    server.waiters.renewals.add(requestId, { ID, sinceTick, answer });
    return 'waiting';
  }
  const header = bareHeader(server.state.kv.revision);
  const lease = lessor.lookup(ID);
  // etcd's v3rpc turns ErrLeaseNotFound into a response with TTL -1.
  const response: LeaseTimeToLiveResponse =
    lease === undefined
      ? { header, ID, TTL: -1, grantedTTL: 0, keys: [] }
      : { header, ID, TTL: lessor.remainingSeconds(lease, server.ticks), grantedTTL: lease.ttl, keys: request.request.keys === true ? [...lease.keys].sort() : [] };
  return { method: 'LeaseTimeToLive', response };
}

/** The lessor renews the lease now, and the keep-alive's answer. */
function renewNow(server: EtcdServer, ID: number): ServerReply | 'not-primary' {
  const header = bareHeader(server.state.kv.revision);
  const renewed = server.state.lessor.renew(ID, server.ticks);
  if (renewed === 'not-primary') return 'not-primary';
  // etcd's keep-alive stream answers TTL 0 for a lease that is gone (or expired, its revoke under way).
  if (renewed === null) return { method: 'LeaseKeepAlive', response: { header, ID, TTL: 0 } };
  // The state's consistent index: inside the apply of a renewal's clear, the clear's (the applied index moves after it).
  server.leaseLog.refreshed(ID, server.ticks, server.state.consistentIndex);
  // Its callers renew only a lease with nothing to clear: a checkpoint that applied after this renewal's clear, or is still on its way, is cleared and waited for first (clearingCheckpointApplied).
  assert(!renewed.checkpointCleared, () => `member ${server.id} renews lease ${ID} over a checkpoint it has not cleared`);
  return { method: 'LeaseKeepAlive', response: { header, ID, TTL: renewed.ttl } };
}

/** A checkpoint this member proposed applied here: a keep-alive waiting for it renews its lease and is answered. */
export function clearingCheckpointApplied(server: EtcdServer, requestId: number): void {
  const renewal = server.waiters.renewals.take(requestId);
  if (renewal === undefined) return;
  // Leadership lost meanwhile: 'not-primary', so the call goes to the new leader (or waits for one).
  if (server.softState.role !== 'leader') return answerRenewal(server, renewal, 'not-primary');
  // A checkpoint this primary proposed before the clear (it carries the remaining TTL from before
  // the renewal) applies after it: clear again and wait again (still bounded by the request timeout),
  // or a new primary would run the acknowledged renewal from that checkpoint.
  if (server.state.lessor.mustClearCheckpoint(renewal.ID, server.ticks)) {
    server.waiters.renewals.add(server.proposeInternal({ kind: 'leaseCheckpoint', checkpoints: [{ ID: renewal.ID, remainingTTL: 0 }] }), renewal);
    server.leaseLog.clearing(renewal.ID, server.ticks);
    return;
  }
  answerRenewal(server, renewal, renewNow(server, renewal.ID));
}

function answerRenewal(server: EtcdServer, { answer }: PendingRenewal, reply: ServerReply | 'not-primary'): void {
  if ('forwardedBy' in answer) return server.sendPeer({ type: 'LeaseForwardReply', from: server.id, to: answer.forwardedBy, forwardId: answer.forwardId, reply });
  if (reply !== 'not-primary') return server.reply(answer.waiter, completed(server, reply));
  handleLeaseCall(server, answer.waiter);
}

/** A reply with its header completed by this member (a forwarded one keeps the leader's revision). */
function completed(server: EtcdServer, reply: ServerReply): ServerReply {
  if ('error' in reply) return reply;
  const response = reply.response as { readonly header: { readonly revision: number } };
  return { method: reply.method, response: { ...response, header: server.header(response.header.revision) } } as ServerReply;
}

/** A server peer message arrived (Raft's go to Raft). */
export function receiveLeasePeerMessage(server: EtcdServer, from: NodeId, message: ServerPeerMessage): void {
  if (message.type === 'LeaseForward') return answerForwarded(server, from, message);
  const waiter = server.waiters.leases.takeForwarded(message.forwardId);
  if (waiter === undefined) return; // timed out meanwhile, or a reply to an earlier incarnation
  // etcd's follower retries until its request times out when the leader is not (yet) the primary.
  if (message.reply === 'not-primary') return server.waiters.leases.retry(waiter);
  server.reply(waiter, completed(server, message.reply));
}

function answerForwarded(server: EtcdServer, from: NodeId, message: LeaseForward): void {
  const reply = server.stopped || !mayAnswerAsPrimary(server, message.request) ? 'not-primary' : answerAsPrimary(server, message.request, { forwardedBy: from, forwardId: message.forwardId }, server.ticks);
  if (reply === 'waiting') return;
  const answer: LeaseForwardReply = { type: 'LeaseForwardReply', from: server.id, to: from, forwardId: message.forwardId, reply };
  server.sendPeer(answer);
}

/**
 * The lessor's duties on every tick: calls waiting for a primary try again (or time out), and the
 * primary proposes the revokes of the leases its clock says expired and the checkpoints due.
 */
export function tickLeases(server: EtcdServer): void {
  const { retrying, expired } = server.waiters.leases.tick(server.ticks, server.config.requestTimeoutTicks);
  for (const waiter of expired) server.replyError(waiter, ErrTimeout);
  for (const waiter of retrying) handleLeaseCall(server, waiter);
  // etcd's le.cp gives up after a request timeout (raftRequestOnce's ErrTimeout), and Renew returns its error.
  for (const renewal of server.waiters.renewals.expire(server.ticks, server.config.requestTimeoutTicks)) answerRenewal(server, renewal, { method: 'LeaseKeepAlive', error: ErrTimeout });
  const lessor = server.state.lessor;
  if (!lessor.primary || server.softState.role !== 'leader') return;
  // A stale primary's revokes (of leases the new primary renews: etcd-disk-stalls seed 52) and
  // checkpoints (of stale remaining TTLs) would go to the new leader by proposal forwarding.
  if (!raftLeadsNow(server)) return;
  for (const ID of lessor.expired(server.ticks, revokesPerTick)) {
    server.leaseLog.expiring(ID, server.ticks);
    server.proposeInternal({ kind: 'leaseRevoke', ID, expired: true });
  }
  const checkpoints = lessor.dueCheckpoints(server.ticks, checkpointsPerTick);
  if (checkpoints.length > 0) server.leaseLog.checkpointing(server.proposeInternal({ kind: 'leaseCheckpoint', checkpoints }), server.ticks, checkpoints);
}
