import type { NodeId } from '../../core/host/node.ts';
import { ValueSlabs } from '../../core/mvcc/index.ts';
import { defaultEtcdServerConfig, etcdProtocol, isErrorReply, type EtcdServer, type EtcdServerConfig, type MemberAttributes, type PeerMessage, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import { isReadOnlyTxn } from '../../core/server/internalRequest.ts';
import type { RaftLogger } from '../../core/raft/index.ts';
import { memberId } from '../config/memberIds.ts';
import type { ServerConfig } from '../config/serverConfig.ts';
import { getHeapStatistics } from 'node:v8';
import { recordBytesMax } from '../storage/frame.ts';
import { printableKey } from '../log/slowWork.ts';
import type { RuntimeNode } from './runtimeNode.ts';

/** etcd's default space quota (--quota-backend-bytes 0), 2 GiB. */
const defaultQuotaBytes = 2 * 1024 * 1024 * 1024;

/**
 * The most space quota this member honours, for a V8 heap limit of `heapLimitBytes` (this
 * process's by default): a quarter of it, at most 1.25 GiB. The keyspace lives in the heap: `npm
 * run bench quotaHeap` measured it at 1.1-1.35x the modelled db size the quota is checked against
 * (1 kB values), and a follower installing a leader's snapshot holds its old keyspace and the new
 * one until the install is done: 2.1 GiB of heap at a 1 GiB db (a member adds its Raft log and
 * the rest: check perf's held 1.7x at 130 MiB). A quarter of the limit leaves that room: 1 GiB
 * under the default limit of a machine of 16 GiB or more (4 GiB), 512 MiB at 8 GiB; etcd's
 * default 2 GiB would not fit. The backend file and a snapshot sent to a follower are framed in
 * parts (runtime/storage/frame.ts), so no single record bounds the quota any more; a peer joins
 * a snapshot of at most `recordBytesMax` (2 GiB), and an image is at most 1.5x the modelled size
 * (quota.test.ts), hence the 1.25 GiB (5/8 of it).
 */
export function storageQuotaMaxBytes(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  const mib = 1024 * 1024;
  return Math.min(Math.floor((recordBytesMax * 5) / 8), Math.floor(heapLimitBytes / 4 / mib) * mib);
}

/** The quota a member applies: etcd's (the flag, or 2 GiB for 0), held at what its heap holds. */
export function effectiveQuotaBytes(configured: number, ceiling = storageQuotaMaxBytes()): number {
  return Math.min(configured === 0 ? defaultQuotaBytes : configured, ceiling);
}
/** Commits between two rewrites of the backend file, the first member's; the others' are longer by a step each (staggeredRewriteCommits). */
const rewriteCommits = 1_000;
const rewriteCommitsStep = 125;
const rewriteCommitsSteps = 8;

/**
 * The commits between two whole rewrites of this member's backend file: 1,000 for the member of
 * the lowest id in --initial-cluster, 125 more for each member before it in id order (up to
 * 1,875). Members commit at the same pace (every 100 ms while there are writes), so with one
 * interval all of them rewrite at once: check perf's 3 members encoded their 110-135 MiB files in
 * the same 1.4-2.2 s (75-93 turns of ~5 ms each), ~0.7 of the machine's 2 cores on top of the
 * load itself, in every second run. etcd's operators defragment one member at a time for the same
 * reason. A member not in --initial-cluster (it joined later) takes the interval of its position
 * among those ids.
 */
export function staggeredRewriteCommits(self: NodeId, initialCluster: readonly NodeId[]): number {
  const rank = initialCluster.filter((id) => id < self).length;
  return rewriteCommits + (rank % rewriteCommitsSteps) * rewriteCommitsStep;
}

/** etcd's DefaultSnapshotCatchUpEntries. */
const snapshotCatchUpEntries = 5_000;
/**
 * Keys a DeleteRange deletes per turn of the loop: ~2-4 us a key on this machine's kind (issue
 * 10), so a turn of ~10-20 ms, heartbeats and answers sent in between.
 */
const applySliceKeys = 4_096;

function urlText(url: URL): string {
  return url.toString().replace(/\/$/, '');
}

/** Milliseconds as whole ticks of one heartbeat interval, at least one. */
function ticks(ms: number, heartbeatMs: number): number {
  return Math.max(1, Math.round(ms / heartbeatMs));
}

/**
 * The etcd member's configuration from the server's flags. Time is counted in ticks of one
 * heartbeat interval (etcd's raft tick): the election timeout is --election-timeout / --heartbeat-
 * interval ticks, the backend commits every 100 ms, a request times out after 5 s plus two
 * election timeouts (etcd's ReqTimeout), a ReadIndex is retried after 500 ms, compaction runs a
 * batch every 10 ms. A member of a new cluster bootstraps with --initial-cluster; one joining an
 * existing cluster starts empty and learns everything from the leader's snapshot.
 */
export function etcdMemberConfig(config: ServerConfig, raftLogger?: RaftLogger): EtcdServerConfig {
  const heartbeatMs = config.heartbeatMs;
  const self: MemberAttributes = {
    name: config.name,
    peerURLs: config.initialAdvertisePeerUrls.map(urlText),
    clientURLs: config.advertiseClientUrls.map(urlText),
  };
  const initial = new Map(config.initialCluster.map((member) => [member.id, { name: member.name, peerURLs: member.peerUrls.map(urlText), clientURLs: [] }] as const));
  return {
    ...defaultEtcdServerConfig,
    initialCluster: config.clusterState === 'new' ? config.initialCluster.map((member) => member.id).sort((a, b) => a - b) : [],
    clusterId: config.clusterId,
    attributesOf: (id: NodeId) => (id === config.memberId ? self : (initial.get(id) ?? { name: '', peerURLs: [], clientURLs: [] })),
    memberIdOf: (peerURLs) => memberId(peerURLs.map((url) => url.replace(/\/$/, '')), config.clusterToken),
    electionTicks: config.electionTicks,
    heartbeatTicks: 1,
    preVote: config.preVote,
    checkQuorum: true,
    // The peer transport reports every snapshot finished (a large one once the peer handed it to
    // its node, a small one once written) or failed (dropped, or its connection lost), as etcd's
    // rafthttp: the leader waits for that, not for a timeout.
    snapshotStatusReported: true,
    ...(raftLogger === undefined ? {} : { raftLogger }),
    snapshotCount: Math.max(1, config.snapshotCount),
    snapshotCatchUpEntries: Math.min(snapshotCatchUpEntries, Math.max(1, config.snapshotCount)),
    backendBatchIntervalTicks: ticks(100, heartbeatMs),
    // The file is a whole image and one delta per commit after it: rewritten whole every 1,000
    // to 1,875 commits (staggered by member: 1,000-1,250 in a three-member cluster; about 100 s of
    // writes), so a restart replays at most that many deltas.
    // Tests ask for fewer (DETCD_BACKEND_FILE_COMMITS_MAX) to reach the rewrite in seconds.
    backendFileCommitsMax: config.backendFileCommitsMax ?? staggeredRewriteCommits(config.memberId, config.initialCluster.map((member) => member.id)),
    compactionBatchesPerTick: Math.max(1, Math.round(heartbeatMs / 10)),
    applySliceKeys: config.applySliceKeys ?? applySliceKeys,
    maxRequestBytes: config.maxRequestBytes,
    maxTxnOps: config.maxTxnOps,
    quotaBackendBytes: effectiveQuotaBytes(config.quotaBackendBytes),
    pendingRequestsMax: 4_096,
    requestTimeoutTicks: ticks(5_000 + 2 * config.electionMs, heartbeatMs),
    readIndexRetryTicks: ticks(500, heartbeatMs),
    strictReconfigCheck: config.strictReconfigCheck,
    healthIntervalTicks: ticks(5_000, heartbeatMs),
    tickMs: heartbeatMs,
    leaseCheckpointIntervalTicks: ticks(5 * 60_000, heartbeatMs),
    leaseRevokeRetryTicks: ticks(3_000, heartbeatMs),
  };
}

/** How long the host waits for a reply: the member's own request timeout answers first. */
export function hostTimeoutMs(config: ServerConfig): number {
  return 5_000 + 2 * config.electionMs + 2_000;
}

/** Whether a call goes through Raft (etcd's proposal metrics count those). */
function isProposal(request: ServerRequest): boolean {
  switch (request.method) {
    case 'Put':
    case 'DeleteRange':
    case 'Compact':
    case 'MemberAdd':
    case 'MemberRemove':
    case 'MemberUpdate':
    case 'MemberPromote':
    case 'MemberReconfigure':
      return true;
    case 'Alarm': // every alarm call, GET too, is a Raft request in etcd
      return true;
    case 'Txn':
      return !isReadOnlyTxn(request.request);
    default:
      return false;
  }
}

/** The etcd member (core/server) on the runtime. */
export function etcdNode(config: ServerConfig, raftLogger?: RaftLogger): RuntimeNode<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    // One slab allocator for this member's decoders and backends: it fills one slab at a time.
    protocol: etcdProtocol(etcdMemberConfig(config, raftLogger), new ValueSlabs()),
    status: (node) => ({ leader: node.softState.lead, role: node.softState.role, term: node.hardState.term, commitIndex: node.hardState.commit, appliedIndex: node.appliedIndex }),
    reportUnreachable: (node, to) => node.raft.reportUnreachable(to),
    reportSnapshot: (node, to, status) => node.raft.reportSnapshot(to, status),
    refuse: (message, from, self) => (message.to !== self ? `addressed to ${message.to.toString(16)}` : message.from !== from ? `claims to come from ${message.from.toString(16)}` : null),
    probe: { method: 'Range', request: { key: 'health', keysOnly: true, limit: 1 } },
    isProposal,
    isFailure: (reply) => isErrorReply(reply),
    summarize: (request) => {
      const key = (request.request as { readonly key?: unknown }).key;
      return { readOnly: request.method === 'Range', text: typeof key === 'string' ? `${request.method} key:"${printableKey(key)}"` : request.method };
    },
    result: (reply) => (isErrorReply(reply) ? reply.error.message : 'ok'),
  };
}
