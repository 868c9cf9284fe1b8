import type { ResponseHeader } from './rpc.ts';

/*
 * etcd's v3 Lease messages (etcdserverpb/rpc.proto), named as protobufjs renders them. TTLs are
 * in seconds, as on etcd's wire; lease ids are JS safe integers (etcd's are int64: ids at or
 * beyond 2^53 are refused at the API edge, a known deviation).
 */

/** etcd's MaxLeaseTTL: 9,000,000,000 s; a longer TTL is ErrLeaseTTLTooLarge. */
export const maxLeaseTTL = 9_000_000_000;

export interface LeaseGrantRequest {
  readonly TTL: number;
  /** 0: the server picks one. */
  readonly ID?: number;
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader;
  readonly ID: number;
  /** The TTL granted: at least etcd's minimum (1.5 election timeouts, rounded up to seconds). */
  readonly TTL: number;
  readonly error: string;
}

export interface LeaseRevokeRequest {
  readonly ID: number;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

/** One keep-alive of etcd's LeaseKeepAlive stream (here a unary call the client repeats). */
export interface LeaseKeepAliveRequest {
  readonly ID: number;
}

export interface LeaseKeepAliveResponse {
  readonly header: ResponseHeader;
  readonly ID: number;
  /** The lease's TTL after the renewal; 0 when the lease is not found (etcd keeps the stream open and says 0). */
  readonly TTL: number;
}

export interface LeaseTimeToLiveRequest {
  readonly ID: number;
  /** List the keys attached to the lease. */
  readonly keys?: boolean;
}

export interface LeaseTimeToLiveResponse {
  readonly header: ResponseHeader;
  readonly ID: number;
  /** Seconds left (rounded down, as etcd's `Remaining().Seconds()` truncates); -1 for a lease that does not exist. */
  readonly TTL: number;
  readonly grantedTTL: number;
  readonly keys: readonly string[];
}

export type LeaseLeasesRequest = Record<string, never>;

export interface LeaseStatus {
  readonly ID: number;
}

export interface LeaseLeasesResponse {
  readonly header: ResponseHeader;
  readonly leases: readonly LeaseStatus[];
}
