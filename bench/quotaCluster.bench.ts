/**
 * `npm run bench quotaCluster`: a three-member cluster past the old 160 MiB quota ceiling (issue
 * 10's task quota), end to end. A member is stopped; puts (4 in flight) grow the
 * keyspace to DETCD_BENCH_QUOTA_CLUSTER_MB (default 400, over one 256 MiB frame); the members
 * rewrite their backend files (DETCD_BACKEND_FILE_COMMITS_MAX=100) and snapshot (--snapshot-count
 * 100). Then the stopped member starts again and must catch up from the leader's snapshot (one
 * image over a frame, sent as parts), and a running member restarts from its backend file (read
 * back from parts). Values of DETCD_BENCH_QUOTA_VALUE_KB (default 16: over 1,024 revisions, so
 * the rewrite is streamed in turns); DETCD_BENCH_QUOTA_LOG=<dir> keeps the members' output. Printed: the puts' rate and db size, each member's largest rewrite and its
 * time (from its log), the catch-up's and the restart's time, and the members' largest heap after
 * a full collection (`--trace-gc`); for each member during the catch-up, its longest logged loop
 * stall, its longest slow pump and the elections it won (task snapturns: a leader encoding the
 * snapshot whole stalled), and a snapshot received: decoded, then its install prepared, in turns
 * (task install). The baseline in the same run is the first 100 MiB of puts'
 * rate. With DETCD_BENCH_BASELINE=<dir> that checkout runs the same (main: NOSPACE at 160 MiB).
 */
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EtcdClient } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, isHealthy, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const targetMb = Number(process.env.DETCD_BENCH_QUOTA_CLUSTER_MB ?? 400);
const valueBytes = Number(process.env.DETCD_BENCH_QUOTA_VALUE_KB ?? 16) * 1024;
const logDir = process.env.DETCD_BENCH_QUOTA_LOG;

function heapAfterFullMb(member: Member): number {
  let max = 0;
  for (const match of member.output.join('').matchAll(/Mark-Compact[^\n]*?-> ([\d.]+) \(/g)) max = Math.max(max, Number(match[1]));
  return max;
}

function rewrites(member: Member): string {
  const lines = [...member.output.join('').matchAll(/rewrote the db file whole: ([\d.]+) MiB[^\n]*?over ([\d.]+m?s), synced and renamed in ([\d.]+m?s)/g)];
  if (lines.length === 0) return 'no rewrite';
  const largest = lines.reduce((a, b) => (Number(b[1]) > Number(a[1]) ? b : a));
  return `${lines.length} rewrites, largest ${largest[1]} MiB encoded and written over ${largest[2]}, synced in ${largest[3]}`;
}

/** A Go duration as the members log it (`goDuration`: 180.726ms, 3.6s, 1m2.5s) in ms. */
function durationMs(text: string): number {
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/([\d.]+)(h|m(?!s)|s|ms|µs|us|ns)/g)) ms += Number(amount) * ({ h: 3_600_000, m: 60_000, s: 1_000, ms: 1, µs: 1e-3, us: 1e-3, ns: 1e-6 } as Record<string, number>)[unit!]!;
  return ms;
}

/** What a member's log says from `from` (an index into its output) on: its longest loop stall, its leader elections won, and its snapshot messages encoded in turns. */
function catchUpView(member: Member, from: number): string {
  const text = member.output.slice(from).join('');
  const stalls = [...text.matchAll(/the event loop was blocked for (\S+)/g)].map((match) => durationMs(match[1]!));
  const leaders = [...text.matchAll(/became leader at term/g)].length;
  const encoded = [...text.matchAll(/encoded a ([\d.]+ MiB) snapshot message over (\d+) turns \(the longest ([\d.]+) ms\) in (\d+) ms/g)].map((match) => `${match[1]} in ${match[2]} turns (longest ${match[3]} ms), ${match[4]} ms`);
  const pumps = [...text.matchAll(/apply entries took too long \[(\S+) for/g)].map((match) => durationMs(match[1]!));
  // The follower's side (task install): the snapshot decoded, then its install prepared, in turns.
  const received = [...text.matchAll(/(decoded a [\d.]+ MiB message|prepared its install) over (\d+) turns \(the longest ([\d.]+) ms\) in (\d+) ms/g)].map((match) => `${match[1]} in ${match[2]} turns (longest ${match[3]} ms), ${match[4]} ms`);
  return (
    `longest loop stall ${stalls.length === 0 ? 'none logged' : `${Math.max(...stalls).toFixed(0)} ms`} (${stalls.length} logged), longest slow pump ${pumps.length === 0 ? 'none logged' : `${Math.max(...pumps).toFixed(0)} ms`}, became leader ${leaders}x` +
    `${encoded.length === 0 ? '' : `, snapshot messages encoded in turns: ${encoded.join('; ')}`}${received.length === 0 ? '' : `, received: ${received.join('; ')}`}`
  );
}

/** Tries of one put before the run stops on it (see the put loop). */
const putAttempts = 3;

async function run(name: string, root: string, checkout: string, out: (line: string) => void): Promise<void> {
  const ports = await freePorts(6);
  const specs: MemberSpec[] = [0, 1, 2].map((i) => ({ name: `m${i}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, name, `m${i}`) }));
  const cluster = initialCluster(specs);
  const program = [process.execPath, '--trace-gc', join(checkout, 'bin', 'detcd')];
  const env = { DETCD_BACKEND_FILE_COMMITS_MAX: '100' };
  const start = (spec: MemberSpec) => startMember(spec, cluster, ['--snapshot-count', '100', '--pre-vote'], program, env);
  const members: Member[] = specs.map(start);
  const clients = specs.map((spec) => new EtcdClient(endpoint(spec)));
  const stopped: Member[] = [];
  try {
    await until(async () => (await Promise.all(specs.map(isHealthy))).every(Boolean), 'the cluster', 120_000);
    // The third member stops now: it will need the leader's snapshot.
    members[2]!.process.kill('SIGTERM');
    await members[2]!.exited;
    stopped.push(members[2]!);
    const value = Buffer.alloc(valueBytes, 'q');
    const putsPerStatus = Math.max(1, Math.round((4 * 1024 * 1024) / valueBytes));
    let dbBytes = 0;
    let puts = 0;
    let failure = '';
    const startedMs = performance.now();
    let firstRate = 0;
    await Promise.all(
      [0, 1, 2, 3].map(async (worker) => {
        while (failure === '' && dbBytes < targetMb * 2 ** 20) {
          const i = puts++;
          // A put can meet an election (the stopped member may have been the leader: a put forwarded
          // to it is lost, as etcd loses a proposal forwarded to a dead leader, and times out): it is
          // tried again, a few times, before the run stops. A put of the same key twice is harmless here.
          for (let attempt = 1; ; attempt++) {
            try {
              await clients[worker % 2]!.put({ key: `/quota/${String(i).padStart(8, '0')}`, value });
              break;
            } catch (error) {
              if (attempt < putAttempts) continue;
              failure = `${error instanceof Error ? error.message : String(error)} (after ${putAttempts} attempts)`;
              return;
            }
          }
          if (i % putsPerStatus === 0) dbBytes = Number((await clients[0]!.status()).dbSize);
          if (firstRate === 0 && dbBytes >= 100 * 2 ** 20) firstRate = i / ((performance.now() - startedMs) / 1000);
        }
      }),
    );
    const putSeconds = (performance.now() - startedMs) / 1000;
    out(`${name}: ${puts} puts of ${valueBytes / 1024} KiB in ${putSeconds.toFixed(1)} s (${(puts / putSeconds).toFixed(1)}/s; ${firstRate === 0 ? 'under 100 MiB: no baseline' : `baseline, the first 100 MiB: ${firstRate.toFixed(1)}/s, ratio ${(puts / putSeconds / firstRate).toFixed(2)}`}), db ${(dbBytes / 2 ** 20).toFixed(0)} MiB${failure === '' ? '' : `; stopped by: ${failure}`}`);
    if (failure !== '') return;
    // The stopped member catches up from the leader's snapshot.
    const revision = Number(((await clients[0]!.status()).header as { revision: string }).revision);
    let caughtUpMs = performance.now();
    const outputAtCatchUp = members.map((member) => member.output.length);
    members[2] = start(specs[2]!);
    const third = new EtcdClient(endpoint(specs[2]!));
    clients.push(third);
    await until(async () => {
      try {
        return Number(((await third.status()).header as { revision: string }).revision) >= revision;
      } catch {
        return false;
      }
    }, 'the stopped member to catch up', 600_000);
    caughtUpMs = performance.now() - caughtUpMs;
    const snapshotLines = members[2]!.output.join('').split('\n').filter((line) => /snapshot/i.test(line));
    out(`${name}: the stopped member caught up to revision ${revision} in ${(caughtUpMs / 1000).toFixed(1)} s; it said: ${snapshotLines.at(-1)?.trim().slice(0, 160) ?? '(nothing on snapshots)'}`);
    // Each member during the catch-up (the one that caught up: from its start); a leader that encodes the snapshot whole stalls here.
    for (const [index, member] of members.entries()) out(`${name}: during the catch-up, ${member.spec.name}: ${catchUpView(member, index === 2 ? 0 : outputAtCatchUp[index]!)}`);
    // A running member restarts from its files.
    members[1]!.process.kill('SIGTERM');
    await members[1]!.exited;
    stopped.push(members[1]!);
    let restartMs = performance.now();
    members[1] = start(specs[1]!);
    await until(() => isHealthy(specs[1]!), 'the restarted member', 600_000);
    restartMs = performance.now() - restartMs;
    out(`${name}: a member restarted from its ${(dbBytes / 2 ** 20).toFixed(0)} MiB backend file and served in ${(restartMs / 1000).toFixed(1)} s`);
    for (const [index, member] of [...stopped, ...members].entries()) out(`${name}: ${member.spec.name}${index < stopped.length ? ' (before its stop)' : ''}: ${rewrites(member)}; largest heap after a full GC ${heapAfterFullMb(member).toFixed(0)} MB`);
  } finally {
    for (const client of clients) client.close();
    for (const member of members) member.process.kill('SIGKILL');
    if (logDir !== undefined) {
      mkdirSync(logDir, { recursive: true });
      for (const member of [...stopped, ...members]) appendFileSync(join(logDir, `${name}-${member.spec.name}.log`), member.output.join(''));
    }
  }
}

export async function bench(out: (line: string) => void): Promise<void> {
  if (!(targetMb > 0)) throw new Error(`DETCD_BENCH_QUOTA_CLUSTER_MB must be a size in MiB, got ${process.env.DETCD_BENCH_QUOTA_CLUSTER_MB}`);
  const root = scratchFolder('detcd-quota-cluster-');
  try {
    await run('here', root, resolve(import.meta.dirname, '..'), out);
    if (process.env.DETCD_BENCH_BASELINE) await run('base', root, resolve(process.env.DETCD_BENCH_BASELINE), out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
