import type { LeaseGrantResponse, LeaseKeepAliveResponse } from '../../core/api/index.ts';
import type { Random } from '../../core/base/random.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { EtcdCall, EtcdTraffic } from '../../sim/etcdClient.ts';
import { leaseKeyPrefix } from '../../properties/etcd/etcdHistory.ts';
import { get, pick, responseOf, UniqueValues } from './requests.ts';

/** A lease this client holds, as clientv3's lease client tracks it. */
interface HeldLease {
  readonly ID: number;
  readonly ttlSeconds: number;
  /** When the next keep-alive is due (clientv3 sends one every TTL/3). */
  nextKeepAliveUs: number;
  /** When the last keep-alive (or the grant) was acknowledged. */
  lastAckUs: number;
  keys: number;
}

const leasesMax = 3;

/**
 * TTLs for lease-long clients (session 21, task leasettl): a lease kept alive at a third of 20 or 30 s
 * is checkpointed (every 2 s in etcd-lease-checkpoints) three or four times before each renewal, so
 * its remaining TTL is several seconds short of its TTL when the leader changes; with the default
 * TTLs of 2-8 s a checkpoint is at most a second short, within the election timeout Promote adds,
 * and a checkpoint lost or kept over a renewal changed no expiry anyone could tell. Short ones stay
 * beside them, so that some leases still expire within a run.
 */
export const longTtlSeconds: readonly number[] = [5, 20, 30];

/**
 * Of a lease-long client's draws that would revoke a lease or let it go, the share (in 20ths) that
 * does; the others ask its time to live. With every draw acted on, a client holding three leases
 * drops one every 0.6 s or so, before its first checkpoint (2 s) and long before its first renewal.
 */
const longKeepsOutOf20 = 19;
const keysPerLeaseMax = 3;

/**
 * When a racing client's late keep-alive is sent: the primary expires a lease renewed at true time r
 * at the first tick at least its TTL (in ticks) plus one after r's tick, so between r + TTL and
 * r + TTL + a tick (100 ms); the acknowledgement came a little after r. Sent in that span (plus a
 * little), the keep-alive often reaches the primary after it proposed the revoke and before the
 * revoke applied there (etcd #20616's window, a few ms on a calm disk, longer on a slow one).
 */
const racingLateUsMax = 120_000;

/** TTLs for lease-racing clients: the shortest etcd allows here (1.5 election timeouts), so each lease lapses often in a run. */
export const racingTtlSeconds: readonly number[] = [2, 3];

function racingLateAt(random: Random, ackUs: number, ttlSeconds: number): number {
  return ackUs + ttlSeconds * 1_000_000 + random.between(0, racingLateUsMax);
}

/**
 * A client using leases as Kubernetes and etcd's own clients do (etcd's robustness traffic has
 * putWithLease and leaseRevoke): grants leases of a few seconds, keeps most of them alive at a
 * third of their TTL (clientv3's keep-alive loop), attaches keys to them by put, asks their time
 * to live with their keys, lists leases, revokes some, and stops keeping others alive so that the
 * leader expires them — and for half of those one late keep-alive arrives within 300 ms of the
 * expiry, racing it (a keep-alive loop that stalled): the leader must either renew the lease or
 * say it is gone, never acknowledge a renewal it then revokes. Keys live under
 * `lease/<tag>/<lease id>/`; values are unique.
 */
export class LeaseTraffic implements EtcdTraffic {
  readonly name: string;
  private readonly prefix: string;
  private readonly values: UniqueValues;
  private readonly ttlSeconds: readonly number[];
  private readonly held: HeldLease[] = [];
  /** Leases let go whose keep-alive loop wakes up once more around their expiry (a late keep-alive racing it). */
  private readonly lapsing: { readonly lease: HeldLease; readonly atUs: number }[] = [];
  private lateInFlight: HeldLease | null = null;
  /** Racing: late keep-alives that renewed their lease, and when; lapsing again from the next call. */
  private readonly renewedLate: { readonly lease: HeldLease; readonly ackUs: number }[] = [];
  /**
   * A third of the puts move their key: off its lease (a put without one) or onto another lease
   * this client holds, as etcd's robustness traffic mixes puts with and without a lease on one key
   * set. The lessor must detach such a key, or the old lease's revoke deletes it.
   */
  private readonly moves: boolean;
  /** Keep leases for many seconds (lease-long): most revokes and let-gos become time-to-live reads. */
  private readonly keeps: boolean;
  /**
   * Race every expiry (lease-racing): every lease let go lapses, its late keep-alive aimed just past
   * the leader's expiry (see `racingLateUsMax`), one that renewed is let go again at once, and revokes
   * become let-gos.
   */
  private readonly racing: boolean;

  constructor(options: { readonly tag: string; readonly ttlSeconds?: readonly number[]; readonly moves?: boolean; readonly keeps?: boolean; readonly racing?: boolean }) {
    this.prefix = `${leaseKeyPrefix}${options.tag}/`;
    this.name = `leases(${this.prefix}*)`;
    this.moves = options.moves ?? false;
    this.keeps = options.keeps ?? false;
    this.racing = options.racing ?? false;
    this.values = new UniqueValues(options.tag);
    this.ttlSeconds = options.ttlSeconds ?? [2, 3, 5, 8];
  }

  next(random: Random, nowUs: number): EtcdCall {
    for (const { lease, ackUs } of this.renewedLate.splice(0)) this.lapsing.push({ lease, atUs: racingLateAt(random, ackUs, lease.ttlSeconds) });
    const due = this.held.find((lease) => nowUs >= lease.nextKeepAliveUs);
    if (due !== undefined) return { request: { method: 'LeaseKeepAlive', request: { ID: due.ID } } };
    const late = this.lapsing.findIndex(({ atUs }) => nowUs >= atUs);
    if (late >= 0) {
      const lease = this.lapsing.splice(late, 1)[0]!.lease;
      this.lateInFlight = lease;
      return { request: { method: 'LeaseKeepAlive', request: { ID: lease.ID } } };
    }
    const roll = random.below(100);
    if (this.held.length === 0 || (roll < 20 && this.held.length < leasesMax)) return { request: { method: 'LeaseGrant', request: { TTL: pick(random, this.ttlSeconds) } } };
    const lease = pick(random, this.held);
    if (roll < 55 && lease.keys < keysPerLeaseMax) {
      lease.keys++;
      const key = `${this.prefix}${lease.ID.toString(16)}/${random.below(keysPerLeaseMax)}`;
      return { request: { method: 'Put', request: { key, value: this.values.next(), lease: this.moves ? this.leaseOfPut(random, lease) : lease.ID } } };
    }
    if (roll < 70) return { request: { method: 'LeaseTimeToLive', request: { ID: lease.ID, keys: true } } };
    if (roll < 78) return get(this.prefix, { rangeEnd: `${this.prefix}\xff` });
    if (roll < 82) return { request: { method: 'LeaseLeases', request: {} } };
    if (this.keeps && random.below(20) < longKeepsOutOf20) return { request: { method: 'LeaseTimeToLive', request: { ID: lease.ID, keys: false } } };
    if (roll < 90 && !this.racing) {
      this.drop(lease.ID);
      return { request: { method: 'LeaseRevoke', request: { ID: lease.ID } } };
    }
    // Stop keeping it alive: the leader expires it; the client forgets it (its keys go with it),
    // or wakes up once more around the expiry.
    this.drop(lease.ID);
    if (this.racing) this.lapsing.push({ lease, atUs: racingLateAt(random, lease.lastAckUs, lease.ttlSeconds) });
    else if (random.below(2) === 0) this.lapsing.push({ lease, atUs: lease.lastAckUs + lease.ttlSeconds * 1_000_000 + random.between(-300_000, 300_000) });
    return { request: { method: 'LeaseTimeToLive', request: { ID: lease.ID } } };
  }

  onComplete(request: ServerRequest, reply: ServerReply | null, nowUs: number): void {
    const response = responseOf(reply);
    const late = this.lateInFlight;
    this.lateInFlight = null;
    if (response === null) return;
    // A late keep-alive that renewed its lease: the client keeps it alive again (a racing one lets it lapse again).
    if (late !== null && request.method === 'LeaseKeepAlive' && (response as LeaseKeepAliveResponse).TTL > 0) {
      if (this.racing) this.renewedLate.push({ lease: late, ackUs: nowUs });
      else if (this.held.length < leasesMax) this.held.push(late);
    }
    if (request.method === 'LeaseGrant') {
      const { ID, TTL } = response as LeaseGrantResponse;
      this.held.push({ ID, ttlSeconds: TTL, nextKeepAliveUs: nowUs + (TTL * 1_000_000) / 3, lastAckUs: nowUs, keys: 0 });
    } else if (request.method === 'LeaseKeepAlive') {
      const { ID, TTL } = response as LeaseKeepAliveResponse;
      const lease = this.held.find((held) => held.ID === ID);
      if (lease === undefined) return;
      // TTL 0: the lease is gone (expired or revoked): clientv3 closes its keep-alive channel.
      if (TTL === 0) this.drop(ID);
      else {
        lease.nextKeepAliveUs = nowUs + (TTL * 1_000_000) / 3;
        lease.lastAckUs = nowUs;
      }
    }
  }

  /** Short pauses between calls: keep-alives must not wait behind a long think. */
  think(random: Random): number {
    return random.between(0, 80_000);
  }

  /** The lease a moving put names: its own two times in three, else none or another held lease. */
  private leaseOfPut(random: Random, lease: HeldLease): number {
    if (random.below(3) !== 0) return lease.ID;
    return random.below(2) === 0 ? 0 : pick(random, this.held).ID;
  }

  private drop(ID: number): void {
    const at = this.held.findIndex((lease) => lease.ID === ID);
    if (at >= 0) this.held.splice(at, 1);
  }
}
