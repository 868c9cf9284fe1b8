/**
 * Sweep throughput: seeds per minute of `detcd-sim sweep --jobs 2` against `--jobs 1` (the
 * baseline, measured in the same run), each a fresh process as CI starts it — startup, worker
 * processes and all. On an idle machine with two cores the ratio should be at least 1.8; the load
 * average is printed, since a busy machine cannot show it.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const launcher = join(import.meta.dirname, '..', 'bin', 'detcd-sim');
const scenarios = ['raft-swarm', 'raft-crashes', 'raft-partitions', 'heartbeat-swarm'];
const seeds = 10;

async function sweep(jobs: number): Promise<{ runs: number; wallMs: number }> {
  const args = [launcher, 'sweep', ...scenarios.flatMap((name) => ['--scenario', name]), '--seeds', String(seeds), '--no-determinism-check', '--jobs', String(jobs), '--json', '-'];
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['--max-semi-space-size=32', ...args], { maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - started;
  const runs = stdout.split('\n').filter((line) => line.includes('"traceHash"')).length;
  return { runs, wallMs };
}

export async function bench(out: (line: string) => void): Promise<void> {
  if (availableParallelism() < 2) {
    out('sweep --jobs 2: skipped, this machine has one core');
    return;
  }
  await sweep(1); // builds the compiled CLI if it is stale, so neither side pays for that
  const one = await sweep(1);
  const two = await sweep(2);
  const perMinute = (r: { runs: number; wallMs: number }): number => (r.runs / r.wallMs) * 60_000;
  out(`sweep of ${scenarios.length} scenarios x ${seeds} seeds, each a fresh CLI process (load average before: ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores)`);
  out(`baseline --jobs 1: ${one.runs} runs in ${(one.wallMs / 1000).toFixed(1)} s, ${perMinute(one).toFixed(0)} seeds/min`);
  out(`--jobs 2: ${two.runs} runs in ${(two.wallMs / 1000).toFixed(1)} s, ${perMinute(two).toFixed(0)} seeds/min`);
  out(`ratio --jobs 2 / --jobs 1: ${(perMinute(two) / perMinute(one)).toFixed(2)} (goal on an idle 2-core machine: >= 1.80)`);
}
