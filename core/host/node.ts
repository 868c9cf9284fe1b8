import type { DurableRecord, DurableWrite } from '../base/durable.ts';
import type { Random } from '../base/random.ts';
import type { NodeCodec } from './codec.ts';

/** A cluster member's id. Raft reserves 0 for "none", so members are numbered from 1. */
export type NodeId = number;
/** A client's id, distinct from every NodeId in a cluster. */
export type ClientId = number;

export { tornRecord, type DurableRecord, type DurableWrite } from '../base/durable.ts';

/** What a (re)starting process finds on its disk: every file with its records, in order. */
export interface DurableState {
  readonly files: ReadonlyMap<string, readonly DurableRecord[]>;
}

export interface Outbound<Message> {
  readonly to: NodeId;
  readonly message: Message;
  /**
   * True when the message promises nothing about this Ready's writes, so a host may send it as
   * soon as they are handed to the store, before they are durable (a leader's appends and
   * heartbeats go out in parallel with its own fsync: Raft thesis §10.2.1, etcd's raftNode).
   * Otherwise (votes and append acknowledgements promise durability) it waits for the sync.
   */
  readonly beforeSync?: boolean;
}

/** A client's request id: unique per client; the reply carries it back. */
export type RequestId = number;

/**
 * A reply on a stream (a server-streaming or bidirectional call, e.g. etcd's Watch): `id` is the
 * request id that opened the stream, `sequence` numbers its replies from 0 (a transport delivers
 * them in that order, as gRPC over one HTTP/2 stream does), and `end` closes it from the node's
 * side (nothing follows; the client must open a new stream).
 */
export interface StreamFrame {
  readonly sequence: number;
  readonly end: boolean;
}

export interface ClientReply<Reply> {
  readonly client: ClientId;
  readonly id: RequestId;
  readonly reply: Reply;
  /** Set when the reply is one of several on the stream `id` opened; absent for a unary call's one reply. */
  readonly stream?: StreamFrame;
  /**
   * True when the reply depends on nothing this Ready writes (an applied entry's answer: the entry
   * was committed, so durable on a quorum, before it was applied), so a host may deliver it before
   * the sync, as etcd answers from its apply loop while the WAL is being written.
   */
  readonly beforeSync?: boolean;
  /**
   * True when the reply promises writes of this member's own durable (a defragment's rewritten
   * file, a physical compaction's last commit: etcd fsyncs both before it answers), so it waits
   * for its Ready's sync and then for `DurableStore.caughtUp`: a store may let some writes lag
   * behind its syncs (the runtime's db writes held behind a rewrite being made). Never `beforeSync`.
   */
  readonly promisesWrites?: boolean;
}

/**
 * What the host must do now, in this order: persist `writes` (and sync them when `mustSync`),
 * then send `messages`, then deliver `replies`, then call `advance()`. A host that pipelines
 * may send the messages and replies marked `beforeSync` once the writes are handed to the store.
 */
export interface NodeReady<Message, Reply> {
  /** Persist BEFORE any message is sent or any reply delivered: they may promise these writes. */
  readonly writes: readonly DurableWrite[];
  /** The writes must be durable (synced) before the host goes on. */
  readonly mustSync: boolean;
  /** Send only after `writes` are durable. Messages are immutable from here on. */
  readonly messages: readonly Outbound<Message>[];
  /** Deliver only after `writes` are durable; each reply answers one earlier `submit`. */
  readonly replies: readonly ClientReply<Reply>[];
}

/**
 * A node as the host sees it: a synchronous state machine. It never reads a clock, draws from a
 * global random source or performs I/O. Time enters as `tick()`, everything else as `receive`
 * and `submit`; what the node wants done leaves through `ready()`.
 *
 * Between `ready()` and `advance()` the host may keep calling `tick`, `receive` and `submit`
 * (etcd-io/raft allows stepping while a Ready is being handled); `hasReady()` is false until
 * `advance()` has been called.
 */
export interface HostedNode<Message, Request, Reply> {
  readonly id: NodeId;
  tick(): void;
  receive(from: NodeId, message: Message): void;
  /**
   * Whether this node refuses every message from `from` — a member removed from the cluster, as
   * etcd's transport refuses one (EtcdServer.Process answers 403, rafthttp's stream 410 Gone). A
   * host asks before `receive`, drops a refused message, and tells the sender's host, which calls
   * `removedBy` there. A node without membership may omit both.
   */
  refuses?(from: NodeId): boolean;
  /** Peer `by` refused this node's message: this node was removed (etcd: errMemberRemoved, and the member stops). */
  removedBy?(by: NodeId): void;
  /**
   * A client's request. Without `stream`, a call with id `id`: a unary one (answered by one reply)
   * or, when the node says the request opens a stream (etcd's Watch), the stream's first message
   * (the stream is named by `id`, its replies carry a `StreamFrame`). With `stream`, a further
   * message on the open stream of that id; its answers, if any, are replies on the stream.
   */
  submit(client: ClientId, id: RequestId, request: Request, stream?: RequestId): void;
  /**
   * The client is gone from stream `stream` (it cancelled the call, or its connection broke): the
   * node forgets it and sends nothing more on it. A host calls it for every stream it knew was
   * open when the connection ends; a node without streams may omit it.
   */
  closeStream?(client: ClientId, stream: RequestId): void;
  hasReady(): boolean;
  ready(): NodeReady<Message, Reply>;
  advance(): void;
  /**
   * While a Ready waits for its sync: messages raised since that need nothing durable and would
   * do harm waiting (Raft's heartbeats and their answers). A pipelining host sends them at once;
   * they are no longer part of any Ready. A node without such messages may omit it.
   */
  takeUrgentMessages?(): readonly Outbound<Message>[];
  /**
   * Work the node does in slices, one per turn of its host's loop (an etcd member's apply of a
   * huge range delete): true while it holds such work and no slice is due. The host then calls
   * `continueWork()` in a later turn, after the input that arrived meanwhile (messages, ticks),
   * and pumps; the slice's effects come out of the Readies as usual. A node without it may omit both.
   */
  hasDeferredWork?(): boolean;
  /** Makes the next slice of the deferred work due (done by the next Ready). */
  continueWork?(): void;
}

export interface NodeStart {
  readonly id: NodeId;
  /** Every member of the initial cluster, this node included, ascending. */
  readonly members: readonly NodeId[];
  /** This node's own seeded stream. It survives restarts: it belongs to the world, not the process. */
  readonly random: Random;
  /** What the disk holds. An empty map on first boot. */
  readonly durable: DurableState;
}

/**
 * What a reader of a run may see of a node's state: its role, term, commit and applied index, and
 * its configuration, each optional (a protocol without terms leaves `term` out). Hosts and reports
 * show how these change over a run; nothing may depend on them for its behaviour.
 */
export interface NodeStatus {
  readonly role?: string;
  readonly term?: number;
  readonly commit?: number;
  readonly applied?: number;
  /** The membership as the node sees it, described (e.g. `voters 1 2 3, learners 4`). */
  readonly config?: string;
}

/**
 * A protocol: how to start a node, and how to digest its traffic for the trace hash. A digest is a
 * 32-bit summary; two runs that differ in what they send should differ in their digests.
 *
 * The `describe…` functions and `inspect` are optional and only ever called for people (event
 * lines, run reports, the determinism report), never on a run's hot path: a protocol without them
 * still runs, its events are then named by kind alone.
 */
export interface NodeProtocol<Message, Request, Reply, Node extends HostedNode<Message, Request, Reply> = HostedNode<Message, Request, Reply>> {
  readonly name: string;
  start(config: NodeStart): Node;
  digestMessage(message: Message): number;
  /**
   * What a message is, in 32 bits, for the simulator's keyed network draws
   * (NetworkOptions.keyedDraws): what stays the same when unrelated traffic changes — Raft's
   * message type and term, not its log position or commit, which every earlier write moves.
   * Absent: 0, so that a message's fate is keyed by its link and its place in the link's traffic.
   */
  keyMessage?(message: Message): number;
  digestRequest(request: Request): number;
  digestReply(reply: Reply): number;
  /** One line for a message, with the sender and receiver (e.g. `1->2 MsgApp Term:2 Log:2/5`). */
  describeMessage?(message: Message): string;
  describeRequest?(request: Request): string;
  describeReply?(reply: Reply): string;
  /** The node's state as a reader should see it. */
  inspect?(node: Node): NodeStatus;
  /** Messages and durable records as bytes, for real hosts (runtime/); the simulator never calls it. */
  readonly codec?: NodeCodec<Message>;
}
