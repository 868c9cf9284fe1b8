/**
 * Assertions stay on in every build. A broken invariant is a programmer error: it throws at
 * once, and the simulator turns the throw into a failed run that prints its seed.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

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
