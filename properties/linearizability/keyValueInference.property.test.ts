/**
 * The kv model's inferences (`analyze`: unknown outcomes settled, violations found without a
 * search, the lookahead) never change a verdict: on generated histories — unique or repeated
 * values, every fate of unknown writes, planted stale and foreign reads, random mutations — the
 * checker agrees with the plain Wing & Gong search (and, on small histories, with brute force).
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../sim/rng.ts';
import { checkLinearizability } from './checker.ts';
import { generateKeyValueHistory, type KeyValueHistoryOptions, type UnknownEffect } from './generator/keyValueHistory.ts';
import { plantAnomaly } from './generator/plantAnomaly.ts';
import type { Operation } from './history.ts';
import { withoutPartition } from './model.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from './models/keyValue.ts';
import { bruteForceLinearizable } from './_test/bruteForce.ts';
import { mutateHistory, mutateKeyValueOutput } from './_test/mutateHistory.ts';
import { referenceLinearizable } from './_test/referenceChecker.ts';

const effects: readonly UnknownEffect[] = ['inside', 'after-give-up', 'never', 'half'];

/** A random history from one seed: options, anomalies and mutations all drawn from it. */
function history(seed: number, operationsMax: number): Operation<KeyValueInput, KeyValueOutput>[] {
  const random = new SeededRandom(`kv-inference-${seed}`);
  const options: KeyValueHistoryOptions = {
    clients: 1 + random.below(5),
    operations: 1 + random.below(operationsMax),
    keys: 1 + random.below(2),
    unknownPerTenThousand: random.below(3) * 1500,
    failPerTenThousand: random.below(2) * 500,
    unknownEffect: effects[random.below(effects.length)]!,
    latencyMax: 1 + random.below(8),
    thinkMax: random.below(3),
    ...(random.below(3) === 0 ? { valuesPerKey: 1 + random.below(3) } : {}),
  };
  let operations = generateKeyValueHistory(random, options);
  const plant = random.below(4);
  if (plant === 1) operations = plantAnomaly(random, operations, 'stale-read').history;
  if (plant === 2) operations = plantAnomaly(random, operations, 'foreign-read').history;
  for (let mutations = random.below(3); mutations > 0; mutations--) operations = mutateHistory(random, operations, mutateKeyValueOutput);
  return operations;
}

const seed = fc.integer({ min: 0, max: 0x7fffffff });

for (const [name, model] of [
  ['per key', keyValueModel],
  ['as one partition', withoutPartition(keyValueModel)],
] as const) {
  test(`kv ${name}: the inferences agree with the plain search on histories of up to 40 operations`, (t) => {
    const verdicts = { linearizable: 0, 'not-linearizable': 0 };
    fc.assert(
      fc.property(seed, (value) => {
        const operations = history(value, 40);
        // The plain search is exponential on some histories; those are skipped.
        const plain = referenceLinearizable(keyValueModel, operations, 30_000);
        fc.pre(plain !== undefined);
        const expected = plain ? 'linearizable' : 'not-linearizable';
        verdicts[expected]++;
        return checkLinearizability(model, operations).verdict === expected;
      }),
      { numRuns: 200 },
    );
    t.true(verdicts.linearizable > 30 && verdicts['not-linearizable'] > 30, JSON.stringify(verdicts));
  });
}

test('kv: the inferences agree with brute force on histories of up to 8 operations', (t) => {
  fc.assert(
    fc.property(seed, (value) => {
      const operations = history(value, 8);
      const expected = bruteForceLinearizable(keyValueModel, operations) ? 'linearizable' : 'not-linearizable';
      return checkLinearizability(keyValueModel, operations).verdict === expected;
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('kv: generated histories with unique values are linearizable, and a planted anomaly is found without a search', (t) => {
  fc.assert(
    fc.property(seed, fc.constantFrom('stale-read' as const, 'foreign-read' as const), (value, kind) => {
      const random = new SeededRandom(`kv-plant-${value}`);
      const operations = generateKeyValueHistory(random, { clients: 5, operations: 300, keys: 3, unknownPerTenThousand: 300, unknownEffect: effects[random.below(4)]! });
      if (checkLinearizability(keyValueModel, operations).verdict !== 'linearizable') return false;
      const { history: planted, planted: index } = plantAnomaly(random, operations, kind);
      if (index < 0) return true;
      const result = checkLinearizability(keyValueModel, planted);
      // Without a search: the analysis explains it; the steps are the fast path's, verifying the other keys.
      return result.verdict === 'not-linearizable' && result.violation!.explanation !== undefined && result.steps <= planted.length && result.violation!.stuck[0] === index;
    }),
    { numRuns: 60 },
  );
  t.pass();
});
