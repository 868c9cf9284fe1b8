import { AssertionError, assert } from '../../core/base/assert.ts';
import {
  tornRecord,
  type ClientId,
  type ClientReply,
  type DurableState,
  type DurableWrite,
  type HostedNode,
  type NodeId,
  type NodeProtocol,
  type NodeReady,
  type NodeStart,
  type Outbound,
  type RequestId,
} from '../../core/host/node.ts';
import type { Workload } from '../client.ts';
import type { Simulation } from '../simulation.ts';
import type { LivenessCheck, SimObserver } from '../observer.ts';

/**
 * A small protocol that proves the simulator kernel without Raft: on every tick a node bumps a
 * counter, persists it, and — only once it is durable — sends it to every peer. Clients read the
 * counter. Because a counter leaves only after it is synced, a node never sends the same or a
 * lower counter to a peer twice, across crashes and restarts; `heartbeatObservers` checks that.
 */
export interface Heartbeat {
  readonly counter: number;
}
export interface HeartbeatRequest {
  readonly kind: 'read';
}
export interface HeartbeatReply {
  readonly node: NodeId;
  readonly counter: number;
}

export const counterFile = 'counter';
const noWrites: readonly DurableWrite[] = Object.freeze([]);
const noMessages: readonly Outbound<Heartbeat>[] = Object.freeze([]);
const noReplies: readonly ClientReply<HeartbeatReply>[] = Object.freeze([]);
/** Every this many ticks the counter file is rewritten with its last record only. */
const compactEveryTicks = 32;

export class HeartbeatNode implements HostedNode<Heartbeat, HeartbeatRequest, HeartbeatReply> {
  readonly id: NodeId;
  readonly peers: readonly NodeId[];
  counter: number;
  ticks = 0;
  /** The highest counter heard from each peer since this process started, by node id (-1: none). */
  readonly heard: number[];
  protected writes: DurableWrite[] = [];
  protected messages: Outbound<Heartbeat>[] = [];
  protected replies: ClientReply<HeartbeatReply>[] = [];
  private readyOut = false;

  constructor(config: NodeStart) {
    this.id = config.id;
    this.peers = config.members.filter((m) => m !== config.id);
    this.heard = new Array<number>(Math.max(...config.members) + 1).fill(-1);
    const { counter, torn } = recoverCounter(config.durable);
    this.counter = counter;
    // A torn tail is cut off before anything is appended after it, as a WAL repair does.
    if (torn) this.writes.push({ kind: 'replace', file: counterFile, records: [{ counter }] });
  }

  tick(): void {
    this.ticks++;
    this.counter++;
    const compact = this.ticks % compactEveryTicks === 0;
    this.writes.push({ kind: compact ? 'replace' : 'append', file: counterFile, records: [{ counter: this.counter }] });
    const heartbeat: Heartbeat = { counter: this.counter }; // immutable, so one object serves every peer
    for (const peer of this.peers) this.messages.push({ to: peer, message: heartbeat });
  }

  receive(from: NodeId, message: Heartbeat): void {
    const heard = this.heard[from];
    if (heard === undefined || from === this.id) throw new AssertionError(`heartbeat from a stranger ${from}`);
    if (message.counter > heard) this.heard[from] = message.counter;
  }

  submit(client: ClientId, id: RequestId, request: HeartbeatRequest): void {
    assert(request.kind === 'read', 'heartbeat nodes only answer reads');
    this.replies.push({ client, id, reply: { node: this.id, counter: this.counter } });
  }

  hasReady(): boolean {
    return !this.readyOut && (this.writes.length > 0 || this.messages.length > 0 || this.replies.length > 0);
  }

  ready(): NodeReady<Heartbeat, HeartbeatReply> {
    assert(!this.readyOut, 'ready() twice without advance()');
    this.readyOut = true;
    // Hand the batches over and start new ones: input that arrives while the host persists this
    // Ready (ticks during a slow sync) belongs to the next Ready, not to this one. (Sharing the
    // arrays lost writes and sent counters before they were durable; the heartbeat safety check
    // caught it in the kernel benchmark, seed 1.)
    // An empty batch stays here and the Ready gets a shared frozen empty one instead: there is
    // nothing to hand over, and nothing that arrives later can slip into the Ready.
    const writes = this.writes.length === 0 ? noWrites : this.writes;
    const messages = this.messages.length === 0 ? noMessages : this.messages;
    const replies = this.replies.length === 0 ? noReplies : this.replies;
    if (writes !== noWrites) this.writes = [];
    if (messages !== noMessages) this.messages = [];
    if (replies !== noReplies) this.replies = [];
    return { writes, mustSync: writes.length > 0, messages, replies };
  }

  advance(): void {
    assert(this.readyOut, 'advance() without ready()');
    this.readyOut = false;
  }
}

/** The last good counter on disk; a torn record ends the readable part. */
export function recoverCounter(durable: DurableState): { counter: number; torn: boolean } {
  let counter = 0;
  for (const record of durable.files.get(counterFile) ?? []) {
    if (record === tornRecord) return { counter, torn: true };
    counter = (record as Heartbeat).counter;
  }
  return { counter, torn: false };
}

export const heartbeatProtocol: NodeProtocol<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode> = {
  name: 'heartbeat',
  start: (config) => new HeartbeatNode(config),
  digestMessage: (message) => message.counter,
  digestRequest: () => 0x5eed,
  digestReply: (reply) => reply.counter * 64 + reply.node,
  describeMessage: (message) => `heartbeat counter ${message.counter}`,
  describeRequest: () => 'read counter',
  describeReply: (reply) => `counter ${reply.counter} of node ${reply.node}`,
};

export type HeartbeatSimulation = Simulation<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode>;

export function heartbeatWorkload(clientCount: number, nodeCount: number): Workload<HeartbeatRequest, HeartbeatReply> {
  return {
    name: 'read-counters',
    clientCount,
    operationsPerClientMax: 1_000,
    timeoutUs: 500_000,
    thinkUsMin: 10_000,
    thinkUsMax: 200_000,
    next: (_client, random) => ({ to: 1 + random.below(nodeCount), request: { kind: 'read' } }),
    outcome: () => 'ok',
  };
}

/**
 * Safety: every counter a node sends a peer is higher than any it sent that peer before, in any
 * earlier incarnation (it was durable before it left). Reads of one node's counter never go back.
 */
export function heartbeatSafety(): SimObserver<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode> {
  // Indexed by from · 65 + to: node ids stay below 65 (the simulator's limit).
  const lastSent = new Float64Array(65 * 65);
  return {
    onSend(from, to, message) {
      const link = from * 65 + to;
      const previous = lastSent[link]!;
      if (message.counter <= previous) throw new AssertionError(`node ${from} sent counter ${message.counter} to ${to} after already sending ${previous}`);
      lastSent[link] = message.counter;
    },
  };
}

/** Liveness: once faults stop, every node hears a fresh heartbeat from every other. */
export function heartbeatLiveness(boundUs: number): LivenessCheck<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode> {
  let baseline: Map<NodeId, number> | null = null;
  return {
    description: 'every node hears a fresh heartbeat from every peer',
    boundUs,
    holds(sim) {
      if (baseline === null) {
        baseline = new Map();
        for (const id of sim.members) baseline.set(id, sim.node(id)?.counter ?? 0);
      }
      for (const id of sim.members) {
        const node = sim.node(id);
        if (node === null) return false;
        for (const peer of node.peers) if (node.heard[peer]! <= baseline.get(peer)!) return false;
      }
      return true;
    },
  };
}
