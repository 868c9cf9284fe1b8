/**
 * `npm run bench runtime`: detcd on real processes against real etcd 3.4, side by side in one run,
 * driven by the same Node gRPC load generator (runtime/_test/etcdClient.ts) — three members on
 * loopback each:
 *
 * - sequential puts to the leader: p50 and p99 latency;
 * - puts with 16 in flight to the leader, and linearizable ranges with 16 in flight spread over
 *   the members: completions per second;
 * - `etcdctl check perf --load=m` (200 clients, 1,000 puts/s for 60 s; PASS needs 90% of that,
 *   no request over 500 ms and a small spread), with DETCD_BENCH_CHECK_PERF=<runs>: that many runs
 *   on each server, taking turns (detcd, etcd, detcd, …);
 * - the baseline measured in the same run on the same file system: a 100-byte append + fdatasync.
 *
 * Both clusters run at once and every phase takes turns between them (five rounds), so that a machine whose
 * load drifts treats them alike; figures are printed with the ratio detcd / etcd. Real etcd is
 * Debian's `etcd-server` (`apt-get install -y etcd-server`); without it detcd runs alone.
 *
 * `DETCD_BENCH_BASELINE=<dir>` adds a third cluster, `base`: the detcd of another checkout (its
 * `bin/detcd`, e.g. main's tree with this one's node_modules), measured in the same phases, so a
 * change's before and after come from one run on one machine load.
 *
 * `DETCD_BENCH_WARM_MS=<ms>` first runs that long of puts and of ranges with 16 in flight on each
 * server, in turns, unmeasured. Without it the rounds measure fresh processes: a detcd member's
 * JavaScript is still being optimized through them (V8's compiler threads took a third of the
 * members' CPU in the first seconds of load, and CPU per put fell ~4x over the first 15 s of
 * 16 puts in flight), while etcd's Go is compiled ahead; with it they measure members that have
 * served a while, as a long-running member has.
 *
 * Each detcd server's CPU per operation is also printed split: the leader's and the followers',
 * each as the main thread (the event loop: our JavaScript, gRPC, the sockets) and the other
 * threads (V8's TurboFan compiles and GC helpers, libuv's pool writing the WAL). At load 9-14
 * after a 15 s warm-up the other threads were a quarter of the members' CPU, most of it TurboFan
 * still compiling (perf: 30 % of the members' samples).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EtcdClient, type Message } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const sequentialPuts = 400;
const phaseMs = 5_000;
/** Each phase is split into this many turns per server. */
const rounds = 5;
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

/** Runs `operation` with `workers` at once for `durationMs`; returns completions per second and how many completed. */
export async function throughput(workers: number, durationMs: number, operation: (worker: number, i: number) => Promise<unknown>): Promise<{ rate: number; done: number }> {
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() - started < durationMs) await operation(worker, done++);
    }),
  );
  return { rate: (done * 1000) / (performance.now() - started), done };
}

/**
 * CPU time (user + system, ms) the server's member processes have used so far, from
 * /proc/<pid>/stat. On a machine shared with other work, wall-clock rates swing with the load;
 * CPU per operation does not, and under contention it is what decides the rate.
 */
export function membersCpuMs(members: readonly Member[]): number {
  let ticks = 0;
  for (const member of members) {
    try {
      const stat = readFileSync(`/proc/${member.process.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      return Number.NaN; // not Linux, or the member is gone
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * A member process's CPU time (user + system, ms) so far, its main thread apart from the rest:
 * in a detcd member the rest is V8's helper threads (TurboFan compiling, the GC's parallel and
 * concurrent work) and libuv's pool (the WAL's writes); for etcd (Go) the split means nothing.
 * Zeros where /proc is not there.
 */
export function threadsCpuMs(pid: number | undefined): { main: number; other: number } {
  let main = 0;
  let other = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ms = (Number(fields[11]) + Number(fields[12])) * 10;
        if (Number(tid) === pid) main += ms;
        else other += ms;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // not Linux, or the member is gone
  }
  return { main, other };
}

/** Members' CPU (ms) in a phase: the leader's and the followers', each as main thread and other threads (see threadsCpuMs). */
export interface CpuSplit {
  leaderMain: number;
  leaderOther: number;
  followersMain: number;
  followersOther: number;
}

function cpuSplit(server: Server): CpuSplit {
  return membersCpuSplit(server.members, server.clients.indexOf(server.leader));
}

/** The members' CPU so far (ms), split as CpuSplit; `leader`: the leader's index in `members`. */
export function membersCpuSplit(members: readonly Member[], leader: number): CpuSplit {
  const split: CpuSplit = { leaderMain: 0, leaderOther: 0, followersMain: 0, followersOther: 0 };
  members.forEach((member, i) => {
    const { main, other } = threadsCpuMs(member.process.pid);
    if (i === leader) {
      split.leaderMain += main;
      split.leaderOther += other;
    } else {
      split.followersMain += main;
      split.followersOther += other;
    }
  });
  return split;
}

/** Runs a throughput turn on `server`, adding its rate (averaged over rounds) and its CPU per operation to `into`. */
async function measuredTurn(server: Server, into: { rate: number; cpuMs: number; done: number; split: CpuSplit }, operation: (worker: number, i: number) => Promise<unknown>): Promise<void> {
  const cpuBefore = membersCpuMs(server.members);
  const splitBefore = cpuSplit(server);
  const turn = await throughput(inFlight, phaseMs / rounds, operation);
  into.cpuMs += membersCpuMs(server.members) - cpuBefore;
  const splitAfter = cpuSplit(server);
  for (const key of Object.keys(splitAfter) as (keyof CpuSplit)[]) into.split[key] += splitAfter[key] - splitBefore[key];
  into.done += turn.done;
  into.rate += turn.rate / rounds;
}

/** A split per operation, as printed: "leader main 0.261 + other 0.082, followers main 0.208 + other 0.101 ms". */
function describeSplit(split: CpuSplit, operations: number): string {
  const per = (ms: number) => (ms / operations).toFixed(3);
  return `leader main ${per(split.leaderMain)} + other threads ${per(split.leaderOther)}, followers main ${per(split.followersMain)} + other threads ${per(split.followersOther)} ms`;
}

export interface Server {
  readonly name: string;
  readonly specs: readonly MemberSpec[];
  readonly members: Member[];
  readonly clients: EtcdClient[];
  leader: EtcdClient;
}

export async function startCluster(name: string, root: string, program?: readonly string[]): Promise<Server> {
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

export function stopCluster(server: { readonly clients: readonly EtcdClient[]; readonly members: readonly Member[] }): void {
  for (const client of server.clients) client.close();
  for (const member of server.members) member.process.kill('SIGKILL');
}

interface Figures {
  p50: number;
  p99: number;
  /** The WAL fsync's mean duration on the leader and on the followers during the sequential puts (etcd_disk_wal_fsync_duration_seconds), ms. */
  fsyncLeader: number;
  fsyncFollowers: number;
  puts: number;
  reads: number;
  /** CPU ms of the three members per put and per range in the throughput phases. */
  putCpuMs: number;
  readCpuMs: number;
  /** The same, split (leader / followers, main thread / other threads), as text. */
  putSplit: string;
  readSplit: string;
  /** The leader's mean peer round trip over the whole run, ms. */
  peerRttMs: number;
  checkPerf: string;
}

/** A member's WAL fsyncs so far: count and total seconds, from its /metrics. */
async function walFsyncs(spec: MemberSpec): Promise<{ count: number; seconds: number }> {
  const text = await (await fetch(`http://${endpoint(spec)}/metrics`, { signal: AbortSignal.timeout(5_000) })).text().catch(() => '');
  const figure = (name: string) => Number(new RegExp(`^etcd_disk_wal_fsync_duration_seconds_${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { count: figure('count'), seconds: figure('sum') };
}

/**
 * The mean peer round trip (ms) the leader measured so far (etcd_network_peer_round_trip_time_seconds,
 * both peers): detcd times every heartbeat, etcd probes every 5 s. NaN when nothing was measured.
 */
async function peerRoundTripMs(server: Server): Promise<number> {
  const spec = server.specs[server.clients.indexOf(server.leader)]!;
  const text = await (await fetch(`http://${endpoint(spec)}/metrics`, { signal: AbortSignal.timeout(5_000) })).text().catch(() => '');
  const total = (name: string) => [...text.matchAll(new RegExp(`^etcd_network_peer_round_trip_time_seconds_${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
  return (total('sum') * 1000) / total('count');
}

/** WAL fsyncs (count, seconds) made on the leader and on the followers, summed over rounds. */
interface FsyncTally {
  leader: { count: number; seconds: number };
  followers: { count: number; seconds: number };
}

/** Adds the WAL fsyncs the members made during `during` to `tally`. */
async function tallyFsyncs(server: Server, tally: FsyncTally, during: () => Promise<void>): Promise<void> {
  const before = await Promise.all(server.specs.map(walFsyncs));
  await during();
  const after = await Promise.all(server.specs.map(walFsyncs));
  const leader = server.clients.indexOf(server.leader);
  for (let i = 0; i < server.specs.length; i++) {
    const into = i === leader ? tally.leader : tally.followers;
    into.count += after[i]!.count - before[i]!.count;
    into.seconds += after[i]!.seconds - before[i]!.seconds;
  }
}

/** `puts` sequential puts to the leader; their latencies (ms) are added to `times`. */
async function sequential(server: Server, puts: number, times: number[], tally: FsyncTally): Promise<void> {
  await tallyFsyncs(server, tally, async () => {
    for (let i = 0; i < puts; i++) {
      const started = performance.now();
      await server.leader.put({ key: Buffer.from(`seq${i % 64}`), value });
      times.push(performance.now() - started);
    }
  });
}

const execFileAsync = promisify(execFile);

/** etcdctl's own load test; its verdict lines, or why it did not run. */
async function checkPerf(server: Server): Promise<string> {
  return checkPerfVerdict(await checkPerfOutput(server.specs));
}

/** What `etcdctl check perf --load=m` printed against the members at `specs`, failing or not. */
export async function checkPerfOutput(specs: readonly MemberSpec[], started?: (pid: number) => void): Promise<string> {
  const endpoints = specs.map(endpoint).join(',');
  const running = execFileAsync('etcdctl', ['--endpoints', endpoints, 'check', 'perf', '--load=m'], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
  if (running.child.pid !== undefined) started?.(running.child.pid);
  return running.then(
    (done) => done.stdout + done.stderr,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
}

/**
 * etcdctl's verdict lines, progress bar removed. etcdctl 3.4 prints two of its failures without a
 * "FAIL:" prefix ("Slowest request took too long: 1.2s", "Stddev too high: 0.13s", check.go), so
 * a filter on PASS/FAIL alone hid which check failed.
 */
export function checkPerfVerdict(output: string): string {
  return output
    .split(/\r|\n/)
    .map((line) => line.replace(/^.*?(PASS|FAIL|Slowest request|Stddev)/, '$1').trim())
    .filter((line) => /^(PASS|FAIL|Slowest request|Stddev)/.test(line))
    .join('; ');
}

export async function bench(out: (line: string) => void): Promise<void> {
  const root = scratchFolder('detcd-bench-');
  const withEtcd = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0;
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined && !existsSync(join(baseline, 'bin', 'detcd'))) throw new Error(`DETCD_BENCH_BASELINE=${baseline}: no bin/detcd there`);
  const checkPerfRuns = /^[0-9]+$/.test(process.env.DETCD_BENCH_CHECK_PERF ?? '') && spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0 ? Number(process.env.DETCD_BENCH_CHECK_PERF) : 0;
  if (!withEtcd) out('etcd is not installed (apt-get install -y etcd-server): detcd alone');
  const servers: Server[] = [];
  try {
    servers.push(await startCluster('detcd', root));
    if (withEtcd) servers.push(await startCluster('etcd', root, ['etcd']));
    if (baseline !== undefined) servers.push(await startCluster('base', root, [process.execPath, join(baseline, 'bin', 'detcd')]));
    const fsync = await fsyncBaseline(root, 200);
    const figures = new Map<string, Figures>(servers.map((server) => [server.name, { p50: 0, p99: 0, fsyncLeader: 0, fsyncFollowers: 0, puts: 0, reads: 0, putCpuMs: 0, readCpuMs: 0, putSplit: '', readSplit: '', peerRttMs: 0, checkPerf: 'not run (DETCD_BENCH_CHECK_PERF=<runs> runs it)' }]));
    // Every phase in rounds that take turns between the servers: on a machine whose load swings
    // within seconds, a server measured in one block could meet a quiet or a busy stretch alone.
    for (const server of servers) for (let i = 0; i < 50; i++) await server.leader.put({ key: Buffer.from(`warm${i % 8}`), value });
    const warmMs = /^[0-9]+$/.test(process.env.DETCD_BENCH_WARM_MS ?? '') ? Number(process.env.DETCD_BENCH_WARM_MS) : 0;
    if (warmMs > 0) out(`warming up: ${warmMs} ms of puts and of ranges with ${inFlight} in flight on each server, unmeasured`);
    for (let round = 0; warmMs > 0 && round < rounds; round++) {
      for (const server of servers) await throughput(inFlight, warmMs / rounds / 2, (worker, i) => server.leader.put({ key: Buffer.from(`w${worker}-${i % 100}`), value }));
      for (const server of servers) await throughput(inFlight, warmMs / rounds / 2, (worker) => server.clients[worker % 3]!.range({ key: Buffer.from(`w${worker}-1`) }));
    }
    const times = new Map(servers.map((server) => [server.name, [] as number[]]));
    const tallies = new Map(servers.map((server) => [server.name, { leader: { count: 0, seconds: 0 }, followers: { count: 0, seconds: 0 } } as FsyncTally]));
    const noSplit = (): CpuSplit => ({ leaderMain: 0, leaderOther: 0, followersMain: 0, followersOther: 0 });
    const puts = new Map(servers.map((server) => [server.name, { rate: 0, cpuMs: 0, done: 0, split: noSplit() }]));
    const reads = new Map(servers.map((server) => [server.name, { rate: 0, cpuMs: 0, done: 0, split: noSplit() }]));
    for (let round = 0; round < rounds; round++) {
      for (const server of servers) await sequential(server, sequentialPuts / rounds, times.get(server.name)!, tallies.get(server.name)!);
      for (const server of servers) await measuredTurn(server, puts.get(server.name)!, (worker, i) => server.leader.put({ key: Buffer.from(`w${worker}-${i % 100}`), value }));
      for (const server of servers) await measuredTurn(server, reads.get(server.name)!, (worker) => server.clients[worker % 3]!.range({ key: Buffer.from(`w${worker}-1`) }));
    }
    for (const server of servers) {
      const sorted = times.get(server.name)!.sort((a, b) => a - b);
      const tally = tallies.get(server.name)!;
      Object.assign(figures.get(server.name)!, {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        fsyncLeader: (tally.leader.seconds * 1000) / tally.leader.count,
        fsyncFollowers: (tally.followers.seconds * 1000) / tally.followers.count,
        puts: puts.get(server.name)!.rate,
        reads: reads.get(server.name)!.rate,
        putCpuMs: puts.get(server.name)!.cpuMs / puts.get(server.name)!.done,
        readCpuMs: reads.get(server.name)!.cpuMs / reads.get(server.name)!.done,
        putSplit: describeSplit(puts.get(server.name)!.split, puts.get(server.name)!.done),
        readSplit: describeSplit(reads.get(server.name)!.split, reads.get(server.name)!.done),
      });
    }
    for (const server of servers) figures.get(server.name)!.peerRttMs = await peerRoundTripMs(server);
    const checkPerfResults = new Map(servers.map((server) => [server.name, [] as string[]]));
    for (let run = 0; run < checkPerfRuns; run++) for (const server of servers) checkPerfResults.get(server.name)!.push(await checkPerf(server));
    if (checkPerfRuns > 0) for (const server of servers) figures.get(server.name)!.checkPerf = checkPerfResults.get(server.name)!.map((result, run) => `run ${run + 1}: ${result}`).join(' | ');

    const fsyncP50 = percentile(fsync, 50);
    out(`baseline: 100-byte append + fdatasync      p50 ${fsyncP50.toFixed(2)} ms  p99 ${percentile(fsync, 99).toFixed(2)} ms`);
    const etcd = figures.get('etcd');
    const ratio = (mine: number, theirs: number | undefined) => (theirs === undefined ? '' : ` ${(mine / theirs).toFixed(2)}`);
    for (const [name, f] of figures) {
      out(`${name.padEnd(5)} sequential put (leader)        p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms  (p50 = ${(f.p50 / fsyncP50).toFixed(1)} × fsync p50)`);
      out(`${name.padEnd(5)}   its WAL fsync mean             leader ${f.fsyncLeader.toFixed(2)} ms  followers ${f.fsyncFollowers.toFixed(2)} ms;  peer round trip mean ${f.peerRttMs.toFixed(2)} ms (leader's metric)`);
      out(`${name.padEnd(5)} puts, ${inFlight} in flight              ${f.puts.toFixed(0)}/s  (members' CPU ${f.putCpuMs.toFixed(3)} ms per put)`);
      if (name !== 'etcd') out(`${name.padEnd(5)}   per put:   ${f.putSplit}`);
      out(`${name.padEnd(5)} linearizable ranges, ${inFlight} in flight ${f.reads.toFixed(0)}/s  (members' CPU ${f.readCpuMs.toFixed(3)} ms per range)`);
      if (name !== 'etcd') out(`${name.padEnd(5)}   per range: ${f.readSplit}`);
      out(`${name.padEnd(5)} etcdctl check perf --load=m    ${f.checkPerf}`);
    }
    if (etcd !== undefined) {
      for (const [name, f] of figures) {
        if (name === 'etcd') continue;
        out(`${name.padEnd(5)} / etcd: sequential p50${ratio(f.p50, etcd.p50)}, p99${ratio(f.p99, etcd.p99)}, puts${ratio(f.puts, etcd.puts)}, linearizable ranges${ratio(f.reads, etcd.reads)}, CPU per put${ratio(f.putCpuMs, etcd.putCpuMs)}, per range${ratio(f.readCpuMs, etcd.readCpuMs)}`);
      }
    }
  } finally {
    for (const server of servers) stopCluster(server);
    rmSync(root, { recursive: true, force: true });
  }
}
