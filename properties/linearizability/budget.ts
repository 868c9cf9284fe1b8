/**
 * How much work a check may do before it answers `unknown`. Linearizability checking is
 * NP-complete (Gibbons & Korach 1997), so every caller sets a limit; the checker enforces it
 * inside the search of each partition, not only between partitions, so one pathological
 * partition cannot hang a run.
 */
export interface Budget {
  /** The most model steps in total over all partitions. */
  readonly maxSteps?: number;
  /** Wall-clock limit in milliseconds, measured with `clock`. */
  readonly timeoutMs?: number;
  /** Milliseconds from any fixed origin; defaults to `performance.now`. Tests pass a fake. */
  readonly clock?: () => number;
}

/**
 * Reading a clock costs about as much as a cheap model step, so the meter looks at it once per
 * this many steps. At well over a million steps a second that still notices a deadline within
 * a fraction of a millisecond.
 */
const stepsPerClockRead = 256;

/** Counts the steps of one check against its `Budget`. */
export class BudgetMeter {
  readonly #maxSteps: number;
  readonly #deadline: number;
  readonly #clock: () => number;
  #steps = 0;
  #untilClockRead = stepsPerClockRead;
  #exhausted = false;

  constructor(budget: Budget = {}) {
    this.#maxSteps = budget.maxSteps ?? Infinity;
    this.#clock = budget.clock ?? (() => performance.now());
    this.#deadline = budget.timeoutMs === undefined ? Infinity : this.#clock() + budget.timeoutMs;
  }

  /** Records one step; false once the budget is spent (and from then on). */
  spend(): boolean {
    this.#steps++;
    if (this.#steps > this.#maxSteps) this.#exhausted = true;
    if (--this.#untilClockRead === 0) {
      this.#untilClockRead = stepsPerClockRead;
      if (this.#deadline !== Infinity && this.#clock() >= this.#deadline) this.#exhausted = true;
    }
    return !this.#exhausted;
  }

  get steps(): number {
    return this.#steps;
  }

  get exhausted(): boolean {
    return this.#exhausted;
  }
}
