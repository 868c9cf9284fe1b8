/**
 * `npm run bench interleave`: this checkout's detcd against DETCD_BENCH_BASELINE=<dir> (and any
 * further checkouts in DETCD_BENCH_VARIANTS=<dir>,<dir>…), one three-member cluster each, taking
 * turns put by put: sequential puts to each leader in rotation (p50, p90, p99), then turns of 1 s
 * with 16 puts in flight (puts/s). `bench runtime` takes turns of 80 puts and of whole seconds; on
 * a machine that other work keeps at load 10-20, its swings within seconds met one cluster's turn
 * and not the other's, and two runs of one change disagreed by ±30 %. Here each cluster meets the
 * same moments. Every cluster is warmed first (3 × 2.5 s of 16 in flight, unmeasured).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, type Server } from './runtime.bench.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const value = Buffer.alloc(256, 'v');
const sequentialRounds = 1_000;
const inFlight = 16;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Puts with `inFlight` outstanding for `ms`; how many completed. */
async function putsFor(server: Server, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        await server.leader.put({ key: Buffer.from(`w${worker}-${i % 100}`), value });
        done++;
      }
    }),
  );
  return done;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const others = [process.env.DETCD_BENCH_BASELINE ?? '', ...(process.env.DETCD_BENCH_VARIANTS ?? '').split(',')].filter((dir) => dir !== '');
  if (others.length === 0) {
    out('interleave: set DETCD_BENCH_BASELINE=<a checkout with its own npm ci> (and DETCD_BENCH_VARIANTS=<dir>,<dir>) to compare');
    return;
  }
  for (const dir of others) if (!existsSync(join(dir, 'bin', 'detcd'))) throw new Error(`${dir}: no bin/detcd there`);
  const root = scratchFolder('detcd-interleave-');
  const servers: Server[] = [];
  try {
    servers.push(await startCluster('this', root));
    for (const [i, dir] of others.entries()) servers.push(await startCluster(`other${i}`, root, [process.execPath, join(dir, 'bin', 'detcd')]));
    const names = ['this checkout', ...others];
    for (let round = 0; round < 3; round++) for (const server of servers) await putsFor(server, 2_500);
    const times = servers.map(() => [] as number[]);
    for (let round = 0; round < sequentialRounds; round++) {
      // Who goes first rotates, so no cluster always follows the same one.
      for (let k = 0; k < servers.length; k++) {
        const i = (round + k) % servers.length;
        const started = performance.now();
        await servers[i]!.leader.put({ key: Buffer.from(`seq${round % 64}`), value });
        times[i]!.push(performance.now() - started);
      }
    }
    const puts = servers.map(() => 0);
    const turns = 6;
    for (let round = 0; round < turns; round++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (round + k) % servers.length;
        puts[i]! += await putsFor(servers[i]!, 1_000);
      }
    }
    const base = times[1]!.sort((a, b) => a - b);
    for (let i = 0; i < servers.length; i++) {
      const sorted = times[i]!.sort((a, b) => a - b);
      const ratio = i === 1 ? '' : `  (/ baseline: p50 ${(percentile(sorted, 50) / percentile(base, 50)).toFixed(2)}, puts ${(puts[i]! / puts[1]!).toFixed(2)})`;
      out(`${names[i]!.padEnd(24)} sequential put p50 ${percentile(sorted, 50).toFixed(2)} ms  p90 ${percentile(sorted, 90).toFixed(2)}  p99 ${percentile(sorted, 99).toFixed(2)} (${sorted.length});  ${inFlight} in flight ${(puts[i]! / turns).toFixed(0)}/s${ratio}`);
    }
  } finally {
    for (const server of servers) stopCluster(server);
    rmSync(root, { recursive: true, force: true });
  }
}
