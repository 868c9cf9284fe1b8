import type { NodeId } from '../../core/host/node.ts';

/**
 * The round trip to each peer, for etcd_network_peer_round_trip_time_seconds: from a heartbeat
 * this member sent to the peer's next heartbeat answer. etcd measures it with rafthttp's prober
 * (an HTTP request to the peer's /raft/probing every 5 s, from every member); detcd has no
 * probing endpoint, and Raft's own heartbeats make the same trip through the same connections
 * and event loops, every heartbeat interval. So only a leader measures (followers send no
 * heartbeats), and the figure includes the peer's turn of its loop: on a loaded machine that is
 * most of it, which is the point of looking at it.
 *
 * One heartbeat per peer is timed at a time (the first one sent after the last answer); one with
 * no answer within `staleMs` is given up (lost, or the peer is down), so a late answer is never
 * matched to an old send.
 */
export class PeerRoundTrips {
  private readonly sentAt = new Map<NodeId, number>();

  constructor(
    private readonly observe: (peer: NodeId, seconds: number) => void,
    private readonly staleMs = 1_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A message of `type` is being sent to `to`. */
  sent(to: NodeId, type: string): void {
    if (type !== 'MsgHeartbeat') return;
    const pending = this.sentAt.get(to);
    const now = this.now();
    if (pending === undefined || now - pending > this.staleMs) this.sentAt.set(to, now);
  }

  /** A message of `type` arrived from `from`. */
  received(from: NodeId, type: string): void {
    if (type !== 'MsgHeartbeatResp') return;
    const sentAt = this.sentAt.get(from);
    if (sentAt === undefined) return;
    this.sentAt.delete(from);
    const elapsed = this.now() - sentAt;
    if (elapsed <= this.staleMs) this.observe(from, elapsed / 1000);
  }
}
