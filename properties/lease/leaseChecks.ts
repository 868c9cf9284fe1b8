import { AssertionError } from '../../core/base/assert.ts';
import type { ClientId, NodeId } from '../../core/host/node.ts';
import { isErrorReply, type EtcdServer, type PeerMessage, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';
import type { Simulation } from '../../sim/simulation.ts';
import type { LeaseLogEntry } from '../../core/server/leaseLog.ts';
import { LeaseExpiryBound, type LeaseBoundStats } from './leaseExpiryBound.ts';
import { LeaseLogCursors } from './leaseLogCursors.ts';
import { StaleCheckpoints, type StaleCheckpointStats } from './staleCheckpoints.ts';

type EtcdSimulation = Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

export interface LeaseCheckOptions {
  /**
   * Judge expiries against the simulator's true time (see below). Off where the scenario's faults
   * are known to break it in etcd too, and the scenario says so.
   */
  readonly timing: boolean;
  /** LeaseExpiryBound's window of indexes (tests make it small). */
  readonly window?: number;
}

export interface LeaseCheckStats extends LeaseBoundStats, Partial<StaleCheckpointStats> {
  /** Leases a primary proposed to expire, judged against their deadlines. */
  expiriesJudged: number;
  /** Revokes applied (by a client or an expiry), each followed by the key check. */
  revokesChecked: number;
  /** Keys that went with their lease. */
  keysRevoked: number;
  /** Leases with a promised deadline whose expiry a promotion set, judged against it in true time. */
  promotionsJudged: number;
  /** Snapshot installs whose rebuilt lessor was judged against the log's checkpoints (LeaseExpiryBound.checkRestored). */
  installsJudged: number;
  /**
   * Replies not judged: to a call forgotten unanswered (CallArrivals), or a keep-alive's of a lease
   * with no deadline (its grant's answer unseen, or the lease revoked and forgotten by the bound).
   */
  repliesUnjudged?: number;
  /**
   * Keep-alives of a granted lease answered "gone" (TTL 0) before any member applied its revoke: a
   * primary refused a renewal inside etcd #20616's window (it proposed the expiry, the revoke is on
   * its way), which the mutant etcd-lease-renewed-while-expiring turns into a renewal.
   */
  renewalsRefusedBeforeRevoke?: number;
}

/**
 * The first arrival of each lease call at a member, by client and request id, until it is answered.
 * A call may never be (its member crashed, the client gave up): each client's `perClient` latest
 * calls are kept, older ones forgotten (a client makes one call at a time, and retries one at most
 * at every member), so a long run holds at most that many per client.
 */
export class CallArrivals {
  private readonly byClient = new Map<ClientId, Map<number, number>>();
  private readonly perClient: number;
  /** Calls forgotten unanswered. */
  forgotten = 0;

  constructor(perClient = 16) {
    this.perClient = perClient;
  }

  get size(): number {
    let size = 0;
    for (const calls of this.byClient.values()) size += calls.size;
    return size;
  }

  arrived(client: ClientId, requestId: number, us: number): void {
    let calls = this.byClient.get(client);
    if (calls === undefined) this.byClient.set(client, (calls = new Map()));
    if (calls.has(requestId)) return;
    calls.set(requestId, us);
    // Insertion order is arrival order: the oldest first.
    if (calls.size > this.perClient) {
      calls.delete(calls.keys().next().value!);
      this.forgotten++;
    }
  }

  /** The call's first arrival, forgetting it (it is answered); undefined when it was never seen or forgotten. */
  answered(client: ClientId, requestId: number): number | undefined {
    const calls = this.byClient.get(client);
    const us = calls?.get(requestId);
    if (us !== undefined) calls!.delete(requestId);
    return us;
  }
}

/**
 * etcd's lease guarantees, checked at the first wrong step on every member:
 *
 * - A lease's keys go with it, in one revision: when a revoke (a client's or an expiry's) applies
 *   on a member, no live key there still names the lease, and every live key with a lease names one
 *   that exists (the StateMachine asserts that an apply is one revision).
 * - A lease never expires before its TTL has passed in TRUE time (the simulator's, not any
 *   member's clock) since the last keep-alive (or the grant) the client was told succeeded. The
 *   renewal happened after the call reached the first member it was sent to, so the deadline is
 *   that arrival plus the TTL the answer gave. The check fires when the leader proposes the
 *   expiry — the first wrong step, whether or not the revoke then commits — unless a later term
 *   is known somewhere (a deposed leader's proposal cannot commit), and again when the revoke
 *   first applies (a keep-alive acknowledged while the expiry was on its way through Raft promised
 *   a TTL the lease did not get).
 * - A primary never renews a lease after proposing its expiry, until the revoke applies there or
 *   it is promoted again (etcd #20616; judgeRenewal, at the renewal, timing or not).
 * - A checkpoint a primary computed before a renewal never applies after it (StaleCheckpoints, at
 *   the renewal, timing or not).
 * - A lease never expires LATER than etcd's lessor allows: at most its TTL after a grant or renewal
 *   on the primary, at most an election timeout plus its last checkpointed remaining TTL after a
 *   promotion, and checkpoints stay scheduled (LeaseExpiryBound; on the primary's clock, always on).
 *
 * etcd's lessor keeps the second only while its assumptions hold: the leader's clock runs at
 * true speed (drift and forward jumps shorten leases), and a deposed leader stops answering
 * keep-alives within an election timeout of its successor's promotion (a paused leader that wakes
 * up and renews before it hears of the new term acknowledges a renewal its successor never sees).
 * Scenarios with those faults turn `timing` off or expect the violation.
 */
export function leaseChecks(options: LeaseCheckOptions, stats?: LeaseCheckStats): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  const counts = stats ?? { expiriesJudged: 0, revokesChecked: 0, keysRevoked: 0, promotionsJudged: 0, installsJudged: 0, checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0 };
  const arrivals = new CallArrivals();
  /** By lease: the true time before which it must not expire, what set it, and the lease's TTL. */
  const deadlines = new Map<number, { readonly us: number; readonly why: string; readonly ttl: number }>();
  /** Leases whose revoke some member applied (the first apply is the one judged). */
  const revoked = new Set<number>();
  // A lease revoked far enough back is forgotten by the bound (no state it judges holds it): here too.
  const bound = new LeaseExpiryBound(counts, {
    ...(options.window === undefined ? {} : { window: options.window }),
    forgotten: (lease) => {
      deadlines.delete(lease);
      revoked.delete(lease);
    },
  });
  counts.clearsOverProposedCheckpoints ??= 0;
  counts.renewalsOverProposedCheckpoints ??= 0;
  counts.checkpointProposalsForgotten ??= 0;
  // A checkpoint computed before a renewal must not apply after it (judged at the renewal, always on).
  const stale = new StaleCheckpoints(counts as LeaseCheckStats & StaleCheckpointStats);
  const cursors = new LeaseLogCursors();
  /**
   * Each member's server and state machine as last seen: a new server is a restart, a new state
   * machine of the same server a snapshot install; either rebuilt its lessor from a backend, which
   * is judged (LeaseExpiryBound.checkRestored).
   */
  const incarnations = new Map<NodeId, { readonly server: EtcdServer; state: EtcdServer['state'] }>();
  /**
   * This event's acknowledged grants and keep-alives and applied checkpoints, judged by judgeCover
   * after it, once every lease log entry it wrote is read: the apply of a renewal's clear answers it
   * in the same event, and a batch may apply a checkpoint and, later in it, the clear that follows.
   */
  const coversToJudge: { readonly ID: number; readonly member: NodeId; readonly what: string }[] = [];
  const judgeExpiry = (lease: number, nowUs: number, what: string): void => {
    const deadline = deadlines.get(lease);
    if (deadline === undefined || nowUs >= deadline.us) return;
    throw new AssertionError(`lease ${lease} expired early: ${what}, ${deadline.us - nowUs}us before its TTL had passed in true time since ${deadline.why}`);
  };

  /**
   * A promotion must not set an expiry that comes, in true time, before a deadline already
   * promised: etcd's one-election-timeout extension plus the checkpointed remaining TTL covers
   * every keep-alive acknowledged before it. A lease promoted too short expires early as soon as its
   * client stops renewing it (which it may), so this is the first wrong step of the early expiry
   * judged above, not a stricter rule (a checkpoint lost or kept over a renewal: #13491's class).
   * The promotion's tick came at most a tick before now (no drift, no jumps where timing is judged),
   * so tick `expiry` comes no earlier than now + (expiry - tick - 1) ticks.
   */
  const judgePromotion = (sim: EtcdSimulation, id: NodeId, server: EtcdServer, index: number, tick: number): void => {
    const tickUs = server.config.tickMs * 1000;
    for (const lease of server.state.lessor.list()) {
      const deadline = deadlines.get(lease.id);
      if (deadline === undefined || lease.expiry === Number.POSITIVE_INFINITY) continue;
      counts.promotionsJudged++;
      const earliestUs = sim.nowUs + (lease.expiry - tick - 1) * tickUs;
      if (earliestUs < deadline.us) {
        throw new AssertionError(`lease ${lease.id} promoted to expire early: member ${id} promoted its lessor at its tick ${tick} (empty entry ${index}, at ${sim.nowUs}us) and expires the lease at its tick ${lease.expiry} (remaining TTL ${lease.remainingTTL} s, TTL ${lease.ttl} s), at ${earliestUs}us at the earliest, ${deadline.us - earliestUs}us before its TTL has passed in true time since ${deadline.why}`);
      }
    }
  };

  /**
   * The replicated lease state must keep every promise: a primary promoted at any moment runs a
   * lease for an election timeout plus the remaining TTL of its last committed checkpoint (its TTL
   * when none, or a renewal's 0), and that must not end before the lease's deadline. Judged when a
   * deadline moves (an acknowledged grant or keep-alive) and when a checkpoint first applies;
   * between them the bound only grows. A renewal acknowledged over a stale checkpoint (not cleared,
   * or a clear lost) breaks it at once, whether or not the leader then changes (#13491's class).
   */
  const judgeCover = (lease: number, nowUs: number, server: EtcdServer, what: string): void => {
    const deadline = deadlines.get(lease);
    if (deadline === undefined) return;
    const { remaining, index } = bound.remainingNow(lease, deadline.ttl);
    const earliestUs = nowUs + electionUs(server) + remaining * 1_000_000;
    if (earliestUs >= deadline.us) return;
    const held = server.state.lessor.lookup(lease);
    const its = `member ${server.id} (${server.softState.role}, term ${server.hardState.term}, applied ${server.appliedIndex}, ${server.state.lessor.primary ? 'primary' : 'not primary'}) holds ${held === undefined ? 'no such lease' : `remaining TTL ${held.remainingTTL}`}`;
    throw new AssertionError(`lease ${lease} left to expire early by a new leader: ${what} at ${nowUs}us, a primary promoted from then on runs it from ${index === undefined ? `its TTL of ${remaining} s` : `the remaining TTL of ${remaining} s of the checkpoint at index ${index}`} plus an election timeout, to ${earliestUs}us at the earliest, ${deadline.us - earliestUs}us before its TTL has passed in true time since ${deadline.why}; ${its}`);
  };

  /**
   * A primary never renews a lease it saw expire (etcd #20616): from its expiry proposal on, until
   * the revoke applies there or the lessor is promoted again (Promote gives every lease a new
   * expiry), a keep-alive must be answered "gone" (TTL 0), or its client is told the lease lives
   * while its revoke is on its way through Raft. Judged at the renewal itself, on every member's
   * own log (a lease log is a member incarnation's: a restart starts clean), timing or not.
   */
  const expiringOn = new WeakMap<EtcdServer, Map<number, number>>();
  const judgeRenewal = (id: NodeId, server: EtcdServer, entry: LeaseLogEntry): void => {
    let expiring = expiringOn.get(server);
    if (expiring === undefined) expiringOn.set(server, (expiring = new Map()));
    if (entry.kind === 'expiring') {
      if (!expiring.has(entry.ID)) expiring.set(entry.ID, entry.tick);
    } else if (entry.kind === 'promoted') expiring.clear();
    else if (entry.kind === 'revoked') expiring.delete(entry.ID);
    else if (entry.kind === 'refreshed') {
      const tick = expiring.get(entry.ID);
      if (tick === undefined) return;
      throw new AssertionError(`lease ${entry.ID} renewed after its expiry: member ${id} (term ${server.hardState.term}, applied ${server.appliedIndex}) proposed its revoke at its tick ${tick} and renewed it at its tick ${entry.tick}, before that revoke applied there`);
    }
  };

  const judge = (sim: EtcdSimulation, id: NodeId, server: EtcdServer, entry: LeaseLogEntry): void => {
    judgeRenewal(id, server, entry);
    stale.judge(id, server, entry);
    if (entry.kind === 'checkpointing' || entry.kind === 'clearing') return;
    if (entry.kind === 'promoted' && options.timing) judgePromotion(sim, id, server, entry.index, entry.tick);
    if (entry.kind === 'checkpointed' || entry.kind === 'promoted' || entry.kind === 'refreshed') {
      bound.judge(id, server, entry);
      if (entry.kind === 'checkpointed' && options.timing) {
        for (const { ID } of entry.checkpoints) coversToJudge.push({ ID, member: id, what: `member ${id} applied the checkpoint at index ${entry.index}` });
      }
      return;
    }
    if (entry.kind === 'expiring') {
      counts.expiriesJudged++;
      // A deposed leader that has not heard of its successor (cut off, it still leads in its own
      // eyes) proposes expiries its successor's renewals make wrong; etcd does the same. They
      // cannot commit: a later term's leader holds a quorum. Judged when they would apply instead.
      if (options.timing && !superseded(sim, server)) judgeExpiry(entry.ID, sim.nowUs, `member ${id} proposed its expiry at ${sim.nowUs}us (its tick ${entry.tick})`);
      return;
    }
    counts.revokesChecked++;
    counts.keysRevoked += entry.keys;
    bound.revoked(entry.ID, entry.index);
    checkKeysWentWithLease(server, entry.ID, entry.revision);
    // The keys vanish when the revoke applies: a keep-alive acknowledged after the expiry was
    // proposed (and before it applied) must not have been promised a TTL either.
    if (options.timing && entry.expired && !revoked.has(entry.ID)) judgeExpiry(entry.ID, sim.nowUs, `member ${id} applied its expiry (revision ${entry.revision}) at ${sim.nowUs}us`);
    revoked.add(entry.ID);
  };

  return {
    onRequest(client, _member, requestId, request, sim) {
      if (request.method !== 'LeaseGrant' && request.method !== 'LeaseKeepAlive') return;
      arrivals.arrived(client, requestId, sim.nowUs);
    },
    onReply(member, client, requestId, reply) {
      const arrivedUs = arrivals.answered(client, requestId);
      if (isErrorReply(reply) || (reply.method !== 'LeaseGrant' && reply.method !== 'LeaseKeepAlive')) return;
      const { ID, TTL } = reply.response;
      const previous = deadlines.get(ID);
      if (TTL <= 0) {
        if (reply.method === 'LeaseKeepAlive' && previous !== undefined && !revoked.has(ID)) counts.renewalsRefusedBeforeRevoke = (counts.renewalsRefusedBeforeRevoke ?? 0) + 1;
        return;
      }
      // A keep-alive sets a deadline only for a lease whose grant's answer set one: not for a lease
      // revoked and forgotten by the bound (a deposed leader's late answer would give it back a
      // deadline, judged falsely when a member far behind applies its old revoke).
      if (arrivedUs === undefined || (reply.method === 'LeaseKeepAlive' && previous === undefined)) {
        counts.repliesUnjudged = (counts.repliesUnjudged ?? 0) + 1;
        return;
      }
      const us = arrivedUs + TTL * 1_000_000;
      if (previous !== undefined && us <= previous.us) return;
      deadlines.set(ID, { us, why: `the ${reply.method} of client ${client} reached a member at ${arrivedUs}us (answered by member ${member}, TTL ${TTL} s)`, ttl: TTL });
      // Judged after the event, once the lease logs are read: the apply of a renewal's clearing checkpoint answers it in the same event.
      if (options.timing) coversToJudge.push({ ID, member, what: `member ${member} answered the ${reply.method}` });
    },
    afterEvent(sim) {
      cursors.afterEvent(sim, (id, server, entry) => judge(sim, id, server, entry));
      const node = sim.lastEventNode;
      for (const member of node === 0 ? sim.members : [node]) {
        const server = sim.node(member);
        if (server === null) continue;
        const before = incarnations.get(member);
        if (before === undefined || before.server !== server) {
          incarnations.set(member, { server, state: server.state });
          // First seen: a member that joined may have installed a snapshot in the event that started it.
          if (before !== undefined) bound.checkRestored(member, server, 'restarted');
          else if (server.appliedIndex > 0) bound.checkRestored(member, server, 'joined');
        } else if (before.state !== server.state) {
          before.state = server.state;
          counts.installsJudged++;
          bound.checkRestored(member, server, 'installed a snapshot');
        }
      }
      for (const { ID, member, what } of coversToJudge.splice(0)) {
        const server = sim.node(member);
        if (server !== null) judgeCover(ID, sim.nowUs, server, what);
      }
    },
  };
}

function electionUs(server: EtcdServer): number {
  return server.config.electionTicks * server.config.tickMs * 1000;
}

/** Whether some member already knows a later term than `server`'s: its proposals then come from a deposed leader. */
function superseded(sim: EtcdSimulation, server: EtcdServer): boolean {
  const term = server.hardState.term;
  for (const member of sim.members) if ((sim.node(member)?.hardState.term ?? 0) > term) return true;
  return false;
}

/** After a revoke of `id` applied at `revision`: no live key names it, and every leased key names a live lease. */
function checkKeysWentWithLease(server: EtcdServer, id: number, revision: number): void {
  const lessor = server.state.lessor;
  for (const [key, lease] of server.state.kv.leasedKeys()) {
    if (lease === id) throw new AssertionError(`member ${server.id} revoked lease ${id} at revision ${revision}, but key ${JSON.stringify(key)} still carries it`);
    if (!lessor.exists(lease)) throw new AssertionError(`member ${server.id}: key ${JSON.stringify(key)} carries lease ${lease}, which no longer exists (seen after revoking lease ${id} at revision ${revision})`);
  }
}
