import type { ClientId, RequestId } from '../host/node.ts';
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
    const expired: Waiter[] = [];
    for (const [requestId, waiter] of this.waiting) {
      if (nowTick - waiter.sinceTick < timeoutTicks) break;
      expired.push(waiter);
      this.waiting.delete(requestId);
    }
    return expired;
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
