import type { Entry } from './entry.ts';
import { None, type NodeId, type Snapshot } from './state.ts';

/**
 * The messages Raft nodes exchange (etcd-io/raft's names). Local-only events (election and
 * heartbeat timeouts, storage acknowledgements, unreachable and snapshot reports) are method
 * calls on the node, not messages, so that nothing local can arrive over the network.
 */
export type MessageType =
  | 'MsgProp'
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgTransferLeader'
  | 'MsgTimeoutNow'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp';

/** Every message type, in a fixed order (its position is its number in digests). */
export const messageTypes: readonly MessageType[] = Object.freeze([
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
]);

/**
 * One Raft message. A plain, immutable object: the network may deliver the same object twice or
 * to a node that already stepped it, so a receiver never mutates a message or its entries.
 *
 * Field meanings by type (unused fields are 0, false, '' or empty):
 * - `term`: the sender's term; 0 for MsgProp and MsgReadIndex, which are forwarded like local
 *   requests. For (pre-)votes and their answers, the term campaigned for.
 * - MsgApp: `index`/`logTerm` identify the entry preceding `entries`; `commit` is the leader's.
 * - MsgAppResp: `index` is the last index the follower now matches, or, when `reject`, the index
 *   it could not match; then `rejectHint`/`logTerm` point at where its log might match (§5.3,
 *   etcd's fast backtracking).
 * - MsgVote/MsgPreVote: `index`/`logTerm` identify the candidate's last entry; `context` is
 *   `campaignTransferContext` when a leadership transfer forces the election.
 * - MsgHeartbeat: `commit` is min(follower's match, leader's commit); `context` echoes a pending
 *   ReadIndex round, returned in the MsgHeartbeatResp.
 * - MsgSnap: `snapshot`.
 * - MsgReadIndex/MsgReadIndexResp: `context` identifies the request, `index` is the read index.
 * - MsgTransferLeader: `index` is the transferee's id (a request sent by the application or
 *   forwarded by a follower to the leader).
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly commit: number;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: string;
}

/** The `context` of a MsgVote that a leadership transfer forces past check-quorum leases. */
export const campaignTransferContext = 'CampaignTransfer';

export type MessageInit = Partial<Message> & Pick<Message, 'type' | 'to'>;

const noEntries: readonly Entry[] = Object.freeze([]);

/** A complete message with defaults for every field `init` leaves out. */
export function makeMessage(init: MessageInit, from: NodeId = init.from ?? None, term: number = init.term ?? 0): Message {
  return {
    type: init.type,
    from,
    to: init.to,
    term,
    logTerm: init.logTerm ?? 0,
    index: init.index ?? 0,
    commit: init.commit ?? 0,
    entries: init.entries ?? noEntries,
    snapshot: init.snapshot ?? null,
    reject: init.reject ?? false,
    rejectHint: init.rejectHint ?? 0,
    context: init.context ?? '',
  };
}

/** Answers: a node only accepts them from peers it tracks (etcd's ErrStepPeerNotFound). */
/**
 * Whether a message promises that what its sender persists with it is durable, so it may leave
 * only after the sync: an append acknowledgement (the entries are on its disk) and a vote (the
 * vote and term are). Every other message may leave while the sender's writes are in flight —
 * the rule etcd-io/raft follows with asynchronous storage writes (its msgsAfterAppend). A node's
 * messages to itself (the leader's self-ack, the candidate's own vote) are stepped only after
 * the sync too (see Raft's `advance`), so a leader never counts its own unsynced log.
 */
export function waitsForDurability(type: MessageType): boolean {
  return type === 'MsgAppResp' || type === 'MsgVoteResp' || type === 'MsgPreVoteResp';
}

export function isResponseMessage(type: MessageType): boolean {
  return type === 'MsgAppResp' || type === 'MsgVoteResp' || type === 'MsgHeartbeatResp' || type === 'MsgPreVoteResp';
}

export function voteResponseType(type: 'MsgVote' | 'MsgPreVote'): 'MsgVoteResp' | 'MsgPreVoteResp' {
  return type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
}
