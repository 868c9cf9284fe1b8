import type { NodeId } from '../core/host/node.ts';
import type { Message } from '../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../core/replica/logReplica.ts';
import type { SimObserver } from '../sim/observer.ts';
import type { Simulation } from '../sim/simulation.ts';
import { unstableCounts } from './unstableCounts.ts';

type RaftSimulation = Simulation<Message, LogRequest, LogReply, LogReplica>;

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
  /** The unstable-log counts of every node and incarnation (`unstableCounts`). */
  const unstable = unstableCounts<Message, LogRequest, LogReply, LogReplica>();
  const observer: SimObserver<Message, LogRequest, LogReply, LogReplica> = {
    onDeliver: unstable.observer.onDeliver,
    onCrash: unstable.observer.onCrash,
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
      return {
        leaderChanges: Math.max(leaderChanges, lone),
        snapshotsSent,
        snapshotsInstalled,
        membershipChangesApplied,
        ...unstable.counts(),
      };
    },
  };
}
