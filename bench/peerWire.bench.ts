/**
 * `npm run bench peerWire` (root: it captures on the loopback): the peer round trip seen on the
 * wire, for detcd and real etcd alike. Every TCP segment with data on `lo` is captured with the
 * kernel's timestamp (a small Python AF_PACKET reader), and each segment's sender is named from
 * `ss` (local port → process → member). Per cluster, two phases:
 *
 *   idle   only heartbeats: a follower's turnaround, the leader's segment to it → its next
 *          segment back (the heartbeat answer's wake, read, step, Ready, write);
 *   puts   sequential puts to the leader: per put, the client's request segment → the leader's
 *          first segment to each follower (the MsgApp) → that follower's first segment back (its
 *          MsgAppResp: read, step, WAL write and sync, write) → the leader's first segment to the
 *          client (the answer) → the client's promise resolved.
 *
 * Unlike `etcd_network_peer_round_trip_time_seconds` (detcd: a heartbeat timed in the leader's
 * loop; etcd: an HTTP probe every 5 s answered off its raft loop) both systems are timed the same
 * way here, at the same points. `DETCD_BENCH_PEERWIRE_PUTS` (default 1,000) puts per cluster, in
 * turns of 100; `DETCD_BENCH_BASELINE=<dir>` adds another checkout's cluster;
 * `DETCD_BENCH_PEERWIRE_SHOW=<n>` prints each cluster's first n puts segment by segment;
 * `DETCD_BENCH_PEERWIRE_TRACE=<dir>` runs the detcd members with their latency trace and keeps
 * the traces and the capture (`segments.txt`: µs, from port, to port, bytes) there, on one clock
 * to line up. The capture (Python) takes some CPU of its own, alike for every cluster.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient, type Message } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { firstAtOrAfter, percentile } from './putPath.bench.ts';

const turnPuts = 100;
const idleMs = 3_000;
const value = Buffer.alloc(256, 'v');

const capture = `
import socket, struct, sys, time, signal
out_path = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(('lo', 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
s.settimeout(0.2)
stop = False
def halt(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, halt)
out = []
print('ready', flush=True)
while not stop:
    try:
        data, anc, flags, addr = s.recvmsg(96, socket.CMSG_SPACE(16))
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if addr[2] != 4 or len(data) < 54 or data[12:14] != b'\\x08\\x00' or data[23] != 6:
        continue
    ip = data[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack('!H', ip[2:4])[0]
    tcp = ip[ihl:]
    sp, dp = struct.unpack('!HH', tcp[:4])
    plen = total - ihl - (tcp[12] >> 4) * 4
    if plen <= 0:
        continue
    ts = 0
    for lvl, typ, d in anc:
        if typ == 35:
            sec, ns = struct.unpack('qq', d[:16]); ts = sec * 1000000 + ns // 1000
    out.append('%d %d %d %d\\n' % (ts, sp, dp, plen))
with open(out_path, 'w') as f:
    f.writelines(out)
`;

interface Segment {
  readonly us: number;
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
}

interface Cluster {
  readonly name: string;
  readonly specs: MemberSpec[];
  readonly members: Member[];
  readonly clients: EtcdClient[];
  leader: number;
  idle: [number, number] | null;
  readonly calls: [number, number][];
}

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

async function startCluster(name: string, root: string, program: readonly string[] | undefined): Promise<Cluster> {
  const ports = await freePorts(6);
  const specs: MemberSpec[] = [1, 2, 3].map((n, i) => ({ name: `${name}${n}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, `${name}${n}`) }));
  const traces = process.env.DETCD_BENCH_PEERWIRE_TRACE;
  const env = traced(program) && traces !== undefined && traces !== '' ? (spec: MemberSpec) => ({ DETCD_LATENCY_TRACE: join(traces, `${spec.name}.trace`) }) : () => undefined;
  const members = specs.map((spec) => startMember(spec, initialCluster(specs), ['--snapshot-count', '10000'], program, env(spec)));
  const clients = specs.map((spec) => new EtcdClient(endpoint(spec), 10_000));
  const cluster: Cluster = { name, specs, members, clients, leader: -1, idle: null, calls: [] };
  await until(async () => {
    for (let i = 0; i < clients.length; i++) {
      const status = await clients[i]!.status().catch(() => null);
      if (status === null) return false;
      if (status.leader !== 0 && status.leader === (status.header as Message).memberId) cluster.leader = i;
    }
    return cluster.leader >= 0;
  }, `a ${name} leader`, 60_000);
  return cluster;
}

/** A detcd cluster (etcd writes no latency trace). */
function traced(program: readonly string[] | undefined): boolean {
  return program === undefined || program[0] !== 'etcd';
}

/** Local TCP port → pid, of every established loopback connection. */
function portOwners(): Map<number, number> {
  const owners = new Map<number, number>();
  const listing = spawnSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' }).stdout;
  for (const line of listing.split('\n')) {
    const local = /^\s*\d+\s+\d+\s+\S+:(\d+)\s+\S+:\d+/.exec(line);
    const pid = /pid=(\d+)/.exec(line);
    if (local !== null && pid !== null) owners.set(Number(local[1]), Number(pid[1]));
  }
  return owners;
}

function firstAfter<S extends Segment>(list: readonly S[], us: number, until: number, test: (segment: S) => boolean): S | null {
  for (let i = firstAtOrAfter(list, us); i < list.length && list[i]!.us <= until; i++) if (test(list[i]!)) return list[i]!;
  return null;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const puts = /^[0-9]+$/.test(process.env.DETCD_BENCH_PEERWIRE_PUTS ?? '') ? Number(process.env.DETCD_BENCH_PEERWIRE_PUTS) : 1_000;
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  const root = scratchFolder('detcd-peerwire-');
  const captureFile = join(root, 'segments.txt');
  writeFileSync(join(root, 'capture.py'), capture);
  const clusters: Cluster[] = [];
  const catcher = spawn('python3', [join(root, 'capture.py'), captureFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      catcher.stdout.once('data', () => resolve(true));
      catcher.once('error', () => resolve(false));
      catcher.once('exit', () => resolve(false));
    });
    if (!ready) {
      out('peerWire: skipped: the capture did not start (it needs python3 and root, CAP_NET_RAW, for an AF_PACKET socket on lo)');
      return;
    }
    clusters.push(await startCluster('detcd', root, undefined));
    if (baseline !== undefined) clusters.push(await startCluster('base', root, [process.execPath, join(baseline, 'bin', 'detcd')]));
    if (spawnSync('etcd', ['--version']).status === 0) clusters.push(await startCluster('etcd', root, ['etcd']));
    const leaderOf = (cluster: Cluster) => cluster.clients[cluster.leader]!;
    for (const cluster of clusters) for (let i = 0; i < 200; i++) await leaderOf(cluster).put({ key: Buffer.from(`wire${i % 64}`), value });
    for (const cluster of clusters) {
      const from = nowUs();
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      cluster.idle = [from, nowUs()];
    }
    for (let done = 0; done < puts; done += turnPuts) {
      for (const cluster of clusters) {
        for (let i = done; i < Math.min(puts, done + turnPuts); i++) {
          const from = nowUs();
          await leaderOf(cluster).put({ key: Buffer.from(`wire${i % 64}`), value });
          cluster.calls.push([from, nowUs()]);
        }
      }
    }
    const owners = portOwners();
    catcher.kill('SIGTERM');
    await new Promise((resolve) => catcher.once('exit', resolve));
    const segments: Segment[] = readFileSync(captureFile, 'utf8').split('\n').filter((line) => line !== '').map((line) => {
      const [us, from, to, bytes] = line.split(' ').map(Number);
      return { us: us!, from: from!, to: to!, bytes: bytes! };
    }).sort((a, b) => a.us - b.us);
    out(`${segments.length} segments captured; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    for (const cluster of clusters) analyse(cluster, segments, owners, out);
  } finally {
    if (catcher.exitCode === null) catcher.kill('SIGKILL');
    for (const cluster of clusters) {
      for (const client of cluster.clients) client.close();
      // Gracefully: a traced member writes its trace at stop.
      for (const member of cluster.members) member.process.kill('SIGTERM');
    }
    const killing = setTimeout(() => {
      for (const cluster of clusters) for (const member of cluster.members) if (member.process.exitCode === null) member.process.kill('SIGKILL');
    }, 10_000);
    await Promise.all(clusters.flatMap((cluster) => cluster.members.map((member) => member.exited)));
    clearTimeout(killing);
    const traces = process.env.DETCD_BENCH_PEERWIRE_TRACE;
    if (traces !== undefined && traces !== '' && existsSync(captureFile)) copyFileSync(captureFile, join(traces, 'segments.txt'));
    rmSync(root, { recursive: true, force: true });
  }
}

function analyse(cluster: Cluster, all: readonly Segment[], owners: ReadonlyMap<number, number>, out: (line: string) => void): void {
  const pids = cluster.members.map((member) => member.process.pid!);
  const memberOfPort = (port: number): number => {
    const at = cluster.specs.findIndex((spec) => spec.peerPort === port || spec.clientPort === port);
    if (at >= 0) return at;
    const pid = owners.get(port);
    return pid === undefined ? -1 : pids.indexOf(pid);
  };
  const peerPorts = new Set(cluster.specs.map((spec) => spec.peerPort));
  const L = cluster.leader;
  const leaderClientPort = cluster.specs[L]!.clientPort;
  // Peer segments (one end a peer port of this cluster), with sender and receiver members.
  const peer = all.filter((s) => peerPorts.has(s.from) || peerPorts.has(s.to)).map((s) => ({ ...s, sender: memberOfPort(s.from), receiver: memberOfPort(s.to) })).filter((s) => s.sender >= 0 && s.receiver >= 0);
  const toClient = all.filter((s) => s.from === leaderClientPort);
  const fromClient = all.filter((s) => s.to === leaderClientPort);
  const followers = [0, 1, 2].filter((i) => i !== L);
  const ms = (us: number) => us / 1000;
  const row = (label: string, values: number[]) => out(`  ${label.padEnd(34)} p50 ${percentile(values, 50).toFixed(3).padStart(7)}  p90 ${percentile(values, 90).toFixed(3).padStart(7)}  p99 ${percentile(values, 99).toFixed(3).padStart(7)} ms  (${values.filter((v) => !Number.isNaN(v)).length})`);
  out(`ports ${cluster.specs.map((spec) => `${spec.name} client ${spec.clientPort} peer ${spec.peerPort}`).join(', ')}`);
  out(`-- ${cluster.name} (leader ${cluster.specs[L]!.name}; idle from ${cluster.idle![0].toFixed(0)} µs) --`);
  // Idle: each leader → follower segment and the follower's next segment back.
  const [idleFrom, idleTo] = cluster.idle!;
  const turnaround: number[] = [];
  const leaderGap: number[] = [];
  for (const f of followers) {
    const down = peer.filter((s) => s.us >= idleFrom && s.us <= idleTo && s.sender === L && s.receiver === f);
    for (const s of down) {
      const back = firstAfter(peer, s.us, s.us + 50_000, (b) => b.sender === f && b.receiver === L);
      if (back !== null) turnaround.push(ms(back.us - s.us));
    }
    leaderGap.push(down.length);
  }
  out(`  idle ${(idleTo - idleFrom) / 1e6} s: leader → follower segments ${leaderGap.join(' + ')}`);
  row('idle: follower turnaround', turnaround);
  // Puts: the request, each follower's append (its first segment over 200 bytes: the entry's
  // value is 256) and its answer, the leader's first segment to the client after the first
  // answer (the reply: detcd's HEADERS + DATA) and its last (detcd's trailers come apart).
  const rows = new Map<string, number[]>();
  const add = (name: string, v: number) => {
    let list = rows.get(name);
    if (list === undefined) rows.set(name, (list = []));
    list.push(v);
  };
  const sizes: number[] = [];
  let shown = 0;
  for (const [from, to] of cluster.calls) {
    add('put: whole (client)', ms(to - from));
    if (process.env.DETCD_BENCH_PEERWIRE_SHOW !== undefined && shown++ < Number(process.env.DETCD_BENCH_PEERWIRE_SHOW)) {
      const name = (port: number) => (port === leaderClientPort ? 'L:client' : memberOfPort(port) >= 0 ? `m${memberOfPort(port)}${peerPorts.has(port) ? ':peer' : ''}` : 'client');
      out(`  put ${shown}: ${ms(to - from).toFixed(3)} ms`);
      for (const s of all) if (s.us >= from && s.us <= to && (s.from === leaderClientPort || s.to === leaderClientPort || peerPorts.has(s.from) || peerPorts.has(s.to))) out(`    ${ms(s.us - from).toFixed(3).padStart(8)}  ${name(s.from)} → ${name(s.to)} ${s.bytes} B`);
    }
    const asked = firstAfter(fromClient, from, to, (s) => s.bytes > 200);
    if (asked === null) continue;
    add('put: call → request on wire', ms(asked.us - from));
    const apps: number[] = [];
    let ack = Number.POSITIVE_INFINITY;
    for (const f of followers) {
      const app = firstAfter(peer, asked.us, to, (s) => s.sender === L && s.receiver === f && s.bytes > 200);
      if (app === null) continue;
      apps.push(app.us);
      sizes.push(app.bytes);
      const back = firstAfter(peer, app.us, to, (s) => s.sender === f && s.receiver === L);
      if (back === null) continue;
      add('put: follower MsgApp → back (each)', ms(back.us - app.us));
      ack = Math.min(ack, back.us);
    }
    if (apps.length === 0 || ack === Number.POSITIVE_INFINITY) continue;
    apps.sort((a, b) => a - b);
    add('put: request → first MsgApp out', ms(apps[0]! - asked.us));
    if (apps.length === 2) add('put: first MsgApp → second', ms(apps[1]! - apps[0]!));
    add('put: first MsgApp → first ack', ms(ack - apps[0]!));
    const reply = firstAfter(toClient, ack, to, (s) => s.bytes > 40);
    let last: Segment | null = null;
    for (const s of toClient) if (s.us > asked.us && s.us <= to) last = s;
    if (reply === null || last === null) continue;
    add('put: first ack → reply out', ms(reply.us - ack));
    add('put: reply → its last segment', ms(last.us - reply.us));
    add('put: last segment → client done', ms(to - last.us));
  }
  for (const [name, values] of rows) row(name, values);
  out(`  MsgApp segment bytes p50 ${percentile(sizes, 50)}`);
}
