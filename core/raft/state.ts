/** A cluster member's id (the same numbers as `core/host`'s NodeId; raft imports only `core/base`). */
export type NodeId = number;

/** Raft reserves 0 for "nobody": no leader, no vote. Members are numbered from 1. */
export const None: NodeId = 0;

/**
 * What a node must persist before it answers anyone (Raft §3.8): its term, its vote in that
 * term, and how far it knows the log to be committed. `commit` is persisted so that a restarted
 * node does not have to learn it again; losing it is safe, losing term or vote is not.
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: None, commit: 0 });

export function isEmptyHardState(state: HardState): boolean {
  return state.term === 0 && state.vote === None && state.commit === 0;
}

export type StateRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state the application may want to observe (who leads, what this node is). */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: StateRole;
}

/**
 * A membership configuration as it is persisted (in snapshots) and reported after a conf change
 * is applied. All id lists are ascending and duplicate-free.
 *
 * Invariant: `voters`, `learners` are disjoint; `learners` and `votersOutgoing` are disjoint;
 * `learnersNext` ⊆ `votersOutgoing` (a voter being demoted while the joint config lasts);
 * outside a joint config `votersOutgoing` and `learnersNext` are empty and `autoLeave` is false.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

export const emptyConfState: ConfState = Object.freeze({
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
});

export function isEmptyConfState(cs: ConfState): boolean {
  return cs.voters.length === 0 && cs.learners.length === 0 && cs.votersOutgoing.length === 0;
}

export function confStatesEqual(a: ConfState, b: ConfState): boolean {
  return (
    idsEqual(a.voters, b.voters) &&
    idsEqual(a.learners, b.learners) &&
    idsEqual(a.votersOutgoing, b.votersOutgoing) &&
    idsEqual(a.learnersNext, b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}

function idsEqual(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => b[i] === id);
}

export interface SnapshotMetadata {
  /** The snapshot covers the log up to and including `index`, whose term is `term`. */
  readonly index: number;
  readonly term: number;
  /** The configuration in force at `index`. */
  readonly confState: ConfState;
}

/**
 * A snapshot of the application state at `metadata.index`. `data` is opaque to Raft: it is
 * produced by the application (`MemoryStorage.createSnapshot`) and handed back to the application
 * of another node (`Ready.snapshot`). It must be immutable once created, because the simulated
 * network may deliver one snapshot object to several nodes.
 */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: unknown;
}

export const emptySnapshot: Snapshot = Object.freeze({
  metadata: Object.freeze({ index: 0, term: 0, confState: emptyConfState }),
  data: null,
});

export function isEmptySnapshot(snapshot: Snapshot): boolean {
  return snapshot.metadata.index === 0;
}

/**
 * The answer to a `readIndex(context)` request: once the application has applied up to `index`,
 * a read that was issued before the request may be served linearizably.
 */
export interface ReadState {
  readonly index: number;
  readonly requestContext: string;
}
