/**
 * `npm run bench runtime`: detcd on real processes against real etcd 3.4, side by side in one run,
 * driven by the same Node gRPC load generator (runtime/_test/etcdClient.ts) — three members on
 * loopback each:
 *
 * - sequential puts to the leader: p50 and p99 latency;
 * - puts with 16 in flight to the leader, and linearizable ranges with 16 in flight spread over
 *   the members: completions per second;
 * - `etcdctl check perf --load=m` (200 clients, 1,000 puts/s for 60 s; PASS needs 90% of that,
 *   no request over 500 ms and a small spread), with DETCD_BENCH_CHECK_PERF=1;
 * - the baseline measured in the same run on the same file system: a 100-byte append + fdatasync.
 *
 * Both clusters run at once and every phase runs on one, then the other, so that a machine whose
 * load drifts treats them alike; figures are printed with the ratio detcd / etcd. Real etcd is
 * Debian's `etcd-server` (`apt-get install -y etcd-server`); without it detcd runs alone.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EtcdClient, type Message } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';

const sequentialPuts = 400;
const phaseMs = 5_000;
const inFlight = 16;
const value = Buffer.alloc(256, 'v');

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function fsyncBaseline(dir: string, count: number): Promise<number[]> {
  const handle = await open(join(dir, 'fsync-probe'), 'a');
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    await handle.write(Buffer.alloc(100));
    const started = performance.now();
    await handle.datasync();
    times.push(performance.now() - started);
  }
  await handle.close();
  return times.sort((a, b) => a - b);
}

/** Runs `operation` with `workers` at once for `durationMs`; returns completions per second. */
async function throughput(workers: number, durationMs: number, operation: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() - started < durationMs) await operation(worker, done++);
    }),
  );
  return (done * 1000) / (performance.now() - started);
}

interface Server {
  readonly name: string;
  readonly specs: readonly MemberSpec[];
  readonly members: Member[];
  readonly clients: EtcdClient[];
  leader: EtcdClient;
}

async function startCluster(name: string, root: string, program?: readonly string[]): Promise<Server> {
  const ports = await freePorts(6);
  const specs: MemberSpec[] = [1, 2, 3].map((n, i) => ({ name: `${name}${n}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, `${name}${n}`) }));
  const members = specs.map((spec) => startMember(spec, initialCluster(specs), ['--snapshot-count', '10000'], program));
  const clients = specs.map((spec) => new EtcdClient(endpoint(spec), 10_000));
  const server: Server = { name, specs, members, clients, leader: clients[0]! };
  await until(async () => {
    for (const client of clients) {
      const status = await client.status().catch(() => null);
      if (status !== null && status.leader !== 0 && status.leader === (status.header as Message).memberId) {
        server.leader = client;
        return true;
      }
    }
    return false;
  }, `a ${name} leader`, 60_000);
  // Every member must be serving (a linearizable read through each) before the clock starts.
  await until(async () => (await Promise.all(clients.map((client) => client.range({ key: Buffer.from('warm') }).then(() => true, () => false)))).every(Boolean), `${name} to serve`, 60_000);
  return server;
}

function stopCluster(server: Server): void {
  for (const client of server.clients) client.close();
  for (const member of server.members) member.process.kill('SIGKILL');
}

interface Figures {
  p50: number;
  p99: number;
  puts: number;
  reads: number;
  checkPerf: string;
}

async function sequential(server: Server): Promise<number[]> {
  for (let i = 0; i < 50; i++) await server.leader.put({ key: Buffer.from(`warm${i % 8}`), value });
  const times: number[] = [];
  for (let i = 0; i < sequentialPuts; i++) {
    const started = performance.now();
    await server.leader.put({ key: Buffer.from(`seq${i % 64}`), value });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

const execFileAsync = promisify(execFile);

/** etcdctl's own load test; its verdict lines, or why it did not run. */
async function checkPerf(server: Server): Promise<string> {
  const endpoints = server.specs.map(endpoint).join(',');
  const result = await execFileAsync('etcdctl', ['--endpoints', endpoints, 'check', 'perf', '--load=m'], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }).then(
    (done) => done.stdout + done.stderr,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
  return result
    .split(/\r|\n/)
    .map((line) => line.replace(/^.*(PASS|FAIL)/, '$1').trim())
    .filter((line) => /^(PASS|FAIL)/.test(line))
    .join('; ');
}

export async function bench(out: (line: string) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'detcd-bench-'));
  const withEtcd = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0;
  const withCheckPerf = process.env.DETCD_BENCH_CHECK_PERF === '1' && spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
  if (!withEtcd) out('etcd is not installed (apt-get install -y etcd-server): detcd alone');
  const servers: Server[] = [];
  try {
    servers.push(await startCluster('detcd', root));
    if (withEtcd) servers.push(await startCluster('etcd', root, ['etcd']));
    const fsync = await fsyncBaseline(root, 200);
    const figures = new Map<string, Figures>(servers.map((server) => [server.name, { p50: 0, p99: 0, puts: 0, reads: 0, checkPerf: 'not run (DETCD_BENCH_CHECK_PERF=1 runs it)' }]));
    for (const server of servers) {
      const times = await sequential(server);
      Object.assign(figures.get(server.name)!, { p50: percentile(times, 50), p99: percentile(times, 99) });
    }
    for (const server of servers) figures.get(server.name)!.puts = await throughput(inFlight, phaseMs, (worker, i) => server.leader.put({ key: Buffer.from(`w${worker}-${i % 100}`), value }));
    for (const server of servers) figures.get(server.name)!.reads = await throughput(inFlight, phaseMs, (worker) => server.clients[worker % 3]!.range({ key: Buffer.from(`w${worker}-1`) }));
    if (withCheckPerf) for (const server of servers) figures.get(server.name)!.checkPerf = await checkPerf(server);

    const fsyncP50 = percentile(fsync, 50);
    out(`baseline: 100-byte append + fdatasync      p50 ${fsyncP50.toFixed(2)} ms  p99 ${percentile(fsync, 99).toFixed(2)} ms`);
    const detcd = figures.get('detcd')!;
    const etcd = figures.get('etcd');
    const ratio = (mine: number, theirs: number | undefined) => (theirs === undefined ? '' : `  (detcd/etcd ${(mine / theirs).toFixed(2)})`);
    for (const [name, f] of figures) {
      out(`${name.padEnd(5)} sequential put (leader)        p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms  (p50 = ${(f.p50 / fsyncP50).toFixed(1)} × fsync p50)`);
      out(`${name.padEnd(5)} puts, ${inFlight} in flight              ${f.puts.toFixed(0)}/s`);
      out(`${name.padEnd(5)} linearizable ranges, ${inFlight} in flight ${f.reads.toFixed(0)}/s`);
      out(`${name.padEnd(5)} etcdctl check perf --load=m    ${f.checkPerf}`);
    }
    if (etcd !== undefined) {
      out(`detcd / etcd: sequential p50${ratio(detcd.p50, etcd.p50)}, p99${ratio(detcd.p99, etcd.p99)}, puts${ratio(detcd.puts, etcd.puts)}, linearizable ranges${ratio(detcd.reads, etcd.reads)}`);
    }
  } finally {
    for (const server of servers) stopCluster(server);
    rmSync(root, { recursive: true, force: true });
  }
}
