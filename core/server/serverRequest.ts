import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DefragmentRequest,
  DefragmentResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  EtcdError,
  HashKVRequest,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesRequest,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  HashKVResponse,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberReconfigureRequest,
  MemberReconfigureResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  SnapshotRequest,
  SnapshotResponse,
  StatusRequest,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from '../api/index.ts';

/**
 * Every call a client can make of a member, by etcd's gRPC method name (service KV, Cluster,
 * Maintenance, Lease), with its request and response message. `MemberReconfigure` is detcd's own.
 */
export interface ServerMethods {
  // KV
  Range: [RangeRequest, RangeResponse];
  Put: [PutRequest, PutResponse];
  DeleteRange: [DeleteRangeRequest, DeleteRangeResponse];
  Txn: [TxnRequest, TxnResponse];
  Compact: [CompactionRequest, CompactionResponse];
  // Cluster
  MemberAdd: [MemberAddRequest, MemberAddResponse];
  MemberRemove: [MemberRemoveRequest, MemberRemoveResponse];
  MemberUpdate: [MemberUpdateRequest, MemberUpdateResponse];
  MemberPromote: [MemberPromoteRequest, MemberPromoteResponse];
  MemberList: [MemberListRequest, MemberListResponse];
  MemberReconfigure: [MemberReconfigureRequest, MemberReconfigureResponse];
  // Maintenance
  Status: [StatusRequest, StatusResponse];
  HashKV: [HashKVRequest, HashKVResponse];
  Alarm: [AlarmRequest, AlarmResponse];
  MoveLeader: [MoveLeaderRequest, MoveLeaderResponse];
  Defragment: [DefragmentRequest, DefragmentResponse];
  Snapshot: [SnapshotRequest, SnapshotResponse];
  // Lease (LeaseKeepAlive is a stream in etcd; here one keep-alive per call, the client repeats it)
  LeaseGrant: [LeaseGrantRequest, LeaseGrantResponse];
  LeaseRevoke: [LeaseRevokeRequest, LeaseRevokeResponse];
  LeaseKeepAlive: [LeaseKeepAliveRequest, LeaseKeepAliveResponse];
  LeaseTimeToLive: [LeaseTimeToLiveRequest, LeaseTimeToLiveResponse];
  LeaseLeases: [LeaseLeasesRequest, LeaseLeasesResponse];
}

export type ServerMethod = keyof ServerMethods;

/** A call: the method and its request. */
export type ServerRequest = { [M in ServerMethod]: { readonly method: M; readonly request: ServerMethods[M][0] } }[ServerMethod];

/** The request of one method. */
export type RequestOf<M extends ServerMethod> = ServerMethods[M][0];
export type ResponseOf<M extends ServerMethod> = ServerMethods[M][1];

/**
 * The answer to a call: etcd's response (with a complete header), or etcd's error. An error says
 * nothing about whether a write took effect unless it is one the server returns before proposing
 * (see `refusedBeforeProposing` in the server's docs).
 */
export type ServerReply =
  | { [M in ServerMethod]: { readonly method: M; readonly response: ServerMethods[M][1] } }[ServerMethod]
  | { readonly method: ServerMethod; readonly error: EtcdError };

export function isErrorReply(reply: ServerReply): reply is { readonly method: ServerMethod; readonly error: EtcdError } {
  return 'error' in reply;
}

/** Builds a call (typed by its method). */
export function call<M extends ServerMethod>(method: M, request: RequestOf<M>): ServerRequest {
  return { method, request } as ServerRequest;
}
