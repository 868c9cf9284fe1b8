import test from 'ava';
import type { WatchResponse } from '../api/index.ts';
import { defaultWatchConfig } from './config.ts';
import { TestCluster } from './_test/testCluster.ts';
import { isErrorReply, type ServerReply } from './serverRequest.ts';

/** A stream's replies, one line each: `created 0@R`, `0@R PUT k=v`, `progress -1@R`, `canceled 0`, `end: error`. */
function lines(frames: readonly { readonly reply: ServerReply; readonly frame: { readonly end: boolean } }[]): string[] {
  return frames.map(({ reply, frame }) => {
    if (isErrorReply(reply)) return `${frame.end ? 'end' : 'error'}: ${reply.error.message}`;
    const response = reply.response as WatchResponse;
    if (response.created === true) return `created ${response.watchId}@${response.header.revision}${response.canceled === true ? ` canceled: ${response.cancelReason}` : ''}`;
    if (response.compactRevision !== undefined) return `compacted ${response.watchId} at ${response.compactRevision}`;
    if (response.canceled === true) return `canceled ${response.watchId}`;
    if (response.events.length === 0) return `progress ${response.watchId}@${response.header.revision}`;
    const events = response.events.map((event) => `${event.type} ${event.kv.key}${event.type === 'PUT' ? `=${event.kv.value}` : ''}`).join(', ');
    return `${response.watchId}@${response.header.revision}${response.fragment === true ? ' (fragment)' : ''} ${events}`;
  });
}

test('a Watch stream: created at the member\'s revision, each change once applied there, progress at -1, cancel ends the watch', (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  cluster.settle(2);
  const follower = leader === 1 ? 2 : 1;
  cluster.ok(leader, 'Put', { key: 'a', value: '0' });
  cluster.settle();
  const stream = cluster.submit(follower, { method: 'Watch', request: { createRequest: { key: 'a' } } });
  cluster.ok(leader, 'Put', { key: 'a', value: '1' });
  cluster.ok(leader, 'Put', { key: 'b', value: 'x' });
  cluster.settle();
  cluster.sendOnStream(follower, stream, { method: 'Watch', request: { progressRequest: {} } });
  cluster.settle();
  cluster.sendOnStream(follower, stream, { method: 'Watch', request: { cancelRequest: { watchId: 0 } } });
  cluster.ok(leader, 'Put', { key: 'a', value: '2' });
  cluster.settle();
  t.deepEqual(lines(cluster.framesOf(stream)), ['created 0@2', '0@3 PUT a=1', 'progress -1@4', 'canceled 0']);
  t.deepEqual(cluster.framesOf(stream).map(({ frame }) => frame.sequence), [0, 1, 2, 3]);
});

test('a watch from a compacted revision is created, then cancelled with the compaction revision', (t) => {
  const cluster = new TestCluster({ machines: 1 });
  cluster.electLeader();
  for (const value of ['1', '2', '3']) cluster.ok(1, 'Put', { key: 'a', value });
  cluster.ok(1, 'Compact', { revision: 3, physical: true });
  const stream = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'a', startRevision: 2 } } });
  cluster.settle();
  t.deepEqual(lines(cluster.framesOf(stream)), ['created 0@4', 'compacted 0 at 3']);
});

test('a restarted member has forgotten its streams: a message on one closes it with an error, and the client opens another', (t) => {
  const cluster = new TestCluster({ machines: 1 });
  cluster.electLeader();
  const stream = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'a' } } });
  cluster.settle();
  cluster.crash(1);
  cluster.restart(1);
  cluster.settle();
  cluster.sendOnStream(1, stream, { method: 'Watch', request: { progressRequest: {} } });
  cluster.settle();
  const frames = cluster.framesOf(stream);
  t.true(frames.at(-1)!.frame.end);
  t.regex(lines(frames).at(-1)!, /^end: .*watch stream not found/);
});

test('a revision larger than max-request-bytes is sent in fragments to a watch that asked for them, whole to one that did not', (t) => {
  const cluster = new TestCluster({ machines: 1, config: { maxRequestBytes: 200 } });
  cluster.electLeader();
  for (const key of ['a', 'b', 'c']) cluster.ok(1, 'Put', { key: `k/${key}`, value: 'v'.repeat(80) });
  // One revision deletes all three; with prev_kv its events carry 240 bytes of values.
  const fragmenting = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'k/', rangeEnd: 'k0', prevKv: true, fragment: true } } });
  const whole = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'k/', rangeEnd: 'k0', prevKv: true } } });
  cluster.ok(1, 'DeleteRange', { key: 'k/', rangeEnd: 'k0' });
  cluster.settle();
  t.deepEqual(lines(cluster.framesOf(fragmenting)), ['created 0@4', '0@5 (fragment) DELETE k/a', '0@5 (fragment) DELETE k/b', '0@5 DELETE k/c']);
  t.deepEqual(lines(cluster.framesOf(whole)), ['created 0@4', '0@5 DELETE k/a, DELETE k/b, DELETE k/c']);
});

test('a stream that cannot send fast enough makes its watchers victims; every event still arrives, in order (what waited caught up in one response), and a progress request waits for them', (t) => {
  const cluster = new TestCluster({ machines: 1, config: { watch: { ...defaultWatchConfig, streamBufferResponses: 2, streamSendsPerTick: 1 } } });
  cluster.electLeader();
  const stream = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'a' } } });
  for (let i = 1; i <= 6; i++) cluster.ok(1, 'Put', { key: 'a', value: `${i}` });
  cluster.sendOnStream(1, stream, { method: 'Watch', request: { progressRequest: {} } });
  for (let i = 0; i < 20; i++) cluster.tick(1);
  cluster.settle();
  t.deepEqual(lines(cluster.framesOf(stream)), ['created 0@1', '0@2 PUT a=1', '0@3 PUT a=2', '0@4 PUT a=3', '0@7 PUT a=4, PUT a=5, PUT a=6', 'progress -1@7']);
});

// Stryker's survivors S5 and S6 (scenarios/mutations/stryker-triage-etcd.md): no workload mixes its
// own watch ids with automatic ones, and none looked at how a refused create is answered.
test("a stream mixes a client's own watch ids with automatic ones (these skip ids in use, upwards, as etcd's nextID does); a refused create is answered created and canceled, with its reason", (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  cluster.settle(2);
  const stream = cluster.submit(leader, { method: 'Watch', request: { createRequest: { key: 'a', watchId: 1 } } });
  for (const createRequest of [{ key: 'b' }, { key: 'c' }, { key: 'd', watchId: 2 }]) cluster.sendOnStream(leader, stream, { method: 'Watch', request: { createRequest } });
  cluster.settle();
  const created = lines(cluster.framesOf(stream));
  t.deepEqual(created.slice(0, 3), ['created 1@1', 'created 0@1', 'created 2@1']);
  t.regex(created[3]!, /^created 2@1 canceled: .*duplicate/i);
});

test("a member reads events' prevKv only while a synced watch asked for prev_kv; its watches see the same events either way (issue 10)", (t) => {
  const cluster = new TestCluster({ machines: 1 });
  cluster.electLeader();
  const withPrevious = (frames: ReturnType<typeof cluster.framesOf>) =>
    frames.flatMap(({ reply }) => (isErrorReply(reply) ? [] : (reply.response as WatchResponse).events.map((event) => `${event.type} ${event.kv.key} was ${event.prevKv?.value ?? '-'}`)));
  const plain = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'a' } } });
  cluster.ok(1, 'Put', { key: 'a', value: '1' });
  cluster.ok(1, 'Put', { key: 'a', value: '2' });
  t.false(cluster.server(1).state.kv.eventsCarryPrevKv, 'no watch asked for prev_kv');
  const previous = cluster.submit(1, { method: 'Watch', request: { createRequest: { key: 'a', prevKv: true } } });
  cluster.settle();
  cluster.ok(1, 'Put', { key: 'a', value: '3' });
  t.true(cluster.server(1).state.kv.eventsCarryPrevKv);
  cluster.ok(1, 'DeleteRange', { key: 'a' });
  cluster.sendOnStream(1, previous, { method: 'Watch', request: { cancelRequest: { watchId: 0 } } });
  cluster.settle();
  cluster.ok(1, 'Put', { key: 'a', value: '4' });
  t.false(cluster.server(1).state.kv.eventsCarryPrevKv, 'the prev_kv watch was cancelled');
  cluster.settle();
  t.deepEqual(withPrevious(cluster.framesOf(plain)), ['PUT a was -', 'PUT a was -', 'PUT a was -', 'DELETE a was -', 'PUT a was -']);
  t.deepEqual(withPrevious(cluster.framesOf(previous)), ['PUT a was 2', 'DELETE a was 3']);
});
