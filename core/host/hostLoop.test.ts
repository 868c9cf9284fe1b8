import test from 'ava';
import { HostLoop } from './hostLoop.ts';
import type { ClientReply, DurableWrite, HostedNode, NodeReady, Outbound } from './node.ts';
import type { HostPorts } from './ports.ts';

/** A node that emits whatever the test queues, and logs the calls it gets. */
class ScriptedNode implements HostedNode<string, string, string> {
  readonly id = 1;
  readonly queued: NodeReady<string, string>[] = [];
  outstanding = false;
  constructor(private readonly log: string[]) {}
  tick(): void {}
  receive(): void {}
  submit(): void {}
  hasReady(): boolean {
    return !this.outstanding && this.queued.length > 0;
  }
  ready(): NodeReady<string, string> {
    this.outstanding = true;
    this.log.push('ready');
    return this.queued.shift()!;
  }
  advance(): void {
    this.outstanding = false;
    this.log.push('advance');
  }
  /** Heartbeat-like messages raised while a Ready is out. */
  readonly urgent: Outbound<string>[] = [];
  takeUrgentMessages(): readonly Outbound<string>[] {
    return this.urgent.splice(0);
  }
}

function makeReady(label: string, mustSync: boolean, withWrite = true): NodeReady<string, string> {
  const writes: DurableWrite[] = withWrite ? [{ kind: 'append', file: 'log', records: [label] }] : [];
  const messages: Outbound<string>[] = [{ to: 2, message: `msg-${label}` }];
  const replies: ClientReply<string>[] = [{ client: 9, id: 1, reply: `reply-${label}` }];
  return { writes, mustSync, messages, replies };
}

function harness(syncMode: 'deferred' | 'immediate', sendBeforeSync = false) {
  const log: string[] = [];
  const pendingSyncs: (() => void)[] = [];
  const node = new ScriptedNode(log);
  const ports: HostPorts<string, string> = {
    transport: { send: (to, message) => void log.push(`send ${to} ${message}`) },
    replies: { reply: (client, id, reply, stream) => void log.push(`reply ${client}/${id} ${reply}${stream === undefined ? '' : ` #${stream.sequence}${stream.end ? ' end' : ''}`}`) },
    store: {
      write: (writes) => void log.push(`write ${writes.map((w) => w.records.join()).join()}`),
      sync: (done) => {
        log.push('sync');
        if (syncMode === 'immediate') done();
        else pendingSyncs.push(done);
      },
      read: () => ({ files: new Map() }),
    },
  };
  return { log, node, loop: new HostLoop(node, ports, { sendBeforeSync }), pendingSyncs };
}

test('persist, then (after the sync completes) send, then reply, then advance', (t) => {
  const { log, node, loop, pendingSyncs } = harness('deferred');
  node.queued.push(makeReady('a', true));
  loop.pump();
  t.deepEqual(log, ['ready', 'write a', 'sync']);
  t.true(loop.waitingForSync);
  pendingSyncs.shift()!();
  t.deepEqual(log.slice(3), ['send 2 msg-a', 'reply 9/1 reply-a', 'advance']);
  t.false(loop.waitingForSync);
});

test('while a sync is in flight the next Ready waits, even when pumped', (t) => {
  const { log, node, loop, pendingSyncs } = harness('deferred');
  node.queued.push(makeReady('a', true), makeReady('b', true));
  loop.pump();
  loop.pump();
  t.deepEqual(log, ['ready', 'write a', 'sync']);
  pendingSyncs.shift()!();
  // The completion pumps on its own: b is persisted right after a is finished.
  t.deepEqual(log.slice(3), ['send 2 msg-a', 'reply 9/1 reply-a', 'advance', 'ready', 'write b', 'sync']);
});

test('a Ready without mustSync goes straight through; one without writes writes nothing', (t) => {
  const { log, node, loop } = harness('deferred');
  node.queued.push(makeReady('a', false), makeReady('b', false, false));
  loop.pump();
  t.deepEqual(log, ['ready', 'write a', 'send 2 msg-a', 'reply 9/1 reply-a', 'advance', 'ready', 'send 2 msg-b', 'reply 9/1 reply-b', 'advance']);
});

test('a store whose sync completes at once (the runtime with fsync inline) keeps the order', (t) => {
  const { log, node, loop } = harness('immediate');
  node.queued.push(makeReady('a', true), makeReady('b', true));
  loop.pump();
  t.deepEqual(log, [
    'ready', 'write a', 'sync', 'send 2 msg-a', 'reply 9/1 reply-a', 'advance',
    'ready', 'write b', 'sync', 'send 2 msg-b', 'reply 9/1 reply-b', 'advance',
  ]);
});

test('a Ready that asks for a sync without writes is a programmer error', (t) => {
  const { node, loop } = harness('deferred');
  node.queued.push(makeReady('a', true, false));
  t.throws(() => loop.pump(), { message: /sync without writes/ });
});

/** A Ready whose first message and reply promise nothing about its writes, and whose others do. */
function mixedReady(): NodeReady<string, string> {
  return {
    writes: [{ kind: 'append', file: 'log', records: ['x'] }],
    mustSync: true,
    messages: [{ to: 2, message: 'append', beforeSync: true }, { to: 3, message: 'ack' }],
    replies: [{ client: 9, id: 1, reply: 'applied', beforeSync: true }, { client: 9, id: 2, reply: 'defragmented' }],
  };
}

test('pipelined: what promises nothing leaves while the writes are synced, the rest after the sync', (t) => {
  const { log, node, loop, pendingSyncs } = harness('deferred', true);
  node.queued.push(mixedReady());
  loop.pump();
  t.deepEqual(log, ['ready', 'write x', 'send 2 append', 'reply 9/1 applied', 'sync']);
  pendingSyncs.shift()!();
  t.deepEqual(log.slice(5), ['send 3 ack', 'reply 9/2 defragmented', 'advance']);
});

test('not pipelined: the marks are ignored and everything waits for the sync, in the order the node gave', (t) => {
  const { log, node, loop, pendingSyncs } = harness('deferred', false);
  node.queued.push(mixedReady());
  loop.pump();
  t.deepEqual(log, ['ready', 'write x', 'sync']);
  pendingSyncs.shift()!();
  t.deepEqual(log.slice(3), ['send 2 append', 'send 3 ack', 'reply 9/1 applied', 'reply 9/2 defragmented', 'advance']);
});

test('replies on a stream keep their frames (sequence, end) and their order after the sync, like any reply', (t) => {
  const { log, node, loop, pendingSyncs } = harness('deferred');
  node.queued.push({
    writes: [{ kind: 'append', file: 'log', records: ['a'] }],
    mustSync: true,
    messages: [],
    replies: [
      { client: 9, id: 4, reply: 'created', stream: { sequence: 0, end: false } },
      { client: 9, id: 5, reply: 'unary' },
      { client: 9, id: 4, reply: 'events', stream: { sequence: 1, end: false } },
      { client: 9, id: 4, reply: 'closed', stream: { sequence: 2, end: true } },
    ],
  });
  loop.pump();
  pendingSyncs.shift()!();
  t.deepEqual(log.slice(3), ['reply 9/4 created #0', 'reply 9/5 unary', 'reply 9/4 events #1', 'reply 9/4 closed #2 end', 'advance']);
});

test('a pipelining loop sends the node\'s urgent messages (heartbeats) while a sync is in flight; without pipelining they wait', (t) => {
  for (const sendBeforeSync of [true, false]) {
    const { log, node, loop, pendingSyncs } = harness('deferred', sendBeforeSync);
    node.queued.push(makeReady('a', true));
    loop.pump();
    node.urgent.push({ to: 3, message: 'heartbeat' });
    loop.pump();
    t.is(log.includes('send 3 heartbeat'), sendBeforeSync);
    t.false(log.includes('advance'), 'the Ready in flight still waits for its sync');
    pendingSyncs.shift()!();
    t.true(log.includes('advance'));
  }
});

/** A node with `slices` slices of deferred work, each done by the Ready after `continueWork()`. */
class SlicingNode extends ScriptedNode {
  slices: number;
  private due = false;
  constructor(log: string[], slices: number) {
    super(log);
    this.slices = slices;
  }
  override hasReady(): boolean {
    return super.hasReady() || (!this.outstanding && this.due);
  }
  override ready(): NodeReady<string, string> {
    if (this.due) {
      this.due = false;
      this.slices--;
      if (this.queued.length === 0) this.queued.push(makeReady(`slice${this.slices}`, false, false));
    }
    return super.ready();
  }
  hasDeferredWork(): boolean {
    return this.slices > 0 && !this.due;
  }
  continueWork(): void {
    this.due = true;
  }
}

test('deferred work: one slice per later turn the host gives, other input in between; without `later`, all at once', (t) => {
  const log: string[] = [];
  const turns: (() => void)[] = [];
  const node = new SlicingNode(log, 2);
  const ports: HostPorts<string, string> = {
    transport: { send: (to, message) => void log.push(`send ${to} ${message}`) },
    replies: { reply: () => {} },
    store: { write: () => {}, sync: (done) => done(), read: () => ({ files: new Map() }) },
    later: (run) => void turns.push(run),
  };
  const loop = new HostLoop(node, ports);
  loop.pump();
  t.is(turns.length, 1, 'a later turn asked for');
  loop.pump();
  t.is(turns.length, 1, 'once');
  t.deepEqual(log, []);
  turns.shift()!();
  t.deepEqual(log, ['ready', 'send 2 msg-slice1', 'advance']);
  t.is(turns.length, 1, 'the next slice asked for');
  turns.shift()!();
  t.is(node.slices, 0);
  t.is(turns.length, 0, 'no more');

  const atOnce: string[] = [];
  const plain = new SlicingNode(atOnce, 3);
  const { later: _later, ...noLater } = ports;
  new HostLoop(plain, noLater).pump();
  t.is(plain.slices, 0);
  t.is(atOnce.filter((line) => line === 'ready').length, 3);
});
