import test from 'ava';
import type { NodeId, NodeReady } from '../host/node.ts';
import { TestRandom } from '../raft/_test/testRandom.ts';
import { EtcdServer } from './etcdServer.ts';
import type { PeerMessage } from './peerMessage.ts';
import { etcdServerConfig } from './protocol.ts';
import { call, type ServerReply } from './serverRequest.ts';

/**
 * What an etcd member lets leave before its Ready's writes are durable (the runtime's pipelined
 * host loop sends those at once): messages that promise nothing about them, and answers that rest
 * on committed entries. Driven by hand, Ready by Ready, every sync completing at once.
 */
class Members {
  readonly servers = new Map<NodeId, EtcdServer>();
  readonly readies: { id: NodeId; ready: NodeReady<PeerMessage, ServerReply> }[] = [];
  private inFlight: PeerMessage[] = [];

  constructor(ids: readonly NodeId[]) {
    const config = etcdServerConfig(ids);
    for (const id of ids) this.servers.set(id, new EtcdServer({ id, members: ids, random: new TestRandom(id), durable: { files: new Map() } }, config));
  }

  /** Handles every Ready and delivers every message until nothing moves; ticks `rounds` times first. */
  run(rounds = 0): void {
    for (let round = 0; round <= rounds; round++) {
      if (round > 0) for (const server of this.servers.values()) server.tick();
      for (let guard = 0; guard < 1_000; guard++) {
        let moved = false;
        for (const [id, server] of this.servers) {
          while (server.hasReady()) {
            const ready = server.ready();
            this.readies.push({ id, ready });
            for (const outbound of ready.messages) this.inFlight.push(outbound.message);
            server.advance();
            moved = true;
          }
        }
        const delivering = this.inFlight;
        this.inFlight = [];
        for (const message of delivering) this.servers.get(message.to)!.receive(message.from, message);
        if (!moved && delivering.length === 0) break;
      }
    }
  }

  leader(): EtcdServer {
    return [...this.servers.values()].find((server) => server.softState.role === 'leader')!;
  }
}

test("a leader's appends and heartbeats may leave before its own sync; acknowledgements and votes wait for the follower's", (t) => {
  const members = new Members([1, 2, 3]);
  members.run(30);
  const leader = members.leader();
  members.readies.length = 0;
  leader.submit(100, 1, call('Put', { key: 'k', value: 'v' }));
  members.run();
  const marks = new Map<string, Set<boolean>>();
  for (const { ready } of members.readies) {
    for (const outbound of ready.messages) {
      const seen = marks.get(outbound.message.type) ?? new Set<boolean>();
      seen.add(outbound.beforeSync === true);
      marks.set(outbound.message.type, seen);
    }
  }
  t.deepEqual([...(marks.get('MsgApp') ?? [])], [true]);
  t.deepEqual([...(marks.get('MsgAppResp') ?? [])], [false]);
  const answer = members.readies.flatMap(({ ready }) => ready.replies).find((reply) => reply.client === 100)!;
  t.true(answer.beforeSync, 'the answer to an applied put rests on the committed entry');
});

test('nothing leaves before the sync of a Ready that carries a request id reservation (ids must be durable before they travel)', (t) => {
  const members = new Members([1, 2, 3]);
  // Every member's first Ready carries its first reservation, and votes must wait anyway: look
  // at the pre-votes, which would otherwise leave early.
  members.run(30);
  const first = new Map<NodeId, NodeReady<PeerMessage, ServerReply>>();
  for (const { id, ready } of members.readies) if (!first.has(id) && ready.writes.some((write) => write.file === 'reqid')) first.set(id, ready);
  t.is(first.size, 3);
  for (const ready of first.values()) for (const outbound of ready.messages) t.false(outbound.beforeSync === true, outbound.message.type);
  const campaigns = members.readies.flatMap(({ ready }) => (ready.writes.some((write) => write.file === 'reqid') ? [] : ready.messages)).filter((outbound) => outbound.message.type === 'MsgPreVote');
  t.true(campaigns.length > 0 && campaigns.every((outbound) => outbound.beforeSync === true));
});

test('a defragment answer waits for the sync of the rewrite it promises', (t) => {
  const members = new Members([1]);
  members.run(30);
  const server = members.leader();
  server.submit(100, 1, call('Defragment', {}));
  members.run();
  const answer = members.readies.flatMap(({ ready }) => ready.replies).find((reply) => reply.client === 100)!;
  t.false(answer.beforeSync === true);
  t.true(members.readies.some(({ ready }) => ready.replies.includes(answer) && ready.mustSync && ready.writes.some((write) => write.file === 'db' && write.kind === 'replace')));
});

test("a physical compaction's answer promises its finishing commit: its Ready syncs (etcd's ForceCommit), and it is marked to wait for a store that lets db writes lag", (t) => {
  const members = new Members([1]);
  members.run(30);
  const server = members.leader();
  for (let i = 0; i < 5; i++) server.submit(100, 10 + i, call('Put', { key: `k${i}`, value: 'v' }));
  members.run();
  server.submit(100, 1, call('Compact', { revision: 4, physical: true }));
  members.run(60);
  const answer = members.readies.flatMap(({ ready }) => ready.replies).find((reply) => reply.client === 100 && reply.id === 1)!;
  t.false('error' in answer.reply, JSON.stringify(answer.reply));
  t.true(answer.promisesWrites === true && answer.beforeSync !== true);
  const carrying = members.readies.find(({ ready }) => ready.replies.includes(answer))!.ready;
  t.true(carrying.mustSync, 'the Ready that carries the answer syncs');
  // (main answered it from a tick's Ready that synced only when Raft had something to sync.)
  const put = members.readies.flatMap(({ ready }) => ready.replies).find((reply) => reply.client === 100 && reply.id === 10)!;
  t.true(put.promisesWrites !== true, "an applied write's answer promises nothing of this member's own");
});

test('while a Ready waits for its sync, heartbeats and their answers may leave at once; appends and acknowledgements wait for the next Ready', (t) => {
  const members = new Members([1, 2, 3]);
  members.run(30);
  const leader = members.leader();
  const follower = [...members.servers.values()].find((server) => server !== leader)!;
  // The follower takes a Ready with an append and holds it, as a host inside a slow fsync does.
  leader.submit(100, 1, call('Put', { key: 'k', value: 'v' }));
  const appends = leader.ready();
  leader.advance();
  for (const outbound of appends.messages) if (outbound.to === follower.id) follower.receive(leader.id, outbound.message);
  const held = follower.ready();
  t.true(held.mustSync && held.messages.some((outbound) => outbound.message.type === 'MsgAppResp'));
  // Heartbeats arrive meanwhile: their answers leave before the sync, nothing else does.
  for (let i = 0; i < 3; i++) leader.tick();
  const heartbeats = leader.ready();
  leader.advance();
  for (const outbound of heartbeats.messages) if (outbound.to === follower.id && outbound.message.type === 'MsgHeartbeat') follower.receive(leader.id, outbound.message);
  const urgent = follower.takeUrgentMessages();
  t.true(urgent.length > 0);
  t.deepEqual([...new Set(urgent.map((outbound) => outbound.message.type))], ['MsgHeartbeatResp']);
  t.false(follower.hasReady(), 'the next Ready still waits for advance()');
  follower.advance();
  t.deepEqual(follower.takeUrgentMessages(), [], 'with no Ready in flight nothing is urgent: everything goes in Readies');
});
