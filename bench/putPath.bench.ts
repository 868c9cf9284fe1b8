/**
 * `npm run bench putPath`: where one put's time goes on a three-member detcd cluster, end to end.
 * The members run with DETCD_LATENCY_TRACE (runtime/latencyTrace.ts); the bench makes sequential
 * puts to the leader, stops the members gracefully (which writes their traces) and lines the
 * traces up: each put is the window between the leader's `grpc.in Put` and `grpc.out Put`, and
 * every mark of every member inside it is a step of that put. It prints, per step, the median
 * time since the leader took the call and the median gap to the step before it — the gaps are
 * where the time goes (a loop turn, a socket hop, an fsync). The `n`th mark of one label in a
 * window is its own step (`pump#2`), so repeated hops stay apart.
 *
 * The figure to compare with is the put's median itself, printed with the median of a 100-byte
 * append + fdatasync measured in the same run.
 */
import { readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { EtcdClient, type Message } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const puts = 300;
const warmPuts = 50;
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
    });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Member ids (hex) in labels become roles: L for the leader, F1 and F2 for the followers. */
function roleLabel(label: string, roles: ReadonlyMap<string, string>): string {
  return label.replace(/\b[0-9a-f]{6,}\b/g, (hex) => roles.get(hex) ?? hex);
}

interface Step {
  readonly name: string;
  readonly offsets: number[];
}

/** Steps of every put window, by name, with their offsets (µs) from the window's start. */
function steps(traces: ReadonlyMap<string, Mark[]>, leaderRole: string, roles: ReadonlyMap<string, string>): { steps: Step[]; windows: number[]; timeline: (window: number) => Mark[] } {
  const leader = traces.get(leaderRole)!;
  const windows: [number, number][] = [];
  let opened: number | null = null;
  // From the call's headers to its status when the gRPC interceptor marked them, else from the
  // handler's start to its answer.
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
  const measured = windows.slice(warmPuts);
  const byName = new Map<string, Step>();
  for (const [role, marks] of traces) {
    let cursor = 0;
    for (const [start, end] of measured) {
      while (cursor < marks.length && marks[cursor]!.us < start) cursor++;
      const seen = new Map<string, number>();
      for (let i = cursor; i < marks.length && marks[i]!.us <= end; i++) {
        const label = `${role} ${roleLabel(marks[i]!.label, roles)}`;
        const n = (seen.get(label) ?? 0) + 1;
        seen.set(label, n);
        const name = n === 1 ? label : `${label}#${n}`;
        let step = byName.get(name);
        if (step === undefined) byName.set(name, (step = { name, offsets: [] }));
        step.offsets.push(marks[i]!.us - start);
      }
    }
  }
  const timeline = (window: number): Mark[] => {
    const [start, end] = measured[window]!;
    const marks: Mark[] = [];
    for (const [role, list] of traces) for (const mark of list) if (mark.us >= start && mark.us <= end) marks.push({ us: mark.us - start, label: `${role} ${roleLabel(mark.label, roles)}` });
    return marks.sort((a, b) => a.us - b.us);
  };
  return { steps: [...byName.values()], windows: measured.map(([start, end]) => end - start), timeline };
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

export async function bench(out: (line: string) => void): Promise<void> {
  const root = scratchFolder('detcd-putpath-');
  const ports = await freePorts(6);
  const specs: MemberSpec[] = [1, 2, 3].map((n, i) => ({ name: `m${n}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, `m${n}`) }));
  const traceFile = (spec: MemberSpec) => join(root, `${spec.name}.trace`);
  const members = specs.map((spec) => startMember(spec, initialCluster(specs), ['--snapshot-count', '10000'], undefined, { DETCD_LATENCY_TRACE: traceFile(spec) }));
  const clients = specs.map((spec) => new EtcdClient(endpoint(spec), 10_000));
  try {
    let leaderIndex = -1;
    const ids: string[] = [];
    await until(async () => {
      for (let i = 0; i < clients.length; i++) {
        const status = await clients[i]!.status().catch(() => null);
        if (status === null) return false;
        ids[i] = Number((status.header as Message).memberId).toString(16);
        if (status.leader !== 0 && status.leader === (status.header as Message).memberId) leaderIndex = i;
      }
      return leaderIndex >= 0;
    }, 'a detcd leader', 60_000);
    const leader = clients[leaderIndex]!;
    const roles = new Map<string, string>();
    let follower = 0;
    for (let i = 0; i < specs.length; i++) roles.set(ids[i]!, i === leaderIndex ? 'L' : `F${++follower}`);
    const clientTimes: number[] = [];
    for (let i = 0; i < warmPuts + puts; i++) {
      const started = performance.now();
      await leader.put({ key: Buffer.from(`path${i % 64}`), value });
      if (i >= warmPuts) clientTimes.push(performance.now() - started);
    }
    const fsync = await fsyncP50(root);
    for (const client of clients) client.close();
    for (const member of members) member.process.kill('SIGTERM');
    await Promise.all(members.map((member) => member.exited));
    const traces = new Map(specs.map((spec, i) => [roles.get(ids[i]!)!, readTrace(traceFile(spec))] as const));
    const { steps: found, windows, timeline } = steps(traces, 'L', roles);
    const putP50 = median(windows) / 1000;
    out(`baseline: 100-byte append + fdatasync p50 ${fsync.toFixed(2)} ms`);
    out(`detcd sequential put, leader's gRPC headers → status: p50 ${putP50.toFixed(2)} ms (${(putP50 / fsync).toFixed(1)} × fsync p50), ${windows.length} puts`);
    out(`detcd sequential put as the client sees it:       p50 ${median(clientTimes).toFixed(2)} ms (the rest is gRPC and HTTP/2 in both processes)`);
    // The put whose duration is the median, mark by mark: the order the medians below cannot show.
    const medianWindow = windows.indexOf(median(windows));
    out(`the median put (${(windows[medianWindow]! / 1000).toFixed(2)} ms), every member's marks in order:`);
    let last = 0;
    for (const mark of timeline(medianWindow)) {
      out(`  ${(mark.us / 1000).toFixed(3).padStart(7)} ms  (+${((mark.us - last) / 1000).toFixed(3)})  ${mark.label}`);
      last = mark.us;
    }
    out('step (member label[#n])                         in % of puts   since grpc.in p50   gap to previous');
    const common = found.filter((step) => step.offsets.length >= windows.length / 2).map((step) => ({ name: step.name, share: step.offsets.length / windows.length, at: median(step.offsets) }));
    common.sort((a, b) => a.at - b.at);
    let previous = 0;
    for (const step of common) {
      out(`${step.name.padEnd(48)} ${(step.share * 100).toFixed(0).padStart(5)} %   ${(step.at / 1000).toFixed(3).padStart(9)} ms   ${((step.at - previous) / 1000).toFixed(3).padStart(9)} ms`);
      previous = step.at;
    }
  } finally {
    for (const client of clients) client.close();
    for (const member of members) if (member.process.exitCode === null) member.process.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}
