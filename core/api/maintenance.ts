import type { ResponseHeader } from './rpc.ts';

/*
 * etcd's v3 Maintenance messages (etcdserverpb/rpc.proto) that detcd serves, named as protobufjs
 * renders them. HashKV's messages are in rpc.ts beside the KV ones.
 */

export type AlarmAction = 'GET' | 'ACTIVATE' | 'DEACTIVATE';
export type AlarmType = 'NONE' | 'NOSPACE' | 'CORRUPT';

export interface AlarmRequest {
  readonly action: AlarmAction;
  /** The member the alarm is about; 0 with GET lists every member's. */
  readonly memberID?: number;
  /** NONE with GET lists every alarm type. */
  readonly alarm?: AlarmType;
}

export interface AlarmMember {
  readonly memberID: number;
  readonly alarm: AlarmType;
}

export interface AlarmResponse {
  readonly header: ResponseHeader;
  readonly alarms: readonly AlarmMember[];
}

/** etcd's text form of an AlarmMember (gogoproto's String), as Status lists it in `errors`. */
export function describeAlarm(alarm: AlarmMember): string {
  return `memberID:${alarm.memberID} alarm:${alarm.alarm} `;
}

export type StatusRequest = Record<string, never>;

export interface StatusResponse {
  readonly header: ResponseHeader;
  readonly version: string;
  readonly dbSize: number;
  readonly leader: number;
  /** The member's committed index (etcd reports raft's commit here). */
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly errors: readonly string[];
  readonly dbSizeInUse: number;
  readonly isLearner: boolean;
  /** etcd 3.5: the quota in force. */
  readonly dbSizeQuota: number;
}

export interface MoveLeaderRequest {
  readonly targetID: number;
}

export interface MoveLeaderResponse {
  readonly header: ResponseHeader;
}

export type DefragmentRequest = Record<string, never>;

export interface DefragmentResponse {
  readonly header: ResponseHeader;
}

export type SnapshotRequest = Record<string, never>;

/**
 * The backend as of one consistent index, whole (etcd streams it in blobs followed by a SHA-256;
 * here the image is one immutable value and `hash` covers it).
 */
export interface SnapshotResponse {
  readonly header: ResponseHeader;
  /** The backend image (core/mvcc's BackendImage); opaque at the API. */
  readonly blob: unknown;
  readonly remainingBytes: number;
  /** The Raft index the image was taken at (its consistent index). */
  readonly consistentIndex: number;
  /** The modelled size of the image in bytes. */
  readonly size: number;
  /** A hash of the whole image (core/mvcc `hashBackendImage`). */
  readonly hash: number;
}
