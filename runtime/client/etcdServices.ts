import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ErrIntegerTooLarge, ErrNotLeader, ErrStopped, ErrTimeout, ErrTooManyRequests, type EtcdError, type WatchResponse } from '../../core/api/index.ts';
import { encodeBackendImage } from '../../core/mvcc/backendCodec.ts';
import { pageSize, type BackendImage } from '../../core/mvcc/index.ts';
import { call, isErrorReply, type ServerMethod, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { HostStream, SubmitOutcome } from '../nodeHost.ts';
import { frame } from '../storage/frame.ts';
import type { Handlers } from './grpcServices.ts';
import type { LeaderForwarding } from './leaderForwarding.ts';
import { watchRequest, watchResponse } from './watchWire.ts';
import { compactionRequest, deleteRangeRequest, deleteRangeResponse, putRequest, putResponse, rangeRequest, rangeResponse, txnRequest, txnResponse, type Wire } from './kvWire.ts';
import { trace } from '../latencyTrace.ts';

/** How the gRPC services reach the member. */
export interface MemberCalls {
  submit(request: ServerRequest): Promise<SubmitOutcome<ServerReply>>;
  /** Opens a stream on the member with its first message (Watch); null when it takes no more. */
  openStream(request: ServerRequest, onReply: (reply: ServerReply | null, end: boolean) => void): HostStream<ServerRequest> | null;
  /** The cluster id now (a joining member learns it from its first peer). */
  clusterId(): number;
  /** The version Status reports (etcd's release detcd follows). */
  readonly version: string;
  /** The leader's client URL when another member leads, else null. */
  leaderClientUrl(): string | null;
  /** Passes a membership call on to the leader (see LeaderForwarding). */
  readonly forwarding: LeaderForwarding;
  /** How long a forwarded call may take. */
  readonly timeoutMs: number;
}

/** etcd streams a snapshot in 32 KiB blobs (v3rpc/maintenance.go's snapshotSendBufferSize). */
const snapshotBlobBytes = 32 * 1024;

function grpcError(error: EtcdError): Partial<grpc.StatusObject> {
  return { code: error.code as number as grpc.status, details: error.message };
}

/**
 * Whether a request holds a number that a JS number cannot hold exactly (int64 at or beyond 2^53
 * arrives rounded). Every call passes here: it walks the fields in place (`Object.values` made an
 * array for every object of every request, and `.some` a call per field).
 */
export function hasUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isSafeInteger(value);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasUnsafeInteger(value[i])) return true;
    return false;
  }
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field === 'number' ? !Number.isSafeInteger(field) : typeof field === 'object' && field !== null && hasUnsafeInteger(field)) return true;
  }
  return false;
}

/** What a submit came to, as etcd would answer it: a reply, or the error for a refusal or an unknown outcome. */
function replyOf(outcome: SubmitOutcome<ServerReply>): ServerReply | EtcdError {
  if (outcome.outcome === 'ok') return outcome.reply;
  // No reply within the member's own request timeout: etcd answers "request timed out" too.
  if (outcome.outcome === 'timeout') return ErrTimeout;
  return outcome.reason === 'stopping' ? ErrStopped : ErrTooManyRequests;
}

const asIs = (wire: Wire): Wire => wire;

/**
 * A unary call: the wire request becomes a member call, its reply the wire response (the header's
 * cluster id is the cluster's current one), an etcd error a gRPC status with etcd's code and
 * message (clientv3 matches errors by message).
 */
function unary(member: MemberCalls, method: ServerMethod, toRequest: (wire: Wire) => unknown, toWire: (response: never) => Wire = asIs): grpc.UntypedHandleCall {
  const clusterMethod = method.startsWith('Member');
  return ((serverCall: grpc.ServerUnaryCall<Wire, Wire>, callback: grpc.sendUnaryData<Wire>) => {
    if (trace.enabled) trace.mark(`grpc.in ${method}`);
    if (hasUnsafeInteger(serverCall.request)) return callback(grpcError(ErrIntegerTooLarge));
    member.submit(call(method, toRequest(serverCall.request) as never)).then(
      (outcome) => {
        if (trace.enabled) trace.mark(`grpc.out ${method}`);
        const reply = replyOf(outcome);
        if ('code' in reply) return callback(grpcError(reply));
        if (isErrorReply(reply) && reply.error === ErrNotLeader && leaderDecides.has(method)) return forward(member, method, serverCall.request, reply.error, callback);
        if (isErrorReply(reply)) return callback(grpcError(reply.error));
        const response = toWire(reply.response as never);
        const header = response.header as Wire | undefined;
        if (header === undefined) return callback(null, response);
        // etcd's Cluster service answers with a header without a revision (v3rpc's cluster server).
        const revision = clusterMethod ? 0 : header.revision;
        // The KV methods' toWire made this object: it takes the header in place; another (the
        // member's own reply, passed as it is) is copied first.
        const wire = toWire === asIs ? { ...response } : response;
        wire.header = { clusterId: member.clusterId(), memberId: header.memberId, revision, raftTerm: header.raftTerm };
        callback(null, wire);
      },
      (error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message }),
    );
  }) as grpc.UntypedHandleCall;
}


/** The membership calls a follower passes on to the leader (LeaderForwarding). */
const leaderDecides: ReadonlySet<ServerMethod> = new Set(['MemberAdd', 'MemberRemove', 'MemberUpdate', 'MemberPromote']);

function forward(member: MemberCalls, method: ServerMethod, request: Wire, refusal: EtcdError, callback: grpc.sendUnaryData<Wire>): void {
  const url = member.leaderClientUrl();
  if (url === null) return callback(grpcError(refusal));
  member.forwarding.forward(url, method, request, member.timeoutMs).then(
    (response) => callback(null, response),
    (error: grpc.ServiceError) => callback({ code: error.code, details: error.details }),
  );
}

/**
 * A snapshot file's contents before etcd's SHA-256 trailer: the image as one CRC-framed record,
 * zero-padded to whole 4 KiB pages — a bbolt file is whole pages, and etcdctl (3.4's `snapshot
 * save`) recognises the trailer by the size: a multiple of 512 plus 32.
 */
export function snapshotFileBytes(image: BackendImage): Buffer {
  const framed = frame(encodeBackendImage(image));
  const padded = Buffer.alloc(Math.ceil(framed.byteLength / pageSize) * pageSize);
  framed.copy(padded);
  return padded;
}

/**
 * etcd's Snapshot: the backend image at this member's applied index, streamed in 32 KiB blobs with
 * the bytes still to come, then etcd's trailer — the SHA-256 of everything before it — as the last
 * blob. The bytes are detcd's own image format (`snapshotFileBytes`), not a bbolt file: etcdctl
 * saves it, but its `snapshot status` and `restore` read bbolt files only (a known deviation).
 */
function snapshotStream(member: MemberCalls): grpc.UntypedHandleCall {
  return ((stream: grpc.ServerWritableStream<Wire, Wire>) => {
    member.submit(call('Snapshot', {})).then((outcome) => {
      const reply = replyOf(outcome);
      const error = 'code' in reply ? reply : isErrorReply(reply) ? reply.error : null;
      if (error !== null) {
        stream.emit('error', grpcError(error));
        return;
      }
      const image = (reply as { response: { blob: unknown } }).response.blob as BackendImage;
      const bytes = snapshotFileBytes(image);
      const whole = Buffer.concat([bytes, createHash('sha256').update(bytes).digest()]);
      for (let sent = 0; sent < whole.byteLength; sent += snapshotBlobBytes) {
        const blob = whole.subarray(sent, sent + snapshotBlobBytes);
        stream.write({ remainingBytes: whole.byteLength - sent - blob.byteLength, blob });
      }
      stream.end();
    }, (error: Error) => stream.emit('error', { code: grpc.status.INTERNAL, details: error.message }));
  }) as grpc.UntypedHandleCall;
}

/** A lease id or TTL off the wire (int64 as a JS number; a number beyond 2^53 was refused before). */
function leaseNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

/**
 * etcd's LeaseKeepAlive: a bidirectional stream on which each request renews one lease and is
 * answered in turn (v3rpc/lease.go leaseKeepAlive). Each renewal is one member call; a lease that
 * is gone is answered with TTL 0 and the stream stays open, as etcd does; any other error ends it.
 */
function keepAliveStream(member: MemberCalls): grpc.UntypedHandleCall {
  return ((stream: grpc.ServerDuplexStream<Wire, Wire>) => {
    let pending = Promise.resolve();
    let failed = false;
    stream.on('data', (wire: Wire) => {
      if (hasUnsafeInteger(wire)) {
        stream.emit('error', grpcError(ErrIntegerTooLarge));
        return;
      }
      const ID = leaseNumber(wire.ID);
      // Answers leave in request order (clientv3 matches them by id, but order costs nothing here).
      pending = pending.then(async () => {
        if (failed) return;
        const reply = replyOf(await member.submit(call('LeaseKeepAlive', { ID })));
        const error = 'code' in reply ? reply : isErrorReply(reply) ? reply.error : null;
        if (error !== null) {
          failed = true;
          stream.emit('error', grpcError(error));
          return;
        }
        const response = (reply as unknown as { response: Wire }).response;
        stream.write({ ...response, header: { ...(response.header as Wire), clusterId: member.clusterId() } });
      });
    });
    stream.on('end', () => void pending.then(() => (failed ? undefined : stream.end())));
  }) as grpc.UntypedHandleCall;
}

/**
 * etcd's Watch: one bidirectional stream per call, opened on the member by its first request, each
 * later request a message on it; every member reply is one WatchResponse. The member closing the
 * stream (it restarted, it is stopping) ends the call with its error; the client ending or
 * cancelling the call closes the member's stream (its watches are cancelled).
 */
function watchStream(member: MemberCalls): grpc.UntypedHandleCall {
  return ((call: grpc.ServerDuplexStream<Wire, Wire>) => {
    let stream: HostStream<ServerRequest> | null = null;
    let ended = false;
    const end = (error: EtcdError | null): void => {
      if (ended) return;
      ended = true;
      stream?.close();
      if (error === null) call.end();
      else call.emit('error', grpcError(error));
    };
    const onReply = (reply: ServerReply | null, last: boolean): void => {
      if (ended) return;
      if (reply === null) return end(ErrStopped);
      if (isErrorReply(reply)) return end(reply.error);
      const response = watchResponse(reply.response as WatchResponse);
      call.write({ ...response, header: { ...(response.header as Wire), clusterId: member.clusterId() } });
      if (last) end(null);
    };
    call.on('data', (wire: Wire) => {
      if (ended) return;
      if (hasUnsafeInteger(wire)) return end(ErrIntegerTooLarge);
      const request = watchRequest(wire);
      if (request === null) return;
      if (stream !== null) return stream.send({ method: 'Watch', request });
      stream = member.openStream({ method: 'Watch', request }, onReply);
      if (stream === null) end(ErrTooManyRequests);
    });
    call.on('end', () => end(null));
    call.on('cancelled', () => {
      ended = true;
      stream?.close();
    });
    call.on('error', () => {
      ended = true;
      stream?.close();
    });
  }) as grpc.UntypedHandleCall;
}

/**
 * The etcd member's KV, Lease, Cluster, Maintenance and Watch services (etcd's v3rpc servers),
 * keyed `Service.Method` for `etcdGrpcServer`. Auth stays Unimplemented.
 */
export function etcdHandlers(member: MemberCalls): Handlers {
  return {
    'KV.Range': unary(member, 'Range', rangeRequest, rangeResponse),
    'KV.Put': unary(member, 'Put', putRequest, putResponse),
    'KV.DeleteRange': unary(member, 'DeleteRange', deleteRangeRequest, deleteRangeResponse),
    'KV.Txn': unary(member, 'Txn', txnRequest, txnResponse),
    'KV.Compact': unary(member, 'Compact', compactionRequest),
    'Lease.LeaseGrant': unary(member, 'LeaseGrant', (wire) => ({ TTL: leaseNumber(wire.TTL), ID: leaseNumber(wire.ID) })),
    'Lease.LeaseRevoke': unary(member, 'LeaseRevoke', (wire) => ({ ID: leaseNumber(wire.ID) })),
    'Lease.LeaseKeepAlive': keepAliveStream(member),
    'Lease.LeaseTimeToLive': unary(
      member,
      'LeaseTimeToLive',
      (wire) => ({ ID: leaseNumber(wire.ID), keys: wire.keys === true }),
      (response: Wire) => ({ ...response, keys: (response.keys as string[]).map((key) => Buffer.from(key, 'latin1')) }),
    ),
    'Lease.LeaseLeases': unary(member, 'LeaseLeases', () => ({})),
    'Cluster.MemberAdd': unary(member, 'MemberAdd', (wire) => ({ peerURLs: wire.peerURLs, isLearner: wire.isLearner === true })),
    'Cluster.MemberRemove': unary(member, 'MemberRemove', asIs),
    'Cluster.MemberUpdate': unary(member, 'MemberUpdate', asIs),
    'Cluster.MemberPromote': unary(member, 'MemberPromote', asIs),
    'Cluster.MemberList': unary(member, 'MemberList', asIs),
    'Maintenance.Status': unary(member, 'Status', () => ({}), (response: Wire) => ({ ...response, version: member.version })),
    'Maintenance.HashKV': unary(member, 'HashKV', asIs),
    // etcd's Hash is the whole backend's (testing only): the image a snapshot would send, hashed.
    'Maintenance.Hash': unary(member, 'Snapshot', () => ({}), (response: Wire) => ({ header: response.header, hash: response.hash })),
    // etcd 3.4 answers these three without a header (v3rpc's maintenance server returns the bare
    // responses): `etcdctl alarm list -w json` prints `{}` when no alarm is raised.
    'Maintenance.Alarm': unary(member, 'Alarm', asIs, (response: Wire) => ({ alarms: response.alarms })),
    'Maintenance.Defragment': unary(member, 'Defragment', () => ({}), () => ({})),
    'Maintenance.MoveLeader': unary(member, 'MoveLeader', asIs, () => ({})),
    'Maintenance.Snapshot': snapshotStream(member),
    'Watch.Watch': watchStream(member),
  };
}
