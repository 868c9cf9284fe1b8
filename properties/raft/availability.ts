import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { FaultAction } from '../../sim/faults.ts';
import type { HostSimulation, RaftHost, RaftHostObserver } from './raftHost.ts';

export interface AvailabilityOptions {
  readonly electionTimeoutUs: number;
  /** Check the lease (no campaign, no vote past a healthy leader's term): only with check-quorum and pre-vote on. */
  readonly lease: boolean;
  /** How long a leader, a member and the link between them must have been left alone (default 2 election timeouts). */
  readonly settleUs?: number;
  /**
   * The share of client requests, in percent, that must succeed among those sent to a member
   * while the whole cluster is fault-free (from `settleUs` before the request to its timeout), or
   * null to skip that half (membership changes and transfers make requests fail by design).
   */
  readonly successPercentMin: number | null;
  /** Judge the success share only over at least this many such requests. */
  readonly successSampleMin?: number;
  readonly requestTimeoutUs: number;
  /** Which client requests the success share counts (default: the replicated log's appends and reads). */
  readonly served?: (request: unknown) => boolean;
}

const logReadsAndAppends = (request: unknown): boolean => {
  const kind = (request as { readonly kind?: string }).kind;
  return kind === 'append' || kind === 'read';
};

/**
 * Availability with check-quorum and pre-vote on (thesis §4.2.3, §9.6): a leader that stays up and
 * connected keeps its followers in their lease, and a follower in its lease neither campaigns nor
 * grants a vote or pre-vote for a later term. So while a leader L of term T has been left alone —
 * up, not paused, its clock untouched, leading T with no transfer, the network calm (no loss, no
 * tail near an election timeout) — every member M of its configuration that has been left alone
 * just as long, on links to and from L that were neither cut nor stalled, must not send a
 * MsgPreVote or MsgVote, nor grant one for a term past T. Faults elsewhere (a node cut off from
 * L but not from the others, which campaigns) are allowed: that is exactly when a disruptive
 * candidate must be refused.
 *
 * And while nothing at all is wrong, clients are served: at least `successPercentMin` percent of
 * the requests sent in fault-free windows succeed.
 */
export function availability<Q, R, N extends RaftHost<Q, R>>(options: AvailabilityOptions): RaftHostObserver<Q, R, N> {
  type RaftSimulation = HostSimulation<Q, R, N>;
  const settleUs = options.settleUs ?? 2 * options.electionTimeoutUs;
  const served = options.served ?? logReadsAndAppends;
  /** The last time a fault touched each node (crash, restart, pause, resume, clock). */
  const disturbedAtUs = new Map<NodeId, number>();
  /**
   * When each node's latest disk stall ends: its syncs begun during a stall complete then, and what
   * waits for them (a leader's next Ready, its heartbeats among them) leaves then. Kept apart from
   * `disturbedAtUs` because a later fault must not move it earlier: the quiet fault lifts the stall
   * for new syncs only (raft-disk-stalls-one-way seed 160: the leader's disk stalled until 32.78 s,
   * quiet at 30 s marked it settled since then, and a follower that missed its heartbeats for an
   * election timeout granted a pre-vote at 32.06 s), and a shorter stall does not end a longer one.
   */
  const diskStallEndsUs = new Map<NodeId, number>();
  /** Per directed link `from*64+to`: cut or stalled now, and since when it has been clear. */
  const linkBlocked = new Map<number, boolean>();
  const linkClearSinceUs = new Map<number, number>();
  let calmSinceUs = 0;
  let calm = true;
  /** Leader node → the term it leads and since when; a transfer spoils the term. */
  const leading = new Map<NodeId, { term: number; sinceUs: number; transferred: boolean }>();
  /** Times when the whole cluster was last not fault-free, as [from, to) intervals. */
  const troubled: { fromUs: number; toUs: number }[] = [];
  let troubledFromUs: number | null = null;
  let started = false;

  const link = (from: NodeId, to: NodeId): number => from * 64 + to;

  const updateWorld = (sim: RaftSimulation): void => {
    const now = sim.nowUs;
    const network = sim.network.currentOptions;
    const tailBig = network.tail.numerator > 0 && network.tailUsMax * 2 > options.electionTimeoutUs;
    const calmNow = network.loss.numerator === 0 && !tailBig;
    if (calmNow && !calm) calmSinceUs = now;
    calm = calmNow;
    let anyBlocked = false;
    for (const a of sim.members) {
      for (const b of sim.members) {
        if (a === b) continue;
        const blocked = sim.network.isCut(a, b) || sim.network.isStalled(a, b, now);
        const key = link(a, b);
        if (!blocked && linkBlocked.get(key) === true) linkClearSinceUs.set(key, now);
        linkBlocked.set(key, blocked);
        anyBlocked ||= blocked;
      }
    }
    const allUp = sim.members.every((id) => sim.processState(id) === 'up' && !sim.diskStalled(id));
    const fine = calm && !anyBlocked && allUp;
    if (!fine && troubledFromUs === null) troubledFromUs = now;
    if (fine && troubledFromUs !== null) {
      troubled.push({ fromUs: troubledFromUs, toUs: now });
      troubledFromUs = null;
    }
  };

  const disturb = (sim: RaftSimulation, node: NodeId): void => {
    disturbedAtUs.set(node, sim.nowUs);
    leading.delete(node);
  };
  /**
   * A paused or crashed node stays disturbed until it is back: the simulator hands a resumed node
   * what queued up while it was paused (old pre-votes included) before it tells the observers of
   * the resume, so what the node sends then must not be judged by the time of its pause.
   * (raft-pauses seed 71: a node paused for 3 s granted a queued pre-vote as it resumed.)
   */
  const takeAway = (node: NodeId): void => {
    disturbedAtUs.set(node, Number.POSITIVE_INFINITY);
    leading.delete(node);
  };

  const settled = (sim: RaftSimulation, node: NodeId, since: number): boolean =>
    sim.processState(node) === 'up' && (disturbedAtUs.get(node) ?? 0) <= since && (diskStallEndsUs.get(node) ?? 0) <= since && sim.nowUs >= settleUs;

  const linkSettled = (sim: RaftSimulation, from: NodeId, to: NodeId, since: number): boolean => {
    const key = link(from, to);
    return !sim.network.isCut(from, to) && !sim.network.isStalled(from, to, sim.nowUs) && (linkClearSinceUs.get(key) ?? 0) <= since;
  };

  /** The leader whose lease binds `member` now, or null. */
  const bindingLeader = (sim: RaftSimulation, member: NodeId): { id: NodeId; term: number } | null => {
    if (!calm || calmSinceUs > sim.nowUs - settleUs) return null;
    const since = sim.nowUs - settleUs;
    let best: { id: NodeId; term: number } | null = null;
    for (const [id, lead] of leading) {
      if (lead.transferred || lead.sinceUs > since || id === member) continue;
      const replica = sim.node(id);
      if (replica === null || replica.softState.role !== 'leader' || replica.hardState.term !== lead.term) continue;
      if (best !== null && best.term >= lead.term) continue;
      const config = replica.confState;
      const isMember = config.voters.includes(member) || config.learners.includes(member) || config.votersOutgoing.includes(member);
      if (!isMember || !settled(sim, id, since) || !settled(sim, member, since)) continue;
      if (!linkSettled(sim, id, member, since) || !linkSettled(sim, member, id, since)) continue;
      best = { id, term: lead.term };
    }
    return best;
  };

  return {
    onFault(action: FaultAction, sim: RaftSimulation) {
      switch (action.kind) {
        case 'clock-jump':
          // A jump is over at once, but the ticks it owes or skips are a fault for the requests around it.
          troubled.push({ fromUs: sim.nowUs, toUs: sim.nowUs + 1 });
          disturb(sim, action.node);
          break;
        case 'pause':
          takeAway(action.node);
          break;
        case 'resume':
        case 'clock-drift':
          disturb(sim, action.node);
          break;
        case 'disk-stall':
          // Disturbed until the stall is over: what waited for its syncs (votes, acks) leaves then.
          disturb(sim, action.node);
          diskStallEndsUs.set(action.node, Math.max(diskStallEndsUs.get(action.node) ?? 0, sim.nowUs + action.durationUs));
          break;
        case 'quiet':
          for (const id of sim.members) disturb(sim, id);
          break;
        default:
          break;
      }
      updateWorld(sim);
    },
    onCrash(node, sim: RaftSimulation) {
      takeAway(node);
      updateWorld(sim);
    },
    onRestart(node, sim: RaftSimulation) {
      disturb(sim, node);
      updateWorld(sim);
    },
    afterEvent(sim: RaftSimulation) {
      if (!started) {
        // The options may start the run in bad weather.
        started = true;
        updateWorld(sim);
      }
      const touched = sim.lastEventNode;
      if (touched === 0) return;
      const replica = sim.node(touched);
      if (replica === null) return;
      if (replica.softState.role !== 'leader') {
        leading.delete(touched);
        return;
      }
      const term = replica.hardState.term;
      let lead = leading.get(touched);
      if (lead === undefined || lead.term !== term) {
        lead = { term, sinceUs: sim.nowUs, transferred: false };
        leading.set(touched, lead);
      }
      if (replica.raft.leadTransferee !== 0) lead.transferred = true;
    },
    onSend(from, to, message, sim: RaftSimulation) {
      const type = message.type;
      const campaigns = type === 'MsgPreVote' || type === 'MsgVote';
      const grants = (type === 'MsgPreVoteResp' || type === 'MsgVoteResp') && !message.reject;
      if ((!campaigns && !grants) || !options.lease) return;
      // A stall ends by itself, with no fault to tell the observers: look at the links now, or a
      // link stalled until a moment ago would count as clear since before the stall began
      // (raft-membership-admins seed 77: the leader's links stalled 1.2 s, a follower's lease ran
      // out, and its vote 5 ms after the stall ended was judged against a lease it never had).
      updateWorld(sim);
      const leader = bindingLeader(sim, from);
      if (leader === null || message.term <= leader.term) return;
      const what = campaigns ? `campaigned (${type} for term ${message.term} to ${to})` : `granted a ${type === 'MsgVoteResp' ? 'vote' : 'pre-vote'} for term ${message.term} to ${to}`;
      throw new AssertionError(
        `availability: node ${from} ${what} while leader ${leader.id} of term ${leader.term} was up, left alone and connected to it for ${settleUs / 1000} ms (check-quorum lease, thesis §4.2.3)`,
      );
    },
    finish(sim: RaftSimulation) {
      if (options.successPercentMin === null) return;
      if (troubledFromUs !== null) troubled.push({ fromUs: troubledFromUs, toUs: Number.POSITIVE_INFINITY });
      let judged = 0;
      let succeeded = 0;
      for (const entry of sim.history) {
        if (!served(entry.request)) continue;
        // Once the faults are over, an election or two may still follow: judge from 3 election timeouts on.
        const fromUs = entry.invokeUs - 3 * options.electionTimeoutUs;
        const toUs = entry.invokeUs + options.requestTimeoutUs;
        // A request whose timeout lies past the end of the run has no outcome yet.
        if (toUs > sim.nowUs) continue;
        if (fromUs < 0 || troubled.some((t) => t.fromUs < toUs && t.toUs > fromUs)) continue;
        judged++;
        if (entry.outcome === 'ok') succeeded++;
      }
      if (judged < (options.successSampleMin ?? 20)) return;
      if (succeeded * 100 < judged * options.successPercentMin) {
        throw new AssertionError(`availability: only ${succeeded} of ${judged} client requests sent in fault-free windows succeeded (at least ${options.successPercentMin}% must)`);
      }
    },
  };
}
