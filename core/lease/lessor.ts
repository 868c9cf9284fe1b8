import { ErrLeaseExist, ErrLeaseTTLTooLarge, maxLeaseTTL, type Bytes, type EtcdError, type Event } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import type { Backend, LeaseLookup } from '../mvcc/index.ts';
import { forever, Lease, type LeaseCheckpoint } from './lease.ts';
import { spreadExpiries } from './spreadExpiries.ts';

/** The backend bucket the leases live in (etcd's `lease` bucket): id, granted TTL, checkpointed remaining TTL. */
const leaseBucket = 'lease';
type SavedLease = readonly [id: number, ttl: number, remainingTTL: number];

export interface LessorOptions {
  /** Seconds: a shorter TTL is raised to it (etcd: ceil(1.5 election timeouts)). */
  readonly minTTL: number;
  /** Ticks per second of lease time (etcd's TTLs are seconds; a tick is the heartbeat interval). */
  readonly ticksPerSecond: number;
  /** Ticks between a lease's checkpoints (etcd's 5 min), or null: checkpoints off (etcd's default in 3.4). */
  readonly checkpointIntervalTicks: number | null;
  /** Ticks before an expired lease whose revoke did not apply is proposed again (etcd's 3 s). */
  readonly revokeRetryTicks: number;
  /** Leases revoked per second at most when a new primary spreads expiries (etcd's leaseRevokeRate, 1000). */
  readonly revokesPerSecond: number;
}

/**
 * etcd's lessor (lease/lessor.go), counted in the member's ticks. The leases themselves (id, TTL,
 * checkpointed remaining TTL) and the keys attached to them are replicated state: every member
 * changes them only by applying entries (grant, revoke, checkpoint, and the puts and deletes that
 * attach and detach keys), saves them in the backend's `lease` bucket with the batch of the entry
 * that changed them, and rebuilds the attachments from the store's keys when it opens.
 *
 * Expiry is the primary's alone: the member that leads and has applied an entry of its own term
 * (`promote`) gives every lease an expiry on its own clock; followers hold every lease forever.
 * Renewals (keep-alives) move the primary's expiries only, never through Raft: that is why a new
 * primary extends every lease by an election timeout, and why checkpoints (the remaining TTL,
 * proposed periodically) exist, so that a leader change does not restart a lease's TTL.
 *
 * Invariants: a key is attached to at most one lease, and to the lease its live revision names;
 * a lease expires on the primary no earlier than `ttl` seconds (plus the tick in progress) after
 * its grant, last renewal or promotion.
 */
export class Lessor implements LeaseLookup {
  private readonly options: LessorOptions;
  private readonly leases = new Map<number, Lease>();
  private readonly keyLease = new Map<Bytes, number>();
  /** Leader-local: this member leads and has promoted its lessor. */
  private isPrimary = false;
  /** Leader-local: when each lease's next checkpoint is due (etcd's checkpoint heap). */
  private readonly checkpointsDue = new Map<number, number>();
  /** Leader-local: expired leases whose revoke is proposed, and when to propose it again. */
  private readonly revoking = new Map<number, number>();
  /**
   * Leader-local: leases whose checkpoints this primary proposed and has not applied yet (how many,
   * and the tick of the last). A renewal meanwhile must clear it too: the checkpoint carries the
   * remaining TTL from before the renewal, and once it applies a new primary would run the renewed
   * lease from it (session 21, task leasettl: etcd's Renew looks only at the applied remaining TTL,
   * the same race). Trusted for one checkpoint interval: a proposal Raft dropped (a leadership
   * transfer) never applies, and renewals must not keep clearing and waiting for it.
   */
  private readonly checkpointsInFlight = new Map<number, { count: number; proposedAt: number }>();
  private dirty = false;

  private constructor(options: LessorOptions) {
    this.options = options;
  }

  /**
   * The lessor of a backend (new, reopened, or a snapshot's): leases from the `lease` bucket, keys
   * from the store's live keys (etcd's initAndRecover, then the store's restore attaching keys).
   */
  static open(backend: Backend, leasedKeys: () => ReadonlyMap<Bytes, number>, options: LessorOptions): Lessor {
    const lessor = new Lessor(options);
    for (const [id, ttl, remainingTTL] of (backend.bucket(leaseBucket) as readonly SavedLease[] | undefined) ?? []) lessor.leases.set(id, new Lease(id, ttl, remainingTTL));
    for (const [key, id] of leasedKeys()) lessor.attach(id, key);
    return lessor;
  }

  get primary(): boolean {
    return this.isPrimary;
  }

  exists(id: number): boolean {
    return this.leases.has(id);
  }

  lookup(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  /** Every lease, by id (etcd's Leases lists them by expiry; ids make members agree). */
  list(): readonly Lease[] {
    return [...this.leases.values()].sort((a, b) => a.id - b.id);
  }

  /** The lease a key is attached to, or 0. */
  leaseOf(key: Bytes): number {
    return this.keyLease.get(key) ?? 0;
  }

  // --- applied (replicated) -----------------------------------------------------------------

  /** etcd's Grant, applied: the TTL raised to the minimum; the primary starts its clock now. */
  grant(id: number, ttl: number, now: number): Lease | EtcdError {
    assert(id > 0, 'granting lease 0');
    if (ttl > maxLeaseTTL) return ErrLeaseTTLTooLarge;
    if (this.leases.has(id)) return ErrLeaseExist;
    const lease = new Lease(id, Math.max(ttl, this.options.minTTL), 0);
    if (this.isPrimary) {
      lease.refresh(now, 0, this.options.ticksPerSecond);
      this.scheduleCheckpoint(lease, now);
    }
    this.leases.set(id, lease);
    this.dirty = true;
    return lease;
  }

  /** The keys a revoke deletes (sorted, so that every member deletes them in one order: etcd sorts too). */
  keysOf(id: number): readonly Bytes[] | null {
    const lease = this.leases.get(id);
    return lease === undefined ? null : [...lease.keys].sort();
  }

  /** etcd's Revoke, the lease's part: its keys are deleted by the caller, in the same write transaction and batch. */
  forget(id: number): void {
    const lease = this.leases.get(id);
    assert(lease !== undefined, () => `forgetting lease ${id}, which does not exist`);
    assert(lease.keys.size === 0, () => `lease ${id} is revoked with ${lease.keys.size} keys still attached`);
    this.leases.delete(id);
    this.checkpointsDue.delete(id);
    this.revoking.delete(id);
    this.checkpointsInFlight.delete(id);
    this.dirty = true;
  }

  /** etcd's Checkpoint, applied: the remaining TTL a new primary will use (0: the full TTL). */
  checkpoint(checkpoints: readonly LeaseCheckpoint[], now: number): void {
    for (const { ID, remainingTTL } of checkpoints) if (remainingTTL > 0) this.checkpointLanded(ID);
    for (const { ID, remainingTTL } of checkpoints) {
      const lease = this.leases.get(ID);
      if (lease === undefined) continue;
      lease.remainingTTL = remainingTTL;
      this.dirty = true;
      if (this.isPrimary) this.scheduleCheckpoint(lease, now);
    }
  }

  /** One of this primary's checkpoints of `id` applied (a renewal's clear, 0, proposed before it is not one). */
  private checkpointLanded(id: number): void {
    const inFlight = this.checkpointsInFlight.get(id);
    if (inFlight === undefined) return;
    if (inFlight.count > 1) inFlight.count--;
    else this.checkpointsInFlight.delete(id);
  }

  /** Attaches and detaches keys as an apply's changes say (etcd's Attach/Detach in the store's put and delete). */
  track(events: readonly Event[]): void {
    for (const event of events) {
      const key = event.kv.key;
      // No key has a lease (check perf's keys): no lookup per event (a 60k-key delete, issue 10).
      const previous = this.keyLease.size === 0 ? 0 : (this.keyLease.get(key) ?? 0);
      const next = event.type === 'PUT' ? event.kv.lease : 0;
      if (previous === next) continue;
      if (previous !== 0) this.detach(previous, key);
      if (next !== 0) this.attach(next, key);
    }
  }

  private attach(id: number, key: Bytes): void {
    const lease = this.leases.get(id);
    assert(lease !== undefined, () => `key ${JSON.stringify(key)} attached to lease ${id}, which does not exist`);
    lease.keys.add(key);
    this.keyLease.set(key, id);
  }

  private detach(id: number, key: Bytes): void {
    this.leases.get(id)?.keys.delete(key);
    this.keyLease.delete(key);
  }

  // --- the primary (leader-local) -------------------------------------------------------------

  /**
   * etcd's Promote: this member leads and applied an entry of its term. Every lease expires
   * `extendTicks` (an election timeout) after its remaining TTL from now — the checkpointed one,
   * or the full TTL — and expiries are spread when there are more than the revoke rate can take.
   */
  promote(now: number, extendTicks: number): void {
    this.isPrimary = true;
    this.revoking.clear();
    this.checkpointsInFlight.clear();
    for (const lease of this.leases.values()) {
      lease.refresh(now, extendTicks, this.options.ticksPerSecond);
      this.scheduleCheckpoint(lease, now);
    }
    spreadExpiries([...this.leases.values()], now, extendTicks, this.options.ticksPerSecond, this.options.revokesPerSecond);
  }

  /** etcd's Demote: leadership lost; every lease lives forever here until a promotion. */
  demote(): void {
    this.isPrimary = false;
    for (const lease of this.leases.values()) lease.expiry = forever;
    this.checkpointsDue.clear();
    this.revoking.clear();
    this.checkpointsInFlight.clear();
  }

  /**
   * etcd's Renew on the primary: the lease expires its TTL from now. 'not-primary' when this member
   * is not the primary (the caller forwards), null when the lease does not exist or has expired
   * (its revoke is under way: etcd waits for it and then says not found). `checkpointCleared` says
   * the caller must propose a checkpoint of 0 (etcd clears a checkpointed remaining TTL on renew).
   */
  renew(id: number, now: number): { ttl: number; checkpointCleared: boolean } | 'not-primary' | null {
    if (!this.isPrimary) return 'not-primary';
    const lease = this.leases.get(id);
    if (lease === undefined || lease.expired(now)) return null;
    const checkpointCleared = this.mustClearCheckpoint(id, now);
    lease.refresh(now, 0, this.options.ticksPerSecond, true);
    return { ttl: lease.ttl, checkpointCleared };
  }

  /**
   * etcd's clearRemainingTTL: a renewal of this live lease on the primary must first clear its
   * checkpointed remaining TTL through Raft (a checkpoint of 0) and wait for that to apply — also
   * when this primary's own checkpoint of it is still on its way (the clear then follows it in the log).
   */
  mustClearCheckpoint(id: number, now: number): boolean {
    const lease = this.leases.get(id);
    if (!this.isPrimary || lease === undefined || lease.expired(now)) return false;
    const interval = this.options.checkpointIntervalTicks;
    if (interval === null) return false;
    const inFlight = this.checkpointsInFlight.get(id);
    const checkpointCleared = lease.remainingTTL > 0 || (inFlight !== undefined && now < inFlight.proposedAt + interval);
    return checkpointCleared;
  }

  /**
   * Leases past their expiry on the primary's clock whose revoke is not already under way (or
   * whose revoke did not apply within the retry interval): the caller proposes their revokes.
   */
  expired(now: number, limit: number): number[] {
    if (!this.isPrimary) return [];
    const expired: number[] = [];
    for (const lease of this.leases.values()) {
      if (expired.length >= limit) break;
      if (!lease.expired(now)) continue;
      const retryAt = this.revoking.get(lease.id);
      if (retryAt !== undefined && now < retryAt) continue;
      this.revoking.set(lease.id, now + this.options.revokeRetryTicks);
      expired.push(lease.id);
    }
    return expired;
  }

  /** etcd's findDueScheduledCheckpoints: the remaining TTL (whole seconds, rounded up) of leases whose checkpoint is due. */
  dueCheckpoints(now: number, limit: number): LeaseCheckpoint[] {
    if (!this.isPrimary || this.options.checkpointIntervalTicks === null) return [];
    const due: LeaseCheckpoint[] = [];
    for (const [id, at] of this.checkpointsDue) {
      if (due.length >= limit) break;
      if (now < at) continue;
      this.checkpointsDue.delete(id);
      const lease = this.leases.get(id);
      if (lease === undefined || lease.expired(now)) continue;
      const remainingTTL = Math.ceil((lease.expiry - now) / this.options.ticksPerSecond);
      if (remainingTTL >= lease.ttl) continue;
      due.push({ ID: id, remainingTTL });
      this.checkpointsInFlight.set(id, { count: (this.checkpointsInFlight.get(id)?.count ?? 0) + 1, proposedAt: now });
    }
    return due;
  }

  /** etcd's scheduleCheckpointIfNeeded: a lease that outlives the interval gets a checkpoint one interval from now. */
  private scheduleCheckpoint(lease: Lease, now: number): void {
    const interval = this.options.checkpointIntervalTicks;
    if (interval === null || !this.isPrimary) return;
    if (lease.remainingSeconds() * this.options.ticksPerSecond > interval) this.checkpointsDue.set(lease.id, now + interval);
  }

  /** When the lease's next checkpoint is due on this primary (etcd's checkpoint heap), or undefined: for checkers. */
  checkpointDueAt(id: number): number | undefined {
    return this.checkpointsDue.get(id);
  }

  /** Seconds left on the primary's clock, rounded down (etcd's int64(Remaining().Seconds())). */
  remainingSeconds(lease: Lease, now: number): number {
    if (lease.expiry === forever) return lease.ttl;
    return Math.max(0, Math.floor((lease.expiry - now) / this.options.ticksPerSecond));
  }

  // --- persistence ----------------------------------------------------------------------------

  /** Writes the leases into the backend's bucket if they changed (called before each commit). */
  save(backend: Backend): void {
    if (!this.dirty) return;
    this.dirty = false;
    const saved: SavedLease[] = this.list().map((lease) => Object.freeze([lease.id, lease.ttl, lease.remainingTTL] as const));
    backend.setBucket(leaseBucket, Object.freeze(saved));
  }
}
