import test from 'ava';
import type { ClientId, HostedNode, NodeReady, NodeProtocol, RequestId, StreamFrame } from '../core/host/node.ts';
import type { Workload } from './client.ts';
import { defaultSimOptions } from './options.ts';
import { Simulation } from './simulation.ts';
import type { StreamWorkload } from './streamClients.ts';

/**
 * A node that answers every stream opened on it with a numbered reply per tick (a ticker stream),
 * ends a stream when asked ('stop'), and forgets the streams its clients close.
 */
class TickerNode implements HostedNode<never, string, string> {
  readonly id: number;
  readonly open = new Map<string, { client: ClientId; stream: RequestId; next: number }>();
  closed = 0;
  private replies: NodeReady<never, string>['replies'][number][] = [];
  private out = false;
  constructor(id: number) {
    this.id = id;
  }
  tick(): void {
    for (const stream of this.open.values()) this.replies.push({ client: stream.client, id: stream.stream, reply: `n${this.id}:${stream.next}`, stream: { sequence: stream.next++, end: false } });
  }
  receive(): void {}
  submit(client: ClientId, id: RequestId, request: string, stream?: RequestId): void {
    if (stream === undefined) return void this.open.set(`${client}/${id}`, { client, stream: id, next: 0 });
    const open = this.open.get(`${client}/${stream}`);
    if (request !== 'stop' || open === undefined) return;
    this.open.delete(`${client}/${stream}`);
    this.replies.push({ client, id: stream, reply: 'stopped', stream: { sequence: open.next, end: true } });
  }
  closeStream(client: ClientId, stream: RequestId): void {
    if (this.open.delete(`${client}/${stream}`)) this.closed++;
  }
  hasReady(): boolean {
    return !this.out && this.replies.length > 0;
  }
  ready(): NodeReady<never, string> {
    this.out = true;
    const replies = this.replies;
    this.replies = [];
    return { writes: [], mustSync: false, messages: [], replies };
  }
  advance(): void {
    this.out = false;
  }
}

const tickerProtocol: NodeProtocol<never, string, string, TickerNode> = {
  name: 'ticker',
  start: (start) => new TickerNode(start.id),
  digestMessage: () => 0,
  digestRequest: (request) => request.length,
  digestReply: (reply) => reply.length,
};

/** One stream client: opens on node 1, then 2, …; logs every reply and break; asks node 2's stream to stop after 5 replies. */
function tickerWatcher(log: string[]): StreamWorkload<string, string> {
  let next = 0;
  const open = () => ({ open: { to: (next++ % 3) + 1, request: 'open' } });
  return {
    clientCount: 1,
    wake: () => open(),
    onReply: (_client, node, reply, frame: StreamFrame) => {
      log.push(`${reply}#${frame.sequence}${frame.end ? ' end' : ''}`);
      return node === 2 && frame.sequence === 4 ? { send: ['stop'] } : {};
    },
    onBroken: (_client, node) => {
      log.push(`broken on n${node}`);
      return { wakeAfterUs: 10_000 };
    },
  };
}

const noCalls: Workload<string, string> = { name: 'streams only', clientCount: 0, operationsPerClientMax: 0, timeoutUs: 1, thinkUsMin: 0, thinkUsMax: 0, next: () => null, outcome: () => 'ok' };

test('a stream delivers its replies in sequence despite random link delays; a crash breaks it; a node ending it is told apart from a break', (t) => {
  const log: string[] = [];
  const sim = new Simulation(
    {
      ...defaultSimOptions,
      seed: 3,
      nodeCount: 3,
      timeLimitUs: 3_000_000,
      network: { ...defaultSimOptions.network, latencyUsMin: 100, latencyUsMax: 150_000 },
      faults: [{ atUs: 1_005_000, action: { kind: 'crash', node: 1 } }],
    },
    { protocol: tickerProtocol, workload: { ...noCalls, streams: tickerWatcher(log) } },
  );
  const result = sim.run();
  t.true(result.ok, result.violation?.message);
  // Node 1's ticks arrive in order until it crashes, then the stream breaks; node 2's stream ends
  // when the node ends it (after 'stop'), and the client goes on to node 3.
  const n1 = log.filter((line) => line.startsWith('n1:'));
  t.deepEqual(n1, n1.map((_, i) => `n1:${i}#${i}`));
  t.true(n1.length >= 8, 'node 1 ticked ten times a second for a second');
  const broken = log.indexOf('broken on n1');
  t.true(broken > 0);
  const stopped = log.findIndex((line) => line.startsWith('stopped#'));
  const n2 = log.slice(broken + 1, stopped);
  t.true(n2.length >= 5, "node 2's ticks until the stop arrived");
  t.deepEqual(n2, n2.map((_, i) => `n2:${i}#${i}`));
  t.deepEqual(log.slice(stopped, stopped + 2), [`stopped#${n2.length} end`, 'broken on n2']);
  t.true(log.includes('n3:0#0'), 'the client went on to node 3');
  t.is(sim.node(2)!.open.size, 0);
});

test('a client that leaves a stream closes it on the node (the node forgets it)', (t) => {
  const workload: StreamWorkload<string, string> = {
    clientCount: 1,
    wake: (_client, _random, nowUs) => (nowUs === 0 ? { open: { to: 1, request: 'open' }, wakeAfterUs: 500_000 } : { close: true }),
    onReply: () => ({}),
    onBroken: () => ({}),
  };
  const sim = new Simulation({ ...defaultSimOptions, seed: 1, nodeCount: 1, timeLimitUs: 1_000_000 }, { protocol: tickerProtocol, workload: { ...noCalls, streams: workload } });
  t.true(sim.run().ok);
  t.is(sim.node(1)!.open.size, 0);
  t.is(sim.node(1)!.closed, 1);
});
