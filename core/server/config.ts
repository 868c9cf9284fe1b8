import type { NodeId } from '../host/node.ts';
import type { RaftLogger } from '../raft/index.ts';

/**
 * How a member starts and what its attributes are. etcd's flags, in ticks where etcd counts time
 * (one tick is etcd's heartbeat interval, 100 ms by default).
 */
export interface EtcdServerConfig {
  /** The members of the first configuration (etcd's --initial-cluster); a machine outside it waits to be added. */
  readonly initialCluster: readonly NodeId[];
  /** The cluster's id (etcd derives it from the member ids and --initial-cluster-token). */
  readonly clusterId: number;
  /** A member's name and URLs (what --name, --initial-advertise-peer-urls, --advertise-client-urls say). */
  readonly attributesOf: (id: NodeId) => MemberAttributes;
  /** The member id a MemberAdd's peer URLs stand for (etcd hashes them; the simulator numbers machines). */
  readonly memberIdOf: (peerURLs: readonly string[]) => NodeId;

  // Raft (etcd's raft config: server/etcdserver/raft.go).
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  /**
   * Raft's coalesceAppends: the appends queued for one follower between two Readies leave as one
   * MsgApp, answered once (etcd-io/raft sends one per proposal). On by default: the runtime's
   * etcd member runs it (each message costs a codec pass and an answer on both ends), so the
   * simulator's etcd scenarios run it too (the plain Raft family's replicas keep core/raft's
   * default, etcd-io/raft's one message per proposal).
   */
  readonly coalesceAppends: boolean;
  /**
   * Raft's snapshotStatusReported: the host reports every snapshot sent (finished or failed), so
   * the leader waits for that rather than resend after an election timeout. The runtime's peer
   * transport does (a 200 MiB snapshot outlasts any timeout), and so does the simulated network in
   * the etcd scenarios (`SimParts.snapshotReports`, on with this setting). Default false, for hosts
   * whose network reports nothing (core/server's own test clusters).
   */
  readonly snapshotStatusReported: boolean;
  /** Where Raft explains itself (debug lines included): off unless a host asks (the runtime's DETCD_RAFT_DEBUG). */
  readonly raftLogger?: RaftLogger;

  // Storage.
  /** Applied entries between snapshots (etcd's --snapshot-count, 100,000; small in the simulator). */
  readonly snapshotCount: number;
  /** Entries kept behind a snapshot for slow followers (etcd's SnapshotCatchUpEntries, 5,000). */
  readonly snapshotCatchUpEntries: number;
  /** Ticks between backend batch commits (etcd's 100 ms batch interval). */
  readonly backendBatchIntervalTicks: number;
  /** Changes after which a write commits at once (etcd's 10,000 batch limit). */
  readonly backendBatchLimit: number;
  /** The backend file is rewritten to its last commit once it holds this many (see Backend.rewriteFile). */
  readonly backendFileCommitsMax: number;
  /** Revisions a compaction batch examines (etcd's --experimental-compaction-batch-limit). */
  readonly compactionBatchLimit: number;
  /** Compaction batches per tick (etcd runs one every 10 ms: 10 per 100 ms tick). */
  readonly compactionBatchesPerTick: number;
  /**
   * Keys of the index a compaction compacts per slice: one slice in the Compact's apply, then one
   * per tick in place of that tick's batches (core/mvcc Compactor; etcd does it in one go beside
   * its raft loop).
   */
  readonly compactionIndexSliceKeys: number;
  /**
   * Keys a DeleteRange deletes per turn of the member's loop, or 0: the whole range in the turn
   * that applies its entry. etcd applies on a goroutine beside its raft loop, so a huge apply
   * never stops its heartbeats; the member here is one loop, so a range delete of more keys
   * than this is applied in slices, one per turn, later entries queued behind it (issue 10).
   */
  readonly applySliceKeys: number;
  /** Request ids remembered per proposing member so that a duplicated entry applies once (detcd's). */
  readonly appliedRequestsWindow: number;

  // Limits.
  /** The largest encoded request accepted (etcd's --max-request-bytes, 1.5 MiB). */
  readonly maxRequestBytes: number;
  /** Compares or ops per txn branch (etcd's --max-txn-ops). */
  readonly maxTxnOps: number;
  /** The backend size past which writes fail with NOSPACE (etcd's --quota-backend-bytes; 2 GiB). */
  readonly quotaBackendBytes: number;
  /** Committed but unapplied entries beyond which new proposals are refused (etcd's 5,000). */
  readonly maxGapBetweenApplyAndCommit: number;
  /** Requests waiting for a proposal, a read index or a leader, at most; more are refused. */
  readonly pendingRequestsMax: number;
  /** Ticks a proposal may take before ErrTimeout (etcd's ReqTimeout: 5 s + 2 election timeouts). */
  readonly requestTimeoutTicks: number;
  /** Ticks between ReadIndex retries (etcd's readIndexRetryTime, 500 ms). */
  readonly readIndexRetryTicks: number;
  /** Refuse membership changes that could lose quorum (etcd's --strict-reconfig-check). */
  readonly strictReconfigCheck: boolean;
  /** A peer heard from within this many ticks counts as active (etcd's HealthInterval, 5 s). */
  readonly healthIntervalTicks: number;

  // Leases (etcd's lessor; TTLs are seconds, the lessor counts ticks).
  /** Milliseconds per tick (etcd's --heartbeat-interval, 100): how lease seconds become ticks. */
  readonly tickMs: number;
  /**
   * Ticks between a lease's checkpoints of its remaining TTL (etcd's 5 min), or null for none.
   * On by default here (etcd 3.4's --experimental-enable-lease-checkpoint is off by default): without
   * them every leader change restarts every lease's TTL (etcd #9924). Checkpoints are persisted in
   * the lease bucket (etcd 3.5's --experimental-enable-lease-checkpoint-persist, 3.6's default).
   */
  readonly leaseCheckpointIntervalTicks: number | null;
  /** Ticks before the leader proposes the revoke of an expired lease again (etcd's 3 s). */
  readonly leaseRevokeRetryTicks: number;
  /** Leases revoked per second at most (etcd's leaseRevokeRate, 1000): expiries are spread to fit it on promotion. */
  readonly leaseRevokesPerSecond: number;

  // Watches (etcd's watchable store and Watch service).
  readonly watch: WatchConfig;
}

/** etcd's minimum lease TTL in seconds: 1.5 election timeouts, rounded up (etcd's minTTL). */
export function minLeaseTTL(config: Pick<EtcdServerConfig, 'electionTicks' | 'tickMs'>): number {
  return Math.ceil((Math.floor((3 * config.electionTicks) / 2) * config.tickMs) / 1000);
}

/** The Watch service's limits and periods, in ticks. */
export interface WatchConfig {
  /** Responses a stream buffers before its watchers become victims (etcd's chanBufLen, 128). */
  readonly streamBufferResponses: number;
  /** Responses a stream sends per tick at most: how fast its client takes them (etcd: the gRPC flow-control window). */
  readonly streamSendsPerTick: number;
  /** Watches one stream may hold; more creates are refused. */
  readonly watchesPerStreamMax: number;
  /** Open streams per member at most; a further one is refused. */
  readonly streamsMax: number;
  /** Ticks between progress notifications to watches that asked for them (etcd's --experimental-watch-progress-notify-interval, 10 min). */
  readonly progressNotifyTicks: number;
  /** Revisions an unsynced watcher catches up per tick (etcd's watchBatchMaxRevs). */
  readonly syncBatchRevisions: number;
}

export const defaultWatchConfig: WatchConfig = Object.freeze({
  streamBufferResponses: 128,
  streamSendsPerTick: 1024,
  watchesPerStreamMax: 1024,
  streamsMax: 4096,
  progressNotifyTicks: 6000,
  syncBatchRevisions: 1000,
});

/** What a member publishes about itself (etcd's membership.Attributes and RaftAttributes). */
export interface MemberAttributes {
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/** The simulator's naming: machine N is `mN`, its peer URL `http://mN:2380`, its client URL `http://mN:2379`. */
export function simulatedAttributes(id: NodeId): MemberAttributes {
  return { name: `m${id}`, peerURLs: [`http://m${id}:2380`], clientURLs: [`http://m${id}:2379`] };
}

/**
 * The simulator's member ids: the machine number in a `http://mN:…` peer URL. Any other URL gets
 * a 31-bit FNV-1a hash of the sorted URLs (etcd hashes them with SHA-1 and the cluster token).
 */
export function simulatedMemberId(peerURLs: readonly string[]): NodeId {
  const match = /^https?:\/\/m(\d+):/.exec(peerURLs[0] ?? '');
  if (match !== null && peerURLs.length === 1) return Number(match[1]);
  let hash = 0x811c9dc5;
  for (const url of [...peerURLs].sort()) for (let i = 0; i < url.length; i++) hash = Math.imul(hash ^ url.charCodeAt(i), 0x01000193);
  return (hash >>> 1) | 0x4000_0000;
}

/** etcd's defaults (100 ms ticks), with the simulator's small snapshot count. */
export const defaultEtcdServerConfig: Omit<EtcdServerConfig, 'initialCluster'> = Object.freeze({
  clusterId: 0x1d_e7cd,
  attributesOf: simulatedAttributes,
  memberIdOf: simulatedMemberId,
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 512,
  coalesceAppends: true,
  snapshotStatusReported: false,
  snapshotCount: 100,
  snapshotCatchUpEntries: 20,
  backendBatchIntervalTicks: 1,
  backendBatchLimit: 10_000,
  backendFileCommitsMax: 64,
  compactionBatchLimit: 1000,
  compactionBatchesPerTick: 10,
  compactionIndexSliceKeys: 4_096,
  applySliceKeys: 0,
  appliedRequestsWindow: 256,
  maxRequestBytes: 1.5 * 1024 * 1024,
  maxTxnOps: 128,
  quotaBackendBytes: 2 * 1024 * 1024 * 1024,
  maxGapBetweenApplyAndCommit: 5000,
  pendingRequestsMax: 1024,
  requestTimeoutTicks: 50 + 2 * 10,
  readIndexRetryTicks: 5,
  strictReconfigCheck: true,
  healthIntervalTicks: 50,
  tickMs: 100,
  leaseCheckpointIntervalTicks: 5 * 60 * 10,
  leaseRevokeRetryTicks: 30,
  leaseRevokesPerSecond: 1000,
  watch: defaultWatchConfig,
});
