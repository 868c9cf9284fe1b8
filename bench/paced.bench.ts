/**
 * `npm run bench paced`: members' cost per put at `etcdctl check perf`'s pace, without etcdctl.
 *
 * check perf --load=m feeds 200 clients from one limiter at 1,000 puts/s (pass: 900/s and no
 * request over 0.5 s); at that pace a Raft round carries about one put, so a round's fixed cost is
 * every put's, unlike `bench runtime`'s 16 in flight (docs/journal/runtime-performance.md, checkperf). Here clients
 * (DETCD_BENCH_PACED_CLIENTS, default 60, each one put in flight, spread over the three members
 * as etcdctl's balancer spreads them) take puts from one schedule at DETCD_BENCH_PACED_RATE
 * (default 900/s); a put due while every client is busy is counted as starved and dropped (etcdctl's
 * limiter drops it too; DETCD_BENCH_PACED_LEADER=1 sends every put to the leader). Keys and values as check perf's (a 276-byte key, 1 KiB of zeros).
 *
 * Variants take turns, each round starting with the next one (DETCD_BENCH_PACED_TURNS turns of DETCD_BENCH_PACED_TURN_MS each, default 6
 * of 4,000 ms), so a drifting machine load treats them alike; variants as checkPerfGc's
 * (DETCD_BENCH_PACED_VARIANTS, `name=words;…`: node options, NAME=value for the members'
 * environment, `@<dir>` for another checkout), default `here=` plus `base=@$DETCD_BENCH_BASELINE`
 * when that is set. Members start fresh, as check perf's do: the first turns show V8's warm-up.
 *
 * Per turn and variant: the rate reached, latency p50 / p99 / max (from the client's send), the
 * members' CPU per put split (leader / followers, main thread / other threads), the Raft rounds
 * (the leader's WAL syncs: one per Ready that carried entries) and puts and CPU per round, and the
 * members' threads' time waiting for a CPU per put (schedstat), and their write system calls per
 * round (files and sockets, /proc/<pid>/io), their threads' context switches per put (voluntary
 * and involuntary, /proc/<pid>/task/<tid>/status) and the bytes they sent to peers per round.
 * DETCD_BENCH_PACED_SYSCALLS=1 counts the leader's and one follower's system calls by name with
 * `perf stat` on the kernel's tracepoints (not strace: its ptrace stops would weigh on Go's many
 * threads far more than on node's) and prints them per round. A variant `etcd=etcd` is real etcd
 * 3.4 (Debian's) at the same pace. DETCD_BENCH_PACED_WARM_MS=<ms> first has each cluster's clients
 * put with at least 16 in flight for that long (unmeasured, in four rounds alternated between
 * clusters), so the turns measure members past V8's warm-up, as most of a 60 s check perf run is.
 * The summary is over the turns after the first two, and less what each cluster's members use
 * idle (measured after the turns for DETCD_BENCH_PACED_IDLE_MS, default 3,000: ticks, heartbeats,
 * timers), which weighs on every put at a low rate.
 *
 * A variant whose members run with `--trace-opt --trace-deopt` (node options) gets, per member,
 * TurboFan's compiles and deopts per turn and the functions optimized most often after the first
 * two turns: a long warm-up and a deopt -> reopt loop look different there
 * (docs/journal/runtime-performance.md, v8).
 * DETCD_BENCH_PACED_OUTPUT=<dir> writes what each member printed to <dir>/<member>.log, with a
 * line `=== turn N` where each of its turns began (`=== end` where they ended).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClient } from '../runtime/_test/etcdClient.ts';
import { endpoint, type MemberSpec } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { type Cluster, parseVariants, startCluster, stopGracefully, threadTimes } from './checkPerfGc.bench.ts';
import { type CpuSplit, membersCpuMs, membersCpuSplit, throughput } from './runtime.bench.ts';

function setting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) === 0) throw new Error(`${name}=${text}: a positive whole number`);
  return Number(text);
}

const value = Buffer.alloc(1024);
/** Turns measured before the summary starts (fresh members compiling). */
const coldTurns = 2;

interface Turn {
  puts: number;
  errors: number;
  starved: number;
  ms: number;
  latencies: number[];
  leaderMain: number;
  leaderOther: number;
  followersMain: number;
  followersOther: number;
  /** Members' threads waiting runnable for a CPU, ms. */
  waitMs: number;
  /** The leader's WAL syncs (Raft rounds that carried entries). */
  rounds: number;
  /** This process's CPU (the clients), ms. */
  clientMs: number;
  /** The members' write system calls (files and sockets, /proc/<pid>/io syscw). */
  writeCalls: number;
  /** The members' threads' voluntary and involuntary context switches (/proc/<pid>/task/<tid>/status). */
  voluntary: number;
  involuntary: number;
  /** The members' system time (all threads), ms: the kernel's share of their CPU. */
  systemMs: number;
  /** Bytes the members sent to peers (etcd_network_peer_sent_bytes_total, both servers count the same frames' payloads). */
  peerBytes: number;
  /** System calls per member role (DETCD_BENCH_PACED_SYSCALLS=1): `leader` and `follower` (one of them), by name. */
  syscalls: Map<string, number>;
}

function emptyTurn(): Turn {
  return { puts: 0, errors: 0, starved: 0, ms: 0, latencies: [], leaderMain: 0, leaderOther: 0, followersMain: 0, followersOther: 0, waitMs: 0, rounds: 0, clientMs: 0, writeCalls: 0, voluntary: 0, involuntary: 0, systemMs: 0, peerBytes: 0, syscalls: new Map() };
}

/** A process's threads' context switches so far (those of threads that ended are lost). */
function contextSwitches(pid: number): { voluntary: number; involuntary: number } {
  const sum = { voluntary: 0, involuntary: 0 };
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return sum;
  }
  for (const task of tasks) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      sum.voluntary += Number(/^voluntary_ctxt_switches:\s+([0-9]+)$/m.exec(status)?.[1] ?? 0);
      sum.involuntary += Number(/^nonvoluntary_ctxt_switches:\s+([0-9]+)$/m.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

/** A process's system time so far (ms, /proc/<pid>/stat's stime: every thread's, the ended ones' too). */
function systemMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 10;
  } catch {
    return Number.NaN;
  }
}

function clusterSystemMs(cluster: Cluster): number {
  return cluster.members.reduce((sum, member) => sum + systemMs(member.process.pid!), 0);
}

function clusterSwitches(cluster: Cluster): { voluntary: number; involuntary: number } {
  return cluster.members.map((member) => contextSwitches(member.process.pid!)).reduce((a, b) => ({ voluntary: a.voluntary + b.voluntary, involuntary: a.involuntary + b.involuntary }));
}

/** Bytes a member has sent to its peers so far. */
async function peerSentBytes(spec: MemberSpec): Promise<number> {
  const text = await (await fetch(`http://${endpoint(spec)}/metrics`, { signal: AbortSignal.timeout(5_000) })).text().catch(() => '');
  return [...text.matchAll(/^etcd_network_peer_sent_bytes_total\{[^}]*\} ([0-9.e+-]+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/**
 * The system calls counted per name by `perf stat` (kernel tracepoints: cheap next to strace's
 * ptrace stops, which a Go process with its many threads pays on every call) on one process, all
 * its threads, until `stop` is called; plus `context-switches` and `all` (every call).
 */
const countedCalls = ['read', 'readv', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'pread64', 'fdatasync', 'fsync', 'sync_file_range', 'futex', 'epoll_wait', 'epoll_pwait', 'epoll_ctl', 'sendmsg', 'recvmsg', 'sendto', 'recvfrom', 'nanosleep', 'clock_nanosleep', 'sched_yield', 'getpid', 'tgkill', 'rt_sigreturn', 'madvise', 'mmap', 'munmap', 'mprotect', 'getrusage', 'openat', 'close', 'eventfd2', 'io_uring_enter', 'statx', 'newfstat', 'newfstatat', 'lseek', 'fcntl', 'ioctl'];

function countSyscalls(pid: number): () => Promise<Map<string, number>> {
  const events = ['raw_syscalls:sys_enter', 'context-switches', ...countedCalls.map((call) => `syscalls:sys_enter_${call}`)];
  const perf = spawn('perf', ['stat', '-x', ',', '-e', events.join(','), '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  perf.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const ended = new Promise<void>((resolve) => perf.on('close', () => resolve()));
  return async () => {
    perf.kill('SIGINT');
    await ended;
    const counts = new Map<string, number>();
    for (const line of text.split('\n')) {
      const [count, , event] = line.split(',');
      if (event === undefined || !/^[0-9]+$/.test(count ?? '')) continue;
      counts.set(event === 'raw_syscalls:sys_enter' ? 'all' : event.replace('syscalls:sys_enter_', ''), Number(count));
    }
    return counts;
  };
}

/** A process's write system calls so far (/proc/<pid>/io), NaN where there is none. */
function writeCalls(pid: number): number {
  try {
    return Number(/^syscw: ([0-9]+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** The member's WAL syncs so far (etcd_disk_wal_fsync_duration_seconds_count). */
async function walSyncs(spec: MemberSpec): Promise<number> {
  const text = await (await fetch(`http://${endpoint(spec)}/metrics`, { signal: AbortSignal.timeout(5_000) })).text().catch(() => '');
  return Number(/^etcd_disk_wal_fsync_duration_seconds_count ([0-9.e+-]+)$/m.exec(text)?.[1] ?? Number.NaN);
}

async function leaderIndex(cluster: Cluster): Promise<number> {
  for (const [i, client] of cluster.clients.entries()) {
    const status = await client.status().catch(() => null);
    const header = status?.header as { memberId?: unknown } | undefined;
    if (status !== null && status.leader !== 0 && String(status.leader) === String(header?.memberId)) return i;
  }
  return 0;
}

let keyCounter = 0;

function nextKey(): Buffer {
  return Buffer.from(`/paced/${String(keyCounter++).padStart(269, '0')}`);
}

/** One paced turn against `cluster` through `clients` (each one put at a time). */
async function pacedTurn(cluster: Cluster, clients: readonly EtcdClient[], rate: number, turnMs: number, index: number): Promise<Turn> {
  for (const member of cluster.members) member.output.push(`\n=== turn ${index}\n`);
  const leader = await leaderIndex(cluster);
  const roundsBefore = await walSyncs(cluster.specs[leader]!);
  const cpuBefore = membersCpuSplit(cluster.members, leader);
  const waitBefore = cluster.members.reduce((sum, member) => sum + threadTimes(member.process.pid!).waitMs, 0);
  const turn = emptyTurn();
  const switchesBefore = clusterSwitches(cluster);
  const systemBefore = clusterSystemMs(cluster);
  const peerBefore = (await Promise.all(cluster.specs.map(peerSentBytes))).reduce((a, b) => a + b, 0);
  const counting = process.env.DETCD_BENCH_PACED_SYSCALLS === '1' ? [leader, (leader + 1) % cluster.members.length].map((i) => countSyscalls(cluster.members[i]!.process.pid!)) : [];
  if (counting.length > 0) await sleep(300); // perf attached before the clock starts
  const writesBefore = cluster.members.reduce((sum, member) => sum + writeCalls(member.process.pid!), 0);
  const clientBefore = process.cpuUsage();
  const idle = [...clients];
  const running = new Set<Promise<void>>();
  const started = performance.now();
  let issued = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= turnMs) break;
    const due = Math.floor((elapsed * rate) / 1000);
    while (issued < due) {
      issued++;
      const client = idle.pop();
      if (client === undefined) {
        turn.starved++;
        continue;
      }
      const sent = performance.now();
      const call: Promise<void> = client.put({ key: nextKey(), value }).then(
        () => {
          turn.puts++;
          turn.latencies.push(performance.now() - sent);
        },
        () => {
          turn.errors++;
        },
      ).finally(() => {
        idle.push(client);
        running.delete(call);
      });
      running.add(call);
    }
    await sleep(1);
  }
  await Promise.all(running);
  turn.ms = performance.now() - started;
  const clientCpu = process.cpuUsage(clientBefore);
  turn.clientMs = (clientCpu.user + clientCpu.system) / 1000;
  const cpuAfter = membersCpuSplit(cluster.members, leader);
  for (const key of Object.keys(cpuAfter) as (keyof CpuSplit)[]) turn[key] = cpuAfter[key] - cpuBefore[key];
  turn.waitMs = cluster.members.reduce((sum, member) => sum + threadTimes(member.process.pid!).waitMs, 0) - waitBefore;
  turn.writeCalls = cluster.members.reduce((sum, member) => sum + writeCalls(member.process.pid!), 0) - writesBefore;
  turn.rounds = (await walSyncs(cluster.specs[leader]!)) - roundsBefore;
  const switchesAfter = clusterSwitches(cluster);
  turn.systemMs = clusterSystemMs(cluster) - systemBefore;
  turn.voluntary = switchesAfter.voluntary - switchesBefore.voluntary;
  turn.involuntary = switchesAfter.involuntary - switchesBefore.involuntary;
  turn.peerBytes = (await Promise.all(cluster.specs.map(peerSentBytes))).reduce((a, b) => a + b, 0) - peerBefore;
  for (const [i, stop] of counting.entries()) for (const [call, count] of await stop()) turn.syscalls.set(`${i === 0 ? 'leader' : 'follower'} ${call}`, count);
  return turn;
}

function merge(turns: readonly Turn[]): Turn {
  const sum = emptyTurn();
  for (const turn of turns) {
    for (const key of ['puts', 'errors', 'starved', 'ms', 'leaderMain', 'leaderOther', 'followersMain', 'followersOther', 'waitMs', 'rounds', 'clientMs', 'writeCalls', 'voluntary', 'involuntary', 'systemMs', 'peerBytes'] as const) sum[key] += turn[key];
    sum.latencies.push(...turn.latencies);
    for (const [call, count] of turn.syscalls) sum.syscalls.set(call, (sum.syscalls.get(call) ?? 0) + count);
  }
  return sum;
}

/**
 * TurboFan's work in a member's output under `--trace-opt --trace-deopt`, by the `=== turn N`
 * lines this bench writes into it: compiles and deopts per turn (index 0: before the first turn;
 * after the last, shutting down, not counted), and the functions (name and shared-function address,
 * so two functions of one name stay apart) compiled more than once after the first `coldTurns`.
 */
function tierUps(text: string, turns: number): { compiles: number[]; deopts: number[]; recompiled: [string, number][] } {
  const compiles = new Array<number>(turns + 1).fill(0);
  const deopts = new Array<number>(turns + 1).fill(0);
  const late = new Map<string, number>();
  let turn = 0;
  for (const line of text.split('\n')) {
    const marker = /^=== (?:turn ([0-9]+)|end)$/.exec(line);
    if (marker !== null) {
      turn = marker[1] === undefined ? -1 : Number(marker[1]);
      continue;
    }
    if (turn < 0) continue;
    const compiled = /^\[completed optimizing (?:0x[0-9a-f]+ )?<JSFunction (.*?) ?\(sfi = 0x[0-9a-f]*?([0-9a-f]{1,6})\)>/.exec(line);
    if (compiled !== null) {
      compiles[turn]!++;
      const name = `${compiled[1] || '(anonymous)'}@${compiled[2]}`;
      if (turn > coldTurns) late.set(name, (late.get(name) ?? 0) + 1);
    } else if (line.startsWith('[bailout (kind: ')) deopts[turn]!++;
  }
  return { compiles, deopts, recompiled: [...late].filter(([, n]) => n > 1).sort((a, b) => b[1] - a[1]) };
}

function describe(turn: Turn): string {
  const sorted = [...turn.latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
  const per = (ms: number) => (ms / turn.puts).toFixed(3);
  const cpu = turn.leaderMain + turn.leaderOther + turn.followersMain + turn.followersOther;
  return (
    `${((turn.puts * 1000) / turn.ms).toFixed(0)}/s (starved ${turn.starved}, errors ${turn.errors}); ms p50 ${at(50).toFixed(2)} p99 ${at(99).toFixed(2)} max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)}; ` +
    `CPU per put ${per(cpu)} (leader ${per(turn.leaderMain)} + ${per(turn.leaderOther)}, followers ${per(turn.followersMain)} + ${per(turn.followersOther)}; system ${per(turn.systemMs)}), waiting for a CPU ${per(turn.waitMs)}, the clients ${per(turn.clientMs)}; ` +
    `${(turn.puts / turn.rounds).toFixed(2)} puts per round, CPU per round ${(cpu / turn.rounds).toFixed(3)} ms, write calls per round ${(turn.writeCalls / turn.rounds).toFixed(1)}; ` +
    `context switches per put ${per(turn.voluntary)} voluntary + ${per(turn.involuntary)} involuntary, peer bytes per round ${(turn.peerBytes / turn.rounds).toFixed(0)}`
  );
}

/** System calls per Raft round on the leader and on one follower, the most frequent first. */
function describeSyscalls(turn: Turn): string {
  const parts: string[] = [];
  for (const role of ['leader', 'follower']) {
    const calls = [...turn.syscalls].filter(([key, count]) => key.startsWith(`${role} `) && count > 0).map(([key, count]) => [key.slice(role.length + 1), count / turn.rounds] as const);
    const all = calls.find(([call]) => call === 'all')?.[1] ?? Number.NaN;
    const switches = calls.find(([call]) => call === 'context-switches')?.[1] ?? Number.NaN;
    const named = calls.filter(([call]) => call !== 'all' && call !== 'context-switches' && call !== undefined).sort((a, b) => b[1] - a[1]).filter(([, n]) => n >= 0.05);
    parts.push(`${role} ${all.toFixed(1)} (${named.map(([call, n]) => `${call} ${n.toFixed(2)}`).join(', ')}; context switches ${switches.toFixed(1)})`);
  }
  return `system calls per round: ${parts.join('; ')}`;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const rate = setting('DETCD_BENCH_PACED_RATE', 900);
  const clientCount = setting('DETCD_BENCH_PACED_CLIENTS', 60);
  const turns = setting('DETCD_BENCH_PACED_TURNS', 6);
  const turnMs = setting('DETCD_BENCH_PACED_TURN_MS', 4_000);
  const idleMs = setting('DETCD_BENCH_PACED_IDLE_MS', 3_000);
  const baseline = process.env.DETCD_BENCH_BASELINE;
  const variants = parseVariants(process.env.DETCD_BENCH_PACED_VARIANTS ?? `here=${baseline ? `;base=@${baseline}` : ''}`, []);
  const root = scratchFolder('detcd-paced-');
  const clusters: Cluster[] = [];
  const pools: EtcdClient[][] = [];
  try {
    for (const [index, variant] of variants.entries()) clusters.push(await startCluster(variant, root, index));
    const leaderOnly = process.env.DETCD_BENCH_PACED_LEADER === '1';
    for (const cluster of clusters) {
      const leader = await leaderIndex(cluster);
      pools.push(Array.from({ length: clientCount }, (_, i) => new EtcdClient(endpoint(cluster.specs[leaderOnly ? leader : i % cluster.specs.length]!), 10_000)));
    }
    // Every client's connection made before the clock starts (check perf's connect storm is checkPerfGc's).
    for (const pool of pools) await Promise.all(pool.map((client) => client.range({ key: Buffer.from('paced') })));
    // Warmed (DETCD_BENCH_PACED_WARM_MS): at least 16 puts in flight over the clients, each cluster in turn, unmeasured.
    const warmMs = setting('DETCD_BENCH_PACED_WARM_MS', 1) - 1;
    for (let round = 0; warmMs > 0 && round < 4; round++) {
      for (const pool of pools) await throughput(Math.max(16, pool.length), warmMs / 4, (worker) => pool[worker % pool.length]!.put({ key: nextKey(), value }));
    }
    out(`${rate} puts/s scheduled, ${clientCount} clients ${leaderOnly ? 'to the leader' : 'over the three members'}, ${turns} turns of ${turnMs} ms per variant, alternated${warmMs > 0 ? `, after ${warmMs} ms of unpaced puts each` : ''}; load ${loadavg()[0]!.toFixed(1)}`);
    const results = clusters.map(() => [] as Turn[]);
    for (let t = 0; t < turns; t++) {
      // Each turn starts with the next variant: the one measured first in a round paid for its position before (serverbundle).
      for (let k = 0; k < clusters.length; k++) {
        const i = (t + k) % clusters.length;
        const cluster = clusters[i]!;
        const turn = await pacedTurn(cluster, pools[i]!, rate, turnMs, t + 1);
        results[i]!.push(turn);
        out(`${cluster.variant.name.padEnd(8)} turn ${t + 1}: ${describe(turn)}`);
        if (turn.syscalls.size > 0) out(`${cluster.variant.name.padEnd(8)}   ${describeSyscalls(turn)}`);
      }
    }
    // What the members use with no puts (ticks, heartbeats, timers), per second: part of every turn's CPU.
    const idle: number[] = [];
    for (const cluster of clusters) {
      await sleep(500);
      const before = membersCpuMs(cluster.members);
      await sleep(idleMs);
      idle.push(((membersCpuMs(cluster.members) - before) * 1000) / idleMs);
    }
    out(`idle, members' CPU per second: ${clusters.map((cluster, i) => `${cluster.variant.name} ${idle[i]!.toFixed(0)} ms`).join(', ')}`);
    out(`load ${loadavg()[0]!.toFixed(1)}; all turns, then turns ${coldTurns + 1}-${turns}:`);
    for (const [i, cluster] of clusters.entries()) out(`${cluster.variant.name.padEnd(8)} all turns: ${describe(merge(results[i]!))}`);
    for (const [i, cluster] of clusters.entries()) {
      if (turns <= coldTurns) continue;
      const late = merge(results[i]!.slice(coldTurns));
      out(`${cluster.variant.name.padEnd(8)} ${describe(late)}`);
      const busy = late.leaderMain + late.leaderOther + late.followersMain + late.followersOther - (idle[i]! * late.ms) / 1000;
      out(`${cluster.variant.name.padEnd(8)}   less the idle CPU: ${(busy / late.puts).toFixed(3)} ms per put, ${(busy / late.rounds).toFixed(3)} ms per round`);
      if (late.syscalls.size > 0) out(`${cluster.variant.name.padEnd(8)}   ${describeSyscalls(late)}`);
    }
    for (const cluster of clusters) {
      for (const member of cluster.members) {
        member.output.push('\n=== end\n');
        const text = member.output.join('');
        if (!text.includes('[completed optimizing')) continue;
        const { compiles, deopts, recompiled } = tierUps(text, turns);
        const most = recompiled.slice(0, 8).map(([name, n]) => `${name} ×${n}`).join(', ');
        out(`${member.spec.name.padEnd(8)} TurboFan compiles before / per turn ${compiles[0]} / ${compiles.slice(1).join(' ')}; deopts ${deopts[0]} / ${deopts.slice(1).join(' ')}; compiled twice or more from turn ${coldTurns + 1} on: ${recompiled.length}${most === '' ? '' : ` (${most})`}`);
      }
    }
  } finally {
    for (const pool of pools) for (const client of pool) client.close();
    await Promise.all(clusters.map(stopGracefully));
    rmSync(root, { recursive: true, force: true });
    const keep = process.env.DETCD_BENCH_PACED_OUTPUT;
    if (keep !== undefined && keep !== '') {
      mkdirSync(keep, { recursive: true });
      for (const cluster of clusters) for (const member of cluster.members) writeFileSync(join(keep, `${member.spec.name}.log`), member.output.join(''));
    }
  }
}
