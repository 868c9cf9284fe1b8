/**
 * `npm run bench connectStorm`: `etcdctl check perf`'s start (issue 10): its 200 clients connect
 * at once and each sends a put at once. Prints the slowest and the median of those first puts
 * (connection and HTTP/2 session setup included), and as the baseline measured in the same run,
 * the same 200 clients' second puts, sent at once over the connections now open: the difference
 * is what connecting costs. Clients run in DETCD_BENCH_STORM_PROCESSES child processes (default
 * 4, as etcdctl's Go clients do not share one JavaScript thread), against a three-member cluster;
 * DETCD_BENCH_STORM_ROUNDS rounds (default 3) on the same cluster, each with new clients.
 *
 * DETCD_BENCH_STORM_NODE: node options for the members (e.g. `--cpu-prof --cpu-prof-dir=...`).
 * DETCD_BENCH_STORM_ETCD=1: real etcd's members instead (Debian's etcd-server), the control: what
 * the same clients see from a server that is not detcd.
 */
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect, type ClientHttp2Session } from 'node:http2';
import { fileURLToPath } from 'node:url';
import { endpoint } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { startCluster } from './checkPerfGc.bench.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientCount = 200;

interface StormReply {
  readonly first: number[];
  readonly second: number[];
}

/** A gRPC frame of etcd's PutRequest {key, value} (fields 1 and 2, both under 128 bytes). */
function putFrame(key: string, value: Buffer): Buffer {
  const keyBytes = Buffer.from(key);
  const message = Buffer.concat([Buffer.of(0x0a, keyBytes.length), keyBytes, Buffer.of(0x12, 0x80 | (value.length & 0x7f), value.length >> 7), value]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/**
 * One unary Put over a bare HTTP/2 session (node:http2, no grpc-js channel): a Go client's
 * connection is cheap to make, and 50 grpc-js channels in one process took ~1 s to set up
 * whatever the server (real etcd's first puts were as slow as detcd's).
 */
function rawPut(session: ClientHttp2Session, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Put', 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('trailers', (trailers) => (trailers['grpc-status'] === '0' ? resolve() : reject(new Error(`grpc-status ${String(trailers['grpc-status'])}: ${String(trailers['grpc-message'])}`))));
    stream.on('error', reject);
    stream.on('data', () => undefined);
    stream.end(frame);
  });
}

/** In a child process: `count` clients to `endpoints` (round robin), each connecting and putting at the go message. */
async function stormChild(endpoints: readonly string[], count: number, offset: number): Promise<void> {
  const value = Buffer.alloc(256, 'v');
  await new Promise((resolve) => process.once('message', resolve));
  const started = performance.now();
  const sessions = Array.from({ length: count }, (_, i) => connect(`http://${endpoints[(offset + i) % endpoints.length]!}`));
  const timedPut = async (session: ClientHttp2Session, i: number, from: number): Promise<number> => {
    await rawPut(session, putFrame(`/storm/${offset + i}`, value));
    return performance.now() - from;
  };
  // The first puts' clock starts before connecting: all sessions were asked for at once.
  const first = await Promise.all(sessions.map((session, i) => timedPut(session, i, started)));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const second = await Promise.all(sessions.map((session, i) => timedPut(session, i, performance.now())));
  for (const session of sessions) session.close();
  process.send!({ first, second } satisfies StormReply);
}

function stats(values: readonly number[]): { max: number; median: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { max: sorted[sorted.length - 1]!, median: sorted[Math.floor(sorted.length / 2)]! };
}

export async function bench(out: (line: string) => void): Promise<void> {
  const processes = Number(process.env.DETCD_BENCH_STORM_PROCESSES ?? 4);
  const rounds = Number(process.env.DETCD_BENCH_STORM_ROUNDS ?? 3);
  const nodeOptions = (process.env.DETCD_BENCH_STORM_NODE ?? '').split(/\s+/).filter((word) => word !== '');
  const root = scratchFolder('detcd-storm-');
  const program = process.env.DETCD_BENCH_STORM_ETCD === '1' ? ['etcd'] : [process.execPath, ...nodeOptions, join(here, 'bin', 'detcd')];
  const cluster = await startCluster({ name: 'storm', program, env: { DETCD_LOOP_STALL_WATCH_MS: '5' } }, root, 0);
  try {
    const endpoints = cluster.specs.map(endpoint);
    for (let round = 1; round <= rounds; round++) {
      const perChild = Math.ceil(clientCount / processes);
      const children = Array.from({ length: processes }, (_, i) =>
        fork(fileURLToPath(import.meta.url), ['--storm-child', endpoints.join(','), String(perChild), String(i * perChild)], { execArgv: ['--import=tsx'], stdio: 'inherit' }),
      );
      // Every child loaded and waiting: then all connect at once.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const replies = children.map((child) => new Promise<StormReply>((resolve, reject) => {
        child.once('message', (reply) => resolve(reply as StormReply));
        child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`a storm client process exited with ${code}`))));
      }));
      for (const child of children) child.send('go');
      const all = await Promise.all(replies);
      const first = stats(all.flatMap((reply) => reply.first));
      const second = stats(all.flatMap((reply) => reply.second));
      out(
        `connectStorm round ${round}: ${clientCount} clients' first puts: slowest ${first.max.toFixed(0)} ms, median ${first.median.toFixed(0)} ms; ` +
          `their second puts (connections open): slowest ${second.max.toFixed(0)} ms, median ${second.median.toFixed(0)} ms (ratio of slowest: ${(first.max / second.max).toFixed(2)})`,
      );
      await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)))));
    }
  } finally {
    for (const client of cluster.clients) client.close();
    const graceful = nodeOptions.some((option) => option.startsWith('--cpu-prof'));
    for (const member of cluster.members) member.process.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    if (graceful) await Promise.all(cluster.members.map((member) => member.exited));
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--storm-child') await stormChild(process.argv[3]!.split(','), Number(process.argv[4]), Number(process.argv[5]));
