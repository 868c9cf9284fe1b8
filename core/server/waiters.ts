import { ErrNoLeader, ErrTimeout, ErrTimeoutLeaderTransfer, type EtcdError } from '../api/index.ts';
import type { ClientId, NodeId, RequestId } from '../host/node.ts';
import type { EtcdServerConfig } from './config.ts';
import { LinearizableReads } from './linearizableReads.ts';
import type { ServerRequest } from './serverRequest.ts';

/** A client's call waiting for something (its entry to apply, a read index, a leader). */
export interface Waiter {
  readonly client: ClientId;
  readonly id: RequestId;
  readonly request: ServerRequest;
  /** The member's tick count when the call arrived. */
  readonly sinceTick: number;
}

/**
 * Calls whose entries were proposed, by request id (etcd's wait.Wait): the apply of the entry
 * triggers its waiter on the member that proposed it. Insertion order is arrival order, so expiry
 * looks only at the oldest ones.
 */
export class ProposalWaiters {
  private readonly waiting = new Map<number, Waiter>();

  get size(): number {
    return this.waiting.size;
  }

  register(requestId: number, waiter: Waiter): void {
    this.waiting.set(requestId, waiter);
  }

  /** The waiter of a request id, removed; undefined when none waits (proposed elsewhere, expired, or internal). */
  take(requestId: number): Waiter | undefined {
    const waiter = this.waiting.get(requestId);
    if (waiter !== undefined) this.waiting.delete(requestId);
    return waiter;
  }

  /** Removes and returns the waiters that arrived `timeoutTicks` or more ago. */
  expire(nowTick: number, timeoutTicks: number): Waiter[] {
    return removeExpired(this.waiting, nowTick, timeoutTicks, true);
  }

  drain(): Waiter[] {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    return all;
  }
}

/**
 * Calls that need a leader and arrived while the member knew none (etcd's raft node blocks a
 * proposal until there is a leader; its waitLeader gives up after an election timeout). They are
 * dispatched when a leader appears, or answered ErrNoLeader when none did in time.
 */
export class LeaderWaiters {
  private waiting: Waiter[] = [];

  get size(): number {
    return this.waiting.length;
  }

  add(waiter: Waiter): void {
    this.waiting.push(waiter);
  }

  takeAll(): Waiter[] {
    const all = this.waiting;
    this.waiting = [];
    return all;
  }

  expire(nowTick: number, timeoutTicks: number): Waiter[] {
    if (this.waiting.length === 0 || nowTick - this.waiting[0]!.sinceTick < timeoutTicks) return [];
    const expired = this.waiting.filter((waiter) => nowTick - waiter.sinceTick >= timeoutTicks);
    this.waiting = this.waiting.filter((waiter) => nowTick - waiter.sinceTick < timeoutTicks);
    return expired;
  }
}

const nothingWaits = Object.freeze({ retrying: Object.freeze([]) as readonly Waiter[], expired: Object.freeze([]) as readonly Waiter[] });

/**
 * Lease calls only the primary lessor can answer (etcd's LeaseRenew / LeaseTimeToLive forwarding
 * loop): those forwarded to the leader, by forward id, and those waiting to try again (no leader
 * known, or the leader is not the primary yet), every one until the request timeout.
 */
export class LeaseCallWaiters {
  private readonly forwarded = new Map<number, Waiter>();
  private waiting: Waiter[] = [];
  private nextForwardId = 1;

  get size(): number {
    return this.forwarded.size + this.waiting.length;
  }

  forward(waiter: Waiter): number {
    const forwardId = this.nextForwardId++;
    this.forwarded.set(forwardId, waiter);
    return forwardId;
  }

  takeForwarded(forwardId: number): Waiter | undefined {
    const waiter = this.forwarded.get(forwardId);
    this.forwarded.delete(forwardId);
    return waiter;
  }

  retry(waiter: Waiter): void {
    this.waiting.push(waiter);
  }

  /** The calls to try again now, and those whose time ran out (forwarded or waiting). */
  tick(nowTick: number, timeoutTicks: number): { readonly retrying: readonly Waiter[]; readonly expired: readonly Waiter[] } {
    if (this.forwarded.size === 0 && this.waiting.length === 0) return nothingWaits;
    const expired: Waiter[] = [];
    for (const [forwardId, waiter] of this.forwarded) {
      if (nowTick - waiter.sinceTick < timeoutTicks) break;
      expired.push(waiter);
      this.forwarded.delete(forwardId);
    }
    const retrying: Waiter[] = [];
    for (const waiter of this.waiting) (nowTick - waiter.sinceTick >= timeoutTicks ? expired : retrying).push(waiter);
    this.waiting = [];
    return { retrying, expired };
  }

  drain(): Waiter[] {
    const all = [...this.forwarded.values(), ...this.waiting];
    this.forwarded.clear();
    this.waiting = [];
    return all;
  }
}

/** Removes and returns the entries `timeoutTicks` or more past their sinceTick; `ordered`: the map is in sinceTick order (stop at the first live one). */
function removeExpired<K, T extends { readonly sinceTick: number }>(map: Map<K, T>, nowTick: number, timeoutTicks: number, ordered: boolean): T[] {
  const expired: T[] = [];
  for (const [key, entry] of map) {
    if (nowTick - entry.sinceTick < timeoutTicks) {
      if (ordered) break;
      continue;
    }
    expired.push(entry);
    map.delete(key);
  }
  return expired;
}

/** Who a renewal waiting for its clearing checkpoint answers: a client of this member, or a member that forwarded it. */
export type RenewalAnswer = { readonly waiter: Waiter } | { readonly forwardedBy: NodeId; readonly forwardId: number };

export interface PendingRenewal {
  readonly ID: number;
  readonly sinceTick: number;
  readonly answer: RenewalAnswer;
}

/**
 * Keep-alives of checkpointed leases on the primary, waiting for the checkpoint of 0 they proposed
 * to apply (etcd's Renew waits on le.cp, a raftRequestOnce), by the request id of that proposal.
 * Bounded (`limit`; the caller refuses more) and timed out after a request timeout.
 */
export class LeaseRenewals {
  static readonly limit = 1024;
  private readonly pending = new Map<number, PendingRenewal>();

  get size(): number {
    return this.pending.size;
  }

  get full(): boolean {
    return this.pending.size >= LeaseRenewals.limit;
  }

  add(requestId: number, renewal: PendingRenewal): void {
    this.pending.set(requestId, renewal);
  }

  take(requestId: number): PendingRenewal | undefined {
    const renewal = this.pending.get(requestId);
    this.pending.delete(requestId);
    return renewal;
  }

  /** The renewals whose clear did not apply within `timeoutTicks` of their start, removed. */
  expire(nowTick: number, timeoutTicks: number): PendingRenewal[] {
    // Not in sinceTick order: a client's call starts at its arrival, a forwarded one at the forward.
    return removeExpired(this.pending, nowTick, timeoutTicks, false);
  }

  /** The client calls waiting (the member stopped); forwarded ones are dropped (their forwarder times them out). */
  drain(): Waiter[] {
    const waiters: Waiter[] = [];
    for (const { answer } of this.pending.values()) if ('waiter' in answer) waiters.push(answer.waiter);
    this.pending.clear();
    return waiters;
  }
}

/**
 * Everything a member waits on for its clients, and for itself, each kind with its bound and its
 * timeout: proposals until applied (ErrTimeout), read rounds (ErrTimeout), calls waiting for a
 * leader (ErrNoLeader after an election timeout), physical compactions until done, leader
 * transfers until the transferee leads (ErrTimeoutLeaderTransfer), and the member's own internal
 * proposals (forgotten after the request timeout).
 */
export class ServerWaiters {
  readonly proposals = new ProposalWaiters();
  readonly reads = new LinearizableReads<Waiter>();
  readonly leader = new LeaderWaiters();
  readonly leases = new LeaseCallWaiters();
  /** Keep-alives waiting for their clearing checkpoint to apply (this member is, or was, the primary). */
  readonly renewals = new LeaseRenewals();
  /** Physical compactions waiting for the compaction to finish, with their responses. */
  compactions: { readonly waiter: Waiter; readonly response: unknown }[] = [];
  /** MoveLeader calls waiting for the transferee to lead. */
  transfers: { readonly waiter: Waiter; readonly target: NodeId }[] = [];
  /** Request ids of the member's own proposals (an alarm raised, attributes published), by the tick they were made. */
  private readonly internal = new Map<number, number>();

  /** Client calls waiting, of every kind (the bound that ErrTooManyRequests enforces). */
  get size(): number {
    return this.proposals.size + this.reads.size + this.leader.size + this.leases.size + this.renewals.size + this.compactions.length + this.transfers.length;
  }

  addInternal(requestId: number, nowTick: number): void {
    this.internal.set(requestId, nowTick);
  }

  /** Whether `requestId` was one of the member's own proposals (it is forgotten now). */
  takeInternal(requestId: number): boolean {
    return this.internal.delete(requestId);
  }

  /** The calls whose time ran out, each with the error it gets; also retries read rounds (see LinearizableReads). */
  expire(nowTick: number, config: EtcdServerConfig, proposalTimeout: (waiter: Waiter) => EtcdError, sendReadIndex: () => string): [Waiter, EtcdError][] {
    const expired: [Waiter, EtcdError][] = [];
    const timeout = config.requestTimeoutTicks;
    for (const waiter of this.proposals.expire(nowTick, timeout)) expired.push([waiter, proposalTimeout(waiter)]);
    for (const waiter of this.reads.tick(nowTick, config.readIndexRetryTicks, timeout, sendReadIndex, (read) => read.sinceTick)) expired.push([waiter, ErrTimeout]);
    for (const waiter of this.leader.expire(nowTick, config.electionTicks)) expired.push([waiter, ErrNoLeader]);
    if (this.transfers.length > 0) {
      for (const { waiter } of this.transfers) if (nowTick - waiter.sinceTick >= timeout) expired.push([waiter, ErrTimeoutLeaderTransfer]);
      this.transfers = this.transfers.filter(({ waiter }) => nowTick - waiter.sinceTick < timeout);
    }
    for (const [requestId, sinceTick] of this.internal) {
      if (nowTick - sinceTick < timeout) break;
      this.internal.delete(requestId);
    }
    return expired;
  }

  /** Every client call waiting, handed back (the member stopped). */
  drain(): Waiter[] {
    const all = [...this.proposals.drain(), ...this.reads.drain(), ...this.leader.takeAll(), ...this.leases.drain(), ...this.renewals.drain(), ...this.compactions.map(({ waiter }) => waiter), ...this.transfers.map(({ waiter }) => waiter)];
    this.compactions = [];
    this.transfers = [];
    return all;
  }
}
