import type { Bytes } from '../api/index.ts';

/** No expiry: a lease on a member that is not the primary (etcd's `forever`). */
export const forever = Number.POSITIVE_INFINITY;

/** A remaining TTL proposed through Raft (etcd's LeaseCheckpoint): 0 means "the full TTL". */
export interface LeaseCheckpoint {
  readonly ID: number;
  readonly remainingTTL: number;
}

/**
 * One lease (etcd's lease.Lease): its id, granted TTL and last checkpointed remaining TTL
 * (replicated), the keys attached to it (replicated, rebuilt from the store), and its expiry on
 * this member's clock in ticks (the primary's alone; `forever` elsewhere).
 */
export class Lease {
  readonly id: number;
  /** Seconds. */
  readonly ttl: number;
  /** Seconds; 0 when unset (the full TTL applies). */
  remainingTTL: number;
  readonly keys = new Set<Bytes>();
  /** The tick at which the lease is expired (`expired(now)` once `now >= expiry`). */
  expiry = forever;

  constructor(id: number, ttl: number, remainingTTL: number) {
    this.id = id;
    this.ttl = ttl;
    this.remainingTTL = remainingTTL;
  }

  /** etcd's RemainingTTL: the checkpointed remaining TTL if set, else the TTL (seconds). */
  remainingSeconds(): number {
    return this.remainingTTL > 0 ? this.remainingTTL : this.ttl;
  }

  /**
   * etcd's refresh(extend): expires `extendTicks` plus the remaining TTL (the full TTL on a renewal)
   * from now. One tick more than that: `now` is the tick count, and the true time may be up to a
   * tick past it, so without it a lease renewed just before a tick would expire early.
   */
  refresh(now: number, extendTicks: number, ticksPerSecond: number, fullTTL = false): void {
    const seconds = fullTTL ? this.ttl : this.remainingSeconds();
    this.expiry = now + extendTicks + seconds * ticksPerSecond + 1;
  }

  expired(now: number): boolean {
    return now >= this.expiry;
  }
}
