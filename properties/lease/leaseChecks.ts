import { AssertionError } from '../../core/base/assert.ts';
import type { ClientId, NodeId } from '../../core/host/node.ts';
import { isErrorReply, type EtcdServer, type PeerMessage, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';
import type { Simulation } from '../../sim/simulation.ts';
import type { LeaseLogEntry } from '../../core/server/leaseLog.ts';
import { LeaseExpiryBound, type LeaseBoundStats } from './leaseExpiryBound.ts';
import { LeaseLogCursors } from './leaseLogCursors.ts';

type EtcdSimulation = Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

export interface LeaseCheckOptions {
  /**
   * Judge expiries against the simulator's true time (see below). Off where the scenario's faults
   * are known to break it in etcd too, and the scenario says so.
   */
  readonly timing: boolean;
}

export interface LeaseCheckStats extends LeaseBoundStats {
  /** Leases a primary proposed to expire, judged against their deadlines. */
  expiriesJudged: number;
  /** Revokes applied (by a client or an expiry), each followed by the key check. */
  revokesChecked: number;
  /** Keys that went with their lease. */
  keysRevoked: number;
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
  const counts = stats ?? { expiriesJudged: 0, revokesChecked: 0, keysRevoked: 0, checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0 };
  const bound = new LeaseExpiryBound(counts);
  /** The first arrival of each lease call at a member, by client and request id. */
  const arrivals = new Map<string, number>();
  /** By lease: the true time before which it must not expire, and what set it. */
  const deadlines = new Map<number, { readonly us: number; readonly why: string }>();
  const cursors = new LeaseLogCursors();
  /** Leases whose revoke some member applied (the first apply is the one judged). */
  const revoked = new Set<number>();
  const judgeExpiry = (lease: number, nowUs: number, what: string): void => {
    const deadline = deadlines.get(lease);
    if (deadline === undefined || nowUs >= deadline.us) return;
    throw new AssertionError(`lease ${lease} expired early: ${what}, ${deadline.us - nowUs}us before its TTL had passed in true time since ${deadline.why}`);
  };

  const judge = (sim: EtcdSimulation, id: NodeId, server: EtcdServer, entry: LeaseLogEntry): void => {
    if (entry.kind === 'checkpointed' || entry.kind === 'promoted' || entry.kind === 'refreshed') return bound.judge(id, server, entry);
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
    checkKeysWentWithLease(server, entry.ID, entry.revision);
    // The keys vanish when the revoke applies: a keep-alive acknowledged after the expiry was
    // proposed (and before it applied) must not have been promised a TTL either.
    if (options.timing && entry.expired && !revoked.has(entry.ID)) judgeExpiry(entry.ID, sim.nowUs, `member ${id} applied its expiry (revision ${entry.revision}) at ${sim.nowUs}us`);
    revoked.add(entry.ID);
  };

  return {
    onRequest(client, _member, requestId, request, sim) {
      if (request.method !== 'LeaseGrant' && request.method !== 'LeaseKeepAlive') return;
      const key = callKey(client, requestId);
      if (!arrivals.has(key)) arrivals.set(key, sim.nowUs);
    },
    onReply(member, client, requestId, reply) {
      const key = callKey(client, requestId);
      const arrivedUs = arrivals.get(key);
      if (arrivedUs === undefined) return;
      arrivals.delete(key);
      if (isErrorReply(reply) || (reply.method !== 'LeaseGrant' && reply.method !== 'LeaseKeepAlive')) return;
      const { ID, TTL } = reply.response;
      if (TTL <= 0) return;
      const us = arrivedUs + TTL * 1_000_000;
      const previous = deadlines.get(ID);
      if (previous === undefined || us > previous.us) deadlines.set(ID, { us, why: `the ${reply.method} of client ${client} reached a member at ${arrivedUs}us (answered by member ${member}, TTL ${TTL} s)` });
    },
    afterEvent(sim) {
      cursors.afterEvent(sim, (id, server, entry) => judge(sim, id, server, entry));
    },
  };
}

/** Whether some member already knows a later term than `server`'s: its proposals then come from a deposed leader. */
function superseded(sim: EtcdSimulation, server: EtcdServer): boolean {
  const term = server.hardState.term;
  for (const member of sim.members) if ((sim.node(member)?.hardState.term ?? 0) > term) return true;
  return false;
}

function callKey(client: ClientId, requestId: number): string {
  return `${client}/${requestId}`;
}

/** After a revoke of `id` applied at `revision`: no live key names it, and every leased key names a live lease. */
function checkKeysWentWithLease(server: EtcdServer, id: number, revision: number): void {
  const lessor = server.state.lessor;
  for (const [key, lease] of server.state.kv.leasedKeys()) {
    if (lease === id) throw new AssertionError(`member ${server.id} revoked lease ${id} at revision ${revision}, but key ${JSON.stringify(key)} still carries it`);
    if (!lessor.exists(lease)) throw new AssertionError(`member ${server.id}: key ${JSON.stringify(key)} carries lease ${lease}, which no longer exists (seen after revoking lease ${id} at revision ${revision})`);
  }
}
