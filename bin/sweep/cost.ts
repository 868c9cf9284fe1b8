/**
 * Where a sweep's time goes, per process (`sweep --json`'s summary, field `cost`; the sweep
 * benchmark prints it): what `--jobs N` loses against N times `--jobs 1` is start-up paid once per
 * worker, the parent's own work per result, workers idle at the tail or waiting for tasks, and
 * runs that cost more CPU when several run at once (two processes share the caches and memory
 * bandwidth of one machine: not the sweep's to fix). CPU is the process's own (`process.cpuUsage`).
 */
export interface ProcessCost {
  /** Runs this process made. */
  readonly runs: number;
  /** From the process's start until it could run the first task: loading Node, the CLI and the code. */
  readonly startupMs: number;
  readonly startupCpuMs: number;
  /** Wall and CPU time inside runs (run, determinism replay, page). */
  readonly busyMs: number;
  readonly runCpuMs: number;
  /** Wall time ready but without a task (waiting for the parent, or at the tail with nothing left). */
  readonly idleMs: number;
  /** All the CPU the process used. */
  readonly cpuMs: number;
}

export interface SweepCost {
  /** The process that plans and reports (with `--jobs 1` it also makes every run). */
  readonly parent: ProcessCost;
  /** One entry per worker process (`--jobs N`, N > 1). */
  readonly workers: readonly ProcessCost[];
}

const cpuNowMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Tallies one process's time: created when it is ready to run tasks, told of each run. */
export class CostMeter {
  private runs = 0;
  private busyMs = 0;
  private runCpuMs = 0;
  private readonly readyAt = performance.now();
  private readonly readyCpuMs = cpuNowMs();

  /** Runs `work` as one task, counting its wall and CPU time. */
  measure<T>(work: () => T): T {
    const [wallStart, cpuStart] = [performance.now(), cpuNowMs()];
    try {
      return work();
    } finally {
      this.runs++;
      this.busyMs += performance.now() - wallStart;
      this.runCpuMs += cpuNowMs() - cpuStart;
    }
  }

  /** The tally so far (`performance.now()` counts from the process's start: start-up included). */
  cost(): ProcessCost {
    const round = (ms: number): number => Math.round(ms);
    return {
      runs: this.runs,
      startupMs: round(this.readyAt),
      startupCpuMs: round(this.readyCpuMs),
      busyMs: round(this.busyMs),
      runCpuMs: round(this.runCpuMs),
      idleMs: round(performance.now() - this.readyAt - this.busyMs),
      cpuMs: round(cpuNowMs()),
    };
  }
}
