/**
 * Wing & Gong's backtracking with Lowe's cache and nothing else, written for clarity: recursion,
 * a bitset per configuration (copied into a string key, as Porcupine clones its bitset), every
 * candidate tried in invocation order, unknown outcomes completing at infinity. It is what
 * Porcupine does, and it serves as a second opinion on histories too long for brute force and
 * as the benchmark's algorithmic baseline.
 */
import type { Operation } from '../history.ts';
import { checkLinearizability } from '../checker.ts';
import type { Model } from '../model.ts';

export function referenceLinearizable<State, Input, Output extends {} | null>(model: Model<State, Input, Output>, history: readonly Operation<Input, Output>[]): boolean;
/** With a limit on model steps: undefined when the search needs more. */
export function referenceLinearizable<State, Input, Output extends {} | null>(model: Model<State, Input, Output>, history: readonly Operation<Input, Output>[], maxSteps: number): boolean | undefined;
export function referenceLinearizable<State, Input, Output extends {} | null>(model: Model<State, Input, Output>, history: readonly Operation<Input, Output>[], maxSteps = Infinity): boolean | undefined {
  let steps = 0;
  const operations = history.filter((operation) => operation.outcome !== 'fail');
  const ends = operations.map((operation) => (operation.outcome === 'ok' ? operation.completedAt : Infinity));
  const completedCount = operations.filter((operation) => operation.outcome === 'ok').length;
  const taken = operations.map(() => false);
  // 16 operations per character of the key.
  const bits = new Uint16Array(Math.ceil(operations.length / 16));
  const flip = (i: number) => (bits[i >> 4]! ^= 1 << (i & 15));
  const visited = new Set<string>();
  const search = (state: State, remaining: number): boolean => {
    if (remaining === 0) return true;
    // Candidates: operations invoked by the time the earliest pending completed one completes.
    let deadline = Infinity;
    operations.forEach((_, i) => {
      if (!taken[i]) deadline = Math.min(deadline, ends[i]!);
    });
    for (let i = 0; i < operations.length; i++) {
      const operation = operations[i]!;
      if (taken[i] || operation.invokedAt > deadline) continue;
      if (++steps > maxSteps) throw new OutOfSteps();
      const next = model.step(state, operation.input, operation.outcome === 'ok' ? operation.output : undefined);
      if (next === undefined) continue;
      taken[i] = true;
      flip(i);
      const key = `${String.fromCharCode(...bits)}|${model.hash(next)}|${model.describeState(next)}`;
      const fresh = !visited.has(key);
      visited.add(key);
      const found = fresh && search(next, remaining - (operation.outcome === 'ok' ? 1 : 0));
      taken[i] = false;
      flip(i);
      if (found) return true;
    }
    return false;
  };
  try {
    return search(model.init(), completedCount);
  } catch (error) {
    if (error instanceof OutOfSteps) return undefined;
    throw error;
  }
}

class OutOfSteps extends Error {}

/** What the reference search said across a property's draws: both verdicts must be well represented. */
export interface ReferenceTally {
  linearizable: number;
  not: number;
  undecided: number;
}

/**
 * Whether `checkLinearizability(checked, history)` gives the reference search's verdict (with
 * `reference`, within `maxSteps`); a history the reference cannot decide within them agrees. The
 * reference's answer is counted in `tally`.
 */
export function agreesWithReference<State, Input, Output extends {} | null>(checked: Model<State, Input, Output>, reference: Model<State, Input, Output>, history: readonly Operation<Input, Output>[], tally: ReferenceTally, maxSteps = 300_000): boolean {
  const expected = referenceLinearizable(reference, history, maxSteps);
  if (expected === undefined) {
    tally.undecided++;
    return true;
  }
  expected ? tally.linearizable++ : tally.not++;
  return checkLinearizability(checked, history).verdict === (expected ? 'linearizable' : 'not-linearizable');
}
