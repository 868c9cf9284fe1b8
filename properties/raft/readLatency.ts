import { AssertionError } from '../../core/base/assert.ts';
import type { ClientId, NodeId } from '../../core/host/node.ts';
import type { HostSimulation, RaftHost, RaftHostObserver } from './raftHost.ts';

export interface ReadLatencyOptions {
  /** A read that stayed judged this long must have been answered (the client's request timeout). */
  readonly boundUs: number;
  /** An election timeout: weather whose tail reaches half of it is not calm. */
  readonly electionTimeoutUs: number;
  /** Which client requests are linearizable reads (default: the replicated log's `read`). */
  readonly isRead?: (request: unknown) => boolean;
}

const logRead = (request: unknown): boolean => (request as { readonly kind?: string }).kind === 'read';

interface PendingRead {
  readonly client: ClientId;
  readonly requestId: number;
  readonly member: NodeId;
  readonly leader: NodeId;
  readonly term: number;
  readonly invokeUs: number;
}

/**
 * ReadIndex is live once a leader is stable (thesis §6.4): a linearizable read sent to a member
 * that knows the leader of the current term is answered within `boundUs` as long as nothing goes
 * wrong anywhere — every member up, every link clear, the weather calm — and that leader keeps
 * leading its term without a transfer. The leader confirms its leadership with one heartbeat round
 * and hands the member its commit index, which the member applies from the next append; nothing in
 * Raft lets such a read wait for a timeout. A node that loses track of a read it accepted (a read
 * awaiting its apply, forgotten at the next tick) breaks this at the first read it drops; the
 * success share over fault-free windows (availability.ts) sees it only if many reads are lost.
 *
 * A read stops being judged as soon as any fault touches the cluster, the leader stops leading
 * that term, a transfer starts, or the member leaves the leader's configuration; it is judged
 * again by no one (a later read is judged afresh).
 */
export function readLatency<Q, R, N extends RaftHost<Q, R>>(options: ReadLatencyOptions): RaftHostObserver<Q, R, N> {
  type RaftSimulation = HostSimulation<Q, R, N>;
  const isRead = options.isRead ?? logRead;
  /**
   * Reads being judged, in invocation order. A short list searched by client and request id: a
   * map keyed by `client * 2^32 + request id` boxed a heap number per lookup, and iterating it
   * after every event made an entry pair per read.
   */
  const pending: PendingRead[] = [];
  const indexOf = (client: ClientId, requestId: number): number => {
    for (let i = 0; i < pending.length; i++) if (pending[i]!.client === client && pending[i]!.requestId === requestId) return i;
    return -1;
  };

  const clusterFine = (sim: RaftSimulation): boolean => {
    const network = sim.network.currentOptions;
    const tailBig = network.tail.numerator > 0 && network.tailUsMax * 2 > options.electionTimeoutUs;
    if (network.loss.numerator > 0 || tailBig) return false;
    for (const a of sim.members) {
      if (sim.processState(a) !== 'up' || sim.diskStalled(a)) return false;
      for (const b of sim.members) if (a !== b && (sim.network.isCut(a, b) || sim.network.isStalled(a, b, sim.nowUs))) return false;
    }
    return true;
  };

  /** The member still follows a leader that still leads the term, untransferred, with the member in its configuration. */
  const stillStable = (sim: RaftSimulation, read: PendingRead): boolean => {
    const leader = sim.node(read.leader);
    if (leader === null || leader.softState.role !== 'leader' || leader.hardState.term !== read.term) return false;
    if (leader.raft.leadTransferee !== 0) return false;
    const config = leader.confState;
    return read.member === read.leader || config.voters.includes(read.member) || config.learners.includes(read.member) || config.votersOutgoing.includes(read.member);
  };

  const voidAll = (): void => void (pending.length = 0);

  return {
    onRequest(client, node, requestId, request, sim: RaftSimulation) {
      if (!isRead(request) || !clusterFine(sim)) return;
      const member = sim.node(node);
      if (member === null) return;
      const leaderId = member.softState.role === 'leader' ? node : member.softState.lead;
      if (leaderId === 0) return;
      const read: PendingRead = { client, requestId, member: node, leader: leaderId, term: member.hardState.term, invokeUs: sim.nowUs };
      if (!stillStable(sim, read)) return;
      // A request id asked again replaces the read judged under it (as the map's set did), in place.
      const at = indexOf(client, requestId);
      if (at === -1) pending.push(read);
      else pending[at] = read;
    },
    onReply(_node, client, requestId) {
      const at = indexOf(client, requestId);
      if (at !== -1) pending.splice(at, 1);
    },
    onFault: voidAll,
    onCrash: voidAll,
    onRestart: voidAll,
    afterEvent(sim: RaftSimulation) {
      if (pending.length === 0) return;
      if (!clusterFine(sim)) {
        voidAll();
        return;
      }
      // Reads no longer judged are dropped in place, keeping the others in order.
      let kept = 0;
      for (let i = 0; i < pending.length; i++) {
        const read = pending[i]!;
        if (!stillStable(sim, read)) continue;
        pending[kept++] = read;
        if (sim.nowUs - read.invokeUs > options.boundUs) {
          throw new AssertionError(
            `read latency: a linearizable read sent to node ${read.member} at ${read.invokeUs / 1000} ms was not answered within ${options.boundUs / 1000} ms, while leader ${read.leader} of term ${read.term} kept leading and the whole cluster stayed up, connected and calm (ReadIndex, thesis §6.4)`,
            // The read was lost when it was sent (or soon after): the bound only shows it now.
            { causeUs: read.invokeUs },
          );
        }
      }
      pending.length = kept;
    },
  };
}
