import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { makeCertificates } from '../_test/certificates.ts';
import { freePorts, getJson, startMember, until } from '../_test/members.ts';
import { ClientServer } from './clientServer.ts';
import { loadEtcdApi } from './grpcServices.ts';
import { scratchFolder } from '../_test/scratch.ts';

/**
 * The client port as etcd's own client sees it: Debian's etcdctl 3.4 over gRPC with mutual TLS,
 * HTTP /health, /version and /metrics on the same port and on --listen-metrics-urls, and the
 * standard gRPC health service.
 */
const etcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' });
const haveEtcdctl = etcdctl.status === 0;
const etcdctlTest = haveEtcdctl ? test : test.skip;
if (!haveEtcdctl) console.error('etcdctl.test.ts: etcdctl is not installed (apt-get install -y etcd-client); the etcdctl checks are skipped');

const run = promisify(execFile);

async function memberWithTls() {
  const certificates = makeCertificates();
  const [clientPort, peerPort, metricsPort] = await freePorts(3);
  const dataDir = scratchFolder('detcd-etcdctl-');
  const spec = { name: 'solo', clientPort: clientPort!, peerPort: peerPort!, dataDir };
  const member = startMember(spec, `solo=http://127.0.0.1:${peerPort}`, [
    '--listen-client-urls', `https://127.0.0.1:${clientPort}`,
    '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
    '--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`,
    '--cert-file', certificates.cert,
    '--key-file', certificates.key,
    '--trusted-ca-file', certificates.ca,
    '--client-cert-auth',
  ]);
  const cleanup = () => {
    member.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(certificates.dir, { recursive: true, force: true });
  };
  await until(async () => (await getJson(`http://127.0.0.1:${metricsPort}/health`))?.status === 200, 'the member to be healthy');
  const tlsArgs = ['--endpoints', `https://127.0.0.1:${clientPort}`, '--cacert', certificates.ca, '--cert', certificates.cert, '--key', certificates.key, '--dial-timeout', '3s', '--command-timeout', '3s'];
  return { member, clientPort: clientPort!, metricsPort: metricsPort!, certificates, tlsArgs, cleanup };
}

etcdctlTest('etcdctl 3.4 reaches detcd over mutual TLS: endpoint status, put, get and endpoint health answer', async (t) => {
  const { tlsArgs, cleanup, member } = await memberWithTls();
  t.teardown(cleanup);
  const env = { ...process.env, ETCDCTL_API: '3' };
  const status = await run('etcdctl', [...tlsArgs, 'endpoint', 'status', '-w', 'json'], { env });
  const [entry] = JSON.parse(status.stdout) as [{ Status: { version: string; leader: number; raftTerm: number; header: { member_id: number } } }];
  t.is(entry.Status.version, '3.4.23');
  t.true(entry.Status.raftTerm >= 2, status.stdout);
  t.is(entry.Status.leader, entry.Status.header.member_id, 'a single member leads itself');
  t.is((await run('etcdctl', [...tlsArgs, 'put', 'k', 'v'], { env })).stdout, 'OK\n');
  t.is((await run('etcdctl', [...tlsArgs, 'get', 'k'], { env })).stdout, 'k\nv\n');
  const health = await run('etcdctl', [...tlsArgs, 'endpoint', 'health'], { env });
  // etcdctl 3.4 prints endpoint health on stderr.
  t.regex(health.stderr, new RegExp(`^${tlsArgs[1]!.replace(/[.]/g, '\\.')} is healthy: successfully committed proposal: took = [0-9.]+(µs|ms|s)\n$`));
  // Without a client certificate the TLS handshake is refused.
  const anonymous = await run('etcdctl', ['--endpoints', tlsArgs[1]!, '--cacert', tlsArgs[3]!, '--dial-timeout', '2s', '--command-timeout', '2s', 'endpoint', 'status'], { env: { ...process.env, ETCDCTL_API: '3' } }).then(() => 'succeeded', () => 'refused');
  t.is(anonymous, 'refused');
  t.false(member.output.join('').includes('Error'), member.output.join(''));
});

etcdctlTest('etcdctl 3.4 with http:// endpoints (a scheme in HTTP/2\'s :authority): endpoint status, --cluster, hashkv, put and get answer', async (t) => {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = scratchFolder('detcd-etcdctl-');
  const member = startMember({ name: 'solo', clientPort: clientPort!, peerPort: peerPort!, dataDir }, `solo=http://127.0.0.1:${peerPort}`);
  t.teardown(() => {
    member.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const endpoint = `http://127.0.0.1:${clientPort}`;
  await until(async () => (await getJson(`${endpoint}/health`))?.status === 200, 'the member to be healthy');
  const env = { ...process.env, ETCDCTL_API: '3' };
  const args = ['--endpoints', endpoint, '--dial-timeout', '3s', '--command-timeout', '3s'];
  const table = (await run('etcdctl', [...args, 'endpoint', 'status', '-w', 'table'], { env })).stdout;
  t.regex(table, new RegExp(`\\| ${endpoint.replace(/[.]/g, '\\.')} \\| [0-9a-f]+ \\|  3\\.4\\.23 \\|`), table);
  // --cluster dials the client URLs the member list shows: empty until the member has published its own.
  let cluster = '';
  await until(async () => (cluster = (await run('etcdctl', [...args, 'endpoint', 'status', '--cluster'], { env })).stdout) !== '', 'the member to publish its client URL');
  t.regex(cluster, new RegExp(`^${endpoint.replace(/[.]/g, '\\.')}, [0-9a-f]+, 3\\.4\\.23, .*, true, false, \\d+, \\d+, \\d+, \\n$`), cluster);
  t.is((await run('etcdctl', [...args, 'put', 'k', 'v'], { env })).stdout, 'OK\n');
  t.regex((await run('etcdctl', [...args, 'endpoint', 'hashkv'], { env })).stdout, new RegExp(`^${endpoint.replace(/[.]/g, '\\.')}, \\d+\\n$`));
  t.is((await run('etcdctl', [...args, 'get', 'k'], { env })).stdout, 'k\nv\n');
  t.false(member.output.join('').includes('Error'), member.output.join(''));
});

/**
 * A TCP proxy in front of `port` that passes each HTTP/2 connection's frames at once up to its
 * first HEADERS and holds that and everything after for `holdMs`: the server sees a client that
 * has ACKed its SETTINGS and then sits idle before its first call, as a long-lived Go client does.
 * Only the first `connectionsHeld` connections are held; later ones pass as they come.
 */
async function firstCallHeldBack(port: number, holdMs: number, connectionsHeld = Infinity): Promise<{ port: number; held: () => number; close: () => void }> {
  const sockets = new Set<Socket>();
  let held = 0;
  let accepted = 0;
  const server = createServer((client) => {
    const hold = accepted++ < connectionsHeld;
    const upstream = connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => (client.destroy(), upstream.destroy(), sockets.delete(socket)));
    }
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    let offset = 24; // the connection preface, then frames
    let state: 'scanning' | 'holding' | 'passing' = hold ? 'scanning' : 'passing';
    client.on('data', (chunk: Buffer) => {
      if (state === 'passing') return void upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      if (state === 'holding') return;
      while (offset + 9 <= pending.length && pending[offset + 3] !== 1) offset += 9 + pending.readUIntBE(offset, 3);
      // Whatever precedes the first HEADERS passes now (the preface and SETTINGS are waited for).
      const through = Math.min(offset, pending.length);
      upstream.write(pending.subarray(0, through));
      pending = pending.subarray(through);
      offset -= through;
      if (pending.length < 9 || pending[3] !== 1) return;
      state = 'holding';
      held++;
      setTimeout(() => {
        state = 'passing';
        if (!upstream.destroyed) upstream.write(pending);
      }, holdMs);
    });
  });
  const [proxyPort] = await freePorts(1);
  await new Promise<void>((resolve) => server.listen(proxyPort, '127.0.0.1', resolve));
  return { port: proxyPort!, held: () => held, close: () => (server.close(), sockets.forEach((socket) => socket.destroy())) };
}

etcdctlTest("etcdctl 3.4 with an http:// endpoint whose connection sits idle 400 ms before its first call: endpoint status and hashkv answer (nghttp2 refused the scheme before authority2)", async (t) => {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = scratchFolder('detcd-etcdctl-');
  const member = startMember({ name: 'solo', clientPort: clientPort!, peerPort: peerPort!, dataDir }, `solo=http://127.0.0.1:${peerPort}`);
  const proxy = await firstCallHeldBack(clientPort!, 400);
  t.teardown(() => {
    proxy.close();
    member.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  await until(async () => (await getJson(`http://127.0.0.1:${clientPort}/health`))?.status === 200, 'the member to be healthy');
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const env = { ...process.env, ETCDCTL_API: '3' };
  const args = ['--endpoints', endpoint, '--dial-timeout', '3s', '--command-timeout', '3s'];
  const table = (await run('etcdctl', [...args, 'endpoint', 'status', '-w', 'table'], { env })).stdout;
  t.regex(table, new RegExp(`\\| ${endpoint.replace(/[.]/g, '\\.')} \\| [0-9a-f]+ \\|  3\\.4\\.23 \\|`), table);
  t.regex((await run('etcdctl', [...args, 'endpoint', 'hashkv'], { env })).stdout, new RegExp(`^${endpoint.replace(/[.]/g, '\\.')}, \\d+\\n$`));
  t.true(proxy.held() >= 2, `${proxy.held()} connections held back`);
  t.false(member.output.join('').includes('Error'), member.output.join(''));
});

etcdctlTest('etcdctl 3.4 whose first call reaches the client port after its first-call limit: the GOAWAY (no stream processed) makes it call again on a new connection, and get answers', async (t) => {
  const definition = loadEtcdApi();
  const grpcServer = new grpc.Server();
  let ranges = 0;
  grpcServer.addService(definition['etcdserverpb.KV'] as grpc.ServiceDefinition, {
    range: (_call: unknown, callback: (error: null, answer: object) => void) => {
      ranges++;
      callback(null, { header: { clusterId: 1, memberId: 1, revision: 1, raftTerm: 2 }, kvs: [], count: 0 });
    },
  });
  // A first-call limit short for the test, yet long beside a loaded host's stalls: grpc-go retries
  // a stream refused unprocessed once, so the second connection's call must arrive within it.
  const server = new ClientServer(grpcServer, (_request, response) => response.end(), { firstCallMs: 1_000 });
  const [port] = await freePorts(1);
  await server.listen(new URL(`http://127.0.0.1:${port}`), null);
  const proxy = await firstCallHeldBack(port!, 1_500, 1);
  t.teardown(() => (proxy.close(), server.close()));
  const env = { ...process.env, ETCDCTL_API: '3' };
  const got = await run('etcdctl', ['--endpoints', `http://127.0.0.1:${proxy.port}`, '--dial-timeout', '3s', '--command-timeout', '5s', 'get', 'k'], { env });
  t.is(got.stdout, '');
  t.is(ranges, 1);
  t.is(proxy.held(), 1, 'the first connection held its call');
  // The first connection ended idle with the call still held in the proxy; the second served it.
  t.deepEqual(server.handed, { native: 1, rewritten: 0, idleEnded: 1 });
});

test('HTTP on the client port (mTLS) and on the metrics URL: /health, /version, /metrics with etcd\'s metric names; gRPC health says SERVING', async (t) => {
  const { metricsPort, clientPort, certificates, cleanup } = await memberWithTls();
  t.teardown(cleanup);
  t.deepEqual(await getJson(`http://127.0.0.1:${metricsPort}/version`), { status: 200, body: { etcdserver: '3.4.23', etcdcluster: '3.4.0' } });
  t.deepEqual(await getJson(`http://127.0.0.1:${metricsPort}/health`), { status: 200, body: { health: 'true' } });
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  for (const name of ['etcd_server_has_leader 1', 'etcd_server_leader_changes_seen_total 1', 'etcd_server_proposals_committed_total', 'etcd_server_proposals_applied_total', 'etcd_server_proposals_pending', 'etcd_server_proposals_failed_total', 'etcd_disk_wal_fsync_duration_seconds_bucket', 'etcd_disk_backend_commit_duration_seconds_bucket', 'process_cpu_seconds_total']) {
    t.true(metrics.includes(name), `${name} is exported`);
  }
  const { readFileSync } = await import('node:fs');
  const credentials = grpc.credentials.createSsl(readFileSync(certificates.ca), readFileSync(certificates.key), readFileSync(certificates.cert));
  const Health = grpc.loadPackageDefinition(loadEtcdApi()).grpc as unknown as { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  const client = new Health.health.v1.Health(`127.0.0.1:${clientPort}`, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
  const check = (client as unknown as { check(request: object, callback: (error: Error | null, response: unknown) => void): void }).check.bind(client);
  const answer = await new Promise<unknown>((resolve, reject) => check({ service: '' }, (error, response) => (error ? reject(error) : resolve(response))));
  client.close();
  t.deepEqual(answer, { status: 'SERVING' });
  // go-grpc-prometheus's counters and the backend's size, as etcd exports them.
  const { KV } = (grpc.loadPackageDefinition(loadEtcdApi()) as unknown as { etcdserverpb: { KV: grpc.ServiceClientConstructor } }).etcdserverpb;
  const kv = new KV(`127.0.0.1:${clientPort}`, credentials, { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as { range(request: object, callback: (error: Error | null) => void): void; close(): void };
  await new Promise<void>((resolve, reject) => kv.range({ key: Buffer.from('k') }, (error) => (error ? reject(error) : resolve())));
  kv.close();
  const after = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  t.regex(after, /^grpc_server_started_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Range"\} 1$/m);
  t.regex(after, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Range",grpc_code="OK"\} 1$/m);
  t.regex(after, /^etcd_mvcc_db_total_size_in_bytes [1-9][0-9]*$/m);
  const https = await import('node:https');
  const version = await new Promise<string>((resolve, reject) => {
    https.get(`https://127.0.0.1:${clientPort}/version`, { servername: 'localhost', ca: readFileSync(certificates.ca), cert: readFileSync(certificates.cert), key: readFileSync(certificates.key) }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
  t.is(version, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
});
