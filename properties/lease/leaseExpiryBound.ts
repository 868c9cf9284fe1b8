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
 *
 * Bounded (session 22): only states at most `window` indexes behind the highest index seen (the
 * floor) are judged, so a lease revoked below the floor is forgotten (no state judged holds it), a
 * live lease keeps its checkpoints above the floor and the last one at or below it, and the indexes
 * seen are kept above the floor only. A state below the floor (a member that far behind restarting
 * or promoting) is not judged: `unjudged` counts it.
 */
export class LeaseExpiryBound {
  /** By lease: the checkpoints applied, by index, ascending. */
  private readonly checkpoints = new Map<number, { index: number; remainingTTL: number }[]>();
  /** Indexes of the checkpoint entries recorded (each once, whichever member applied it first), above the floor. */
  private readonly appliedIndexes = new Set<number>();
  /** By lease: the index of its revoke, until it falls below the floor and the lease is forgotten. */
  private readonly revokedAt = new Map<number, number>();
  private readonly window: number;
  private readonly forgotten: (lease: number) => void;
  /** The highest index of a lease log entry seen; the floor is `window` below it. */
  private highest = 0;
  private floor = 0;
  /** Where the floor stood at the last pruning (pruning again once it moved a quarter window). */
  private prunedAt = 0;
  /** Judgments left out: their state was below the floor (see the class comment). */
  unjudged = 0;
  readonly stats: LeaseBoundStats;

  /** `forgotten`: told of each lease forgotten (its revoke fell below the floor), so a caller may drop what it keeps of it too. */
  constructor(stats?: LeaseBoundStats, options: { readonly window?: number; readonly forgotten?: (lease: number) => void } = {}) {
    this.stats = stats ?? { checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0 };
    this.window = options.window ?? 10_000;
    this.forgotten = options.forgotten ?? (() => {});
  }

  /** How much it holds (for tests): leases with checkpoints, checkpoints, indexes recorded, revoked leases remembered. */
  get sizes(): { readonly leases: number; readonly checkpoints: number; readonly indexes: number; readonly revoked: number } {
    let checkpoints = 0;
    for (const list of this.checkpoints.values()) checkpoints += list.length;
    return { leases: this.checkpoints.size, checkpoints, indexes: this.appliedIndexes.size, revoked: this.revokedAt.size };
  }

  judge(id: NodeId, server: EtcdServer, entry: BoundEntry): void {
    this.seen(entry.index);
    if (entry.kind === 'checkpointed') return this.checkpointed(id, server, entry.index, entry.checkpoints, entry.primary);
    if (entry.kind === 'refreshed') return this.refreshed(id, server, entry.ID, entry.tick, entry.index, entry.seq);
    this.promoted(id, server, entry.index, entry.tick, entry.extendTicks, entry.seq);
  }

  /** A revoke of `lease` applied at `index` (on any member; the first is kept): states from there on do not hold it. */
  revoked(lease: number, index: number): void {
    this.seen(index);
    const known = this.revokedAt.get(lease);
    if (known === undefined || index < known) this.revokedAt.set(lease, index);
  }

  private checkpointed(id: NodeId, server: EtcdServer, index: number, checkpoints: readonly LeaseCheckpoint[], primary: boolean): void {
    // At or below the floor: a member far behind applying an entry recorded when the first member applied it.
    if (index > this.floor && !this.appliedIndexes.has(index)) {
      this.appliedIndexes.add(index);
      if (checkpoints.some((checkpoint) => checkpoint.remainingTTL > 0)) this.stats.checkpointsApplied++;
      for (const { ID, remainingTTL } of checkpoints) {
        // A checkpoint that applied after its lease's revoke changes nothing any state holds.
        const revokedAt = this.revokedAt.get(ID);
        if (revokedAt !== undefined && revokedAt < index) continue;
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

  private refreshed(id: NodeId, server: EtcdServer, lease: number, tick: number, index: number, seq: number): void {
    if (!this.judgeable(index + 1)) return;
    // A renewal over a checkpointed remaining TTL (etcd's Renew clears it through Raft first, and
    // waits): whatever the lessor holds, the replicated state at the renewal still says R, and a
    // primary promoted from then on runs the renewed lease from R. Judged here, at the renewal,
    // not at an early expiry that needs a new leader, a lapse and a short R (session 22).
    const stale = this.lastBefore(lease, index + 1);
    if (stale !== undefined && stale.remainingTTL > 0) {
      const ttl = server.state.lessor.lookup(lease)?.ttl;
      throw new AssertionError(`member ${id} renewed lease ${lease} over its checkpoint: at its tick ${tick}, its state at index ${index}, the last checkpoint of it (index ${stale.index}) still says ${stale.remainingTTL} s${ttl === undefined ? '' : ` of its TTL of ${ttl} s`}; a renewal must clear it (a checkpoint of 0 applied before the answer), or a new primary runs the renewed lease from it`);
    }
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
    if (leases.length >= server.config.leaseRevokesPerSecond || !this.judgeable(index)) return;
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
   * promotion of that member shows it, if one ever does). A member that installed a snapshot
   * (`how`) rebuilt its lessor from the snapshot's backend the same way, and is judged the same.
   */
  checkRestored(id: NodeId, server: EtcdServer, how: 'restarted' | 'installed a snapshot' | 'joined' = 'restarted'): void {
    const applied = server.appliedIndex;
    if (!this.judgeable(applied + 1)) return;
    for (const lease of server.state.lessor.list()) {
      const checkpoint = this.lastBefore(lease.id, applied + 1);
      const expected = checkpoint?.remainingTTL ?? 0;
      if (lease.remainingTTL === expected) continue;
      throw new AssertionError(`member ${id} ${how} at applied index ${applied} holding lease ${lease.id} with remaining TTL ${lease.remainingTTL} s, but ${checkpoint === undefined ? 'no checkpoint of it applied at or below that index (0)' : `the last checkpoint of it at or below that index (index ${checkpoint.index}) says ${expected} s`}`);
    }
  }

  /** A lease whose remaining TTL (as of `index`) outlives the checkpoint interval has a checkpoint due within it. */
  private checkScheduled(id: NodeId, server: EtcdServer, lease: number, index: number, after: string): void {
    const interval = server.config.leaseCheckpointIntervalTicks;
    const held = server.state.lessor.lookup(lease);
    if (interval === null || held === undefined || !this.judgeable(index)) return;
    const remaining = remainingTTL(this.lastBefore(lease, index), held.ttl);
    if (remaining * ticksPerSecond(server) <= interval) return;
    const due = server.state.lessor.checkpointDueAt(lease);
    const latest = server.ticks + interval;
    if (due === undefined || due > latest) throw new AssertionError(`member ${id} is the primary after ${after}, but lease ${lease} (remaining TTL ${remaining} s, interval ${interval} ticks) has ${due === undefined ? 'no checkpoint scheduled' : `its checkpoint due at tick ${due}, after ${latest}`}`);
  }

  /**
   * Whether the state just below `index` can be judged: the last checkpoint of a lease below it is
   * kept (all above the floor, and the last at or below it). Counts a judgment left out.
   */
  private judgeable(index: number): boolean {
    if (index > this.floor) return true;
    this.unjudged++;
    return false;
  }

  private seen(index: number): void {
    if (index <= this.highest) return;
    this.highest = index;
    this.floor = Math.max(0, index - this.window);
    if (this.floor - this.prunedAt >= Math.max(1, this.window >> 2)) this.prune();
  }

  /** Drops what no state above the floor needs: revoked leases below it, checkpoints superseded below it, indexes below it. */
  private prune(): void {
    this.prunedAt = this.floor;
    for (const [lease, index] of this.revokedAt) {
      if (index > this.floor) continue;
      this.revokedAt.delete(lease);
      this.checkpoints.delete(lease);
      this.forgotten(lease);
    }
    for (const [lease, list] of this.checkpoints) {
      let keep = 0;
      while (keep + 1 < list.length && list[keep + 1]!.index <= this.floor) keep++;
      if (keep > 0) this.checkpoints.set(lease, list.slice(keep));
    }
    for (const index of this.appliedIndexes) if (index <= this.floor) this.appliedIndexes.delete(index);
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
