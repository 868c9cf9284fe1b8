import test from 'ava';
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import hpack from 'hpack.js';
import { freePorts } from '../_test/members.ts';
import { loadEtcdApi } from './grpcServices.ts';
import { ClientServer, type ClientServerOptions } from './clientServer.ts';
import { H2_PREFACE } from './h2Authority.ts';
import { frame, parseFrames, type Frame } from '../_test/h2Frames.ts';

/** A client port serving only gRPC's health service, as the runtime's does, and a client for it. */
async function healthPort(t: { teardown(fn: () => unknown): void }, options: ClientServerOptions = {}) {
  const definition = loadEtcdApi();
  const grpcServer = new grpc.Server();
  grpcServer.addService(definition['grpc.health.v1.Health'] as grpc.ServiceDefinition, {
    check: (_call: unknown, callback: (error: null, answer: object) => void) => callback(null, { status: 'SERVING' }),
  });
  const server = new ClientServer(grpcServer, (_request, response) => response.end('http/1'), options);
  const [port] = await freePorts(1);
  await server.listen(new URL(`http://127.0.0.1:${port}`), null);
  t.teardown(() => server.close());
  const Health = (grpc.loadPackageDefinition(definition).grpc as unknown as { health: { v1: { Health: grpc.ServiceClientConstructor } } }).health.v1.Health;
  const check = async (options: grpc.ChannelOptions, delayMs = 0): Promise<unknown> => {
    const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
    try {
      if (delayMs > 0) {
        await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5_000, (error) => (error ? reject(error) : resolve())));
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      const call = (client as unknown as { check(request: object, callback: (error: Error | null, answer: unknown) => void): void }).check.bind(client);
      return await new Promise((resolve, reject) => call({ service: '' }, (error, answer) => (error ? reject(error) : resolve(answer))));
    } finally {
      client.close();
    }
  };
  return { port: port!, check, handed: server.handed };
}

test('the client port answers gRPC whose :authority holds a scheme (etcdctl 3.4 sends one), and plain gRPC, at once or after the connection sat idle; plain keeps the native socket; HTTP/1 beside', async (t) => {
  const { port, check, handed } = await healthPort(t);
  const serving = { status: 'SERVING' };
  const scheme = { 'grpc.default_authority': `http://127.0.0.1:${port}` };
  t.deepEqual(await check({}), serving);
  t.deepEqual(handed, { native: 1, rewritten: 0, idleEnded: 0 });
  t.deepEqual(await check(scheme), serving);
  t.deepEqual(handed, { native: 1, rewritten: 1, idleEnded: 0 });
  // Connected, then idle past the 200 ms the client port once waited for a first call: the
  // scheme's call failed with nghttp2's PROTOCOL_ERROR (RST_STREAM code 1) before authority2.
  t.deepEqual(await check(scheme, 400), serving);
  t.deepEqual(handed, { native: 1, rewritten: 2, idleEnded: 0 });
  t.deepEqual(await check({}, 400), serving);
  t.deepEqual(handed, { native: 2, rewritten: 2, idleEnded: 0 });
  t.is(await (await fetch(`http://127.0.0.1:${port}/x`)).text(), 'http/1');
});

/** A raw HTTP/2 client: what it sends is up to the test, every frame it receives is kept in order. */
async function rawClient(port: number): Promise<{ socket: Socket; frames: Frame[]; closed: Promise<void>; until(what: string, done: () => boolean): Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: Frame[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let wake = (): void => {};
  socket.on('data', (chunk: Buffer) => {
    const parsed = parseFrames(Buffer.concat([pending, chunk]));
    frames.push(...parsed.frames);
    pending = parsed.rest;
    wake();
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const until = async (what: string, done: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames ${JSON.stringify(frames.map((f) => [f.type, f.flags, f.streamId]))}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  return { socket, frames, closed, until };
}

/** A gRPC health check on stream 1 as raw frames: its HEADERS (`authority` as given) and its one DATA frame. */
function healthCheck(authority: string): Buffer {
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  compressor.write(
    [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/grpc.health.v1.Health/Check'],
      [':authority', authority],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
    ].map(([name, value]) => ({ name: name!, value: value!, huffman: true })),
  );
  // HealthCheckRequest {} is an empty message: a gRPC frame of 0 bytes.
  return Buffer.concat([frame(1, 0x4, 1, compressor.read() as Buffer), frame(0, 0x1, 1, Buffer.from([0, 0, 0, 0, 0]))]);
}

/** What the server answered on stream 1: its status, gRPC status and message bytes. */
function healthAnswer(frames: readonly Frame[]): { status?: string; grpcStatus?: string; message: Buffer } {
  const decompressor = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const headers: Record<string, string> = {};
  for (const f of frames.filter((f) => f.type === 1 && f.streamId === 1)) {
    decompressor.write(f.payload);
    decompressor.execute();
    for (let header = decompressor.read(); header !== null; header = decompressor.read()) headers[header.name] = header.value;
  }
  const message = Buffer.concat(frames.filter((f) => f.type === 0 && f.streamId === 1).map((f) => f.payload));
  return { ...(headers[':status'] === undefined ? {} : { status: headers[':status'] }), ...(headers['grpc-status'] === undefined ? {} : { grpcStatus: headers['grpc-status'] }), message };
}

/** HealthCheckResponse { status: SERVING (1) } in one gRPC message, and OK. */
const SERVING_ANSWER = { status: '200', grpcStatus: '0', message: Buffer.from([0, 0, 0, 0, 2, 8, 1]) };

for (const authority of ['http://127.0.0.1:PORT', '127.0.0.1:PORT']) {
  const scheme = authority.includes('/');
  test(`an idle connection that pings and widens its window before its first call, :authority ${scheme ? 'with' : 'without'} a scheme: every PING answered once (by the client port), the call is served ${scheme ? 'through the rewriter' : 'on the native socket'}`, async (t) => {
    const { port, handed } = await healthPort(t);
    const client = await rawClient(port);
    t.teardown(() => client.socket.destroy());
    const ping = Buffer.from('keepaliv', 'latin1');
    client.socket.write(Buffer.concat([H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0)), frame(8, 0, 0, Buffer.from([0, 1, 0, 0])), frame(6, 0, 0, ping)]));
    await client.until("the server's SETTINGS and the PING ACK", () => client.frames.some((f) => f.type === 6));
    client.socket.write(frame(4, 1, 0, Buffer.alloc(0)));
    await new Promise((resolve) => setTimeout(resolve, 400));
    client.socket.write(frame(6, 0, 0, ping)); // a second keepalive while still idle
    await client.until('the second PING ACK', () => client.frames.filter((f) => f.type === 6).length === 2);
    t.deepEqual(handed, { native: 0, rewritten: 0, idleEnded: 0 });
    client.socket.write(healthCheck(authority.replace('PORT', String(port))));
    await client.until('the call to end', () => client.frames.some((f) => f.type === 1 && f.streamId === 1 && (f.flags & 0x1) !== 0));
    t.deepEqual(handed, scheme ? { native: 0, rewritten: 1, idleEnded: 0 } : { native: 1, rewritten: 0, idleEnded: 0 });
    t.deepEqual(healthAnswer(client.frames), SERVING_ANSWER);
    // Every PING answered exactly once: by the client port while it held the connection, not again by nghttp2.
    const acks = client.frames.filter((f) => f.type === 6);
    t.deepEqual(
      acks.map((f) => [f.flags, f.payload.toString('latin1')]),
      [
        [1, 'keepaliv'],
        [1, 'keepaliv'],
      ],
    );
    t.true(client.frames.every((f) => f.type !== 7), 'no GOAWAY');
  });
}

for (const authority of ['http://127.0.0.1:PORT', '127.0.0.1:PORT']) {
  test(`a call whose connection never ACKs the server's SETTINGS (:authority ${authority.includes('/') ? 'with' : 'without'} a scheme) is served through the rewriter once the ACK wait is over`, async (t) => {
    const { port, handed } = await healthPort(t);
    const client = await rawClient(port);
    t.teardown(() => client.socket.destroy());
    client.socket.write(Buffer.concat([H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0)), healthCheck(authority.replace('PORT', String(port)))]));
    await client.until('the call to end', () => client.frames.some((f) => f.type === 1 && f.streamId === 1 && (f.flags & 0x1) !== 0));
    t.deepEqual(healthAnswer(client.frames), SERVING_ANSWER);
    t.deepEqual(handed, { native: 0, rewritten: 1, idleEnded: 0 });
  });
}

test('a connection with no call within the first-call limit gets a GOAWAY (no stream processed) and is closed; a client with a scheme calls on a new one', async (t) => {
  // The limit is short for the test, yet long beside a loaded host's stalls: the reconnected call
  // below must reach the port within it.
  const { port, check, handed } = await healthPort(t, { firstCallMs: 1_000 });
  const client = await rawClient(port);
  t.teardown(() => client.socket.destroy());
  client.socket.write(Buffer.concat([H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0))]));
  await client.until('the GOAWAY', () => client.frames.some((f) => f.type === 7));
  const goaway = client.frames.find((f) => f.type === 7)!;
  t.is(goaway.payload.readUInt32BE(0), 0, 'last stream 0');
  t.is(goaway.payload.readUInt32BE(4), 0, 'NO_ERROR');
  await client.closed;
  t.deepEqual(handed, { native: 0, rewritten: 0, idleEnded: 1 });
  // grpc-js connects, sits idle past the limit, is sent away and reconnects for its call.
  t.deepEqual(await check({ 'grpc.default_authority': `http://127.0.0.1:${port}` }, 1_500), { status: 'SERVING' });
  t.deepEqual(handed, { native: 0, rewritten: 1, idleEnded: 2 });
});

// Serial: its flood holds this process's loop for seconds, which the timed tests beside it would feel.
test.serial('a client that floods PINGs before its first call and reads none of the answers is disconnected once their backlog passes 64 KiB', async (t) => {
  const { port, handed } = await healthPort(t);
  const client = await rawClient(port);
  t.teardown(() => client.socket.destroy());
  client.socket.pause(); // reads nothing: the PING ACKs pile up in the kernel's buffers, then ours
  let closed = false;
  void client.closed.then(() => (closed = true));
  const batch = Buffer.concat(Array.from({ length: 60_000 }, () => frame(6, 0, 0, Buffer.alloc(8))));
  client.socket.write(Buffer.concat([H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0))]));
  let sentBytes = 0;
  while (!closed && sentBytes < 256 * 1024 * 1024) {
    if (!client.socket.write(batch)) await new Promise((resolve) => setTimeout(resolve, 5));
    sentBytes += batch.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.true(closed, `still open after ${sentBytes} bytes of PINGs`);
  t.log(`closed after ${sentBytes} bytes of PINGs sent`);
  t.deepEqual(handed, { native: 0, rewritten: 0, idleEnded: 0 });
});

test('a connection that says less than what tells HTTP/1 from HTTP/2 within the first-call limit is closed; HTTP/1 that spoke in time is not', async (t) => {
  const { port } = await healthPort(t, { firstCallMs: 300 });
  const closedAfter = (bytes: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const startedAt = Date.now();
      const socket: Socket = connect(port, '127.0.0.1', () => {
        if (bytes.length > 0) socket.write(bytes);
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(Date.now() - startedAt));
      socket.resume();
    });
  t.true((await closedAfter('')) >= 250);
  t.true((await closedAfter('PR')) >= 250);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write('GET');
      setTimeout(() => socket.write(' / HTTP/1.1\r\nHost: x\r\n\r\n'), 500);
    });
    let out = '';
    socket.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('http/1')) {
        socket.destroy();
        resolve(out);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
  t.true(answer.includes('http/1'), answer);
});
