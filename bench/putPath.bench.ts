/**
 * `npm run bench putPath`: where one put's time goes on a three-member detcd cluster, end to end,
 * for the median put and for the slowest ones. The members run with DETCD_LATENCY_TRACE
 * (runtime/latencyTrace.ts: gRPC, pumps, Readies, WAL writes and syncs, peer sends and arrivals,
 * ticks, and each GC pause); the bench makes sequential puts to the leader, stops the members
 * gracefully (which writes their traces) and lines the traces up: each put is the window between
 * the leader's `grpc.headers Put` and `grpc.sendStatus Put`, and every mark of every member inside
 * it is a step of that put.
 *
 * It prints, per step, the median time since the leader took the call and the median gap to the
 * step before it (the `n`th mark of one label in a window is its own step, `pump#2`), the median
 * put mark by mark, and then **the tail**: each put cut into the segments of its critical path —
 *
 *   client→L      the client's call until the leader's gRPC headers (the client process, the socket)
 *   grpc.in       headers → the request submitted to the node
 *   to.write      submitted → the leader's Ready handed to the store (the loop's turn, the pump)
 *   commit        → the entry durable on a quorum: the later of the leader's own WAL write + sync
 *                 (`L disk`) and the fastest follower's ack (`F path`: the leader's MsgApp send,
 *                 the follower's `peer.data`, its WAL sync, its ack read by the leader)
 *   apply         → the reply to the gRPC handler (the commit's Ready, apply)
 *   grpc.out      → the leader's gRPC status (HTTP/2 DATA, then trailers)
 *   L→client      → the client's promise resolved
 *
 * — with each segment's p50 and p99, and for the slowest 1 % of puts their segments' excess over
 * the segments' medians, what filled them (GC pauses on any member or on the client, ticks,
 * heartbeats, backend writes, long pumps, the longest silence in the merged timeline) and which
 * segment grew most. The slowest put and the p99 put are printed mark by mark.
 *
 * `DETCD_BENCH_PUTPATH_KEEP=<dir>` keeps the members' traces. Members take Node flags (`--cpu-prof`)
 * as a variant's. `DETCD_BENCH_PUTPATH_PUTS` (default 2,000) puts are measured, after 50 warm ones;
 * `DETCD_BENCH_WARM_MS` first runs that long of 16 puts in flight (unmeasured), as `bench runtime`
 * does. `DETCD_BENCH_BASELINE=<dir>` adds a cluster of another checkout's `bin/detcd` (traced the
 * same way), `DETCD_BENCH_PUTPATH_VARIANTS` more (checkPerfGc's `parseVariants` form: `name=<node
 * flags> <ENV=value> @<checkout>;…`), and real etcd 3.4 (Debian's `etcd-server`) is a cluster too
 * when installed (client times only): the clusters take turns of 100 puts, so one machine load
 * treats them alike.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { EtcdClient, type Message } from '../runtime/_test/etcdClient.ts';
import { parseVariants } from './checkPerfGc.bench.ts';
import { endpoint, freePorts, initialCluster, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const warmPuts = 50;
const turnPuts = 100;
const inFlight = 16;
const value = Buffer.alloc(256, 'v');

interface Mark {
  readonly us: number;
  readonly label: string;
}

function readTrace(file: string): Mark[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      return { us: Number(line.slice(0, space)), label: line.slice(space + 1) };
    })
    .sort((a, b) => a.us - b.us);
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Of the values that are numbers (a put whose mark was not found has NaN there). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Member ids (hex) in labels become roles: L for the leader, F1 and F2 for the followers. */
function roleLabel(label: string, roles: ReadonlyMap<string, string>): string {
  return label.replace(/\b[0-9a-f]{6,}\b/g, (hex) => roles.get(hex) ?? hex);
}

interface Step {
  readonly name: string;
  readonly offsets: number[];
}

/** The leader's put windows (µs), from the call's headers to its status (else handler to answer). */
function putWindows(leader: readonly Mark[]): [number, number][] {
  const windows: [number, number][] = [];
  let opened: number | null = null;
  const intercepted = leader.some((mark) => mark.label === 'grpc.headers Put');
  const opening = intercepted ? 'grpc.headers Put' : 'grpc.in Put';
  const closing = intercepted ? 'grpc.sendStatus Put' : 'grpc.out Put';
  for (const mark of leader) {
    if (mark.label === opening) opened = mark.us;
    else if (mark.label === closing && opened !== null) {
      windows.push([opened, mark.us]);
      opened = null;
    }
  }
  return windows;
}

/** Steps of every put window, by name, with their offsets (µs) from the window's start. */
function steps(traces: ReadonlyMap<string, Mark[]>, measured: readonly [number, number][]): Step[] {
  const byName = new Map<string, Step>();
  for (const [role, marks] of traces) {
    let cursor = 0;
    for (const [start, end] of measured) {
      while (cursor < marks.length && marks[cursor]!.us < start) cursor++;
      const seen = new Map<string, number>();
      for (let i = cursor; i < marks.length && marks[i]!.us <= end; i++) {
        if (marks[i]!.label.startsWith('gc.')) continue;
        const label = `${role} ${marks[i]!.label}`;
        const n = (seen.get(label) ?? 0) + 1;
        seen.set(label, n);
        const name = n === 1 ? label : `${label}#${n}`;
        let step = byName.get(name);
        if (step === undefined) byName.set(name, (step = { name, offsets: [] }));
        step.offsets.push(marks[i]!.us - start);
      }
    }
  }
  return [...byName.values()];
}

/** Every member's marks (and the client's GC) from `from` to `to` (µs), in time order, as offsets from `from`. */
function timeline(traces: ReadonlyMap<string, Mark[]>, from: number, to: number): Mark[] {
  const marks: Mark[] = [];
  for (const [role, list] of traces) {
    for (let i = firstAtOrAfter(list, from); i < list.length && list[i]!.us <= to; i++) marks.push({ us: list[i]!.us - from, label: `${role} ${list[i]!.label}` });
  }
  return marks.sort((a, b) => a.us - b.us);
}

/** The index of the first of `list` (in time order) at or after `us` (µs). */
export function firstAtOrAfter(list: readonly { readonly us: number }[], us: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.us < us) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first mark of `list` at or after `us` (and not after `until`) whose label passes `test`; its time, or NaN. */
function find(list: readonly Mark[], us: number, until: number, test: (label: string) => boolean): number {
  if (Number.isNaN(us)) return Number.NaN;
  for (let i = firstAtOrAfter(list, us); i < list.length && list[i]!.us <= until; i++) if (test(list[i]!.label)) return list[i]!.us;
  return Number.NaN;
}

const segmentNames = ['client→L', 'grpc.in', 'to.write', 'commit', 'apply', 'grpc.out', 'L→client'] as const;
const followerParts = ['L send→F peer.data', 'F peer.data→recv', 'F recv→synced', 'F synced→L recv ack'] as const;

/** One put cut into its critical path's segments (ms), with the commit's two contenders and the fastest follower's parts. */
interface PutCut {
  readonly index: number;
  readonly clientFrom: number;
  readonly clientTo: number;
  readonly start: number;
  readonly end: number;
  readonly totalMs: number;
  readonly segments: Record<(typeof segmentNames)[number], number>;
  readonly leaderDiskMs: number;
  readonly followerPathMs: number;
  readonly follower: string;
  readonly followerParts: Record<(typeof followerParts)[number], number>;
}

function cutPut(index: number, traces: ReadonlyMap<string, Mark[]>, window: readonly [number, number], client: readonly [number, number]): PutCut | null {
  const [start, end] = window;
  const leader = traces.get('L')!;
  const submit = find(leader, start, end, (label) => label === 'submit');
  const write = find(leader, submit, end, (label) => label.startsWith('store.write'));
  const durable = find(leader, write, end, (label) => label === 'store.synced');
  let best: { role: string; ack: number; parts: Record<(typeof followerParts)[number], number> } | null = null;
  for (const role of ['F1', 'F2']) {
    const follower = traces.get(role);
    if (follower === undefined) continue;
    const sent = find(leader, submit, end, (label) => label === `send MsgApp ${role}`);
    const data = find(follower, sent, end, (label) => label === 'peer.data');
    const received = find(follower, sent, end, (label) => label === 'recv MsgApp L');
    const synced = find(follower, received, end, (label) => label === 'store.synced');
    const ack = find(leader, synced, end, (label) => label === `recv MsgAppResp ${role}`);
    if (Number.isNaN(ack)) continue;
    if (best === null || ack < best.ack) best = { role, ack, parts: { 'L send→F peer.data': (data - write) / 1000, 'F peer.data→recv': (received - data) / 1000, 'F recv→synced': (synced - received) / 1000, 'F synced→L recv ack': (ack - synced) / 1000 } };
  }
  if (Number.isNaN(submit) || Number.isNaN(write) || Number.isNaN(durable) || best === null) return null;
  const committed = Math.max(durable, best.ack);
  const reply = find(leader, committed, end, (label) => label === 'reply');
  if (Number.isNaN(reply)) return null;
  const ms = (us: number) => us / 1000;
  return {
    index,
    clientFrom: client[0],
    clientTo: client[1],
    start,
    end,
    totalMs: ms(client[1] - client[0]),
    segments: { 'client→L': ms(start - client[0]), 'grpc.in': ms(submit - start), 'to.write': ms(write - submit), commit: ms(committed - write), apply: ms(reply - committed), 'grpc.out': ms(end - reply), 'L→client': ms(client[1] - end) },
    leaderDiskMs: ms(durable - write),
    followerPathMs: ms(best.ack - write),
    follower: best.role,
    followerParts: best.parts,
  };
}

/** How long (ms) GC pauses in `list` overlapped `from`–`to` (µs), and how many did. */
function gcOverlap(list: readonly Mark[], from: number, to: number): { ms: number; pauses: number } {
  let ms = 0;
  let pauses = 0;
  for (let i = firstAtOrAfter(list, from - 500_000); i < list.length && list[i]!.us <= to; i++) {
    const { us, label } = list[i]!;
    if (!label.startsWith('gc.') || label === 'gc.end') continue;
    const overlap = Math.min(to, us + Number(label.slice(label.indexOf(' ') + 1)) * 1000) - Math.max(from, us);
    if (overlap > 0) {
      ms += overlap / 1000;
      pauses++;
    }
  }
  return { ms, pauses };
}

/** What else happened in a put's client window: GC pauses (by process), ticks, heartbeats, backend writes, long pumps, the longest silence. */
function eventsIn(traces: ReadonlyMap<string, Mark[]>, from: number, to: number): string {
  const parts: string[] = [];
  for (const [role, list] of traces) {
    let gcMs = 0;
    const kinds = new Set<string>();
    let ticks = 0;
    let heartbeats = 0;
    let dbWrites = 0;
    let syncs = 0;
    let longestPump = 0;
    let pumpAt = Number.NaN;
    // A GC that began before the window and ran into it counts too.
    for (let i = firstAtOrAfter(list, from - 200_000); i < list.length && list[i]!.us <= to; i++) {
      const { us, label } = list[i]!;
      if (label.startsWith('gc.') && label !== 'gc.end') {
        const pauseMs = Number(label.slice(label.indexOf(' ') + 1));
        const overlap = Math.min(to, us + pauseMs * 1000) - Math.max(from, us);
        if (overlap > 0) {
          gcMs += overlap / 1000;
          kinds.add(label.slice(3, label.indexOf(' ')));
        }
        continue;
      }
      if (us < from) continue;
      if (label === 'tick') ticks++;
      else if (label.startsWith('send MsgHeartbeat ')) heartbeats++;
      else if (label.startsWith('store.write') && label.includes('db')) dbWrites++;
      else if (label.startsWith('fsync.start')) syncs++;
      else if (label === 'pump') pumpAt = us;
      else if (label === 'pump.end' && !Number.isNaN(pumpAt)) longestPump = Math.max(longestPump, us - pumpAt);
    }
    const said: string[] = [];
    if (gcMs > 0) said.push(`GC ${gcMs.toFixed(2)} ms (${[...kinds].join('+')})`);
    if (ticks > 0) said.push(`${ticks} tick`);
    if (heartbeats > 0) said.push(`${heartbeats} heartbeat`);
    if (dbWrites > 0) said.push(`${dbWrites} db write`);
    if (syncs > 0) said.push(`${syncs} fsync`);
    if (longestPump > 1000) said.push(`pump ${(longestPump / 1000).toFixed(2)} ms`);
    if (said.length > 0) parts.push(`${role}: ${said.join(', ')}`);
  }
  const merged = timeline(traces, from, to).filter((mark) => !mark.label.includes(' gc.'));
  let silence = 0;
  let silenceAfter = '';
  let previous: Mark = { us: 0, label: 'client start' };
  for (const mark of merged) {
    if (mark.us - previous.us > silence) {
      silence = mark.us - previous.us;
      silenceAfter = `${previous.label} → ${mark.label}`;
    }
    previous = mark;
  }
  if (to - from - previous.us > silence) {
    silence = to - from - previous.us;
    silenceAfter = `${previous.label} → client end`;
  }
  parts.push(`longest silence ${(silence / 1000).toFixed(2)} ms (${silenceAfter})`);
  return parts.join('; ');
}

/** Of `keys`, the one whose value grew most over its median, and by how much. */
function largestExcess(keys: readonly string[], values: Readonly<Record<string, number>>, medians: Readonly<Record<string, number>>): { key: string; excessMs: number } {
  let key = '';
  let excessMs = Number.NEGATIVE_INFINITY;
  for (const candidate of keys) {
    const excess = values[candidate]! - medians[candidate]!;
    if (excess > excessMs) {
      excessMs = excess;
      key = candidate;
    }
  }
  return { key, excessMs };
}

/** The segment (or the commit's contender and part) that grew most over its median in `put`. */
function grewMost(put: PutCut, medians: { segments: Record<string, number>; leaderDiskMs: number; followerPathMs: number; followerParts: Record<string, number> }): { name: string; excessMs: number } {
  const { key: name, excessMs } = largestExcess(segmentNames, put.segments, medians.segments);
  if (name !== 'commit') return { name, excessMs };
  if (put.leaderDiskMs >= put.followerPathMs) return { name: 'commit: L disk', excessMs };
  return { name: `commit: F path (${largestExcess(followerParts, put.followerParts, medians.followerParts).key})`, excessMs };
}

async function fsyncP50(dir: string): Promise<number> {
  const handle = await open(join(dir, 'fsync-probe'), 'a');
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    await handle.write(Buffer.alloc(100));
    const started = performance.now();
    await handle.datasync();
    times.push(performance.now() - started);
  }
  await handle.close();
  return median(times);
}

interface Cluster {
  readonly name: string;
  readonly traced: boolean;
  readonly specs: MemberSpec[];
  readonly members: Member[];
  readonly clients: EtcdClient[];
  leaderIndex: number;
  readonly ids: string[];
  /** Each measured put's client window (µs, the members' clock). */
  readonly calls: [number, number][];
  /** Per measured put, the time (ms) each process's threads waited for a CPU meanwhile, by member index (the client last): main thread, other threads. */
  readonly waits: { main: number; other: number }[][];
}

/**
 * Where a process's threads' run-queue waits are read (Linux's schedstat: time on a CPU, time
 * waiting for one, in ns): the main thread (the event loop) apart from the rest (V8's helpers,
 * libuv's pool). Listed once, after the warm-up, when the pool's threads exist.
 */
interface WaitProbe {
  readonly main: string;
  readonly others: readonly string[];
}

function waitProbe(pid: number | undefined): WaitProbe | null {
  if (pid === undefined) return null;
  try {
    const tids = readdirSync(`/proc/${pid}/task`);
    return { main: `/proc/${pid}/task/${pid}/schedstat`, others: tids.filter((tid) => Number(tid) !== pid).map((tid) => `/proc/${pid}/task/${tid}/schedstat`) };
  } catch {
    return null;
  }
}

function waitedNs(path: string): number {
  try {
    const text = readFileSync(path, 'utf8');
    const first = text.indexOf(' ');
    return Number(text.slice(first + 1, text.indexOf(' ', first + 1)));
  } catch {
    return 0; // the thread ended
  }
}

/** Each probe's main and other threads' waits so far (ns), flat: [main0, other0, main1, other1, …]. */
function readWaits(probes: readonly (WaitProbe | null)[]): number[] {
  const flat: number[] = [];
  for (const probe of probes) {
    if (probe === null) flat.push(Number.NaN, Number.NaN);
    else flat.push(waitedNs(probe.main), probe.others.reduce((sum, path) => sum + waitedNs(path), 0));
  }
  return flat;
}

async function startCluster(name: string, root: string, program: readonly string[] | undefined, traced: boolean, env: NodeJS.ProcessEnv = {}): Promise<Cluster> {
  const ports = await freePorts(6);
  const specs: MemberSpec[] = [1, 2, 3].map((n, i) => ({ name: `${name}${n}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, `${name}${n}`) }));
  const members = specs.map((spec) => startMember(spec, initialCluster(specs), ['--snapshot-count', '10000'], program, traced ? { ...env, DETCD_LATENCY_TRACE: traceFile(root, spec) } : env));
  const clients = specs.map((spec) => new EtcdClient(endpoint(spec), 10_000));
  const cluster: Cluster = { name, traced, specs, members, clients, leaderIndex: -1, ids: [], calls: [], waits: [] };
  await until(async () => {
    for (let i = 0; i < clients.length; i++) {
      const status = await clients[i]!.status().catch(() => null);
      if (status === null) return false;
      cluster.ids[i] = Number((status.header as Message).memberId).toString(16);
      if (status.leader !== 0 && status.leader === (status.header as Message).memberId) cluster.leaderIndex = i;
    }
    return cluster.leaderIndex >= 0;
  }, `a ${name} leader`, 60_000);
  return cluster;
}

function traceFile(root: string, spec: MemberSpec): string {
  return join(root, `${spec.name}.trace`);
}

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

export async function bench(out: (line: string) => void): Promise<void> {
  const root = scratchFolder('detcd-putpath-');
  const puts = /^[0-9]+$/.test(process.env.DETCD_BENCH_PUTPATH_PUTS ?? '') ? Number(process.env.DETCD_BENCH_PUTPATH_PUTS) : 2_000;
  const warmMs = /^[0-9]+$/.test(process.env.DETCD_BENCH_WARM_MS ?? '') ? Number(process.env.DETCD_BENCH_WARM_MS) : 0;
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined && !existsSync(join(baseline, 'bin', 'detcd'))) throw new Error(`DETCD_BENCH_BASELINE=${baseline}: no bin/detcd there`);
  const withEtcd = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0;
  // The client's own GC pauses, on the members' clock.
  const clientGc: Mark[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const startUs = (performance.timeOrigin + entry.startTime) * 1000;
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR ? 'major' : 'minor';
      clientGc.push({ us: startUs, label: `gc.${kind} ${entry.duration.toFixed(2)}` }, { us: startUs + entry.duration * 1000, label: 'gc.end' });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const clusters: Cluster[] = [];
  try {
    clusters.push(await startCluster('detcd', root, undefined, true));
    if (baseline !== undefined) clusters.push(await startCluster('base', root, [process.execPath, join(baseline, 'bin', 'detcd')], true));
    for (const variant of parseVariants(process.env.DETCD_BENCH_PUTPATH_VARIANTS ?? '', [])) if (variant.program[0] !== 'etcd') clusters.push(await startCluster(variant.name, root, variant.program, true, variant.env));
    if (withEtcd) clusters.push(await startCluster('etcd', root, ['etcd'], false));
    const leaderOf = (cluster: Cluster) => cluster.clients[cluster.leaderIndex]!;
    for (const cluster of clusters) for (let i = 0; i < warmPuts; i++) await leaderOf(cluster).put({ key: Buffer.from(`path${i % 64}`), value });
    if (warmMs > 0) {
      out(`warming up: ${warmMs} ms of ${inFlight} puts in flight on each cluster, unmeasured`);
      for (const cluster of clusters) {
        const started = performance.now();
        await Promise.all(Array.from({ length: inFlight }, async (_, worker) => {
          for (let i = 0; performance.now() - started < warmMs; i++) await leaderOf(cluster).put({ key: Buffer.from(`w${worker}-${i % 100}`), value });
        }));
      }
    }
    const probes = new Map(clusters.map((cluster) => [cluster, cluster.traced ? [...cluster.members.map((member) => waitProbe(member.process.pid)), waitProbe(process.pid)] : []]));
    for (let done = 0; done < puts; done += turnPuts) {
      for (const cluster of clusters) {
        const leader = leaderOf(cluster);
        const probe = probes.get(cluster)!;
        for (let i = done; i < Math.min(puts, done + turnPuts); i++) {
          const before = readWaits(probe);
          const from = nowUs();
          await leader.put({ key: Buffer.from(`path${i % 64}`), value });
          const to = nowUs();
          const after = readWaits(probe);
          cluster.calls.push([from, to]);
          cluster.waits.push(probe.map((_, p) => ({ main: (after[2 * p]! - before[2 * p]!) / 1e6, other: (after[2 * p + 1]! - before[2 * p + 1]!) / 1e6 })));
        }
      }
    }
    const fsync = await fsyncP50(root);
    out(`baseline: 100-byte append + fdatasync p50 ${fsync.toFixed(2)} ms; ${puts} sequential puts per cluster in turns of ${turnPuts}`);
    for (const cluster of clusters) {
      const times = cluster.calls.map(([from, to]) => (to - from) / 1000);
      out(`${cluster.name.padEnd(5)} client's put: p50 ${percentile(times, 50).toFixed(2)} ms  p90 ${percentile(times, 90).toFixed(2)}  p99 ${percentile(times, 99).toFixed(2)}  p99.9 ${percentile(times, 99.9).toFixed(2)}  max ${percentile(times, 100).toFixed(2)}`);
    }
    const etcd = clusters.find((cluster) => cluster.name === 'etcd');
    if (etcd !== undefined) {
      const p = (cluster: Cluster, q: number) => percentile(cluster.calls.map(([from, to]) => to - from), q);
      for (const cluster of clusters) if (cluster !== etcd) out(`${cluster.name.padEnd(5)} / etcd: p50 ${(p(cluster, 50) / p(etcd, 50)).toFixed(2)}, p99 ${(p(cluster, 99) / p(etcd, 99)).toFixed(2)}`);
    }
    for (const cluster of clusters) for (const client of cluster.clients) client.close();
    for (const cluster of clusters) for (const member of cluster.members) member.process.kill('SIGTERM');
    await Promise.all(clusters.flatMap((cluster) => cluster.members.map((member) => member.exited)));
    observer.disconnect();
    for (const cluster of clusters) if (cluster.traced) analyse(cluster, root, clientGc.sort((a, b) => a.us - b.us), out);
  } finally {
    observer.disconnect();
    for (const cluster of clusters) {
      for (const client of cluster.clients) client.close();
      for (const member of cluster.members) if (member.process.exitCode === null && member.process.signalCode === null) member.process.kill('SIGKILL');
    }
    // DETCD_BENCH_PUTPATH_KEEP=<dir>: the traced members' traces are copied there (<cluster><n>.trace) to read whole.
    const keep = process.env.DETCD_BENCH_PUTPATH_KEEP;
    if (keep !== undefined && keep !== '') {
      mkdirSync(keep, { recursive: true });
      for (const cluster of clusters) for (const spec of cluster.specs) if (cluster.traced && existsSync(traceFile(root, spec))) copyFileSync(traceFile(root, spec), join(keep, `${spec.name}.trace`));
    }
    rmSync(root, { recursive: true, force: true });
  }
}

function analyse(cluster: Cluster, root: string, clientGc: Mark[], out: (line: string) => void): void {
  const roles = new Map<string, string>();
  let follower = 0;
  for (let i = 0; i < cluster.specs.length; i++) roles.set(cluster.ids[i]!, i === cluster.leaderIndex ? 'L' : `F${++follower}`);
  const traces = new Map<string, Mark[]>();
  for (let i = 0; i < cluster.specs.length; i++) traces.set(roles.get(cluster.ids[i]!)!, readTrace(traceFile(root, cluster.specs[i]!)).map((mark) => ({ us: mark.us, label: roleLabel(mark.label, roles) })));
  // Each measured call holds exactly one leader window: warm-up windows fall outside every call.
  const windows = putWindows(traces.get('L')!);
  const measured: [number, number][] = [];
  const calls: [number, number][] = [];
  const waits: Map<string, { main: number; other: number }>[] = [];
  const roleOf = [...cluster.ids.map((id) => roles.get(id)!), 'C'];
  let w = 0;
  cluster.calls.forEach((call, c) => {
    while (w < windows.length && windows[w]![0] < call[0]) w++;
    if (w < windows.length && windows[w]![1] <= call[1]) {
      measured.push(windows[w]!);
      calls.push(call);
      waits.push(new Map(cluster.waits[c]!.map((wait, p) => [roleOf[p]!, wait] as const)));
    }
  });
  const name = cluster.name;
  out(`\n-- ${name}: ${measured.length} of ${cluster.calls.length} puts found in the leader's trace --`);
  if (measured.length === 0) return;
  const durations = measured.map(([start, end]) => end - start);
  out(`${name} leader's gRPC headers → status: p50 ${(median(durations) / 1000).toFixed(2)} ms  p99 ${(percentile(durations, 99) / 1000).toFixed(2)} ms`);
  const medianWindow = durations.indexOf(median(durations));
  out(`the median put (${(durations[medianWindow]! / 1000).toFixed(2)} ms), every member's marks in order:`);
  printTimeline(timeline(traces, measured[medianWindow]![0], measured[medianWindow]![1]), out);
  out('step (member label[#n])                         in % of puts   since grpc.headers p50   gap to previous');
  const common = steps(traces, measured).filter((step) => step.offsets.length >= measured.length / 2).map((step) => ({ name: step.name, share: step.offsets.length / measured.length, at: median(step.offsets) }));
  common.sort((a, b) => a.at - b.at);
  let previous = 0;
  for (const step of common) {
    out(`${step.name.padEnd(48)} ${(step.share * 100).toFixed(0).padStart(5)} %   ${(step.at / 1000).toFixed(3).padStart(9)} ms   ${((step.at - previous) / 1000).toFixed(3).padStart(9)} ms`);
    previous = step.at;
  }

  // The tail: every put cut into its critical path.
  const withClient = new Map(traces);
  withClient.set('C', clientGc);
  const cuts = measured.map((window, i) => cutPut(i, traces, window, calls[i]!)).filter((cut): cut is PutCut => cut !== null);
  const waitOf = (put: PutCut, role: string, thread: 'main' | 'other') => waits[put.index]!.get(role)?.[thread] ?? Number.NaN;
  const waitRoles = ['L', 'F1', 'F2', 'C'];
  out(`\n${name} the tail: ${cuts.length} of ${measured.length} puts cut into their critical path (the rest lacked a mark)`);
  const medians = {
    segments: Object.fromEntries(segmentNames.map((segment) => [segment, median(cuts.map((cut) => cut.segments[segment]))])),
    leaderDiskMs: median(cuts.map((cut) => cut.leaderDiskMs)),
    followerPathMs: median(cuts.map((cut) => cut.followerPathMs)),
    followerParts: Object.fromEntries(followerParts.map((part) => [part, median(cuts.map((cut) => cut.followerParts[part]))])),
  };
  const row = (label: string, values: number[]) => out(`  ${label.padEnd(24)} p50 ${percentile(values, 50).toFixed(2).padStart(6)}  p90 ${percentile(values, 90).toFixed(2).padStart(6)}  p99 ${percentile(values, 99).toFixed(2).padStart(6)}  max ${percentile(values, 100).toFixed(2).padStart(7)} ms`);
  row('whole put (client)', cuts.map((cut) => cut.totalMs));
  for (const segment of segmentNames) row(segment, cuts.map((cut) => cut.segments[segment]));
  row('  commit: L disk', cuts.map((cut) => cut.leaderDiskMs));
  row('  commit: F path', cuts.map((cut) => cut.followerPathMs));
  for (const part of followerParts) row(`    ${part}`, cuts.map((cut) => cut.followerParts[part]));
  for (const role of waitRoles) for (const thread of ['main', 'other'] as const) row(`waited for a CPU: ${role} ${thread}`, cuts.map((cut) => waitOf(cut, role, thread)));
  const p99Ms = percentile(cuts.map((cut) => cut.totalMs), 99);
  for (const role of waitRoles) {
    const gc = cuts.map((cut) => gcOverlap(withClient.get(role) ?? [], cut.clientFrom, cut.clientTo));
    const hit = gc.filter((one) => one.pauses > 0);
    out(`  GC pauses inside a put on ${role.padEnd(2)}: in ${((100 * hit.length) / cuts.length).toFixed(1)} % of puts; those puts' pause time p50 ${percentile(hit.map((one) => one.ms), 50).toFixed(2)} p90 ${percentile(hit.map((one) => one.ms), 90).toFixed(2)} max ${percentile(hit.map((one) => one.ms), 100).toFixed(2)} ms; in the slowest 1 %: ${gc.filter((one, i) => one.pauses > 0 && cuts[i]!.totalMs >= p99Ms).length}`);
  }
  // A sync round of its own (`fsync.start`: written, then fdatasync'd, the WAL with the db when the
  // db was written since the last round) instead of the WAL's one O_DSYNC append.
  for (const role of ['L', 'F1', 'F2']) {
    const list = traces.get(role) ?? [];
    const rounds = cuts.map((cut) => find(list, cut.start, cut.end, (label) => label.startsWith('fsync.start')));
    const withRound = cuts.filter((_, i) => !Number.isNaN(rounds[i]!));
    const without = cuts.filter((_, i) => Number.isNaN(rounds[i]!));
    const dbToo = cuts.filter((cut) => !Number.isNaN(find(list, cut.start, cut.end, (label) => label.startsWith('fsync.start') && label.includes('db')))).length;
    out(`  a sync round (fsync.start) on ${role.padEnd(2)} inside ${((100 * withRound.length) / cuts.length).toFixed(1)} % of puts (the db in it: ${((100 * dbToo) / cuts.length).toFixed(1)} %): those puts p50 ${percentile(withRound.map((cut) => cut.totalMs), 50).toFixed(2)} p99 ${percentile(withRound.map((cut) => cut.totalMs), 99).toFixed(2)} ms, the others p50 ${percentile(without.map((cut) => cut.totalMs), 50).toFixed(2)} p99 ${percentile(without.map((cut) => cut.totalMs), 99).toFixed(2)} ms; in the slowest 1 %: ${withRound.filter((cut) => cut.totalMs >= p99Ms).length}`);
  }
  out(`  the leader's disk was the later of the two in ${((100 * cuts.filter((cut) => cut.leaderDiskMs >= cut.followerPathMs).length) / cuts.length).toFixed(0)} % of puts`);
  const sorted = [...cuts].sort((a, b) => b.totalMs - a.totalMs);
  const slowest = sorted.slice(0, Math.max(1, Math.ceil(cuts.length / 100)));
  out(`${name} the slowest ${slowest.length} puts (≥ ${slowest.at(-1)!.totalMs.toFixed(2)} ms; median ${median(cuts.map((cut) => cut.totalMs)).toFixed(2)}): the segment that grew most, and what else happened meanwhile`);
  const causes = new Map<string, { count: number; excessMs: number }>();
  const excessBySegment = new Map<string, number>();
  let gcPuts = 0;
  for (const put of slowest) {
    const grew = grewMost(put, medians);
    const cause = causes.get(grew.name) ?? { count: 0, excessMs: 0 };
    cause.count++;
    cause.excessMs += grew.excessMs;
    causes.set(grew.name, cause);
    for (const segment of segmentNames) excessBySegment.set(segment, (excessBySegment.get(segment) ?? 0) + Math.max(0, put.segments[segment] - medians.segments[segment]!));
    const events = eventsIn(withClient, put.clientFrom, put.clientTo);
    if (events.includes('GC ')) gcPuts++;
    const segs = segmentNames.map((segment) => `${segment} ${put.segments[segment].toFixed(2)}`).join(' ');
    out(`  #${String(put.index).padStart(4)} ${put.totalMs.toFixed(2).padStart(6)} ms  grew: ${grew.name} +${grew.excessMs.toFixed(2)} ms  [${segs}; L disk ${put.leaderDiskMs.toFixed(2)}, ${put.follower} path ${put.followerPathMs.toFixed(2)}]`);
    out(`          waited for a CPU (main/other threads, ms): ${waitRoles.map((role) => `${role} ${waitOf(put, role, 'main').toFixed(1)}/${waitOf(put, role, 'other').toFixed(1)}`).join(', ')}; ${events}`);
  }
  out(`${name} what grew most in the slowest ${slowest.length}: ${[...causes].sort((a, b) => b[1].count - a[1].count).map(([cause, { count, excessMs }]) => `${cause} ×${count} (+${(excessMs / count).toFixed(2)} ms avg)`).join('; ')}`);
  const totalExcess = [...excessBySegment.values()].reduce((sum, ms) => sum + ms, 0);
  out(`${name} their excess over the medians by segment: ${[...excessBySegment].sort((a, b) => b[1] - a[1]).map(([segment, ms]) => `${segment} ${((100 * ms) / totalExcess).toFixed(0)} %`).join(', ')}; a GC pause (any process) inside ${gcPuts} of ${slowest.length}`);
  const meanWait = (list: readonly PutCut[], role: string) => list.reduce((sum, put) => sum + waitOf(put, role, 'main') + waitOf(put, role, 'other'), 0) / list.length;
  const middle = sorted.slice(Math.floor(sorted.length * 0.25), Math.ceil(sorted.length * 0.75));
  out(`${name} threads' waits for a CPU per put (main + other, mean ms), the slowest ${slowest.length} / the middle half: ${waitRoles.map((role) => `${role} ${meanWait(slowest, role).toFixed(2)} / ${meanWait(middle, role).toFixed(2)}`).join(', ')}; put ${(slowest.reduce((sum, put) => sum + put.totalMs, 0) / slowest.length).toFixed(2)} / ${(middle.reduce((sum, put) => sum + put.totalMs, 0) / middle.length).toFixed(2)} ms`);
  const p99Put = sorted[Math.floor(cuts.length / 100)]!;
  for (const [label, put] of [['slowest', sorted[0]!], ['p99', p99Put]] as const) {
    out(`${name} the ${label} put (#${put.index}, ${put.totalMs.toFixed(2)} ms from the client's call), every process's marks (C: the client's GC):`);
    printTimeline(timeline(withClient, put.clientFrom, put.clientTo), out);
  }
}

function printTimeline(marks: readonly Mark[], out: (line: string) => void): void {
  let last = 0;
  for (const mark of marks) {
    out(`  ${(mark.us / 1000).toFixed(3).padStart(7)} ms  (+${((mark.us - last) / 1000).toFixed(3)})  ${mark.label}`);
    last = mark.us;
  }
}
