import type { NodeId } from '../core/host/node.ts';
import type { Message } from '../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../core/replica/logReplica.ts';
import type { SimObserver } from '../sim/observer.ts';
import type { Simulation } from '../sim/simulation.ts';

type RaftSimulation = Simulation<Message, LogRequest, LogReply, LogReplica>;
type UnstableCounts = { cutsInFlight: number; midTailCuts: number; staleAcks: number };

function addCounts(into: UnstableCounts, counts: Readonly<UnstableCounts>): void {
  into.cutsInFlight += counts.cutsInFlight;
  into.midTailCuts += counts.midTailCuts;
  into.staleAcks += counts.staleAcks;
}

/**
 * How often a Raft run did what its scenarios exist to exercise, counted from the messages nodes
 * send (one test per message): leader changes, snapshots sent and installed; and, from the
 * history, membership changes applied. A sweep adds them up, and the gate fails when a count that
 * should not be zero is (behaviour coverage: a green gate cannot hide lost coverage).
 */
export function raftCounts(): { readonly observer: SimObserver<Message, LogRequest, LogReply, LogReplica>; counts(sim: RaftSimulation): Record<string, number> } {
  let leaderTerm = 0;
  let leaderChanges = 0;
  let snapshotsSent = 0;
  let snapshotsInstalled = 0;
  /** The snapshot index each node was last sent, until it acknowledges having installed it. */
  const snapshotsInFlight = new Map<NodeId, number>();
  /**
   * The unstable-log counts (`RawNode.unstableCounts`) of each node's earlier incarnations, and the
   * last seen of its current one (read as a message reaches it: a crash takes the node's counts with it).
   */
  const unstable = new Map<NodeId, { incarnation: number; counts: Readonly<UnstableCounts>; before: UnstableCounts }>();
  const observer: SimObserver<Message, LogRequest, LogReply, LogReplica> = {
    onDeliver(_from, to, _message, sim) {
      const node = sim.node(to);
      if (node === null) return;
      const incarnation = sim.incarnation(to);
      let seen = unstable.get(to);
      if (seen === undefined) unstable.set(to, (seen = { incarnation, counts: node.raft.unstableCounts, before: { cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 } }));
      else if (seen.incarnation !== incarnation) {
        // The earlier incarnation's counts as last seen (up to its last delivered message).
        addCounts(seen.before, seen.counts);
        seen.incarnation = incarnation;
        seen.counts = node.raft.unstableCounts;
      }
    },
    onCrash(id) {
      // The counts object outlives the node: keep what it held.
      const seen = unstable.get(id);
      if (seen === undefined) return;
      addCounts(seen.before, seen.counts);
      seen.counts = { cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 };
      seen.incarnation = -1;
    },
    onSend(from, to, message) {
      switch (message.type) {
        case 'MsgApp':
        case 'MsgHeartbeat':
          // Only a leader sends these; a higher term than any leader's so far is a new leader.
          if (message.term > leaderTerm) {
            leaderTerm = message.term;
            leaderChanges++;
          }
          return;
        case 'MsgSnap':
          snapshotsSent++;
          if (message.snapshot !== null) snapshotsInFlight.set(to, message.snapshot.metadata.index);
          return;
        case 'MsgAppResp':
          // A follower that restored a snapshot acknowledges its index (etcd-io/raft's handleSnapshot).
          if (!message.reject && snapshotsInFlight.get(from) === message.index) {
            snapshotsInFlight.delete(from);
            snapshotsInstalled++;
          }
          return;
        default:
          return;
      }
    },
  };
  return {
    observer,
    counts(sim) {
      let membershipChangesApplied = 0;
      for (const entry of sim.history) if (entry.outcome === 'ok' && entry.reply?.kind === 'conf-changed') membershipChangesApplied++;
      // A lone member leads without sending anything: each of its terms after the first was won.
      const lone = sim.members.length === 1 ? Math.max(0, (sim.node(sim.members[0]!)?.hardState.term ?? 1) - 1) : 0;
      const cuts: UnstableCounts = { cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 };
      for (const seen of unstable.values()) {
        addCounts(cuts, seen.before);
        addCounts(cuts, seen.counts);
      }
      return {
        leaderChanges: Math.max(leaderChanges, lone),
        snapshotsSent,
        snapshotsInstalled,
        membershipChangesApplied,
        unstableCutsInFlight: cuts.cutsInFlight,
        unstableMidTailCuts: cuts.midTailCuts,
        staleStorageAcks: cuts.staleAcks,
      };
    },
  };
}
