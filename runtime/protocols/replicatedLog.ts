import type { HostedNode, NodeId, NodeProtocol } from '../../core/host/node.ts';
import type { Message } from '../../core/raft/index.ts';
import { defaultLogReplicaConfig, logProtocol } from '../../core/replica/logProtocol.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import type { NodeStatus } from '../client/metrics.ts';
import type { ServerConfig } from '../config/serverConfig.ts';

/**
 * What the runtime needs to know about a node beyond the host contract: its status (for metrics,
 * /health and Maintenance.Status) and where the transport's reports go. The replicated log
 * (core/replica) is the node detcd runs until the etcd node (core/server) lands; that one will
 * come with an adapter of the same shape.
 */
export interface RuntimeNode<M, Q, R, N extends HostedNode<M, Q, R>> {
  readonly protocol: NodeProtocol<M, Q, R, N>;
  status(node: N): NodeStatus;
  reportUnreachable(node: N, to: NodeId): void;
  reportSnapshot(node: N, to: NodeId, status: 'finished' | 'failed'): void;
  /**
   * Why a message that arrived from peer `from` must not reach the node, or null. The node
   * asserts that a message is addressed to it (a programmer error there ends the process), so a
   * stray one — a peer that still maps this URL to another member — is dropped here.
   */
  refuse(message: M, from: NodeId, self: NodeId): string | null;
  /** A linearizable no-op read, for /health's probe (etcd does a quorum GET). */
  readonly probe: Q;
  /** Whether a request goes through Raft as a proposal (etcd's proposal metrics count only those). */
  isProposal(request: Q): boolean;
  isFailure(reply: R): boolean;
}

/**
 * The replicated log with the server's flags: election timeout in heartbeat ticks, pre-vote as
 * configured, a snapshot every --snapshot-count applied entries keeping etcd's catch-up window.
 * A member of a new cluster bootstraps with the initial members as voters; one joining an
 * existing cluster starts empty and learns the configuration from the leader's snapshot.
 */
export function replicatedLogNode(config: ServerConfig): RuntimeNode<Message, LogRequest, LogReply, LogReplica> {
  const initialVoters = config.clusterState === 'new' ? config.initialCluster.map((member) => member.id).sort((a, b) => a - b) : [];
  const protocol = logProtocol({
    ...defaultLogReplicaConfig,
    initialVoters,
    electionTicks: config.electionTicks,
    heartbeatTicks: 1,
    preVote: config.preVote,
    checkQuorum: true,
    // etcd sends up to 1 MiB per MsgApp and keeps 5,000 entries behind a snapshot for slow followers.
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 512,
    snapshotEveryEntries: Math.max(1, config.snapshotCount),
    catchUpEntries: Math.min(5_000, config.snapshotCount),
    pendingRequestsMax: 4_096,
  });
  return {
    protocol,
    status: (node) => ({ leader: node.softState.lead, term: node.hardState.term, commitIndex: node.hardState.commit, appliedIndex: node.appliedIndex }),
    reportUnreachable: (node, to) => node.raft.reportUnreachable(to),
    reportSnapshot: (node, to, status) => node.raft.reportSnapshot(to, status),
    refuse: (message, from, self) => (message.to !== self ? `addressed to ${message.to.toString(16)}` : message.from !== from ? `claims to come from ${message.from.toString(16)}` : null),
    probe: { kind: 'read' },
    isProposal: (request) => request.kind === 'append' || request.kind === 'conf-change',
    isFailure: (reply) => reply.kind === 'error',
  };
}
