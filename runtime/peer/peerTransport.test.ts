import test from 'ava';
import { connect, createServer } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import type { Codec, SlicedMessage } from '../../core/host/codec.ts';
import type { Steps } from '../../core/base/steps.ts';
import { makeCertificates } from '../_test/certificates.ts';
import { frame } from '../storage/frame.ts';
import { PeerTransport, type PeerTransportOptions } from './peerTransport.ts';

interface Note {
  readonly text: string;
  readonly snapshot?: boolean;
  readonly prepared?: boolean;
}

const codec: Codec<Note> = {
  encode: (note) => Buffer.from(JSON.stringify(note)),
  decode: (bytes) => JSON.parse(Buffer.from(bytes).toString()) as Note,
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every transport a test started is stopped when it ends, pass or fail (the tests run one at a time). */
const started: PeerTransport<Note>[] = [];
test.afterEach.always(async () => {
  await Promise.all(started.splice(0).map((transport) => transport.stop()));
});

/** A note whose text starts with "sliced" is encoded in slices of 1,000 characters (each written over the one before), after a head that says how many bytes follow. */
function encodeInSlices(note: Note): SlicedMessage | null {
  if (!note.text.startsWith('sliced')) return null;
  function* body(): Generator<Uint8Array> {
    const reused = Buffer.alloc(1_000);
    for (let at = 0; at < note.text.length; at += 1_000) yield reused.subarray(0, reused.write(note.text.slice(at, at + 1_000), 'latin1'));
    yield Buffer.from('"}');
  }
  return { body: body(), head: (bodyBytes) => Buffer.from(`{"snapshot":${note.snapshot === true},"bodyBytes":${bodyBytes},"text":"`) };
}

/** A message of 100 KiB or more is decoded in 5 steps of ~3 ms each (a snapshot's image, a slice of revisions at a time). */
function decodeInSteps(bytes: Uint8Array): Steps<Note> | null {
  if (bytes.byteLength < 100 * 1024) return null;
  return (function* () {
    for (let step = 0; step < 5; step++) {
      const until = performance.now() + 3;
      while (performance.now() < until);
      yield;
    }
    return codec.decode(bytes);
  })();
}

/** A note decoded in steps whose text starts with "prepare" is prepared in 3 steps of ~3 ms each before it is handed on (a snapshot's key index). */
function prepareInSteps(note: Note): Steps<Note> | null {
  if (!note.text.startsWith('prepare')) return null;
  return (function* () {
    for (let step = 0; step < 3; step++) {
      const until = performance.now() + 3;
      while (performance.now() < until);
      yield;
    }
    return { ...note, prepared: true };
  })();
}

function member(self: number, ports: Map<number, number>, clusterId = 'c1', tls?: { server: object; client: object }, frameLimits?: PeerTransportOptions<Note>['frameLimits'], sliced = false, steps = false) {
  const received: string[] = [];
  const notes: Note[] = [];
  const unreachable: number[] = [];
  const snapshots: string[] = [];
  const logs: string[] = [];
  const sent: number[] = [];
  const scheme = tls === undefined ? 'http' : 'https';
  const peers = new Map([...ports].map(([id, port]) => [id, [new URL(`${scheme}://127.0.0.1:${port}`)]] as const));
  const transport = new PeerTransport<Note>({
    self,
    clusterId: () => clusterId,
    advertisedPeerUrls: [`${scheme}://127.0.0.1:${ports.get(self)}`],
    listenUrls: [new URL(`${scheme}://127.0.0.1:${ports.get(self)}`)],
    ...(tls === undefined ? {} : { tls }),
    ...(frameLimits === undefined ? {} : { frameLimits }),
    ...(sliced ? { encodeInSlices } : {}),
    ...(steps ? { decodeInSteps, prepareInSteps } : {}),
    peers,
    codec,
    carriesSnapshot: (note) => note.snapshot === true,
    mayWait: (note) => note.text.startsWith('held'),
    onMessage: (from, note) => {
      received.push(`${from}:${note.text}`);
      notes.push(note);
    },
    onUnreachable: (to) => unreachable.push(to),
    onSnapshotStatus: (to, status) => snapshots.push(`${to}:${status}`),
    onSent: (to) => sent.push(to),
    log: (line) => logs.push(line),
    backoffMsMin: 20,
    backoffMsMax: 100,
    queueMessagesMax: 64,
  });
  started.push(transport);
  return { transport, received, notes, unreachable, snapshots, logs, sent };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Members dial each other as they start; one that starts first finds the other down and backs
 * off, dropping what it sends meanwhile (Raft re-sends). Waits until `from` reaches `to`.
 */
async function linked(from: ReturnType<typeof member>, to: ReturnType<typeof member>, toId: number): Promise<void> {
  await until(() => {
    from.transport.send(toId, { text: 'ping' });
    return to.received.some((line) => line.endsWith(':ping'));
  }, 'the link');
  // Pings still in flight arrive before a marker sent after them on the same connection: waiting
  // for it, not for a while, keeps a late ping out of what the test then expects to receive.
  from.transport.send(toId, { text: 'linked' });
  await until(() => to.received.some((line) => line.endsWith(':linked')), 'the pings in flight');
  to.received.length = 0;
  from.unreachable.length = 0;
}

/** Members 1 and 2 started, 1 linked to 2. */
async function twoMembers(frameLimits?: PeerTransportOptions<Note>['frameLimits'], sliced = false) {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, ports, 'c1', undefined, frameLimits, sliced);
  const b = member(2, ports, 'c1', undefined, frameLimits, false, sliced);
  await a.transport.start();
  await b.transport.start();
  await linked(a, b, 2);
  return { a, b };
}

test.serial('messages between two members arrive in order, and a sent snapshot is reported finished', async (t) => {
  const { a, b } = await twoMembers();
  await linked(b, a, 1);
  for (let i = 0; i < 50; i++) a.transport.send(2, { text: `m${i}` });
  a.transport.send(2, { text: 'snap', snapshot: true });
  b.transport.send(1, { text: 'back' });
  await until(() => b.received.length === 51 && a.received.length === 1, 'delivery');
  t.deepEqual(b.received.slice(0, 3), ['1:m0', '1:m1', '1:m2']);
  t.is(b.received[50], '1:snap');
  t.deepEqual(a.received, ['2:back']);
  await until(() => a.snapshots.length === 1, 'snapshot report');
  t.deepEqual(a.snapshots, ['2:finished']);
  t.deepEqual(a.unreachable, []);
  await a.transport.stop();
  await b.transport.stop();
});

test.serial('a peer that is down is reported unreachable (a lost snapshot failed); after it comes back the link re-dials', async (t) => {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, ports);
  await a.transport.start();
  a.transport.send(2, { text: 'lost' });
  a.transport.send(2, { text: 'lost snapshot', snapshot: true });
  await until(() => a.unreachable.length >= 2, 'unreachable reports');
  t.true(a.snapshots.includes('2:failed'));
  t.regex(a.logs[0]!, /^peer 2: .*re-dialling in 20 ms$/);
  const b = member(2, ports);
  await b.transport.start();
  // Raft keeps sending (heartbeats); once the backoff ends the link opens again.
  await until(() => {
    a.transport.send(2, { text: 'hello again' });
    return b.received.includes('1:hello again');
  }, 'reconnection');
  t.pass();
  await a.transport.stop();
  await b.transport.stop();
});

test.serial('a full send queue drops the message and reports the peer unreachable (bounded memory)', async (t) => {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, ports);
  await a.transport.start();
  // The peer is not listening: the first dial is in progress while 100 messages queue up.
  for (let i = 0; i < 100; i++) a.transport.send(2, { text: `m${i}` });
  t.true(a.unreachable.length >= 36, `${a.unreachable.length} reported`);
  await a.transport.stop();
});

test.serial('a connection from another cluster is refused with etcd\'s words', async (t) => {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, ports, 'cluster-a');
  const b = member(2, ports, 'cluster-b');
  await a.transport.start();
  await b.transport.start();
  a.transport.send(2, { text: 'x' });
  await until(() => b.logs.some((line) => line.startsWith('request cluster ID mismatch')), 'refusal');
  t.true(b.logs.includes('request cluster ID mismatch (got cluster-a want cluster-b) from peer 1'), b.logs.join('\n'));
  t.deepEqual(b.received, []);
  await a.transport.stop();
  await b.transport.stop();
});

test.serial('a member of an older peer protocol (JSON entries) is refused with one line, not fed entries it cannot read', async (t) => {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, ports);
  await a.transport.start();
  const socket = connect(ports.get(1)!, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(frame(Buffer.from(JSON.stringify({ detcd: 1, from: '2', to: '1', clusterId: 'c1', peerUrls: [] }))));
  await until(() => a.logs.some((line) => line.includes('peer protocol')), 'refusal');
  t.regex(a.logs.find((line) => line.includes('peer protocol'))!, /it speaks detcd peer protocol 1, this member 4 \(upgrade every member together\)$/);
  socket.destroy();
  await a.transport.stop();
});

test.serial('a member learns the URLs of a peer it was not told about from that peer\'s hello', async (t) => {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, new Map([[1, ports.get(1)!]]));
  const b = member(2, ports);
  await a.transport.start();
  await b.transport.start();
  b.transport.send(1, { text: 'I am new' });
  await until(() => a.received.length === 1, 'hello');
  t.deepEqual(a.transport.knownPeers().get(2)?.map(String), [`http://127.0.0.1:${ports.get(2)}/`]);
  a.transport.send(2, { text: 'welcome' });
  await until(() => b.received.length === 1, 'reply');
  t.deepEqual(b.received, ['1:welcome']);
  await a.transport.stop();
  await b.transport.stop();
});

test.serial('peers speak over mutual TLS when the peer URLs are https; a peer without a certificate is refused', async (t) => {
  const certificates = makeCertificates();
  t.teardown(() => rmSync(certificates.dir, { recursive: true, force: true }));
  const files = { cert: readFileSync(certificates.cert), key: readFileSync(certificates.key), ca: readFileSync(certificates.ca) };
  const tls = { server: { ...files, requestCert: true, rejectUnauthorized: true }, client: { ...files } };
  const ports = new Map([[1, await freePort()], [2, await freePort()], [3, await freePort()]]);
  const a = member(1, ports, 'c1', tls);
  const b = member(2, ports, 'c1', tls);
  const stranger = member(3, ports, 'c1', { server: tls.server, client: { ca: files.ca } });
  await a.transport.start();
  await b.transport.start();
  await linked(a, b, 2);
  a.transport.send(2, { text: 'over tls' });
  await until(() => b.received.length === 1, 'a message over TLS');
  t.deepEqual(b.received, ['1:over tls']);
  await until(() => {
    stranger.transport.send(2, { text: 'let me in' });
    return b.logs.some((line) => line.startsWith('peer TLS handshake refused'));
  }, 'the refusal');
  t.deepEqual(b.received, ['1:over tls']);
  await a.transport.stop();
  await b.transport.stop();
  await stranger.transport.stop();
});

test.serial("a turn's messages to a peer go framed in one buffer, a large one or a snapshot between them as its own pieces; all arrive in order and whole", async (t) => {
  const { a, b } = await twoMembers();
  const large = 'L'.repeat(100 * 1024); // over the 64 KiB a message may have to be framed with the others
  const texts = ['s1', 's2', large, 's3', 'snap', 's4'];
  a.sent.length = 0;
  for (const text of texts) a.transport.send(2, { text, ...(text === 'snap' ? { snapshot: true } : {}) });
  await until(() => b.received.length === texts.length, 'delivery');
  const short = (line: string) => (line.length > 20 ? `${line.slice(0, 3)}…${line.length}` : line);
  t.deepEqual(b.received.map(short), texts.map((text) => short(`1:${text}`)));
  t.is(a.sent.length, texts.length, 'each message counted as sent once');
  await until(() => a.snapshots.length === 1, 'snapshot report');
  t.deepEqual(a.snapshots, ['2:finished']);
});

test.serial('a peer whose URL is not known yet is re-dialled once its hello brings one (regression: the sender stayed in backoff for good)', async (t) => {
  const ports = new Map([[1, await freePort()], [2, await freePort()]]);
  const a = member(1, new Map([[1, ports.get(1)!]]));
  await a.transport.start();
  a.transport.send(2, { text: 'early' });
  await new Promise((resolve) => setTimeout(resolve, 150)); // several backoff rounds without a URL
  const b = member(2, ports);
  await b.transport.start(); // dials 1 at once: its hello carries its URL
  await until(() => {
    a.transport.send(2, { text: 'late' });
    return b.received.includes('1:late');
  }, 'the link to the newcomer');
  t.pass();
  await a.transport.stop();
  await b.transport.stop();
});

test.serial("while writes are held back for a turn's client answers, what may wait leaves two check phases on; what may not takes its peer's queue at once", async (t) => {
  const { a, b } = await twoMembers();
  const microtasks = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const checkPhase = () => new Promise((resolve) => setImmediate(resolve));
  /** Sends `texts` in one task, holding writes back first when `held`; how many frames were written once its microtasks ran. */
  const turn = async (held: boolean, ...texts: string[]) => {
    if (held) a.transport.afterClientWrites();
    for (const text of texts) a.transport.send(2, { text });
    await microtasks();
    return a.sent.length;
  };
  a.sent.length = 0;
  t.is(await turn(false, 'held but not held back'), 1, 'written once the sending task is done');
  t.is(await turn(true, 'held 1', 'held 2'), 1, 'held past the microtasks');
  await checkPhase();
  t.is(a.sent.length, 1, 'held past the next check phase (the answer: HEADERS and DATA)');
  await checkPhase();
  t.is(a.sent.length, 3, 'written in the one after (the answer: its trailers)');
  t.is(await turn(true, 'held 3', 'urgent'), 5, 'a message that may not wait takes the held one before it along');
  await until(() => b.received.length === 5, 'delivery');
  t.deepEqual(b.received, ['1:held but not held back', '1:held 1', '1:held 2', '1:held 3', '1:urgent']);
});

test.serial('a snapshot larger than a frame goes as parts no frame of which is over the limit, and arrives whole; one over the record limit closes the connection', async (t) => {
  // Limits lowered from frame.ts's (16 MiB parts, 256 MiB frames, 2 GiB records) to cross them in a test.
  const { a, b } = await twoMembers({ partBytes: 4 * 1024, frameBytesMax: 4 * 1024, recordBytesMax: 256 * 1024 });
  const image = 'i'.repeat(200 * 1024);
  a.transport.send(2, { text: 'before' });
  a.transport.send(2, { text: image, snapshot: true });
  a.transport.send(2, { text: 'after' });
  await until(() => b.received.length === 3, 'the snapshot');
  t.deepEqual(b.received.map((line) => (line.length > 20 ? `${line.slice(0, 4)}… ${line.length}` : line)), ['1:before', `1:ii… ${image.length + 2}`, '1:after']);
  await until(() => a.snapshots.length === 1, 'snapshot report');
  t.deepEqual(a.snapshots, ['2:finished']);
  // A record of parts is joined a part per step, in turns (then decoded whole: this codec has no steps).
  t.is(b.logs.length, 1);
  t.regex(b.logs[0]!, /^peer 1: decoded a 0\.2 MiB message over \d+ turns/);
  b.logs.length = 0;
  a.transport.send(2, { text: 'j'.repeat(300 * 1024), snapshot: true });
  await until(() => b.logs.length > 0, 'the refusal');
  t.regex(b.logs[0]!, /^peer connection from .*: a record of more than 262144 bytes/);
  t.false(b.received.some((line) => line.startsWith('1:jj')), 'no part of it was handed on');
});

test.serial('a snapshot the codec slices is encoded in turns and sent as parts once framed; messages sent meanwhile go ahead of it, whole', async (t) => {
  const { a, b } = await twoMembers({ partBytes: 4 * 1024, frameBytesMax: 4 * 1024, recordBytesMax: 1024 * 1024 }, true);
  const image = `sliced${'s'.repeat(600 * 1024)}`;
  a.transport.send(2, { text: 'before' });
  a.transport.send(2, { text: image, snapshot: true });
  for (let i = 0; i < 3; i++) a.transport.send(2, { text: `meanwhile ${i}` });
  await until(() => b.received.length === 5, 'the snapshot');
  t.deepEqual(b.received.map((line) => (line.length > 20 ? `${line.slice(0, 10)}… ${line.length}` : line)), ['1:before', '1:meanwhile 0', '1:meanwhile 1', '1:meanwhile 2', `1:slicedss… ${image.length + 2}`]);
  const snapshot = b.notes.at(-1) as Note & { readonly bodyBytes: number };
  t.is(snapshot.bodyBytes, image.length + 2, 'the head holds the length of what follows it');
  t.is(snapshot.text, image);
  await until(() => a.snapshots.length === 1, 'snapshot report');
  t.deepEqual(a.snapshots, ['2:finished']);
  t.regex(a.logs.join('\n'), /peer 2: encoded a 0\.6 MiB snapshot message over \d+ turns \(the longest [\d.]+ ms\) in \d+ ms( \(after \d+ ms waiting for another\))?; sending it/);
  t.is(b.logs.length, 1);
  t.regex(b.logs[0]!, /^peer 1: decoded a 0\.6 MiB message over [3-6] turns \(the longest [\d.]+ ms\) in \d+ ms$/);
});

test.serial('a message the codec decodes in steps is decoded in turns of the loop; the messages after it on its connection wait and arrive after it, in order', async (t) => {
  const { a, b } = await twoMembers(undefined, true);
  const large = 'x'.repeat(300 * 1024);
  a.transport.send(2, { text: 'before' });
  a.transport.send(2, { text: large, snapshot: true });
  for (let i = 0; i < 3; i++) a.transport.send(2, { text: `after ${i}` });
  // The loop turns while it is decoded: timers fire between its turns.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  await until(() => b.received.length === 5, 'every message');
  clearInterval(ticker);
  t.deepEqual(b.received.map((line) => (line.length > 20 ? `${line.slice(0, 4)}… ${line.length}` : line)), ['1:before', `1:xx… ${large.length + 2}`, '1:after 0', '1:after 1', '1:after 2']);
  t.regex(b.logs.join('\n'), /peer 1: decoded a 0\.3 MiB message over [3-6] turns/);
  t.true(ticks > 0);
});

test.serial('a message decoded in steps that the codec prepares in steps is prepared in turns of the loop before it is handed on; the messages after it wait', async (t) => {
  const { a, b } = await twoMembers(undefined, true);
  const large = `prepare${'x'.repeat(300 * 1024)}`;
  a.transport.send(2, { text: large, snapshot: true });
  a.transport.send(2, { text: 'after' });
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  await until(() => b.received.length === 2, 'every message');
  clearInterval(ticker);
  t.deepEqual(b.received.map((line) => (line.length > 20 ? `${line.slice(0, 9)}… ${line.length}` : line)), [`1:prepare… ${large.length + 2}`, '1:after']);
  t.deepEqual(b.notes.slice(-2).map((note) => note.prepared === true), [true, false]);
  t.regex(b.logs.join('\n'), /peer 1: decoded a 0\.3 MiB message over [3-6] turns[^\n]*\npeer 1: prepared its install over [2-4] turns \(the longest [\d.]+ ms\) in \d+ ms/);
  t.true(ticks > 0);
});

test.serial('a snapshot being encoded in turns when the transport stops is never sent', async (t) => {
  const { a, b } = await twoMembers(undefined, true);
  a.transport.send(2, { text: `sliced${'s'.repeat(32 * 1024 * 1024)}`, snapshot: true });
  // Its first turn has run.
  await new Promise((resolve) => setImmediate(resolve));
  await a.transport.stop();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.deepEqual(b.received.filter((line) => line.startsWith('1:sliced')), []);
  t.deepEqual(a.snapshots, []);
  t.false(a.logs.some((line) => line.includes('encoded a')), a.logs.join('\n'));
});

test.serial('a snapshot the codec slices goes on a connection of its own: what is sent after it does not wait behind it, and it is reported finished once the peer handed it on', async (t) => {
  const { a, b } = await twoMembers({ partBytes: 4 * 1024, frameBytesMax: 4 * 1024, recordBytesMax: 1024 * 1024 }, true);
  const image = `sliced${'s'.repeat(600 * 1024)}`;
  let handedOnWhenReported: boolean | null = null;
  a.snapshots.push = (...items: string[]) => {
    handedOnWhenReported ??= b.received.some((line) => line.startsWith('1:sliced'));
    return Array.prototype.push.apply(a.snapshots, items);
  };
  a.transport.send(2, { text: image, snapshot: true });
  await until(() => a.logs.some((line) => line.includes('sending it')), 'the snapshot encoded');
  // Sent after its frames went to its connection: they arrive while it is joined and decoded in turns.
  for (let i = 0; i < 3; i++) a.transport.send(2, { text: `after ${i}` });
  await until(() => b.received.length === 4, 'every message');
  t.deepEqual(b.received.map((line) => (line.length > 20 ? `${line.slice(0, 10)}… ${line.length}` : line)), ['1:after 0', '1:after 1', '1:after 2', `1:slicedss… ${image.length + 2}`]);
  await until(() => a.snapshots.length === 1, 'snapshot report');
  t.deepEqual([...a.snapshots], ['2:finished']);
  t.true(handedOnWhenReported, 'reported only once the peer handed it on');
  t.deepEqual(a.unreachable, []);
});

test.serial('the connection of snapshots is closed once every snapshot on it was answered, as etcd ends its POST; the next snapshot dials it again', async (t) => {
  const { a, b } = await twoMembers({ partBytes: 4 * 1024, frameBytesMax: 4 * 1024, recordBytesMax: 1024 * 1024 }, true);
  const inbound = (b.transport as unknown as { readonly inbound: Set<unknown> }).inbound;
  const ordinary = inbound.size;
  const logsBefore = a.logs.length;
  for (const round of [1, 2]) {
    a.transport.send(2, { text: `sliced${'s'.repeat(300 * 1024)}`, snapshot: true });
    await until(() => a.snapshots.length === round, `snapshot ${round} reported`);
    await until(() => inbound.size === ordinary, `the connection of snapshot ${round} closed`);
  }
  t.deepEqual(a.snapshots, ['2:finished', '2:finished']);
  t.is(b.received.filter((line) => line.startsWith('1:sliced')).length, 2);
  t.deepEqual(a.unreachable, []);
  t.false(a.logs.slice(logsBefore).some((line) => line.includes('re-dialling')), `a connection closed after use is no failure: ${a.logs.slice(logsBefore).join('; ')}`);
  a.transport.send(2, { text: 'still linked' });
  await until(() => b.received.includes('1:still linked'), 'an ordinary message');
});

test.serial('a snapshot on its own connection that fails before the peer answers is reported failed', async (t) => {
  const { a, b } = await twoMembers({ partBytes: 4 * 1024, frameBytesMax: 4 * 1024, recordBytesMax: 1024 * 1024 }, true);
  // The peer goes away while the snapshot is encoded: written or not, it is never answered.
  a.transport.send(2, { text: `sliced${'s'.repeat(2 * 1024 * 1024)}`, snapshot: true });
  await b.transport.stop();
  await until(() => a.snapshots.length === 1, 'snapshot report');
  t.deepEqual(a.snapshots, ['2:failed']);
});
