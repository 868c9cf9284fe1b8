/**
 * The search tries only the first-completing of identical pending operations (`completedTwins` in
 * `search.ts`): with repeated written values, most writes have twins. Its verdicts stay the plain
 * search's (Wing & Gong with Lowe's cache, no other pruning) on crowded histories with one or two
 * values per key, linearizable as generated and after mutations.
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../sim/rng.ts';
import { generateKeyValueHistory } from './generator/keyValueHistory.ts';
import { withoutInference } from './model.ts';
import { keyValueModel } from './models/keyValue.ts';
import { mutateHistory, mutateKeyValueOutput } from './_test/mutateHistory.ts';
import { agreesWithReference } from './_test/referenceChecker.ts';

const seed = fc.integer({ min: 0, max: 0x7fffffff });

test('identical writes: the search that tries one of each pending set of twins agrees with the plain search', (t) => {
  const plainSearch = withoutInference(keyValueModel);
  const seen = { linearizable: 0, not: 0, undecided: 0 };
  fc.assert(
    fc.property(seed, (value) => {
      const random = new SeededRandom(`search-twins-${value}`);
      let history = generateKeyValueHistory(random, {
        clients: 2 + random.below(8),
        operations: 1 + random.below(40),
        keys: 1 + random.below(2),
        unknownPerTenThousand: random.below(3) * 1000,
        latencyMax: 2 + random.below(12),
        thinkMax: random.below(3),
        valuesPerKey: 1 + random.below(2),
        ...(random.below(2) === 0 ? { mix: { get: 1, put: 1, append: 0 } } : {}),
      });
      for (let mutations = random.below(3); mutations > 0; mutations--) history = mutateHistory(random, history, mutateKeyValueOutput);
      return agreesWithReference(plainSearch, plainSearch, history, seen);
    }),
    { numRuns: 300 },
  );
  // Both verdicts must be well represented. fast-check draws new seeds every run and about one
  // history in ten is not linearizable, so the floor sits at half of that (a floor of 30 failed on
  // a run that saw exactly 30).
  t.true(seen.linearizable > 50 && seen.not > 15, JSON.stringify(seen));
});
