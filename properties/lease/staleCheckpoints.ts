import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import type { LeaseLogEntry } from '../../core/server/leaseLog.ts';

export interface StaleCheckpointStats {
  /**
   * Renewals' clears proposed while the primary's own checkpoint of the lease was still to apply
   * there: the race reached and handled (the renewal waits for both). What the mutant
   * lease-renew-ignores-inflight-checkpoint needs to be caught.
   */
  clearsOverProposedCheckpoints: number;
  /** Renewals on a primary with its own checkpoint of the lease still to apply there, judged (0 when the lessor clears first). */
  renewalsOverProposedCheckpoints: number;
  /** Checkpoint proposals forgotten unapplied by their proposer: a promotion came first (Raft dropped them, or a crash), or the limit. */
  checkpointProposalsForgotten: number;
}

/** One primary's checkpoint proposal, until it applies on that member (or can no longer apply). */
interface Proposal {
  /** The proposer's tick when it computed the remaining TTLs. */
  readonly tick: number;
  /** By lease: the remaining TTL proposed (seconds, > 0). */
  readonly remaining: Map<number, number>;
  /** By lease: the proposer's tick of a renewal answered before this proposal applied (judged when it applies). */
  readonly renewedAt: Map<number, number>;
}

type Judged = Extract<LeaseLogEntry, { kind: 'checkpointing' | 'checkpointed' | 'refreshed' }>;

/**
 * A checkpoint computed before a renewal never takes effect after it: once a primary answers a
 * keep-alive, the replicated remaining TTL of that lease is 0 (its clear applied: lessor.go Renew,
 * `le.cp` of 0 before `refresh(0)`, with the checkpoints persisted since etcd #13491/#13508) until a
 * checkpoint computed after the renewal applies. etcd's Renew looks only at the APPLIED remaining
 * TTL, so a checkpoint its primary proposed before the renewal and applies after it leaves the
 * renewed lease to the next primary with the remaining TTL from before the renewal (session 21,
 * task leasettl: the race behind etcd-lease-checkpoints seeds 37 and 59); detcd's lessor counts its
 * proposals in flight and clears them too.
 *
 * Judged at the step, from the members' lease logs (not the lessor's own count):
 *
 * - At the renewal: a `refreshed` entry of a lease on a member that proposed a checkpoint of it
 *   (remaining TTL > 0) which has not applied on that member yet, within one checkpoint interval
 *   of its proposal, fails. Past the interval the lessor stops trusting a proposal (Raft may have
 *   dropped it, and renewals must not wait for it forever): such a renewal is only marked.
 * - At the apply: a checkpoint that applies on any member after its proposer answered a renewal of
 *   the lease over it fails — the marked ones, if they do apply after all.
 *
 * A proposal that has not applied on its proposer when some member promotes its lessor is
 * forgotten: the promotion applied an empty entry of a later term, so every earlier proposal that
 * will ever apply lies below it and applied on that member first (leader completeness), and a
 * renewal on the proposer needs a promotion of its own. A revoke applied on the proposer forgets its
 * lease in the proposal (a checkpoint of a revoked lease changes nothing; a later lease of the same
 * id is not judged by it). At most `limit` proposals are held, the oldest forgotten first.
 */
export class StaleCheckpoints {
  /** By proposer, then by request id: proposals not yet applied on their proposer. */
  private readonly proposals = new Map<NodeId, Map<number, Proposal>>();
  private held = 0;
  private readonly limit: number;
  readonly stats: StaleCheckpointStats;

  constructor(stats?: StaleCheckpointStats, limit = 4_096) {
    this.stats = stats ?? { clearsOverProposedCheckpoints: 0, renewalsOverProposedCheckpoints: 0, checkpointProposalsForgotten: 0 };
    this.limit = limit;
  }

  /** How many proposals it holds (for tests). */
  get size(): number {
    return this.held;
  }

  judge(id: NodeId, server: EtcdServer, entry: LeaseLogEntry): void {
    switch (entry.kind) {
      case 'checkpointing':
        return this.proposed(id, entry);
      case 'refreshed':
        return this.renewed(id, server, entry);
      case 'checkpointed':
        return this.applied(id, entry);
      case 'revoked':
        return this.revoked(id, entry.ID);
      case 'clearing':
        if (this.pending(id, entry.ID)) this.stats.clearsOverProposedCheckpoints++;
        return;
      case 'promoted':
        return this.forgetAll();
      case 'expiring':
        return;
    }
  }

  private proposed(id: NodeId, entry: Extract<Judged, { kind: 'checkpointing' }>): void {
    const remaining = new Map<number, number>();
    for (const { ID, remainingTTL } of entry.checkpoints) if (remainingTTL > 0) remaining.set(ID, remainingTTL);
    if (remaining.size === 0) return;
    let mine = this.proposals.get(id);
    if (mine === undefined) this.proposals.set(id, (mine = new Map()));
    mine.set(entry.requestId, { tick: entry.tick, remaining, renewedAt: new Map() });
    this.held++;
    if (this.held > this.limit) this.forgetOldest();
  }

  private renewed(id: NodeId, server: EtcdServer, entry: Extract<Judged, { kind: 'refreshed' }>): void {
    const mine = this.proposals.get(id);
    if (mine === undefined) return;
    const interval = server.config.leaseCheckpointIntervalTicks ?? 0;
    for (const [requestId, proposal] of mine) {
      const remaining = proposal.remaining.get(entry.ID);
      if (remaining === undefined || proposal.renewedAt.has(entry.ID)) continue;
      this.stats.renewalsOverProposedCheckpoints++;
      if (entry.tick < proposal.tick + interval) {
        throw new AssertionError(`member ${id} renewed lease ${entry.ID} at its tick ${entry.tick} (its state at index ${entry.index}) while its own checkpoint of it (${remaining} s, proposed at its tick ${proposal.tick}, request ${requestId}) had not applied there: computed before the renewal, it applies after it, and a new primary runs the renewed lease from ${remaining} s; a renewal must clear it too, and wait`);
      }
      proposal.renewedAt.set(entry.ID, entry.tick);
    }
  }

  private applied(id: NodeId, entry: Extract<Judged, { kind: 'checkpointed' }>): void {
    const mine = this.proposals.get(entry.proposer);
    const proposal = mine?.get(entry.requestId);
    if (proposal === undefined) return;
    const renewal = proposal.renewedAt.entries().next().value;
    if (renewal !== undefined) {
      const [lease, tick] = renewal;
      throw new AssertionError(`member ${id} applied the checkpoint at index ${entry.index} (lease ${lease}: ${proposal.remaining.get(lease)} s), which member ${entry.proposer} proposed at its tick ${proposal.tick}, after that member renewed the lease at its tick ${tick} (past the interval it trusts a proposal): the renewed lease is left to the next primary with the remaining TTL from before the renewal`);
    }
    if (id !== entry.proposer) return;
    mine!.delete(entry.requestId);
    this.held--;
  }

  /** Whether `id` proposed a checkpoint of `lease` that has not applied there yet. */
  private pending(id: NodeId, lease: number): boolean {
    for (const proposal of this.proposals.get(id)?.values() ?? []) if (proposal.remaining.has(lease)) return true;
    return false;
  }

  private revoked(id: NodeId, lease: number): void {
    for (const proposal of this.proposals.get(id)?.values() ?? []) {
      proposal.remaining.delete(lease);
      proposal.renewedAt.delete(lease);
    }
  }

  private forgetAll(): void {
    this.stats.checkpointProposalsForgotten += this.held;
    this.proposals.clear();
    this.held = 0;
  }

  /** The oldest proposal of the member holding the most (each member's are in proposal order; ticks of different members do not compare). */
  private forgetOldest(): void {
    let most: Map<number, Proposal> | undefined;
    for (const mine of this.proposals.values()) if (most === undefined || mine.size > most.size) most = mine;
    const oldest = most?.keys().next().value;
    if (oldest === undefined) return;
    most!.delete(oldest);
    this.held--;
    this.stats.checkpointProposalsForgotten++;
  }
}
