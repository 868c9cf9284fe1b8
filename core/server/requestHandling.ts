import {
  checkDeleteRequest,
  checkPutRequest,
  checkRangeRequest,
  ErrIntegerTooLarge,
  ErrNoSpace,
  ErrNotSupportedForLearner,
  ErrProposalDropped,
  ErrRequestTooLarge,
  ErrTooManyRequests,
  ErrUnknownMethod,
  isEtcdError,
  validateTxn,
  withHeader,
  type EtcdError,
  type ResponseHeader,
} from '../api/index.ts';
import { costPut, costTxn } from './alarms.ts';
import { handleClusterCall } from './clusterApi.ts';
import type { EtcdServer } from './etcdServer.ts';
import { isReadOnlyTxn, isSerializableTxn, requestWireBytes, type InternalOp } from './internalRequest.ts';
import { handleLeaseCall } from './leaseApi.ts';
import { handleMaintenanceCall } from './maintenanceApi.ts';
import type { ServerMethod, ServerReply, ServerRequest } from './serverRequest.ts';
import type { Waiter } from './waiters.ts';

/*
 * How a member handles a client's call (etcd's v3rpc servers, quota and learner interceptors, and
 * v3_server.go): the checks at the API edge, then a local answer, a linearizable read, or a
 * proposal whose apply answers it.
 */

/** Routes a call. Called on arrival, and again for calls that waited for a leader. */
export function dispatch(server: EtcdServer, waiter: Waiter): void {
  const request = waiter.request;
  if (server.state.membership.isLearner(server.id) && !learnerMayServe(request)) return server.replyError(waiter, ErrNotSupportedForLearner);
  switch (request.method) {
    case 'Range': {
      const refused = checkRangeRequest(request.request);
      if (refused !== null) return server.replyError(waiter, refused);
      return request.request.serializable === true ? serveRead(server, waiter) : readLinearizably(server, waiter);
    }
    case 'Put': {
      const refused = checkPutRequest(request.request) ?? checkQuota(server, costPut(request.request));
      return refused !== null ? server.replyError(waiter, refused) : propose(server, waiter, { kind: 'put', request: request.request });
    }
    case 'DeleteRange': {
      const refused = checkDeleteRequest(request.request);
      return refused !== null ? server.replyError(waiter, refused) : propose(server, waiter, { kind: 'deleteRange', request: request.request });
    }
    case 'Txn': {
      const txn = request.request;
      const refused = validateTxn(txn, server.config.maxTxnOps);
      if (refused !== null) return server.replyError(waiter, refused);
      if (isReadOnlyTxn(txn)) return isSerializableTxn(txn) ? serveRead(server, waiter) : readLinearizably(server, waiter);
      const overQuota = checkQuota(server, costTxn(txn));
      return overQuota !== null ? server.replyError(waiter, overQuota) : propose(server, waiter, { kind: 'txn', request: txn });
    }
    case 'Compact':
      if (!Number.isSafeInteger(request.request.revision)) return server.replyError(waiter, ErrIntegerTooLarge);
      return propose(server, waiter, { kind: 'compaction', request: request.request });
    case 'Alarm':
      // Every alarm call goes through Raft, GET included (etcd's Alarm is a raftRequest).
      return propose(server, waiter, { kind: 'alarm', request: request.request });
    case 'MemberAdd':
    case 'MemberRemove':
    case 'MemberUpdate':
    case 'MemberPromote':
    case 'MemberList':
    case 'MemberReconfigure':
      return handleClusterCall(server, waiter);
    case 'LeaseGrant':
    case 'LeaseRevoke':
    case 'LeaseKeepAlive':
    case 'LeaseTimeToLive':
    case 'LeaseLeases':
      return handleLeaseCall(server, waiter);
    case 'Status':
    case 'HashKV':
    case 'MoveLeader':
    case 'Defragment':
    case 'Snapshot':
      return handleMaintenanceCall(server, waiter);
    default:
      // Bad input, not a programmer error: a client may name anything.
      return server.reply(waiter, { method: (request as { readonly method: ServerMethod }).method, error: ErrUnknownMethod });
  }
}

/** etcd's isRPCSupportedForLearner: a learner serves Status and serializable Range only. */
function learnerMayServe(request: ServerRequest): boolean {
  return request.method === 'Status' || (request.method === 'Range' && request.request.serializable === true);
}

/**
 * etcd's quotaKVServer check: a put or txn that would take the backend past its quota is refused
 * before it is proposed, and the member raises the NOSPACE alarm through Raft.
 */
function checkQuota(server: EtcdServer, cost: number): EtcdError | null {
  if (server.state.fits(cost)) return null;
  if (!server.state.alarms.has('NOSPACE')) server.raiseNoSpace();
  return ErrNoSpace;
}

/** Waits for a leader, then joins the next read round (see LinearizableReads), started by the next Ready. */
export function readLinearizably(server: EtcdServer, waiter: Waiter): void {
  if (tooManyWaiting(server)) return server.replyError(waiter, ErrTooManyRequests);
  if (server.softState.lead === 0) return server.waiters.leader.add(waiter);
  server.waiters.reads.add(waiter);
}

/** Answers a read from this member's state now (serializable, or a linearizable one whose index is applied). */
export function serveRead(server: EtcdServer, waiter: Waiter): void {
  const { request } = waiter;
  const kv = server.state.kv;
  switch (request.method) {
    case 'Range': {
      const result = kv.range(request.request);
      for (const listener of server.applyListeners) listener.onServed?.(server, request, result);
      return answer(server, waiter, result);
    }
    case 'Txn': {
      const result = kv.txn(request.request);
      const response = isEtcdError(result) ? result : result.response;
      for (const listener of server.applyListeners) listener.onServed?.(server, request, response);
      return answer(server, waiter, response);
    }
    case 'MemberList':
      return answer(server, waiter, { header: bareHeader(kv.revision), members: server.state.membership.members });
    default:
      throw new Error(`${request.method} is not a read`);
  }
}

/**
 * Proposes a write (etcd's processInternalRaftRequestOnce): refused when too many requests wait
 * or the apply lags the commit by too much, or when the request is too large; held while there
 * is no leader; registered to be answered when its entry is applied here.
 */
export function propose(server: EtcdServer, waiter: Waiter, op: InternalOp): void {
  const refused = refuseProposal(server);
  if (refused !== null) return server.replyError(waiter, refused);
  if (server.softState.lead === 0) return server.waiters.leader.add(waiter);
  const header = { member: server.id, id: server.requestIds.nextId() };
  const request = { header, op };
  if (requestWireBytes(request) > server.config.maxRequestBytes) return server.replyError(waiter, ErrRequestTooLarge);
  const data = server.requests.encodeRequest(request);
  if (server.raft.propose(data) === 'proposal-dropped') return server.replyError(waiter, ErrProposalDropped);
  server.waiters.proposals.register(header.id, waiter);
}

/** etcd's too-many-requests rules, before anything is proposed. */
export function refuseProposal(server: EtcdServer): EtcdError | null {
  if (tooManyWaiting(server)) return ErrTooManyRequests;
  if (server.hardState.commit - server.appliedIndex > server.config.maxGapBetweenApplyAndCommit) return ErrTooManyRequests;
  return null;
}

function tooManyWaiting(server: EtcdServer): boolean {
  return server.waiters.size >= server.config.pendingRequestsMax;
}

/**
 * Answers a call whose entry is applied here: its response with the header completed. A
 * physical compaction waits until the compaction has removed what it compacted.
 */
export function answerApplied(server: EtcdServer, waiter: Waiter, response: unknown): void {
  const { request } = waiter;
  if (request.method === 'Compact' && request.request.physical === true && server.state.kv.compacting) {
    server.waiters.compactions.push({ waiter, response });
    return;
  }
  if (request.method === 'Compact') response = { ...(response as object), header: bareHeader(server.state.kv.revision) };
  answer(server, waiter, response as { header: ResponseHeader });
}

/** Replies with a response (its header completed) or an error. */
export function answer<Response extends { readonly header: ResponseHeader }>(server: EtcdServer, waiter: Waiter, result: Response | EtcdError): void {
  if (isEtcdError(result)) return server.replyError(waiter, result);
  const header = server.header(result.header.revision);
  server.reply(waiter, { method: waiter.request.method, response: withHeader(result, header) } as ServerReply);
}

/** A header with only the revision; `answer` completes it. */
export function bareHeader(revision: number): ResponseHeader {
  return { clusterId: 0, memberId: 0, revision, raftTerm: 0 };
}
