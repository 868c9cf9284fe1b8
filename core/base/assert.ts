/**
 * Assertions stay on in every build. A broken invariant is a programmer error: it throws at
 * once, and the simulator turns the throw into a failed run that prints its seed.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  /**
   * For a check that can only see a failure some time after its cause (a read not answered
   * within a bound): when the cause happened, in simulated µs. A shrinker cuts the run there
   * (everything invoked later cannot have caused it) and keeps running it until the check fires.
   */
  readonly causeUs: number | undefined;

  constructor(message: string, options: { readonly causeUs?: number } = {}) {
    super(message);
    this.causeUs = options.causeUs;
  }
}

/**
 * Throws an AssertionError when `condition` is false. In code that runs on every event or message,
 * write `if (!condition) throw new AssertionError(...)` instead of passing a message closure: V8
 * allocates the closure, and the context of every variable it captures, on each call, and whether
 * escape analysis removes them depends on inlining decisions that differ from process to process.
 */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'string' ? message : message());
  }
}

export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** Asserts that `value` is a safe non-negative integer and returns it. */
export function assertNat(value: number, what: string): number {
  assert(Number.isSafeInteger(value) && value >= 0, () => `${what} must be a non-negative safe integer, got ${value}`);
  return value;
}
