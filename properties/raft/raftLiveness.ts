import type { HostedNode, NodeId } from '../../core/host/node.ts';
import type { RaftNodeView } from '../../core/replica/raftNodeView.ts';
import type { Simulation } from '../../sim/simulation.ts';
import type { LivenessCheck } from '../../sim/observer.ts';

/** The running leader with the highest term, or null. */
export function currentLeader<M, Q, R, N extends HostedNode<M, Q, R> & RaftNodeView>(sim: Simulation<M, Q, R, N>): NodeId | null {
  let best: { id: NodeId; term: number } | null = null;
  for (const id of sim.members) {
    const replica = sim.node(id);
    if (replica === null || sim.processState(id) !== 'up' || replica.softState.role !== 'leader') continue;
    if (best === null || replica.hardState.term > best.term) best = { id, term: replica.hardState.term };
  }
  return best?.id ?? null;
}

/**
 * What the liveness check knows of the clients (etcd scenarios): each call's deadline (clientv3's
 * context timeout, over all its attempts) and the longest any client waits between the end of one
 * call and the start of its next (its pacing: a compactor's interval, a lock client's pause).
 */
export interface ClientPacing {
  readonly timeoutUs: number;
  readonly pacingUsMax: number;
}

/**
 * What a run's liveness looked like, for its stats: the quiet fault, the cluster part first holding,
 * the last deadline that applied, and the slowest answer to a call invoked on the live cluster (the
 * per-call rule's margin: its deadline less that).
 */
export interface LivenessFigures {
  figures(): { readonly quietAtUs: number; readonly clusterLiveAtUs: number | null; readonly lastDeadlineUs: number | null; readonly slowestCallUs: number | null };
}

/**
 * Liveness once the faults stop: within `boundUs` (stated by the scenario in election timeouts),
 * one leader is followed by every voter of its configuration, it has committed an entry of its own
 * term and everything any node had in its log when the faults stopped, every voter has applied
 * that far, and every client that kept working has had an operation succeed since.
 *
 * With `clients` (session 23, task leaselog), the clients are held to their own pacing instead of
 * the fixed bound: once the cluster is live (the part above, first at L), a working client not yet
 * served must be by the end of its call in flight at L (at most its deadline), its pause (at most
 * `pacingUsMax`) and its next call's deadline; a call that ends after L without success (a definite
 * refusal — ErrCompacted, a lost race — or, once, a call given up) moves that to its end plus a
 * pause and a deadline. A second call given up on the live cluster fails the run at its deadline:
 * one may be lost on a cluster still slow from its recovery (etcd-standard seed 5 answered a
 * linearizable read invoked 90 ms after L in 1.95 s of its 2 s). The fixed bound still applies to
 * the cluster part. The run ends where it did (`holds` is the same): only the deadline moved, both
 * ways — later for a slow-paced client whose first call after quiet was lost (etcd-lease seed 158's
 * compactor), earlier for a fast one.
 */
export function raftLiveness<M, Q, R, N extends HostedNode<M, Q, R> & RaftNodeView>(boundUs: number, electionTimeouts: number, clients?: ClientPacing): LivenessCheck<M, Q, R, N> & LivenessFigures {
  let target = -1;
  let quietAtUs = 0;
  /** When the cluster part first held (L), or null. */
  let liveAtUs: number | null = null;
  /** The deadline in force at the last probe that found it not holding. */
  let lastDeadlineUs: number | null = null;
  let slowestCallUs: number | null = null;
  const clusterLive = (sim: Simulation<M, Q, R, N>): boolean => {
    if (target < 0) {
      quietAtUs = sim.nowUs;
      target = Math.max(0, ...sim.members.map((id) => sim.node(id)?.storage.lastIndex() ?? 0));
    }
    const leaderId = currentLeader(sim);
    if (leaderId === null) return false;
    const leader = sim.node(leaderId)!;
    const commit = leader.hardState.commit;
    if (commit < target || leader.storage.term(commit) !== leader.hardState.term) return false;
    for (const voter of [...leader.confState.voters, ...leader.confState.votersOutgoing]) {
      const replica = sim.node(voter);
      if (replica === null || replica.softState.lead !== leaderId || replica.appliedIndex < target) return false;
    }
    liveAtUs ??= sim.nowUs;
    return true;
  };
  return {
    description: `within ${electionTimeouts} election timeouts of healing: one leader followed by all voters, everything logged before committed and applied on every voter, and every client served again${clients === undefined ? '' : ` (each client within its own pacing once the cluster is: its call in flight, a pause of up to ${clients.pacingUsMax / 1000} ms, and a call answered within its deadline of ${clients.timeoutUs / 1000} ms, one more pause and call if one is lost)`}`,
    boundUs,
    figures: () => ({ quietAtUs, clusterLiveAtUs: liveAtUs, lastDeadlineUs, slowestCallUs }),
    holds(sim) {
      if (!clusterLive(sim)) return false;
      const { working, served } = clientsSince(sim, quietAtUs);
      const holds = [...working].every((client) => served.has(client));
      if (holds) slowestCallUs = slowestAnswer(sim, liveAtUs!);
      return holds;
    },
    ...(clients === undefined
      ? {}
      : {
          deadline(sim: Simulation<M, Q, R, N>) {
            const cluster = { atUs: quietAtUs + boundUs, why: `the cluster was not live ${boundUs}us after the faults stopped` };
            const deadline = liveAtUs === null || !clusterLive(sim) ? cluster : (clientDeadline(sim, quietAtUs, liveAtUs, clients) ?? cluster);
            lastDeadlineUs = deadline.atUs;
            return deadline;
          },
        }),
  };
}

/** The clients that invoked a call since `sinceUs`, and those of them with one that succeeded. */
function clientsSince<M, Q, R, N extends HostedNode<M, Q, R>>(sim: Simulation<M, Q, R, N>, sinceUs: number): { working: Set<number>; served: Set<number> } {
  const served = new Set<number>();
  const working = new Set<number>();
  for (let i = sim.history.length - 1; i >= 0; i--) {
    const entry = sim.history[i]!;
    if (entry.invokeUs < sinceUs) break;
    working.add(entry.client);
    if (entry.outcome === 'ok') served.add(entry.client);
  }
  return { working, served };
}

/**
 * The latest time by which every working client not yet served must be (see raftLiveness), with
 * the client that sets it; null when none is left. A call not answered has no completion yet,
 * whether it is still in flight or was given up: its client gives up at its invocation plus its
 * deadline. A client's second call given up on the live cluster sets it to that call's end:
 * already past.
 */
function clientDeadline<M, Q, R, N extends HostedNode<M, Q, R>>(sim: Simulation<M, Q, R, N>, quietAtUs: number, liveAtUs: number, { timeoutUs, pacingUsMax }: ClientPacing): { atUs: number; why: string } | null {
  const { working, served } = clientsSince(sim, quietAtUs);
  /** By unserved client: its latest call (the history is in invocation order, and a client makes one call at a time). */
  const last = new Map<number, (typeof sim.history)[number]>();
  /** By unserved client: its calls invoked on the live cluster and given up. */
  const lost = new Map<number, number>();
  for (let i = sim.history.length - 1; i >= 0; i--) {
    const call = sim.history[i]!;
    if (call.invokeUs < quietAtUs) break;
    if (served.has(call.client)) continue;
    if (!last.has(call.client)) last.set(call.client, call);
    if (call.invokeUs >= liveAtUs && call.completeUs === null && sim.nowUs >= call.invokeUs + timeoutUs) lost.set(call.client, (lost.get(call.client) ?? 0) + 1);
  }
  let latest: { atUs: number; why: string } | null = null;
  for (const client of working) {
    if (served.has(client)) continue;
    const call = last.get(client)!;
    const endUs = call.completeUs ?? call.invokeUs + timeoutUs;
    const lostCalls = lost.get(client) ?? 0;
    if (lostCalls >= 2) return { atUs: endUs, why: `client ${client} was not served and lost two calls on a cluster live since ${liveAtUs}us, the last (call ${call.id}, invoked at ${call.invokeUs}us) not answered within its deadline of ${timeoutUs}us` };
    // A call after one already lost on the live cluster must be answered by its deadline. Otherwise
    // the call ends (answered, refused, lost), the client pauses, and its next call is answered
    // within its deadline.
    const atUs = lostCalls === 1 && call.completeUs === null && sim.nowUs < endUs ? endUs : Math.max(endUs, liveAtUs) + pacingUsMax + timeoutUs;
    if (latest === null || atUs > latest.atUs) {
      latest = { atUs, why: `client ${client} was not served: its last call ${call.id} invoked at ${call.invokeUs}us${call.completeUs === null ? '' : `, ended at ${call.completeUs}us`}, ${lostCalls} lost on the cluster live since ${liveAtUs}us, pacing up to ${pacingUsMax}us and a deadline of ${timeoutUs}us` };
    }
  }
  return latest;
}

/** The longest a call invoked at or after `sinceUs` waited for its answer, or null when none was answered. */
function slowestAnswer<M, Q, R, N extends HostedNode<M, Q, R>>(sim: Simulation<M, Q, R, N>, sinceUs: number): number | null {
  let slowest: number | null = null;
  for (let i = sim.history.length - 1; i >= 0; i--) {
    const call = sim.history[i]!;
    if (call.invokeUs < sinceUs) break;
    if (call.completeUs !== null) slowest = Math.max(slowest ?? 0, call.completeUs - call.invokeUs);
  }
  return slowest;
}
