import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdApi } from '../client/grpcServices.ts';
import { EtcdClient } from './etcdClient.ts';
import { freePorts } from './members.ts';

/** A KV service that answers every range with an empty response at revision 7. */
function startKvServer(port: number): Promise<grpc.Server> {
  const api = grpc.loadPackageDefinition(loadEtcdApi()) as unknown as { etcdserverpb: { KV: grpc.ServiceClientConstructor } };
  const server = new grpc.Server();
  const range: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) => callback(null, { header: { revision: 7 }, kvs: [], count: 0 });
  server.addService(api.etcdserverpb.KV.service, { range });
  return new Promise((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => (error === null ? resolve(server) : reject(error))));
}

// Regression (runtime/cluster.test.ts failed 2 in 8 runs with "UNAVAILABLE: No connection
// established. Last error: null"): grpc-js shares subchannels between channels to the same target,
// so a client made after a member restarted inherited the old client's reconnect backoff.
test('a new client is its own connection: an older client to the same endpoint in reconnect backoff does not fail its first call', async (t) => {
  const [port] = await freePorts(1);
  const old = new EtcdClient(`127.0.0.1:${port}`, 2_000);
  t.teardown(() => old.close());
  const refused = await t.throwsAsync(old.range({ key: Buffer.from('a') }));
  t.regex(refused.message, /ECONNREFUSED/);
  const server = await startKvServer(port!);
  t.teardown(() => server.forceShutdown());
  const fresh = new EtcdClient(`127.0.0.1:${port}`, 2_000);
  t.teardown(() => fresh.close());
  const response = await fresh.range({ key: Buffer.from('a') });
  t.is((response.header as { revision: number }).revision, 7);
});
