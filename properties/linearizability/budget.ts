/**
 * How much work and memory a check may use before it answers `unknown`. Linearizability checking
 * is NP-complete (Gibbons & Korach 1997), so every caller sets a limit; the checker enforces it
 * inside the search of each partition, not only between partitions, so one pathological
 * partition cannot hang a run or exhaust the heap.
 *
 * Memory is budgeted by accounting, not by watching the heap: every search reserves what it
 * stores (the cache's arrays, its stacks, each model state it keeps, by the model's estimate)
 * before storing it, and stops when a reservation is refused. So the verdict is `unknown` with
 * the reason, the process lives on, and the next history gets its check.
 */
export interface Budget {
  /** The most model steps in total over all partitions. */
  readonly maxSteps?: number;
  /** Wall-clock limit in milliseconds, measured with `clock`. */
  readonly timeoutMs?: number;
  /** The most bytes the check's searches may hold at once. Default `defaultMemoryBytes`. */
  readonly memoryBytes?: number;
  /** Milliseconds from any fixed origin; defaults to `performance.now`. Tests pass a fake. */
  readonly clock?: () => number;
}

/** 1 GiB: a quarter of Node's default heap limit on a 64-bit machine with enough memory. */
export const defaultMemoryBytes = 1024 * 1024 * 1024;

/** Why a check stopped early. */
export type Exhaustion = 'steps' | 'time' | 'memory';

/**
 * Reading a clock costs about as much as a cheap model step, so the meter looks at it once per
 * this many steps. At well over a million steps a second that still notices a deadline within
 * a fraction of a millisecond.
 */
const stepsPerClockRead = 256;

/** Counts the steps and reserved bytes of one check against its `Budget`. */
export class BudgetMeter {
  readonly #maxSteps: number;
  readonly #deadline: number;
  readonly #clock: () => number;
  readonly memoryLimit: number;
  #steps = 0;
  #untilClockRead = stepsPerClockRead;
  #reserved = 0;
  #peak = 0;
  #exhaustion: Exhaustion | undefined;
  #memoryRefused = false;

  constructor(budget: Budget = {}) {
    this.#maxSteps = budget.maxSteps ?? Infinity;
    this.#clock = budget.clock ?? (() => performance.now());
    this.#deadline = budget.timeoutMs === undefined ? Infinity : this.#clock() + budget.timeoutMs;
    this.memoryLimit = budget.memoryBytes ?? defaultMemoryBytes;
  }

  /** Records one step; false once the budget is spent (and from then on). */
  spend(): boolean {
    this.#steps++;
    if (this.#steps > this.#maxSteps) this.#exhaust('steps');
    if (--this.#untilClockRead === 0) {
      this.#untilClockRead = stepsPerClockRead;
      if (this.#deadline !== Infinity && this.#clock() >= this.#deadline) this.#exhaust('time');
    }
    return this.#exhaustion === undefined;
  }

  /**
   * `count` steps at once, as `count` calls of `spend` would count them (the clock read at most
   * once): for a pass that steps the model without searching (the certificate), where a call per
   * step costs more than the step before the JIT compiles it.
   */
  spendSteps(count: number): boolean {
    this.#steps += count;
    if (this.#steps > this.#maxSteps) this.#exhaust('steps');
    this.#untilClockRead -= count;
    if (this.#untilClockRead <= 0) {
      this.#untilClockRead = stepsPerClockRead;
      if (this.#deadline !== Infinity && this.#clock() >= this.#deadline) this.#exhaust('time');
    }
    return this.#exhaustion === undefined;
  }

  /**
   * Reserves `bytes` (true), or refuses when that would pass the limit (false: the search asking
   * must stop). A negative count releases what was reserved.
   */
  reserve(bytes: number): boolean {
    if (bytes > 0 && this.#reserved + bytes > this.memoryLimit) {
      // Only the search refused stops: the others may still refute the history, with the
      // memory it gives back.
      this.#memoryRefused = true;
      return false;
    }
    this.#reserved += bytes;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
    return true;
  }

  get steps(): number {
    return this.#steps;
  }

  /** The most bytes held at once so far. */
  get peakBytes(): number {
    return this.#peak;
  }

  /** Steps or time, once spent (every search stops); else memory, once a reservation was refused. */
  get exhaustion(): Exhaustion | undefined {
    return this.#exhaustion ?? (this.#memoryRefused ? 'memory' : undefined);
  }

  #exhaust(reason: Exhaustion): void {
    this.#exhaustion ??= reason;
  }
}
