import type { status } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallObserver, GrpcType, MethodObserver } from './grpcServices.ts';
import { ScrapedTally } from './scrapedTally.ts';

/** What the host reads from its node after each pump (a protocol adapter provides it). */
export interface NodeStatus {
  readonly leader: number;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly role: 'follower' | 'pre-candidate' | 'candidate' | 'leader';
}

/**
 * The server's Prometheus metrics under etcd's names (etcdserver/metrics.go, wal/metrics.go,
 * mvcc/backend/metrics.go, rafthttp/metrics.go), so dashboards and alerts written for etcd work.
 * Fed by the host: node status after each pump, proposal outcomes, fsync durations, peer bytes.
 */
export class ServerMetrics implements CallObserver {
  readonly registry = new Registry();
  private readonly leaderChanges: Counter;
  private readonly proposalsFailed: Counter;
  private readonly walFsync: Histogram;
  private readonly backendCommit: Histogram;
  private readonly peerSendFailures: Counter;
  private readonly heartbeatSendFailures: Counter;
  private readonly slowApplies: Counter;
  private readonly peerRoundTrip: Histogram;
  // Per message and per call: summed here and handed to the counters at each scrape.
  private readonly peerSentTally = new ScrapedTally<'To'>();
  private readonly peerReceivedTally = new ScrapedTally<'From'>();
  private readonly grpcStartedTally = new ScrapedTally<'grpc_type' | 'grpc_service' | 'grpc_method'>();
  private readonly grpcHandledTally = new ScrapedTally<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>();
  private lastLeader = 0;
  private lastStatus: NodeStatus | null = null;
  private selfId = 0;
  private pendingProposals: () => number = () => 0;

  /** `dbBytes`: the size of the backend's files, etcd_mvcc_db_total_size_in_bytes (read at each scrape). */
  constructor(memberIdHex: string, dbBytes?: () => number) {
    const registers = [this.registry];
    const exponential = (start: number, factor: number, count: number) => Array.from({ length: count }, (_, i) => start * factor ** i);
    // The node's gauges are set from its last status when scraped, not at every pump
    // (docs/journal/runtime-performance.md, pace).
    const node = this;
    new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers, collect() { this.set(node.lastLeader === 0 ? 0 : 1); } });
    new Gauge({ name: 'etcd_server_is_leader', help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.', registers, collect() { this.set(node.lastLeader !== 0 && node.lastLeader === node.selfId ? 1 : 0); } });
    this.leaderChanges = new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers });
    new Gauge({ name: 'etcd_server_proposals_committed_total', help: 'The total number of consensus proposals committed.', registers, collect() { this.set(node.lastStatus?.commitIndex ?? 0); } });
    new Gauge({ name: 'etcd_server_proposals_applied_total', help: 'The total number of consensus proposals applied.', registers, collect() { this.set(node.lastStatus?.appliedIndex ?? 0); } });
    new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers, collect() { this.set(node.pendingProposals()); } });
    this.heartbeatSendFailures = new Counter({ name: 'etcd_server_heartbeat_send_failures_total', help: 'The total number of leader heartbeat send failures (likely overloaded from slow disk).', registers });
    this.slowApplies = new Counter({ name: 'etcd_server_slow_apply_total', help: 'The total number of slow apply requests (likely overloaded from slow disk).', registers });
    this.proposalsFailed = new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers });
    this.walFsync = new Histogram({ name: 'etcd_disk_wal_fsync_duration_seconds', help: 'The latency distributions of fsync called by WAL.', buckets: exponential(0.001, 2, 14), registers });
    this.backendCommit = new Histogram({ name: 'etcd_disk_backend_commit_duration_seconds', help: 'The latency distributions of commit called by backend.', buckets: exponential(0.001, 2, 14), registers });
    const tallies = this;
    new Counter({ name: 'etcd_network_peer_sent_bytes_total', help: 'The total number of bytes sent to peers.', labelNames: ['To'], registers, collect() { tallies.peerSentTally.flushInto(this); } });
    new Counter({ name: 'etcd_network_peer_received_bytes_total', help: 'The total number of bytes received from peers.', labelNames: ['From'], registers, collect() { tallies.peerReceivedTally.flushInto(this); } });
    // rafthttp's metric: buckets 0.1 ms × 2^n, n < 16 (up to 3.3 s).
    this.peerRoundTrip = new Histogram({ name: 'etcd_network_peer_round_trip_time_seconds', help: 'Round-Trip-Time histogram between peers', labelNames: ['To'], buckets: exponential(0.0001, 2, 16), registers });
    this.peerSendFailures = new Counter({ name: 'etcd_network_peer_sent_failures_total', help: 'The total number of send failures from peers.', labelNames: ['To'], registers });
    new Gauge({ name: 'etcd_server_id', help: 'Server or member ID in hexadecimal format. 1 for \'server_id\' label with current ID.', labelNames: ['server_id'], registers }).set({ server_id: memberIdHex }, 1);
    // go-grpc-prometheus's server metrics, which etcd registers on its client port.
    const grpcLabels = ['grpc_type', 'grpc_service', 'grpc_method'];
    new Counter({ name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.', labelNames: grpcLabels, registers, collect() { tallies.grpcStartedTally.flushInto(this); } });
    new Counter({ name: 'grpc_server_handled_total', help: 'Total number of RPCs completed on the server, regardless of success or failure.', labelNames: [...grpcLabels, 'grpc_code'], registers, collect() { tallies.grpcHandledTally.flushInto(this); } });
    if (dbBytes !== undefined) {
      new Gauge({
        name: 'etcd_mvcc_db_total_size_in_bytes',
        help: 'Total size of the underlying database physically allocated in bytes.',
        registers,
        collect() {
          this.set(dbBytes());
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * After each pump: leader, commit and applied index (etcd counts a leader change when a new
   * non-empty leader appears); the gauges read them, and the proposals waiting, when scraped.
   */
  observeNode(status: NodeStatus, selfId: number, pendingProposals: () => number): void {
    if (status.leader !== 0 && status.leader !== this.lastLeader) this.leaderChanges.inc();
    this.lastLeader = status.leader;
    // Kept for the next scrape: six gauge sets and a walk of the waiting requests at every pump
    // were a few µs a pump, several pumps a Raft round on every member.
    this.lastStatus = status;
    this.selfId = selfId;
    this.pendingProposals = pendingProposals;
  }

  /** A leader's heartbeat left later than two heartbeat intervals after the last (runtime/log/slowWork.ts). */
  heartbeatSendFailure(): void {
    this.heartbeatSendFailures.inc();
  }

  /** A turn of the host loop (apply, persist, send) took over 100 ms. */
  slowApply(): void {
    this.slowApplies.inc();
  }

  proposalFailed(): void {
    this.proposalsFailed.inc();
  }

  /** An fsync of a durable file: etcd's backend is `db`, everything else is WAL. */
  fsync(file: string, seconds: number): void {
    (file === 'db' ? this.backendCommit : this.walFsync).observe(seconds);
  }

  peerBytesSent(to: string, bytes: number): void {
    this.peerSentTally.add(to, () => ({ To: to }), bytes);
  }

  peerBytesReceived(from: string, bytes: number): void {
    this.peerReceivedTally.add(from, () => ({ From: from }), bytes);
  }

  /** A round trip to a peer (a heartbeat and its answer, runtime/peer/roundTrips.ts). */
  peerRoundTripTime(to: string, seconds: number): void {
    this.peerRoundTrip.observe({ To: to }, seconds);
  }

  peerSendFailed(to: string): void {
    this.peerSendFailures.inc({ To: to });
  }

  started(type: GrpcType, service: string, method: string): void {
    this.grpcStartedTally.add(`${type} ${service} ${method}`, () => ({ grpc_type: type, grpc_service: service, grpc_method: method }));
  }

  handled(type: GrpcType, service: string, method: string, code: status): void {
    this.grpcHandledTally.add(`${type} ${service} ${method} ${code}`, () => ({ grpc_type: type, grpc_service: service, grpc_method: method, grpc_code: grpcCodeNames[code] ?? String(code) }));
  }

  /** The two counters of one method, their keys and labels made once (the same series as `started` and `handled`). */
  method(type: GrpcType, service: string, method: string): MethodObserver {
    const key = `${type} ${service} ${method}`;
    const labels = { grpc_type: type, grpc_service: service, grpc_method: method };
    const startedLabels = () => labels;
    /** Each code's key and labels, made when the method first ends with it (seventeen codes at most). */
    const handledKeys = new Map<status, { readonly key: string; readonly labels: () => Record<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code', string> }>();
    return {
      started: () => this.grpcStartedTally.add(key, startedLabels),
      handled: (code) => {
        let handled = handledKeys.get(code);
        if (handled === undefined) {
          const codeLabels = { ...labels, grpc_code: grpcCodeNames[code] ?? String(code) };
          handled = { key: `${key} ${code}`, labels: () => codeLabels };
          if (handledKeys.size < 64) handledKeys.set(code, handled);
        }
        this.grpcHandledTally.add(handled.key, handled.labels);
      },
    };
  }
}

/** Go's codes.Code String() names, as go-grpc-prometheus labels them. */
const grpcCodeNames = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];
