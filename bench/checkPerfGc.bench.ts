/**
 * `npm run bench checkPerfGc`: what the members' garbage collector does under
 * `etcdctl check perf --load=m` (issue 10's latency tail), for one or more sets of member V8
 * flags (or checkouts) measured in the same run, taking turns.
 *
 * Each variant is a three-member detcd cluster whose members run with `--trace-gc-nvp`; the
 * variants take turns at check perf (DETCD_BENCH_CHECK_PERF runs each, default 3), so the keyspace
 * grows alike (check perf deletes its keys after a run without compacting: the store keeps every
 * revision, as etcd's does). Per run and variant it prints etcdctl's verdict, the members' CPU per
 * put (from /proc, load-independent within a run's noise), and the GC pauses the members logged
 * during the run: count, total, longest and the number over 50 / 100 ms, for full
 * (mark-compact) and young (scavenge) collections, plus the largest heap seen after a full GC.
 *
 * DETCD_BENCH_GC_VARIANTS: variants separated by `;`, each `name=words`, the words separated by
 * spaces: node options, `NAME=value` environment variables for the members, and `@<dir>` for
 * another checkout's bin/detcd (e.g. `main=@../main;here=;stgc=--single-threaded-gc`), or `etcd` alone for real etcd
 * (`here=;etcd=etcd`). Default: `here=` (this checkout, the flags bin/detcd sets).
 * DETCD_BENCH_GC_LOG=<dir> keeps each variant's raw member output there (`<name>.log`, a `### <member>` line before each member's part of a run).
 * A variant whose members run with DETCD_LOOP_STALL_WATCH_MS=5 logs their event-loop stalls over 100 ms; the bench counts them per run and prints the longest, each with what its member said filled it.
 * Members are stopped with SIGTERM (SIGKILL after 30 s), so a variant's `--cpu-prof --cpu-prof-dir=<dir>` writes their profiles.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { checkPerfOutput, checkPerfVerdict, membersCpuMs, stopCluster } from './runtime.bench.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Variant {
  readonly name: string;
  readonly program: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface Cluster {
  readonly variant: Variant;
  readonly specs: readonly MemberSpec[];
  readonly members: readonly Member[];
  readonly clients: readonly EtcdClient[];
}

/** GC pauses parsed from `--trace-gc-nvp` lines. */
export interface PauseFigures {
  count: number;
  totalMs: number;
  maxMs: number;
  over50: number;
  over100: number;
}

export interface GcFigures {
  full: PauseFigures;
  young: PauseFigures;
  /** What the scavenges copied (survivors kept in the young generation plus those promoted), MB: the work behind their pauses, whatever the load. */
  youngCopiedMb: number;
  /** The largest heap (MB) left after a full collection. */
  heapAfterFullMb: number;
  /** The longest full collection's top-level phases (ms), largest first. */
  longestFullPhases: string;
}

function emptyPauses(): PauseFigures {
  return { count: 0, totalMs: 0, maxMs: 0, over50: 0, over100: 0 };
}

/**
 * Each process's main isolate (`[pid:isolate]` on every line): the one that logged most. A
 * member's other isolates (a worker's) pause only their own thread.
 */
function mainIsolates(text: string): Set<string> {
  const lines = new Map<string, number>();
  for (const match of text.matchAll(/^\[([0-9]+):(0x[0-9a-f]+)\]/gm)) lines.set(`${match[1]}:${match[2]}`, (lines.get(`${match[1]}:${match[2]}`) ?? 0) + 1);
  const best = new Map<string, [string, number]>();
  for (const [isolate, count] of lines) {
    const pid = isolate.split(':')[0]!;
    if ((best.get(pid)?.[1] ?? -1) < count) best.set(pid, [isolate, count]);
  }
  return new Set([...best.values()].map(([isolate]) => isolate));
}

/**
 * Sums the pauses in `--trace-gc-nvp` output: `gc=mc` (`ms` in older V8s) is a full mark-compact (its `pause=` is the
 * atomic pause on the main thread), `gc=s` a scavenge, `gc=mmc` a minor mark-compact.
 */
export function gcFigures(text: string): GcFigures {
  const figures: GcFigures = { full: emptyPauses(), young: emptyPauses(), youngCopiedMb: 0, heapAfterFullMb: 0, longestFullPhases: '' };
  const main = mainIsolates(text);
  for (const line of text.split('\n')) {
    if (!main.has(/^\[([0-9]+:0x[0-9a-f]+)\]/.exec(line)?.[1] ?? '')) continue;
    const kind = / gc=(\w+) /.exec(line)?.[1];
    const pause = Number(/^\s*pause=([0-9.]+)/.exec(line)?.[1] ?? /\bpause=([0-9.]+)/.exec(line)?.[1]);
    if (kind === undefined || !Number.isFinite(pause)) continue;
    const full = kind === 'mc' || kind === 'ms';
    const into = full ? figures.full : figures.young;
    into.count++;
    into.totalMs += pause;
    if (full && pause > into.maxMs) figures.longestFullPhases = topPhases(line);
    into.maxMs = Math.max(into.maxMs, pause);
    if (pause > 50) into.over50++;
    if (pause > 100) into.over100++;
    if (!full) figures.youngCopiedMb += (Number(/ promoted=([0-9]+)/.exec(line)?.[1] ?? 0) + Number(/ new_space_survived=([0-9]+)/.exec(line)?.[1] ?? 0)) / 2 ** 20;
    if (full) {
      const after = Number(/total_size_after=([0-9]+)/.exec(line)?.[1] ?? 0);
      figures.heapAfterFullMb = Math.max(figures.heapAfterFullMb, after / 2 ** 20);
    }
  }
  return figures;
}

/** The atomic pause's phases on the main thread (mark, evacuate, clear, …), largest first, with their largest parts. */
const pausePhases = ['mark', 'evacuate', 'clear', 'sweep', 'finish', 'prologue', 'epilogue'];

function topPhases(line: string): string {
  const phases = [...line.matchAll(/ ([a-z_.]+)=([0-9.]+)/g)]
    .filter((match) => pausePhases.includes(match[1]!.split('.')[0]!) && match[1]!.split('.').length <= 2)
    .map((match) => [match[1]!, Number(match[2])] as const)
    .filter(([, ms]) => ms >= 1)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  return phases.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(', ');
}

/**
 * Variants as DETCD_BENCH_GC_VARIANTS writes them; every member runs with `nodeFlags` first (here
 * `--trace-gc-nvp`). A variant whose only word is `etcd` is real etcd (Debian's `/usr/bin/etcd`,
 * given the same flags), with nothing of node's: its members print no GC or TurboFan lines.
 */
export function parseVariants(spec: string, nodeFlags: readonly string[] = ['--trace-gc-nvp']): Variant[] {
  return spec.split(';').filter((part) => part.trim() !== '').map((part) => {
    const name = part.split('=', 1)[0]!.trim();
    const words = part.slice(part.indexOf('=') + 1).trim().split(/\s+/).filter((word) => word !== '');
    if (words.length === 1 && words[0] === 'etcd') return { name, program: ['etcd'], env: {} };
    const env = Object.fromEntries(words.filter((word) => /^[A-Z][A-Z0-9_]*=/.test(word)).map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]));
    const flags = words.filter((word) => !/^[A-Z][A-Z0-9_]*=/.test(word) && !word.startsWith('@'));
    const checkout = words.find((word) => word.startsWith('@'))?.slice(1) ?? here;
    return { name, program: [process.execPath, ...nodeFlags, ...flags, join(checkout, 'bin', 'detcd')], env };
  });
}

/** A three-member cluster of `variant`'s program, serving once this resolves. */
export async function startCluster(variant: Variant, root: string, index: number): Promise<Cluster> {
  const ports = await freePorts(6);
  const specs: MemberSpec[] = [1, 2, 3].map((n, i) => ({ name: `${variant.name}${n}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, `v${index}-${n}`) }));
  const members = specs.map((spec) => startMember(spec, initialCluster(specs), ['--snapshot-count', '10000'], variant.program, variant.env));
  const clients = specs.map((spec) => new EtcdClient(endpoint(spec), 10_000));
  const cluster = { variant, specs, members, clients };
  try {
    await until(async () => (await Promise.all(clients.map((client) => client.range({ key: Buffer.from('warm') }).then(() => true, () => false)))).every(Boolean), `${variant.name} to serve`, 60_000);
  } catch (error) {
    stopCluster(cluster);
    const said = members.map((member) => `${member.spec.name}: ${member.output.join('').split('\n').filter((line) => !line.includes(' gc=')).slice(-5).join(' / ')}`);
    throw new Error(`${(error as Error).message}\n${said.join('\n')}`);
  }
  return cluster;
}

/** A member's event-loop stall as its stall watch logged it (DETCD_LOOP_STALL_WATCH_MS): how long, when, and what filled it. */
export interface Stall {
  readonly member: string;
  readonly ms: number;
  readonly line: string;
}

/**
 * What the stalls' time was, summed (only stalls logged with the main thread's times: this
 * checkout's stall watch): on a CPU, waiting for one (runnable: the machine's doing), neither (off
 * the CPU: a GC pause waiting for its helper threads, a page fault, a blocking call), and the GC
 * pauses and pumps inside them.
 */
export function stallTimes(all: readonly Stall[]): string {
  let timed = 0;
  const sums = { gapMs: 0, runMs: 0, waitMs: 0, gcMs: 0, pumpMs: 0 };
  for (const stall of all) {
    const threads = /main thread on a CPU ([0-9]+) ms, waiting for one ([0-9]+) ms/.exec(stall.line);
    if (threads === null) continue;
    timed++;
    sums.gapMs += stall.ms;
    sums.runMs += Number(threads[1]);
    sums.waitMs += Number(threads[2]);
    sums.gcMs += Number(/: GC ([0-9]+) ms/.exec(stall.line)?.[1] ?? 0);
    sums.pumpMs += Number(/pumps ([0-9]+) ms/.exec(stall.line)?.[1] ?? 0) + Number(/sync completions' turns ([0-9]+) ms/.exec(stall.line)?.[1] ?? 0);
  }
  if (timed === 0) return '';
  const share = (ms: number) => `${Math.round(ms)} ms (${Math.round((100 * ms) / sums.gapMs)} %)`;
  return `${timed} stalls, ${Math.round(sums.gapMs)} ms: main thread on a CPU ${share(sums.runMs)}, waiting for one ${share(sums.waitMs)}, off it ${share(Math.max(0, sums.gapMs - sums.runMs - sums.waitMs))}; inside them GC ${share(sums.gcMs)}, pumps ${share(sums.pumpMs)}`;
}

/** The stalls logged in `text` (one member's output), longest first. */
export function stalls(member: string, text: string): Stall[] {
  const found: Stall[] = [];
  for (const match of text.matchAll(/event loop stalled ([0-9]+) ms \(from [0-9T:-]+(\.[0-9]+)?Z?[^\n]*/g)) found.push({ member, ms: Number(match[1]), line: match[0] });
  return found.sort((a, b) => b.ms - a.ms);
}

/** Time a process's threads spent on a CPU and runnable waiting for one (ms), summed over its threads now alive (Linux's schedstat); zeros where there is none. */
export interface ThreadTimes {
  runMs: number;
  waitMs: number;
}

export function threadTimes(pid: number): ThreadTimes {
  const times = { runMs: 0, waitMs: 0 };
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return times; // gone, or not Linux
  }
  for (const task of tasks) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ');
      times.runMs += Number(run) / 1e6;
      times.waitMs += Number(wait) / 1e6;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return times;
}

function sumTimes(all: readonly ThreadTimes[]): ThreadTimes {
  return all.reduce((sum, times) => ({ runMs: sum.runMs + times.runMs, waitMs: sum.waitMs + times.waitMs }), { runMs: 0, waitMs: 0 });
}

/** How often etcdctl's threads are read while it runs (its last reading stands for its end). */
const clientSampleMs = 500;

/** One check perf run: verdict, members' CPU per put, the GC lines the members printed meanwhile, their loop stalls, and the scheduler's figures for members and etcdctl. */
export async function checkPerfRun(cluster: Cluster): Promise<{ verdict: string; startedAt: string; cpuPerPutMs: number; gc: GcFigures; stalls: Stall[]; members: ThreadTimes; client: ThreadTimes }> {
  const startedAt = new Date().toISOString();
  const marks = cluster.members.map((member) => member.output.length);
  const cpuBefore = membersCpuMs(cluster.members);
  const schedBefore = sumTimes(cluster.members.map((member) => threadTimes(member.process.pid!)));
  let client: ThreadTimes = { runMs: 0, waitMs: 0 };
  let sampler: NodeJS.Timeout | undefined;
  const output = await checkPerfOutput(cluster.specs, (pid) => {
    sampler = setInterval(() => {
      // The process's end is not seen: the last reading that grew stands for it.
      const now = threadTimes(pid);
      if (now.runMs > client.runMs) client = now;
    }, clientSampleMs);
  });
  clearInterval(sampler);
  const cpu = membersCpuMs(cluster.members) - cpuBefore;
  const schedAfter = sumTimes(cluster.members.map((member) => threadTimes(member.process.pid!)));
  const members = { runMs: schedAfter.runMs - schedBefore.runMs, waitMs: schedAfter.waitMs - schedBefore.waitMs };
  // check perf --load=m: 1,000 puts/s for 60 s (fewer when it falls behind; the CPU is per attempted put).
  const outputs = cluster.members.map((member, i) => member.output.slice(marks[i]).join(''));
  const log = outputs.map((text, i) => `### ${cluster.members[i]!.spec.name}\n${text}`).join('\n');
  const gc = gcFigures(log);
  const found = outputs.flatMap((text, i) => stalls(cluster.members[i]!.spec.name, text)).sort((a, b) => b.ms - a.ms);
  if (process.env.DETCD_BENCH_GC_LOG) {
    mkdirSync(process.env.DETCD_BENCH_GC_LOG, { recursive: true });
    appendFileSync(join(process.env.DETCD_BENCH_GC_LOG, `${cluster.variant.name}.log`), log);
  }
  return { verdict: checkPerfVerdict(output), startedAt, cpuPerPutMs: cpu / 60_000, gc, stalls: found, members, client };
}

/**
 * Waits (up to `settleMsMax`) until no cluster's members use more than `idleCpuMs` of CPU in a
 * second. etcdctl returns once the leader answered its cleanup DeleteRange; the followers apply it
 * after (0.4-0.7 s of loop each at 55k keys, under load), and so did the next variant's run start
 * with them: stalls of 0.6-1.2 s in its first second that were the other cluster's.
 */
export async function settle(clusters: readonly Cluster[]): Promise<void> {
  const startedMs = performance.now();
  while (performance.now() - startedMs < settleMsMax) {
    const before = clusters.map((cluster) => membersCpuMs(cluster.members));
    await sleep(1_000);
    if (clusters.every((cluster, i) => !(membersCpuMs(cluster.members) - before[i]! > idleCpuMs))) return;
  }
}

/** A cluster's members at rest (heartbeats, ticks, the stall watch) use less CPU than this a second. */
const idleCpuMs = 150;
const settleMsMax = 15_000;

/** The longest stalls printed per run and variant (all are in DETCD_BENCH_GC_LOG's files). */
const stallsShown = 6;

function describe(p: PauseFigures): string {
  return `${p.count} pauses, total ${p.totalMs.toFixed(0)} ms, max ${p.maxMs.toFixed(1)} ms, >50 ms ${p.over50}, >100 ms ${p.over100}`;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const variants = parseVariants(process.env.DETCD_BENCH_GC_VARIANTS ?? 'here=');
  const runs = Number(process.env.DETCD_BENCH_CHECK_PERF ?? 3);
  const root = scratchFolder('detcd-gc-');
  const clusters: Cluster[] = [];
  try {
    for (const [index, variant] of variants.entries()) clusters.push(await startCluster(variant, root, index));
    for (let run = 1; run <= runs; run++) {
      for (const cluster of clusters) {
        await settle(clusters);
        const result = await checkPerfRun(cluster);
        out(`${cluster.variant.name.padEnd(8)} run ${run}: ${result.verdict}`);
        out(`${cluster.variant.name.padEnd(8)}   etcdctl started at ${result.startedAt}`);
        out(`${cluster.variant.name.padEnd(8)}   members' CPU ${result.cpuPerPutMs.toFixed(3)} ms per put; heap after full GC up to ${result.gc.heapAfterFullMb.toFixed(0)} MB`);
        out(`${cluster.variant.name.padEnd(8)}   threads per put (ms): members on a CPU ${(result.members.runMs / 60_000).toFixed(3)}, waiting for one ${(result.members.waitMs / 60_000).toFixed(3)}; etcdctl on a CPU ${(result.client.runMs / 60_000).toFixed(3)}, waiting ${(result.client.waitMs / 60_000).toFixed(3)}`);
        out(`${cluster.variant.name.padEnd(8)}   full GC:  ${describe(result.gc.full)}`);
        out(`${cluster.variant.name.padEnd(8)}   young GC: ${describe(result.gc.young)}; copied ${result.gc.youngCopiedMb.toFixed(0)} MB`);
        if (result.gc.longestFullPhases !== '') out(`${cluster.variant.name.padEnd(8)}   longest full GC's phases (ms): ${result.gc.longestFullPhases}`);
        if (result.stalls.length > 0) {
          out(`${cluster.variant.name.padEnd(8)}   loop stalls over 100 ms: ${result.stalls.length}, ${result.stalls.filter((stall) => stall.ms > 200).length} over 200 ms; the longest:`);
          const times = stallTimes(result.stalls);
          if (times !== '') out(`${cluster.variant.name.padEnd(8)}   their time: ${times}`);
          for (const stall of result.stalls.slice(0, stallsShown)) out(`${cluster.variant.name.padEnd(8)}     ${stall.member}: ${stall.line}`);
        }
      }
    }
  } finally {
    await Promise.all(clusters.map(stopGracefully));
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * SIGTERM first, so members that run with `--cpu-prof` (a variant's node options) exit normally
 * and write their profiles; SIGKILL for any still running after 30 s.
 */
export async function stopGracefully(cluster: Cluster): Promise<void> {
  for (const client of cluster.clients) client.close();
  for (const member of cluster.members) member.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 30_000)));
  await Promise.race([Promise.all(cluster.members.map((member) => member.exited)), late]);
  clearTimeout(timer);
  stopCluster(cluster);
}
