import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { freePorts } from '../_test/members.ts';
import { loadEtcdApi } from './grpcServices.ts';
import { ClientServer } from './clientServer.ts';

/** A client port serving only gRPC's health service, as the runtime's does, and a client for it. */
async function healthPort(t: { teardown(fn: () => unknown): void }) {
  const definition = loadEtcdApi();
  const grpcServer = new grpc.Server();
  grpcServer.addService(definition['grpc.health.v1.Health'] as grpc.ServiceDefinition, {
    check: (_call: unknown, callback: (error: null, answer: object) => void) => callback(null, { status: 'SERVING' }),
  });
  const server = new ClientServer(grpcServer, (_request, response) => response.end('http/1'));
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
  return { port: port!, check };
}

test('the client port answers gRPC whose :authority holds a scheme (etcdctl 3.4 sends one), and plain gRPC, at once or after the sniff window; HTTP/1 beside', async (t) => {
  const { port, check } = await healthPort(t);
  const serving = { status: 'SERVING' };
  t.deepEqual(await check({}), serving);
  t.deepEqual(await check({ 'grpc.default_authority': `http://127.0.0.1:${port}` }), serving);
  // A connection that waits past the sniff window (200 ms) before its first call goes on natively.
  t.deepEqual(await check({}, 400), serving);
  t.is(await (await fetch(`http://127.0.0.1:${port}/x`)).text(), 'http/1');
});
