/**
 * A worked example of putting your own protocol under the simulator (README.md, "Testing your own protocol"), using
 * only the harness module. The protocol is small on purpose: each node keeps a durable counter;
 * a client's `add` increments the counter of the node it asks, and the reply carries the new
 * value. The promise: a value is answered only once it is durable, so a node never answers a value
 * it has answered before — across crashes, torn writes and restarts. Nodes also tell their peers
 * their counter on every tick (so the network has traffic to lose, delay and partition).
 */
import {
  AssertionError,
  assert,
  defaultSimOptions,
  drawSwarm,
  executeSimulation,
  fullSwarmSpace,
  RandomStreams,
  resolveKnobs,
  swarmCoverage,
  tornRecord,
  type ClientReply,
  type DurableState,
  type DurableWrite,
  type HostedNode,
  type NodeId,
  type NodeProtocol,
  type NodeReady,
  type NodeStart,
  type Outbound,
  type PreparedRun,
  type RunSettings,
  type Scenario,
  type SimObserver,
  type SimOptions,
  type Workload,
} from '../../harness.ts';

// --- 1. The node: a synchronous state machine behind the host contract ------------------------

export interface Gossip {
  readonly counter: number;
}
export interface Add {
  readonly kind: 'add';
}
export interface Added {
  readonly node: NodeId;
  readonly counter: number;
}

const counterFile = 'counter';

export class CounterNode implements HostedNode<Gossip, Add, Added> {
  readonly id: NodeId;
  counter: number;
  private readonly peers: readonly NodeId[];
  private writes: DurableWrite[] = [];
  private messages: Outbound<Gossip>[] = [];
  private replies: ClientReply<Added>[] = [];
  private readyOut = false;
  private writesSinceCompaction = 0;

  constructor(start: NodeStart) {
    this.id = start.id;
    this.peers = start.members.filter((member) => member !== start.id);
    const { counter, torn } = recover(start.durable);
    this.counter = counter;
    // A torn last record is cut off before anything is appended after it.
    if (torn) this.writes.push({ kind: 'replace', file: counterFile, records: [{ counter }] });
  }

  tick(): void {
    for (const peer of this.peers) this.messages.push({ to: peer, message: { counter: this.counter } });
  }

  receive(_from: NodeId, _message: Gossip): void {
    // Gossip is informational: a real protocol would act on it.
  }

  submit(client: number, id: number, request: Add): void {
    assert(request.kind === 'add', 'counter nodes only add');
    this.counter++;
    // Every 64 writes the file is replaced by its last record, so it never grows without bound.
    const compact = ++this.writesSinceCompaction % 64 === 0;
    this.writes.push({ kind: compact ? 'replace' : 'append', file: counterFile, records: [{ counter: this.counter }] });
    this.replies.push({ client, id, reply: { node: this.id, counter: this.counter } });
  }

  hasReady(): boolean {
    return !this.readyOut && (this.writes.length > 0 || this.messages.length > 0 || this.replies.length > 0);
  }

  /** The host persists `writes` (syncing them when `mustSync`), then sends, then replies. */
  ready(): NodeReady<Gossip, Added> {
    this.readyOut = true;
    const ready = { writes: this.writes, mustSync: this.writes.length > 0, messages: this.messages, replies: this.replies };
    this.writes = [];
    this.messages = [];
    this.replies = [];
    return ready;
  }

  advance(): void {
    this.readyOut = false;
  }
}

/** The last good counter on disk; a torn record (the process died writing it) ends the file. */
function recover(durable: DurableState): { counter: number; torn: boolean } {
  let counter = 0;
  for (const record of durable.files.get(counterFile) ?? []) {
    if (record === tornRecord) return { counter, torn: true };
    counter = (record as Gossip).counter;
  }
  return { counter, torn: false };
}

// --- 2. The protocol: how to start a node, digest (and describe) its traffic -----------------

export const counterProtocol: NodeProtocol<Gossip, Add, Added, CounterNode> = {
  name: 'counter',
  start: (start) => new CounterNode(start),
  digestMessage: (message) => message.counter,
  digestRequest: () => 1,
  digestReply: (reply) => reply.counter * 64 + reply.node,
  describeMessage: (message) => `gossip counter ${message.counter}`,
  describeRequest: () => 'add',
  describeReply: (reply) => `added: node ${reply.node} is at ${reply.counter}`,
  inspect: (node) => ({ commit: node.counter }),
};

/** A planted bug: replies leave before the counter is durable. A crash then answers a value twice. */
class UnsyncedCounterNode extends CounterNode {
  override ready(): NodeReady<Gossip, Added> {
    return { ...super.ready(), mustSync: false };
  }
}

// --- 3. A scenario: options drawn from the seed, a workload, the checks -----------------------

/** Clients add at random nodes, one operation at a time. */
function addWorkload(clients: number, nodes: number): Workload<Add, Added> {
  return {
    name: 'add',
    clientCount: clients,
    operationsPerClientMax: 2_000,
    timeoutUs: 500_000,
    thinkUsMin: 10_000,
    thinkUsMax: 100_000,
    next: (_client, random) => ({ to: 1 + random.below(nodes), request: { kind: 'add' } }),
    outcome: () => 'ok',
  };
}

/** No node answers a value it answered before: its replies only go up. Checked at the end of a run. */
function answersNeverRepeat(): SimObserver<Gossip, Add, Added, CounterNode> {
  return {
    finish(sim) {
      const answered = new Map<string, number>();
      for (const entry of sim.history) {
        if (entry.reply === null) continue;
        const key = `${entry.reply.node}:${entry.reply.counter}`;
        const earlier = answered.get(key);
        if (earlier !== undefined) throw new AssertionError(`node ${entry.reply.node} answered ${entry.reply.counter} twice (operations ${earlier} and ${entry.id})`);
        answered.set(key, entry.id);
      }
    },
  };
}

const quietAtUs = 10_000_000;

function prepare(name: string, seed: number, settings: RunSettings | undefined, protocol: NodeProtocol<Gossip, Add, Added, CounterNode>): PreparedRun {
  const knobs = resolveKnobs(name, { clients: 3 }, settings?.knobs);
  let options: SimOptions;
  if (settings?.options !== undefined) options = settings.options;
  else {
    const base: SimOptions = { ...defaultSimOptions, seed, nodeCount: 3, timeLimitUs: quietAtUs + 3_000_000 };
    // Swarm testing: the seed picks which fault classes are on, then the faults themselves.
    options = drawSwarm(new RandomStreams(seed).stream('swarm'), base, counterSpace, { startUs: 500_000, quietAtUs, meanGapUs: 500_000, faultUsMax: 1_500_000 }, [1, 2, 3]).options;
  }
  return {
    options,
    knobs,
    notes: ['checks: no node answers a value twice (end of run); every node answers after the faults stop'],
    execute: (config) =>
      executeSimulation(
        options,
        {
          protocol,
          workload: addWorkload(knobs.clients, options.nodeCount),
          observers: [answersNeverRepeat()],
          liveness: {
            description: 'every node is up and answering',
            boundUs: 2_000_000,
            holds: (sim) => sim.members.every((id) => sim.node(id) !== null && sim.processState(id) === 'up'),
          },
        },
        config,
      ),
  };
}

const counterSpace = { ...fullSwarmSpace, timedClasses: ['crash', 'partition', 'pause'] as const, alwaysOn: ['crash'] as const };

/** The scenarios, as `detcd-sim run --scenarios scenarios/examples/counter/counter.ts` loads them. */
export const scenarios: readonly Scenario[] = [
  {
    name: 'counter-swarm',
    family: 'counter',
    summary: 'example: a durable counter per node, under crashes, partitions and pauses',
    expect: 'pass',
    coverage: swarmCoverage(counterSpace),
    prepare: (seed, settings) => prepare('counter-swarm', seed, settings, counterProtocol),
  },
  {
    name: 'counter-unsynced-reply',
    family: 'counter',
    summary: 'example with a planted bug: replies before the counter is durable (a crash repeats a value)',
    expect: 'violation',
    prepare: (seed, settings) => prepare('counter-unsynced-reply', seed, settings, { ...counterProtocol, start: (start) => new UnsyncedCounterNode(start) }),
  },
];
