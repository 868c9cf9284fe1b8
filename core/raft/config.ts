import { assert } from '../base/assert.ts';
import type { Random } from '../base/random.ts';
import type { RaftLogger } from './logger.ts';
import { noLimit } from './raftLog.ts';
import type { ReadOnlyOption } from './readOnly.ts';
import { None, type NodeId } from './state.ts';
import type { Storage } from './storage.ts';

/**
 * Everything a node starts from. On first boot the storage is empty but for the configuration;
 * on restart the host rebuilds the storage from disk (hard state, snapshot, entries) and passes
 * the applied index it recovered.
 */
export interface RaftConfig {
  /** This node's id; never 0. */
  readonly id: NodeId;
  /** The durable log, read-only to Raft. Its initial state holds the hard state and configuration. */
  readonly storage: Storage;
  /**
   * The bootstrap configuration of an initial member, used only while storage holds none (no
   * snapshot has recorded one yet). Raft does not persist it: pass the same on every start of an
   * initial member, or bootstrap the storage (MemoryStorage.bootstrap). A member added later
   * starts with neither and learns the configuration from the leader's snapshot.
   */
  readonly voters?: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** This node's own seeded stream; election timeouts are drawn from it. */
  readonly random: Random;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is drawn
   * in [electionTicks, 2 * electionTicks - 1] each time it is reset (§5.2, split votes).
   */
  readonly electionTicks: number;
  /** Ticks between a leader's heartbeats. Must be below electionTicks. */
  readonly heartbeatTicks: number;
  /** Payload bytes per MsgApp (at least one entry is always sent). 0: one entry per message. */
  readonly maxSizePerMsg: number;
  /** MsgApp messages in flight to one follower in StateReplicate. */
  readonly maxInflightMsgs: number;
  /** Payload bytes in flight to one follower; default unlimited. Must be >= maxSizePerMsg. */
  readonly maxInflightBytes?: number;
  /** Payload bytes of committed entries handed out and not yet applied; default unlimited. */
  readonly maxCommittedSizePerReady?: number;
  /** Payload bytes of uncommitted entries a leader accepts before dropping proposals; default unlimited. */
  readonly maxUncommittedEntriesSize?: number;
  /** Pre-vote (thesis §9.6): a candidate first asks whether it could win, without raising terms. */
  readonly preVote: boolean;
  /**
   * Check-quorum: a leader that has not heard from a quorum within an election timeout steps
   * down, and a follower that heard from a leader within the timeout ignores vote requests.
   */
  readonly checkQuorum: boolean;
  readonly readOnlyOption?: ReadOnlyOption;
  /** The last index the application applied before this start (restart only). */
  readonly applied?: number;
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  /** Skip the propose-time checks of conf changes (one pending at a time, joint state). */
  readonly disableConfChangeValidation?: boolean;
  /**
   * A leader that removes or demotes itself steps down once the change applies. Default true
   * (etcd-io/raft defaults to false and plans to make it unconditional).
   */
  readonly stepDownOnRemoval?: boolean;
  /**
   * A MsgApp that continues the one already queued for the same follower (same term, anchored at
   * its last entry, together within `maxSizePerMsg`) is folded into it: the proposals stepped
   * between two Readies leave as one append per follower, answered once, instead of one each.
   * Default false (etcd-io/raft sends one per `bcastAppend`; its interaction tests expect that).
   */
  readonly coalesceAppends?: boolean;
  /**
   * The host reports every snapshot's fate (`reportSnapshot`, finished or failed), as etcd's
   * rafthttp does: a follower in StateSnapshot then waits for that report or its answer, however
   * long the snapshot takes, as in etcd-io/raft. Default false: a snapshot unanswered for one to two
   * election timeouts is presumed lost and the follower probed again (`retryStaleSnapshots`),
   * for a network that reports nothing (the simulator's Raft family; its etcd family's network
   * reports, `SimParts.snapshotReports`). A host that sets this but drops a
   * snapshot unreported leaves that follower waiting for a snapshot forever.
   */
  readonly snapshotStatusReported?: boolean;
  readonly logger?: RaftLogger;
}

/** The configuration with defaults filled in and checked. */
export interface ValidConfig extends Required<Omit<RaftConfig, 'voters' | 'learners' | 'logger'>> {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly logger: RaftLogger | null;
}

export function validateConfig(config: RaftConfig): ValidConfig {
  assert(config.id !== None && Number.isSafeInteger(config.id) && config.id > 0, 'cannot use none as id');
  assert(Number.isSafeInteger(config.heartbeatTicks) && config.heartbeatTicks > 0, 'heartbeat tick must be greater than 0');
  assert(
    Number.isSafeInteger(config.electionTicks) && config.electionTicks > config.heartbeatTicks,
    'election tick must be greater than heartbeat tick',
  );
  assert(Number.isSafeInteger(config.maxInflightMsgs) && config.maxInflightMsgs > 0, 'max inflight messages must be greater than 0');
  assert(config.maxSizePerMsg >= 0, 'max message size must not be negative');
  const maxInflightBytes = config.maxInflightBytes ?? noLimit;
  assert(maxInflightBytes >= config.maxSizePerMsg, 'max inflight bytes must be >= max message size');
  const readOnlyOption = config.readOnlyOption ?? 'safe';
  assert(readOnlyOption !== 'lease-based' || config.checkQuorum, 'CheckQuorum must be enabled when ReadOnlyOption is lease-based');
  return {
    id: config.id,
    storage: config.storage,
    voters: config.voters ?? [],
    learners: config.learners ?? [],
    random: config.random,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    maxSizePerMsg: config.maxSizePerMsg,
    maxInflightMsgs: config.maxInflightMsgs,
    maxInflightBytes,
    maxCommittedSizePerReady: config.maxCommittedSizePerReady ?? noLimit,
    maxUncommittedEntriesSize: config.maxUncommittedEntriesSize ?? noLimit,
    preVote: config.preVote,
    checkQuorum: config.checkQuorum,
    readOnlyOption,
    applied: config.applied ?? 0,
    disableProposalForwarding: config.disableProposalForwarding ?? false,
    disableConfChangeValidation: config.disableConfChangeValidation ?? false,
    stepDownOnRemoval: config.stepDownOnRemoval ?? true,
    coalesceAppends: config.coalesceAppends ?? false,
    snapshotStatusReported: config.snapshotStatusReported ?? false,
    logger: config.logger ?? null,
  };
}
