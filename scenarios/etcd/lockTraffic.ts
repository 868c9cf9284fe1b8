import type { KeyValue, LeaseGrantResponse, LeaseKeepAliveResponse, RangeResponse, TxnResponse } from '../../core/api/index.ts';
import type { Random } from '../../core/base/random.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { EtcdCall, EtcdTraffic } from '../../sim/etcdClient.ts';
import { leaseKeyPrefix } from '../../properties/etcd/etcdHistory.ts';
import { createRevisionIs, get, opGet, responseOf, txn } from './requests.ts';

/** The lock's keys: owners under one prefix (etcd's Mutex pfx), and the counter the lock protects. */
export const lockPrefix = `${leaseKeyPrefix}lock/owners/`;
export const lockCounterKey = `${leaseKeyPrefix}lock/counter`;

type Step = 'grant' | 'enqueue' | 'wait' | 'read' | 'write' | 'release';

export interface LockOptions {
  /** The session lease's TTL in seconds (clientv3's concurrency.NewSession, WithTTL). */
  readonly ttlSeconds: number;
  /** Write the counter only if this client's lock key is still the one it created (revision fencing). */
  readonly fenced: boolean;
  /** Percent of critical sections in which the client's process pauses (GC, VM steal) for 1 to 2 TTLs before it writes. */
  readonly pausePercent: number;
}

/**
 * A client of etcd's lock recipe (clientv3/concurrency mutex.go, with its session's keep-alives):
 * a session lease; a key `owners/<lease>` put under it if absent (compare create_revision = 0),
 * its create revision the client's place in line; the lock is held once that key has the lowest
 * create revision under the prefix (etcd waits for the deletes of the keys before it; this client
 * polls); released by deleting the key. Keys are `owners/<lease id in hex>`. A lease that expires takes the key with it, and the next
 * in line takes the lock.
 *
 * In its critical section the client increments a counter: it reads it, then writes it plus one.
 * Jepsen (etcd 3.4.3) showed why this is unsafe: nothing stops a holder whose lease expired — its
 * process paused, its keep-alives went to a stalled member — from writing after the next holder
 * took the lock. Two writes of the same counter value then prove two holders at once (the
 * mutual-exclusion check). Fenced, the write is a txn that requires the holder's lock key to still
 * have the create revision it acquired with, so a late holder's write fails instead (etcd's docs:
 * use the lock's revision as a fencing token).
 */
export class LockTraffic implements EtcdTraffic {
  readonly name: string;
  private readonly options: LockOptions;
  private step: Step = 'grant';
  private session = 0;
  private nextKeepAliveUs = 0;
  /** This client's key and its create revision (its place in line), once enqueued. */
  private myKey = '';
  private myRevision = 0;
  private counter = 0;
  private pauseUs = 0;

  constructor(options: LockOptions) {
    this.options = options;
    this.name = `lock(${options.fenced ? 'fenced' : 'unfenced'}, TTL ${options.ttlSeconds} s)`;
  }

  next(_random: Random, nowUs: number): EtcdCall {
    if (this.session !== 0 && nowUs >= this.nextKeepAliveUs) {
      return { request: { method: 'LeaseKeepAlive', request: { ID: this.session } } };
    }
    switch (this.step) {
      case 'grant':
        return { request: { method: 'LeaseGrant', request: { TTL: this.options.ttlSeconds } } };
      case 'enqueue': {
        this.myKey = `${lockPrefix}${this.session.toString(16)}`;
        const put = { requestPut: { key: this.myKey, value: '', lease: this.session } };
        return txn([createRevisionIs(this.myKey, 0)], [put, ownerOp()], [opGet(this.myKey), ownerOp()]);
      }
      case 'wait':
        return { request: { method: 'Range', request: ownerOp().requestRange! } };
      case 'read':
        return get(lockCounterKey);
      case 'write': {
        const value = String(this.counter + 1);
        if (!this.options.fenced) return { request: { method: 'Put', request: { key: lockCounterKey, value } } };
        return txn([createRevisionIs(this.myKey, this.myRevision)], [{ requestPut: { key: lockCounterKey, value } }], []);
      }
      case 'release':
        return { request: { method: 'DeleteRange', request: { key: this.myKey } } };
    }
  }

  onComplete(request: ServerRequest, reply: ServerReply | null, nowUs: number): void {
    const response = responseOf(reply);
    if (request.method === 'LeaseKeepAlive') return this.keptAlive(response as LeaseKeepAliveResponse | null, nowUs);
    switch (this.step) {
      case 'grant':
        if (response === null) return;
        this.session = (response as LeaseGrantResponse).ID;
        this.nextKeepAliveUs = nowUs + this.keepAliveEveryUs();
        this.step = 'enqueue';
        return;
      case 'enqueue': {
        if (response === null) return this.startOver();
        const answer = response as TxnResponse;
        const mine = answer.succeeded ? answer.header.revision : answer.responses[0]!.responseRange!.kvs[0]?.createRevision;
        if (mine === undefined) return this.startOver();
        this.myRevision = mine;
        return this.sawOwner(firstCreated(answer.responses[1]!.responseRange!.kvs));
      }
      case 'wait':
        if (response === null) return;
        return this.sawOwner(firstCreated((response as RangeResponse).kvs));
      case 'read':
        if (response === null) return void (this.step = 'release');
        this.counter = Number((response as RangeResponse).kvs[0]?.value ?? '0');
        this.step = 'write';
        // The client's process may pause here, holding (it believes) the lock, keep-alives stopped.
        if (this.pauseComing(nowUs)) this.pauseUs = Math.round(this.options.ttlSeconds * 1_000_000 * (1 + ((nowUs >>> 4) % 100) / 100));
        return;
      case 'write':
        this.step = 'release';
        return;
      case 'release':
        // An unknown delete may not have happened: the lease's expiry removes the key in the end.
        this.myKey = '';
        this.step = this.session === 0 ? 'grant' : 'enqueue';
        return;
    }
  }

  think(random: Random): number {
    const pause = this.pauseUs;
    this.pauseUs = 0;
    if (pause > 0) return pause;
    return this.step === 'wait' ? random.between(20_000, 60_000) : random.between(0, 30_000);
  }

  /** A pause drawn from the call's time (a replayed workload draws nothing), in `pausePercent` of critical sections. */
  private pauseComing(nowUs: number): boolean {
    return (Math.imul(nowUs | 0, 0x9e3779b1) >>> 0) % 100 < this.options.pausePercent;
  }

  private sawOwner(owner: KeyValue | undefined): void {
    if (owner !== undefined && owner.createRevision === this.myRevision) {
      this.step = 'read';
      return;
    }
    // Our key is gone (the session expired and took it): etcd's Lock answers ErrSessionExpired.
    if (owner === undefined || owner.createRevision > this.myRevision) return this.startOver();
    this.step = 'wait';
  }

  private keptAlive(response: LeaseKeepAliveResponse | null, nowUs: number): void {
    if (response === null) return;
    if (response.TTL > 0) {
      this.nextKeepAliveUs = nowUs + this.keepAliveEveryUs();
      return;
    }
    // The session's lease is gone. Outside the critical section the client starts over; inside it,
    // it carries on (it cannot know in time: Jepsen's point).
    this.session = 0;
    if (this.step === 'enqueue' || this.step === 'wait') {
      this.myKey = '';
      this.step = 'grant';
    }
  }

  /** Gives up the place in line (or what is left of it) and begins again. */
  private startOver(): void {
    this.step = this.myKey === '' ? (this.session === 0 ? 'grant' : 'enqueue') : 'release';
  }

  private keepAliveEveryUs(): number {
    return (this.options.ttlSeconds * 1_000_000) / 3;
  }
}

/**
 * etcd's getOwner asks for the first key under the prefix by create revision (sorted, limit 1);
 * this client reads the few keys there and picks it itself, so that the checker's model (which
 * does not sort by create revision) can judge the txn.
 */
function ownerOp() {
  return opGet(lockPrefix, { rangeEnd: `${lockPrefix}\xff` });
}

function firstCreated(kvs: readonly KeyValue[]): KeyValue | undefined {
  let first: KeyValue | undefined;
  for (const kv of kvs) if (first === undefined || kv.createRevision < first.createRevision) first = kv;
  return first;
}
