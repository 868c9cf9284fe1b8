import type { HostedNode, NodeId, NodeProtocol } from '../../core/host/node.ts';
import type { NodeStatus } from '../client/metrics.ts';
import type { RequestSummary } from '../log/slowWork.ts';

/**
 * What the runtime needs to know about a node beyond the host contract: its status (for metrics,
 * /health and the logs) and where the transport's reports go. Each node detcd can run comes with
 * one (`etcd.ts` for the etcd member).
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
  /** A linearizable read, for /health's probe (etcd reads through a quorum too). */
  readonly probe: Q;
  /** Whether a request goes through Raft as a proposal (etcd's proposal metrics count only those). */
  isProposal(request: Q): boolean;
  isFailure(reply: R): boolean;
  /** A request in a few words, for a slow-request warning. */
  summarize(request: Q): RequestSummary;
  /** A reply in a few words (its error, or ok), for the same warning. */
  result(reply: R): string;
}
