import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { LeaseCheckpoint } from '../../core/lease/index.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import type { LeaseLogEntry } from '../../core/server/leaseLog.ts';

export interface LeaseBoundStats {
  /** LeaseCheckpoint entries with a remaining TTL (not a renewal's 0) first applied. */
  checkpointsApplied: number;
  /** Promotions that found a lease with a checkpointed remaining TTL (the checkpoint mattered). */
  checkpointsUsed: number;
  /** Promotions, grants and renewals on a primary whose expiries were judged. */
  expirySettingsJudged: number;
}

type BoundEntry = Extract<LeaseLogEntry, { kind: 'checkpointed' | 'promoted' | 'refreshed' }>;

/**
 * A lease never expires LATER than etcd's lessor allows (the other half of leaseChecks' timing
 * check), judged on the primary's clock at each step that sets an expiry, from the log's entries
 * rather than from the lessor's own state:
 *
 * - A grant applied on the primary or a renewal (lessor.go Grant / Renew, `refresh(0)`): the
 *   lease expires at most its TTL after the tick (plus the tick in progress, Lease.refresh).
 * - A promotion (lessor.go Promote, `refresh(extend)` with extend = an election timeout): every
 *   lease expires at most extend + R after the tick (+1), where R is the remaining TTL of the last
 *   LeaseCheckpoint entry for it at an index below the promotion's empty entry, or its TTL when there
 *   is none or that checkpoint is a renewal's 0 (etcd's RemainingTTL). Not judged when the lessor
 *   holds as many leases as its revoke rate allows per second: Promote then spreads expiries later.
 * - Checkpoints keep being scheduled (etcd #13491's first half: scheduling stopped after the first
 *   leader change): after a promotion, and after a checkpoint applies on the primary, every lease
 *   whose remaining TTL (R or its TTL) outlives the interval has a checkpoint due within the interval.
 *
 * The checkpoints each member applied are the log's (all members apply the same entry at an index),
 * kept by lease and index here: a member that restarted or installed a snapshot must still use them
 * (#13491's second half: checkpoints lost over a restart).
 */
export class LeaseExpiryBound {
  /** By lease: the checkpoints applied, by index, ascending. */
  private readonly checkpoints = new Map<number, { index: number; remainingTTL: number }[]>();
  private readonly appliedIndexes = new Set<number>();
  readonly stats: LeaseBoundStats;

  constructor(stats?: LeaseBoundStats) {
    this.stats = stats ?? { checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0 };
  }

  judge(id: NodeId, server: EtcdServer, entry: BoundEntry): void {
    if (entry.kind === 'checkpointed') return this.checkpointed(id, server, entry.index, entry.checkpoints, entry.primary);
    if (entry.kind === 'refreshed') return this.refreshed(id, server, entry.ID, entry.tick, entry.seq);
    this.promoted(id, server, entry.index, entry.tick, entry.extendTicks, entry.seq);
  }

  private checkpointed(id: NodeId, server: EtcdServer, index: number, checkpoints: readonly LeaseCheckpoint[], primary: boolean): void {
    if (!this.appliedIndexes.has(index)) {
      this.appliedIndexes.add(index);
      if (checkpoints.some((checkpoint) => checkpoint.remainingTTL > 0)) this.stats.checkpointsApplied++;
      for (const { ID, remainingTTL } of checkpoints) {
        const list = this.checkpoints.get(ID) ?? [];
        list.push({ index, remainingTTL });
        list.sort((a, b) => a.index - b.index);
        this.checkpoints.set(ID, list);
      }
    }
    // Judged only if it applied on the primary: a follower that applies it and then promotes in the same event schedules at the promotion.
    if (!primary || !server.state.lessor.primary) return;
    for (const { ID } of checkpoints) this.checkScheduled(id, server, ID, index + 1, `the checkpoint at index ${index} applied`);
  }

  private refreshed(id: NodeId, server: EtcdServer, lease: number, tick: number, seq: number): void {
    const lessor = server.state.lessor;
    const held = lessor.lookup(lease);
    if (!lessor.primary || held === undefined) return;
    this.stats.expirySettingsJudged++;
    const bound = tick + held.ttl * ticksPerSecond(server) + 1;
    if (held.expiry > bound && !refreshedLater(server, seq, lease)) throw new AssertionError(`member ${id} granted or renewed lease ${lease} at its tick ${tick}: it expires at tick ${held.expiry}, after ${bound} (the tick + its TTL of ${held.ttl} s + 1)`);
  }

  private promoted(id: NodeId, server: EtcdServer, index: number, tick: number, extendTicks: number, seq: number): void {
    const lessor = server.state.lessor;
    const leases = lessor.list();
    if (leases.length >= server.config.leaseRevokesPerSecond) return;
    this.stats.expirySettingsJudged++;
    let used = false;
    for (const lease of leases) {
      const checkpoint = this.lastBefore(lease.id, index);
      const remaining = remainingTTL(checkpoint, lease.ttl);
      if (remaining < lease.ttl) used = true;
      const bound = tick + extendTicks + remaining * ticksPerSecond(server) + 1;
      if (lease.expiry > bound && !refreshedLater(server, seq, lease.id)) {
        const why = checkpoint === undefined ? `no checkpoint: its TTL of ${lease.ttl} s` : `the checkpoint applied at index ${checkpoint.index}: ${checkpoint.remainingTTL === 0 ? `0, its TTL of ${lease.ttl} s` : `${checkpoint.remainingTTL} s`}`;
        throw new AssertionError(`member ${id} promoted its lessor at its tick ${tick} (empty entry ${index}): lease ${lease.id} expires at tick ${lease.expiry}, after ${bound} (the tick + ${extendTicks} ticks + the remaining TTL of ${why} + 1)`);
      }
      if (lease.expiry !== Number.POSITIVE_INFINITY) this.checkScheduled(id, server, lease.id, index, `its promotion at tick ${tick}`);
    }
    if (used) this.stats.checkpointsUsed++;
  }

  /** The remaining TTL (seconds) a primary promoted now would run `lease` from: its last checkpoint's, or `ttl` (none, or a renewal's 0). */
  remainingNow(lease: number, ttl: number): { readonly remaining: number; readonly index: number | undefined } {
    const list = this.checkpoints.get(lease);
    const last = list?.[list.length - 1];
    return { remaining: remainingTTL(last, ttl), index: last?.index };
  }

  /**
   * A member that restarted (its lessor opened from its backend) holds each lease's remaining TTL
   * as the log's last checkpoint of it at or below its applied index says (0 when none): the
   * replicated state at that index, whatever the lessor saved and how (#13491's second half: a
   * checkpoint not persisted, or not read back, is lost here at the restart, long before a
   * promotion of that member shows it, if one ever does).
   */
  checkRestored(id: NodeId, server: EtcdServer): void {
    const applied = server.appliedIndex;
    for (const lease of server.state.lessor.list()) {
      const checkpoint = this.lastBefore(lease.id, applied + 1);
      const expected = checkpoint?.remainingTTL ?? 0;
      if (lease.remainingTTL === expected) continue;
      throw new AssertionError(`member ${id} restarted at applied index ${applied} holding lease ${lease.id} with remaining TTL ${lease.remainingTTL} s, but ${checkpoint === undefined ? 'no checkpoint of it applied at or below that index (0)' : `the last checkpoint of it at or below that index (index ${checkpoint.index}) says ${expected} s`}`);
    }
  }

  /** A lease whose remaining TTL (as of `index`) outlives the checkpoint interval has a checkpoint due within it. */
  private checkScheduled(id: NodeId, server: EtcdServer, lease: number, index: number, after: string): void {
    const interval = server.config.leaseCheckpointIntervalTicks;
    const held = server.state.lessor.lookup(lease);
    if (interval === null || held === undefined) return;
    const remaining = remainingTTL(this.lastBefore(lease, index), held.ttl);
    if (remaining * ticksPerSecond(server) <= interval) return;
    const due = server.state.lessor.checkpointDueAt(lease);
    const latest = server.ticks + interval;
    if (due === undefined || due > latest) throw new AssertionError(`member ${id} is the primary after ${after}, but lease ${lease} (remaining TTL ${remaining} s, interval ${interval} ticks) has ${due === undefined ? 'no checkpoint scheduled' : `its checkpoint due at tick ${due}, after ${latest}`}`);
  }

  private lastBefore(lease: number, index: number): { index: number; remainingTTL: number } | undefined {
    const list = this.checkpoints.get(lease);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.index < index) return list[i];
    return undefined;
  }
}

/**
 * Whether an entry of the member's lease log after `seq` set `lease`'s expiry again (a grant or
 * renewal of it, or a promotion). The log is read after each event, and one event may set an
 * expiry twice: the lessor then holds the later one, which is judged at its own entry. A resumed
 * member handles every input held while it was paused, ticks among them, in one event; in
 * etcd-lock-fenced seed 147 the leader renewed a lease at its tick 76 and again at 77, and the
 * expiry read after the event (98) was judged against tick 76's bound (97). Looked up only when an
 * expiry is past its bound, so it costs nothing otherwise.
 */
function refreshedLater(server: EtcdServer, seq: number, lease: number): boolean {
  return server.leaseLog.since(seq).some((later) => later.kind === 'promoted' || (later.kind === 'refreshed' && later.ID === lease));
}

/** The remaining TTL a lease runs from after `checkpoint` (none, or a renewal's 0: its whole TTL). */
function remainingTTL(checkpoint: { readonly remainingTTL: number } | undefined, ttl: number): number {
  return checkpoint !== undefined && checkpoint.remainingTTL > 0 ? checkpoint.remainingTTL : ttl;
}

function ticksPerSecond(server: EtcdServer): number {
  return 1000 / server.config.tickMs;
}
