/**
 * `npm run bench cpuTurns`: members' CPU per operation (user + system, /proc), clusters of several
 * checkouts and real etcd taking turns, after a warm-up. Where `bench runtime` measures fresh
 * members (a detcd member's JavaScript is still being compiled through its rounds), this measures
 * members that have served a while, in many short alternated turns, the order reversed every other
 * turn, so that a machine shared with other work treats the clusters alike; read the pairs.
 *
 * DETCD_BENCH_CPU_CLUSTERS: clusters separated by `;`, each `name=words`: `etcd` (Debian's etcd),
 * `@<dir>` (another checkout's bin/detcd), node options; default `here=`, plus
 * `base=@$DETCD_BENCH_BASELINE` when that is set. DETCD_BENCH_CPU_OPS: `range` (linearizable, 16 in
 * flight spread over the members, as `bench runtime`'s), `put` (16 in flight to the leader), or both
 * (default `range,put`). DETCD_BENCH_CPU_WARM_MS (default 10,000: half puts, half ranges),
 * DETCD_BENCH_CPU_TURNS (6) of DETCD_BENCH_CPU_TURN_MS (2,000) per cluster and operation.
 *
 * Per turn: CPU per operation and the rate; per cluster and operation over all turns: CPU per
 * operation split (leader / followers, main thread / other threads; for etcd the split means
 * nothing) and the system time in it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { parseVariants } from './checkPerfGc.bench.ts';
import { type CpuSplit, membersCpuSplit, type Server, startCluster, stopCluster, throughput } from './runtime.bench.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const inFlight = 16;
const value = Buffer.alloc(256, 'v');

function setting(name: string, fallback: number): number {
  const text = process.env[name];
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : fallback;
}

/** The members' system time so far (ms): the leader's and the followers'. */
function systemMs(server: Server): { leader: number; followers: number } {
  const leader = server.clients.indexOf(server.leader);
  const times = { leader: 0, followers: 0 };
  server.members.forEach((member, i) => {
    const fields = readFileSync(`/proc/${member.process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    times[i === leader ? 'leader' : 'followers'] += Number(fields[12]) * 10;
  });
  return times;
}

function operation(server: Server, kind: string): (worker: number, i: number) => Promise<unknown> {
  if (kind === 'put') return (worker, i) => server.leader.put({ key: Buffer.from(`w${worker}-${i % 100}`), value });
  return (worker) => server.clients[worker % 3]!.range({ key: Buffer.from(`w${worker}-1`) });
}

interface Tally {
  done: number;
  split: CpuSplit;
  systemLeader: number;
  systemFollowers: number;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const baseline = process.env.DETCD_BENCH_BASELINE;
  const spec = process.env.DETCD_BENCH_CPU_CLUSTERS ?? `here=${baseline ? `;base=@${baseline}` : ''}`;
  const clusters = parseVariants(spec, []);
  const kinds = (process.env.DETCD_BENCH_CPU_OPS ?? 'range,put').split(',').filter((kind) => kind === 'range' || kind === 'put');
  const warmMs = setting('DETCD_BENCH_CPU_WARM_MS', 10_000);
  const turns = setting('DETCD_BENCH_CPU_TURNS', 6);
  const turnMs = setting('DETCD_BENCH_CPU_TURN_MS', 2_000);
  const root = scratchFolder('detcd-bench-cpu-');
  const servers: Server[] = [];
  try {
    for (const cluster of clusters) servers.push(await startCluster(cluster.name, root, cluster.program));
    out(`clusters: ${clusters.map((cluster) => `${cluster.name} (${cluster.program.join(' ')})`).join(', ')}; warming ${warmMs} ms each, then ${turns} turns of ${turnMs} ms per cluster and operation`);
    for (let round = 0; round < 4; round++) for (const server of servers) for (const kind of ['put', 'range']) await throughput(inFlight, warmMs / 8, operation(server, kind));
    const tallies = new Map<string, Tally>();
    for (let turn = 0; turn < turns; turn++) {
      const order = turn % 2 === 0 ? servers : [...servers].reverse();
      const line: string[] = [];
      for (const kind of kinds) {
        for (const server of order) {
          const leader = server.clients.indexOf(server.leader);
          const before = membersCpuSplit(server.members, leader);
          const systemBefore = systemMs(server);
          const { done } = await throughput(inFlight, turnMs, operation(server, kind));
          const after = membersCpuSplit(server.members, leader);
          const systemAfter = systemMs(server);
          const key = `${server.name} ${kind}`;
          const tally = tallies.get(key) ?? { done: 0, split: { leaderMain: 0, leaderOther: 0, followersMain: 0, followersOther: 0 }, systemLeader: 0, systemFollowers: 0 };
          let ms = 0;
          for (const part of Object.keys(after) as (keyof CpuSplit)[]) {
            tally.split[part] += after[part] - before[part];
            ms += after[part] - before[part];
          }
          tally.done += done;
          tally.systemLeader += systemAfter.leader - systemBefore.leader;
          tally.systemFollowers += systemAfter.followers - systemBefore.followers;
          tallies.set(key, tally);
          line.push(`${key} ${(ms / done).toFixed(3)} ms (${((done * 1000) / turnMs).toFixed(0)}/s)`);
        }
      }
      out(`turn ${turn + 1}: ${line.join(', ')}`);
    }
    for (const [key, tally] of tallies) {
      const per = (ms: number) => (ms / tally.done).toFixed(3);
      const { leaderMain, leaderOther, followersMain, followersOther } = tally.split;
      out(`${key}: ${per(leaderMain + leaderOther + followersMain + followersOther)} ms per operation over ${tally.done}; leader main ${per(leaderMain)} + other ${per(leaderOther)}, followers main ${per(followersMain)} + other ${per(followersOther)}; of it system time: leader ${per(tally.systemLeader)}, followers ${per(tally.systemFollowers)}`);
    }
  } finally {
    for (const server of servers) stopCluster(server);
    rmSync(root, { recursive: true, force: true });
  }
}
