import type { HostedNode, NodeId } from '../core/host/node.ts';
import type { SimObserver } from '../sim/observer.ts';
import type { Simulation } from '../sim/simulation.ts';

/** The unstable log's coverage counts (`Unstable.counts`), as a node's Raft shows them (`RawNode.unstableCounts`). */
export interface UnstableCounts {
  cutsInFlight: number;
  midTailCuts: number;
  staleAcks: number;
}

/** A node that runs Raft: a log replica or an etcd member. */
type RaftNode<M, Q, R> = HostedNode<M, Q, R> & { readonly raft: { readonly unstableCounts: Readonly<UnstableCounts> } };

const none = (): UnstableCounts => ({ cutsInFlight: 0, midTailCuts: 0, staleAcks: 0 });

function addCounts(into: UnstableCounts, counts: Readonly<UnstableCounts>): void {
  into.cutsInFlight += counts.cutsInFlight;
  into.midTailCuts += counts.midTailCuts;
  into.staleAcks += counts.staleAcks;
}

/**
 * The unstable-log counts of a run, summed over every member and every incarnation of it (for the
 * Raft family's raftCounts and the etcd family's run stats alike): how often a new leader's entries
 * cut a write in flight (`unstableCutsInFlight`), past the stable part (`unstableMidTailCuts`), and
 * how often a storage ack came for entries replaced since (`staleStorageAcks`). Reads only: traces
 * are unchanged.
 */
export function unstableCounts<M, Q, R, N extends RaftNode<M, Q, R>>(): { readonly observer: Required<Pick<SimObserver<M, Q, R, N>, 'onDeliver' | 'onCrash'>>; counts(): Record<string, number> } {
  /**
   * Each node's earlier incarnations' counts, and the live counts of its current one (read as a
   * message reaches it: a crash takes the node's counts object with it, so what it held is kept then).
   */
  const unstable = new Map<NodeId, { incarnation: number; counts: Readonly<UnstableCounts>; before: UnstableCounts }>();
  const observer: Required<Pick<SimObserver<M, Q, R, N>, 'onDeliver' | 'onCrash'>> = {
    onDeliver(_from, to, _message, sim: Simulation<M, Q, R, N>) {
      const node = sim.node(to);
      if (node === null) return;
      const incarnation = sim.incarnation(to);
      let seen = unstable.get(to);
      if (seen === undefined) unstable.set(to, (seen = { incarnation, counts: node.raft.unstableCounts, before: none() }));
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
      seen.counts = none();
      seen.incarnation = -1;
    },
  };
  return {
    observer,
    counts() {
      const cuts = none();
      for (const seen of unstable.values()) {
        addCounts(cuts, seen.before);
        addCounts(cuts, seen.counts);
      }
      return { unstableCutsInFlight: cuts.cutsInFlight, unstableMidTailCuts: cuts.midTailCuts, staleStorageAcks: cuts.staleAcks };
    },
  };
}
