import { assert } from '../base/assert.ts';
import type { NodeId } from '../host/node.ts';
import type { ReadState } from '../raft/index.ts';

/**
 * etcd's linearizable read loop (server/etcdserver/read/read.go), as a state machine driven by
 * the server: reads that arrive while no round is in flight wait for the next one; a round asks
 * Raft for one read index on behalf of all of them (a ReadIndex request, confirmed by the leader
 * with a heartbeat round, §6.4), and once this member has applied up to that index every read
 * of the round is served from local state.
 *
 * What keeps it correct under pauses and leader changes (etcd #20418):
 * - Every ReadIndex request of a round, first or retry, carries a context used once: an answer to
 *   an earlier round (delayed by a pause, or to a request sent before the retry) is ignored, so a
 *   read index is never older than the reads it serves.
 * - A leader change while a round waits for its index fails the round (ErrLeaderChanged), as
 *   etcd checks the leader-changed notifier even when the answer is already there.
 * - A round waits for one leader: it starts only when the member knows a leader.
 *
 * A round answered is served only once the applied index reaches the read index (asserted when
 * served). Rounds are serial, as in etcd: the next starts once the previous is served or failed.
 */
export interface ReadRound<Read> {
  readonly reads: readonly Read[];
  /** The index the leader confirmed, once it has. */
  readonly confirmedIndex: number;
}

export class LinearizableReads<Read> {
  /** Reads waiting for the next round. */
  private queued: Read[] = [];
  private round: {
    reads: Read[];
    contexts: string[];
    leader: NodeId;
    startedAtTick: number;
    sentAtTick: number;
    confirmedIndex: number;
  } | null = null;

  /** How many reads wait, in a round or for one. */
  get size(): number {
    return this.queued.length + (this.round?.reads.length ?? 0);
  }

  add(read: Read): void {
    this.queued.push(read);
  }

  /** Whether `maybeStart` would start a round now. */
  canStart(leader: NodeId): boolean {
    return this.round === null && this.queued.length > 0 && leader !== 0;
  }

  /**
   * Starts a round when none is in flight and reads wait: `sendReadIndex` asks Raft with a fresh
   * context. Only with a known leader. The server calls it when it makes a Ready, not when a read
   * arrives: the round's ReadIndex leaves in that Ready either way, and every read that arrived
   * before it rides the round (etcd's loop likewise takes every read that signalled before it
   * woke) instead of waiting for the next.
   */
  maybeStart(leader: NodeId, nowTick: number, sendReadIndex: () => string): void {
    if (this.round !== null || this.queued.length === 0 || leader === 0) return;
    const context = sendReadIndex();
    this.round = { reads: this.queued, contexts: [context], leader, startedAtTick: nowTick, sentAtTick: nowTick, confirmedIndex: -1 };
    this.queued = [];
  }

  /** A ReadState from Raft: the answer to this round's request, or one to ignore. */
  onReadState(state: ReadState): void {
    const round = this.round;
    if (round === null || round.confirmedIndex >= 0 || !round.contexts.includes(state.requestContext)) return;
    round.confirmedIndex = state.index;
  }

  /** The leader changed: a round still waiting for its index fails; its reads are returned. */
  onLeaderChange(leader: NodeId): Read[] {
    const round = this.round;
    if (round === null || round.confirmedIndex >= 0 || round.leader === leader) return [];
    this.round = null;
    return round.reads;
  }

  /** The round, once confirmed and applied up to its index; it is then done. */
  takeServable(appliedIndex: number): ReadRound<Read> | null {
    const round = this.round;
    if (round === null || round.confirmedIndex < 0 || appliedIndex < round.confirmedIndex) return null;
    assert(appliedIndex >= round.confirmedIndex, 'a linearizable read served below its read index');
    this.round = null;
    return { reads: round.reads, confirmedIndex: round.confirmedIndex };
  }

  /**
   * Time passes: a round waiting too long for its index asks again with a fresh context (etcd
   * retries every 500 ms); one that waited past the request timeout fails, and its reads are
   * returned, with every queued read older than the timeout.
   */
  tick(nowTick: number, retryTicks: number, timeoutTicks: number, sendReadIndex: () => string, arrivedAtTick: (read: Read) => number): Read[] {
    const expired: Read[] = [];
    const round = this.round;
    if (round !== null && round.confirmedIndex < 0) {
      if (nowTick - round.startedAtTick >= timeoutTicks) {
        this.round = null;
        expired.push(...round.reads);
      } else if (nowTick - round.sentAtTick >= retryTicks) {
        round.contexts.push(sendReadIndex());
        round.sentAtTick = nowTick;
      }
    }
    if (this.queued.length > 0 && nowTick - arrivedAtTick(this.queued[0]!) >= timeoutTicks) {
      const keep: Read[] = [];
      for (const read of this.queued) (nowTick - arrivedAtTick(read) >= timeoutTicks ? expired : keep).push(read);
      this.queued = keep;
    }
    return expired;
  }

  /** Every waiting read, handed back (the server stopped). */
  drain(): Read[] {
    const all = [...(this.round?.reads ?? []), ...this.queued];
    this.round = null;
    this.queued = [];
    return all;
  }

  /** What checkers may read: the round in flight (its contexts and confirmed index) or none. */
  get inFlight(): { readonly contexts: readonly string[]; readonly confirmedIndex: number; readonly reads: number } | null {
    const round = this.round;
    return round === null ? null : { contexts: round.contexts, confirmedIndex: round.confirmedIndex, reads: round.reads.length };
  }
}
