/**
 * A command run as a user runs it, in a process of its own, cold: CPU seconds (user + system, the
 * process and its threads: compilers and garbage collectors included) and wall milliseconds, as
 * bash's `time` measures them (getrusage of the child, to the millisecond). The benchmark puts
 * `detcd-sim check FILE` beside Porcupine's driver this way: what a user waits for, not only the
 * warm algorithm inside a long-running process.
 */
import { spawnSync } from 'node:child_process';

export interface ColdRun {
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly stdout: string;
}

/** Whether bash (for its `time`) is here; without it the benchmark says so and skips cold runs. */
export function canTimeCold(): boolean {
  return spawnSync('bash', ['-c', 'true']).status === 0;
}

/** The best (least CPU) of `rounds` runs of `argv`; undefined when it could not be timed. */
export function coldRun(argv: readonly string[], rounds: number, timeoutSeconds: number): ColdRun | undefined {
  let best: ColdRun | undefined;
  for (let round = 0; round < rounds; round++) {
    const run = spawnSync('bash', ['-c', 'TIMEFORMAT="%3R %3U %3S"; time "$@"', 'bash', ...argv], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: timeoutSeconds * 1000 });
    const timing = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)\s*$/.exec(run.stderr ?? '');
    if (timing === null) return best;
    const result = { wallMs: Number(timing[1]) * 1000, cpuMs: (Number(timing[2]) + Number(timing[3])) * 1000, stdout: run.stdout };
    if (best === undefined || result.cpuMs < best.cpuMs) best = result;
  }
  return best;
}
