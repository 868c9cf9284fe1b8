import type { ResponseHeader } from './rpc.ts';

/*
 * etcd's v3 Cluster messages (etcdserverpb/rpc.proto), named as protobufjs renders them. Member
 * ids are JS numbers (safe integers; the simulator numbers its machines 1..N).
 */

/** etcd's `Member`: a cluster member as the Cluster API lists it. */
export interface Member {
  readonly ID: number;
  /** Empty until the member has started and published its attributes (etcd's "unstarted"). */
  readonly name: string;
  readonly peerURLs: readonly string[];
  /** Empty until the member has started and published its attributes. */
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberAddRequest {
  readonly peerURLs: readonly string[];
  readonly isLearner?: boolean;
}

export interface MemberAddResponse {
  readonly header: ResponseHeader;
  /** The member added. */
  readonly member: Member;
  /** Every member after the change. */
  readonly members: readonly Member[];
}

export interface MemberRemoveRequest {
  readonly ID: number;
}

export interface MemberRemoveResponse {
  readonly header: ResponseHeader;
  readonly members: readonly Member[];
}

export interface MemberUpdateRequest {
  readonly ID: number;
  readonly peerURLs: readonly string[];
}

export interface MemberUpdateResponse {
  readonly header: ResponseHeader;
  readonly members: readonly Member[];
}

export interface MemberPromoteRequest {
  readonly ID: number;
}

export interface MemberPromoteResponse {
  readonly header: ResponseHeader;
  readonly members: readonly Member[];
}

export interface MemberListRequest {
  /** etcd 3.5: confirm with the leader first (a linearizable read of the membership). */
  readonly linearizable?: boolean;
}

export interface MemberListResponse {
  readonly header: ResponseHeader;
  readonly members: readonly Member[];
}

/**
 * detcd's own (beyond etcd, which changes one member per request): several membership changes
 * in one request, applied together through a joint configuration (Raft §4.3, etcd-io/raft's
 * ConfChangeV2) — e.g. replacing a member: add one, remove another, never passing through a
 * configuration with an even number of voters.
 */
export interface MemberReconfigureRequest {
  readonly add?: readonly MemberAddRequest[];
  readonly remove?: readonly number[];
  readonly promote?: readonly number[];
}

export interface MemberReconfigureResponse {
  readonly header: ResponseHeader;
  /** The members added, in request order. */
  readonly added: readonly Member[];
  readonly members: readonly Member[];
}
