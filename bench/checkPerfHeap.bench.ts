/**
 * `npm run bench checkPerfHeap`: what a member's V8 heap holds after each `etcdctl check perf
 * --load=m` run (issue 10's run-2 tail: check perf deletes its keys without compacting, so run 2
 * starts with run 1's history and a heap twice run 1's after a full GC).
 *
 * One three-member cluster (DETCD_BENCH_HEAP_VARIANT, a variant as `checkPerfGc` writes them,
 * default this checkout) whose members run with `--heapsnapshot-signal=SIGUSR2`; after each of
 * DETCD_BENCH_CHECK_PERF runs (default 1) and the cluster at rest, a follower (or the members
 * DETCD_BENCH_HEAP_MEMBERS names, 1-based, e.g. `1,2`) writes a heap snapshot, which is summed up
 * (bench/heapSnapshotSummary.ts: self sizes by kind and holder, external strings by holder) and
 * removed. Figures are sizes, not times: they do not depend on the machine's load.
 */
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkPerfRun, parseVariants, settle, startCluster, stopGracefully, type Cluster } from './checkPerfGc.bench.ts';
import { summarizeHeapSnapshot } from './heapSnapshotSummary.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

/** Waits for the one new `.heapsnapshot` in `dir` to stop growing (the member writes it on its main thread). */
async function snapshotFile(dir: string): Promise<string> {
  let last = -1;
  for (let waited = 0; waited < 300_000; waited += 1_000) {
    await sleep(1_000);
    const files = readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot'));
    if (files.length === 0) continue;
    const size = statSync(join(dir, files[0]!)).size;
    if (size > 0 && size === last) return join(dir, files[0]!);
    last = size;
  }
  throw new Error(`no complete heap snapshot in ${dir} after 300 s`);
}

async function leaderIndex(cluster: Cluster): Promise<number> {
  const status = (await cluster.clients[0]!.status()) as { leader?: unknown; header?: { member_id?: unknown } };
  for (const [i, client] of cluster.clients.entries()) {
    const own = (await client.status()) as { header?: { member_id?: unknown } };
    if (String(own.header?.member_id) === String(status.leader)) return i;
  }
  return -1;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const root = scratchFolder('detcd-heap-');
  const [variant] = parseVariants(process.env.DETCD_BENCH_HEAP_VARIANT ?? 'here=', ['--trace-gc-nvp', '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${join(root, 'snap')}`]);
  const runs = Number(process.env.DETCD_BENCH_CHECK_PERF ?? 1);
  mkdirSync(join(root, 'snap'));
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(variant!, root, 0);
    for (let run = 1; run <= runs; run++) {
      await settle([cluster]);
      const result = await checkPerfRun(cluster);
      out(`${variant!.name} run ${run}: ${result.verdict}; heap after full GC up to ${result.gc.heapAfterFullMb.toFixed(0)} MB; full GCs ${result.gc.full.count}, longest ${result.gc.full.maxMs.toFixed(0)} ms (${result.gc.longestFullPhases})`);
      await settle([cluster]);
      const leader = await leaderIndex(cluster);
      const chosen = process.env.DETCD_BENCH_HEAP_MEMBERS?.split(',').map((n) => Number(n) - 1) ?? [leader === 0 ? 1 : 0];
      for (const index of chosen) {
        const member = cluster.members[index]!;
        member.process.kill('SIGUSR2');
        const file = await snapshotFile(join(root, 'snap'));
        out(`after run ${run}, ${member.spec.name} (${index === leader ? 'leader' : 'follower'}), snapshot ${(statSync(file).size / 2 ** 20).toFixed(0)} MB:`);
        summarizeHeapSnapshot(file, (line) => out(`  ${line}`));
        if (process.env.DETCD_BENCH_HEAP_KEEP) {
          mkdirSync(process.env.DETCD_BENCH_HEAP_KEEP, { recursive: true });
          const kept = join(process.env.DETCD_BENCH_HEAP_KEEP, `run${run}-${member.spec.name}.heapsnapshot`);
          try {
            renameSync(file, kept);
          } catch {
            copyFileSync(file, kept);
          }
        }
        rmSync(file, { force: true });
      }
    }
  } finally {
    if (cluster !== undefined) await stopGracefully(cluster);
    rmSync(root, { recursive: true, force: true });
  }
}
