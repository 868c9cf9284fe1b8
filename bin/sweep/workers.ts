import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Io } from '../cli/command.ts';
import type { ProcessCost } from './cost.ts';
import type { SweepTask } from './plan.ts';
import type { SweepRecord } from './runTask.ts';

/**
 * Sweep worker processes (`sweep --jobs N`). Each worker is a `detcd-sim sweep --worker` process
 * that reads tasks (one JSON line each: scenario, seed, whether to check determinism) on stdin and
 * answers each with its record on stdout. The parent hands out tasks as workers finish them, so a
 * slow scenario does not leave a worker idle while another has a queue — every run is still
 * decided by its scenario and seed alone, so the records are those one process would make.
 */
export interface WorkerOptions {
  readonly count: number;
  /** The launcher and the worker's flags (code variant, report folder). */
  readonly launcher: string;
  readonly flags: readonly string[];
  readonly onRecord: (record: SweepRecord) => void;
  readonly io: Io;
}

/** Tasks a worker may hold at once: one running, one waiting in its pipe, so it never idles. */
const tasksPerWorkerMax = 2;

/**
 * The V8 flags of a worker. The heap flag the launcher also sets (a parent's own loader flags would
 * make a child transform the sources twice), and garbage collection on the worker's own thread:
 * by default V8 scavenges in parallel and marks concurrently on helper threads, which in one
 * process use the idle second core, but with a worker per core they compete with the other
 * worker's main thread and add their coordination on top. Measured in task harness4 on a machine
 * loaded 12-15 (no idle one to be had), 200-run sweeps alternated: with two workers 113 and 122 ms
 * of CPU per run without, 107 and 101 ms with; one process pinned to one core, 166 and 143 ms
 * without, 141 and 144 ms with. Never worse, often ~10% less. A sweep in one process (`--jobs 1`)
 * keeps the helpers: there they use a core that would idle. The young generation starts at 16 MB,
 * as the launcher's own line has it (a worker is started with these flags, not that line): V8
 * grows it from 1 MB only while much survives, and a run's garbage dies young, so without the
 * flag it stayed near 8 MB and scavenged about three times a run, each scavenge copying the
 * same long-lived survivors. Measured in task harness7 (40-run sweeps of the bench's scenarios
 * in one single-threaded-GC process, alternated, load 8-12): 133 and 154 ms of CPU per run
 * without, 119 and 129 ms with; 32 MB was no better than 16.
 */
export const workerV8Flags: readonly string[] = ['--max-semi-space-size=32', '--min-semi-space-size=16', '--single-threaded-gc'];

export class WorkerPool {
  private readonly options: WorkerOptions;
  private readonly workers: { child: ChildProcessWithoutNullStreams; outstanding: number; stderr: string; cost: ProcessCost | null }[] = [];
  private stopped = false;
  private settleRun: (() => void) | null = null;

  constructor(options: WorkerOptions) {
    this.options = options;
  }

  /**
   * Runs tasks until there are none left or `stopStarting()` says so, then waits for the tasks
   * handed out. Rejects when a worker dies on its own.
   */
  run(tasks: Iterator<SweepTask>, stopStarting: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let exhausted = false;
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        this.settleRun = null;
        for (const worker of this.workers) worker.child.stdin.end();
        if (error === undefined) resolve();
        else reject(error);
      };
      const feed = (worker: (typeof this.workers)[number]): void => {
        while (!exhausted && !this.stopped && worker.outstanding < tasksPerWorkerMax) {
          if (stopStarting()) {
            exhausted = true;
            break;
          }
          const next = tasks.next();
          if (next.done === true) {
            exhausted = true;
            break;
          }
          worker.outstanding++;
          worker.child.stdin.write(`${JSON.stringify(next.value)}\n`);
        }
        if ((exhausted || this.stopped) && this.workers.every((w) => w.outstanding === 0)) settle();
      };
      for (let i = 0; i < this.options.count; i++) {
        const child = spawn(process.execPath, [...workerV8Flags, this.options.launcher, 'sweep', '--worker', ...this.options.flags], { stdio: ['pipe', 'pipe', 'pipe'] });
        const worker: (typeof this.workers)[number] = { child, outstanding: 0, stderr: '', cost: null };
        this.workers.push(worker);
        child.stderr.on('data', (chunk: Buffer) => void (worker.stderr = (worker.stderr + chunk.toString()).slice(-20_000)));
        child.stdin.on('error', () => undefined); // a worker that died is reported by its exit
        createInterface({ input: child.stdout }).on('line', (line) => {
          const value = JSON.parse(line) as SweepRecord | { workerCost: ProcessCost };
          // A worker's last line, once its stdin has ended: where its time went.
          if ('workerCost' in value) return void (worker.cost = value.workerCost);
          worker.outstanding--;
          this.options.onRecord(value);
          feed(worker);
        });
        child.on('error', (error) => settle(error));
        child.on('close', (code, signal) => {
          if (this.stopped || settled) return;
          if (code === 0 && worker.outstanding === 0) return;
          this.options.io.err(worker.stderr.trim());
          settle(new Error(`a sweep worker exited with ${signal ?? code} with ${worker.outstanding} task(s) unfinished`));
        });
      }
      this.settleRun = () => settle();
      for (const worker of this.workers) feed(worker);
    });
  }

  /** Stops the workers now (a signal): what they were running is lost, what they finished is kept. */
  kill(): void {
    this.stopped = true;
    for (const worker of this.workers) if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
    this.settleRun?.();
  }

  /** Each worker's cost, as it reported it on exit (after `exited()`; a killed worker reports none). */
  costs(): ProcessCost[] {
    return this.workers.flatMap((worker) => (worker.cost === null ? [] : [worker.cost]));
  }

  /** Whether the workers have all exited. */
  exited(): Promise<void> {
    return Promise.all(this.workers.map((worker) => (worker.child.exitCode !== null || worker.child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => worker.child.once('close', () => resolve()))))).then(() => undefined);
  }
}
