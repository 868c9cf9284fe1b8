/** Work done in steps: a generator that stops after each (a host may spread the steps over turns of its loop) and returns its result at the end. */
export type Steps<T> = Generator<void, T, void>;

/** The result of `steps`, taken all at once. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}
