/**
 * The definition of linearizability, executed without cleverness, for small histories: try
 * every order of the operations that respects real time, where failed operations are left out
 * and unknown-outcome ones may be left out, and ask the model whether one is legal. No cache,
 * no pruning, no partitioning: what the checker must agree with.
 */
import { precedes, type Operation } from '../history.ts';
import type { Model } from '../model.ts';

export function bruteForceLinearizable<State, Input, Output extends {} | null>(model: Model<State, Input, Output>, history: readonly Operation<Input, Output>[]): boolean {
  const candidates = history.filter((operation) => operation.outcome !== 'fail');
  const placed = candidates.map(() => false);
  const search = (state: State, remainingCompleted: number): boolean => {
    if (remainingCompleted === 0) return true;
    for (let i = 0; i < candidates.length; i++) {
      if (placed[i]) continue;
      const operation = candidates[i]!;
      if (candidates.some((other, j) => !placed[j] && j !== i && precedes(other, operation))) continue;
      const next = model.step(state, operation.input, operation.outcome === 'ok' ? operation.output : undefined);
      if (next === undefined) continue;
      placed[i] = true;
      const found = search(next, remainingCompleted - (operation.outcome === 'ok' ? 1 : 0));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(model.init(), candidates.filter((operation) => operation.outcome === 'ok').length);
}
