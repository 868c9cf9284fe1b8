import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import { LeaderSampler, type HostSimulation, type RaftHost, type RaftHostObserver } from './raftHost.ts';

/** A directed link's key: sender times this plus receiver (node ids are small). */
const linkBase = 65_536;

/**
 * A leader hears of a follower it cannot reach: once one of its messages to a follower could not
 * be handed on when sent (the link cut, or the follower down: the transport reports the follower
 * unreachable, SimParts.unreachableReports, as the runtime's and etcd's do), the leader no longer
 * holds that follower in StateReplicate — Raft's ReportUnreachable moves it to StateProbe — until
 * it hears from that follower again. A transport that drops such messages unreported, or a Raft
 * that ignores the report, keeps streaming appends optimistically into the void: no safety or
 * liveness check sees that (the follower's rejection after the heal repairs it), this one does.
 * Sampled every `sampleUs` at a running leader, from Raft's own progress (`RawNode.status`), and
 * only after the moment of the refused send (its report is an event at that moment). A paused
 * receiver's full inbox is reported too, but not tracked here (the check would need the inbox).
 */
export function unreachableProbed<Q, R, N extends RaftHost<Q, R>>(sampleUs: number): RaftHostObserver<Q, R, N> {
  /** Per link, when the first of its sender's messages refused since the sender last heard from the receiver was sent. */
  const refusedSince = new Map<number, number>();
  const sampler = new LeaderSampler(sampleUs);
  return {
    onSend(from: NodeId, to: NodeId, _message: unknown, sim: HostSimulation<Q, R, N>) {
      if (!sim.network.isCut(from, to) && sim.processState(to) !== 'down') return;
      const link = from * linkBase + to;
      if (!refusedSince.has(link)) refusedSince.set(link, sim.nowUs);
    },
    onDeliver(from: NodeId, to: NodeId) {
      // Heard (or, paused, about to hear): a follower's answer may move it back to StateReplicate.
      if (refusedSince.size > 0) refusedSince.delete(to * linkBase + from);
    },
    onCrash(node: NodeId) {
      // Its next incarnation starts over (a new leader probes every follower).
      for (const link of refusedSince.keys()) if (Math.floor(link / linkBase) === node) refusedSince.delete(link);
    },
    afterEvent(sim: HostSimulation<Q, R, N>) {
      if (refusedSince.size === 0) return;
      const id = sim.lastEventNode;
      if (id === 0 || sim.processState(id) !== 'up') return;
      const node = sampler.sample(sim, id);
      if (node === null) return;
      const now = sim.nowUs;
      for (const [follower, progress] of node.raft.status().progress) {
        if (progress.state !== 'replicate') continue;
        const since = refusedSince.get(id * linkBase + follower);
        if (since === undefined || since >= now) continue;
        throw new AssertionError(
          `unreachable not probed: leader ${id} of term ${node.hardState.term} holds follower ${follower} in StateReplicate at ${now / 1000} ms, though its messages to it could not be handed on since ${since / 1000} ms (the link cut or the follower down) and it has heard nothing from it since: the transport did not report the follower unreachable, or Raft ignored the report`,
          { causeUs: since },
        );
      }
    },
  };
}
