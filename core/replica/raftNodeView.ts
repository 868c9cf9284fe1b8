import type { ConfState, HardState, MemoryStorage, SoftState } from '../raft/index.ts';

/**
 * What a node hosting Raft shows the cross-node Raft checkers (properties/raft): its log and hard
 * state as handed to the host, its role, what it applied, and the configurations in force. Read
 * only; nothing here may be changed by a checker. LogReplica and the etcd server implement it.
 */
export interface RaftNodeView {
  /** The log as the node's Raft reads it back (in memory; the disk is read through DurableLog). */
  readonly storage: MemoryStorage;
  /** The hard state as last handed to the host for persisting (or recovered). */
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly appliedIndex: number;
  /**
   * By applied index, a digest of what was applied there: nodes that applied different entries at
   * one index differ. Sparse: indexes covered by an installed snapshot, or long past, may be absent.
   */
  readonly stateDigests: ReadonlyMap<number, number>;
  /** The configuration in force (as of the applied index). */
  readonly confState: ConfState;
  /** The configuration in force when the commit index last moved: the one that commit was counted in. */
  readonly commitCountedIn: ConfState;
}
