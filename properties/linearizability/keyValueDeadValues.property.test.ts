/**
 * Dead values (`models/keyValueDeadValues.ts`): the search takes every value that no pending get
 * can read before the next put as one stand-in. Through the analysis and the search (the fast
 * path left out, so that the search runs), verdicts stay the reference's (Wing & Gong with
 * Lowe's cache, no pruning) on crowded histories of repeated values with appends, per key and
 * as one partition, linearizable as generated and after mutations; and on the benchmark's
 * crowded shape the stand-in takes most of the search's steps away, and the kv fast path's plain
 * search (which has the stand-in too; its exactness is `keyValuePlainSearch.property.test.ts`'s)
 * orders such keys in ~40–70 steps per operation.
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../sim/rng.ts';
import { checkLinearizability } from './checker.ts';
import { generateKeyValueHistory } from './generator/keyValueHistory.ts';
import { withoutInference, withoutPartition, type Model } from './model.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput, type KeyValueState } from './models/keyValue.ts';
import { KeyValuePlainSearch } from './models/keyValuePlainSearch.ts';
import { mutateHistory, mutateKeyValueOutput } from './_test/mutateHistory.ts';
import { agreesWithReference } from './_test/referenceChecker.ts';

type KeyValueModel = Model<KeyValueState, KeyValueInput, KeyValueOutput>;

const seed = fc.integer({ min: 0, max: 0x7fffffff });

/** The kv model without its fast path: the analysis, then the search with the lookahead. */
function searched(model: KeyValueModel): KeyValueModel {
  const { linearize, ...rest } = model;
  return rest;
}

/** The same, without the stand-in: the lookahead's `canonical` left out. */
function withoutDeadValues(model: KeyValueModel): KeyValueModel {
  return {
    ...model,
    analyze(operations) {
      const analysis = model.analyze!(operations);
      const lookahead = analysis.lookahead;
      if (lookahead === undefined) return analysis;
      return {
        ...analysis,
        lookahead: (kept) => {
          const { canonical, ...rest } = lookahead(kept);
          const track = rest.track.bind(rest);
          const viable = rest.viable.bind(rest);
          return { track, viable };
        },
      };
    },
  };
}

for (const partitioned of [true, false]) {
  test(`dead values (${partitioned ? 'per key' : 'one partition'}): the search with the stand-in agrees with the plain search on crowded histories of repeated values`, (t) => {
    const model = searched(partitioned ? keyValueModel : withoutPartition(keyValueModel));
    const reference = withoutInference(partitioned ? keyValueModel : withoutPartition(keyValueModel));
    const seen = { linearizable: 0, not: 0, undecided: 0 };
    fc.assert(
      fc.property(seed, (value) => {
        const random = new SeededRandom(`dead-values-${partitioned}-${value}`);
        let history = generateKeyValueHistory(random, {
          clients: 2 + random.below(9),
          operations: 1 + random.below(45),
          keys: 1 + random.below(2),
          unknownPerTenThousand: random.below(4) * 1000,
          latencyMax: 2 + random.below(12),
          thinkMax: random.below(3),
          valuesPerKey: 1 + random.below(3),
        });
        for (let mutations = random.below(3); mutations > 0; mutations--) history = mutateHistory(random, history, mutateKeyValueOutput);
        return agreesWithReference(model, reference, history, seen);
      }),
      { numRuns: 300 },
    );
    t.true(seen.linearizable > 50 && seen.not > 15, JSON.stringify(seen));
  });
}

test('dead values: on 20 clients appending 3 values to 2 keys, the search needs a fraction of the steps it needs without the stand-in', (t) => {
  const history = generateKeyValueHistory(new SeededRandom('dead-values-crowded'), { clients: 20, operations: 400, keys: 2, unknownPerTenThousand: 200, valuesPerKey: 3 });
  const model = searched(keyValueModel);
  const withStandIn = checkLinearizability(model, history);
  const without = checkLinearizability(withoutDeadValues(model), history);
  t.is(withStandIn.verdict, 'linearizable');
  t.is(without.verdict, 'linearizable');
  t.true(withStandIn.steps * 2 < without.steps, `${withStandIn.steps} steps with the stand-in, ${without.steps} without`);
});

test('dead values: the plain search orders each key of 20 clients appending 3 values to 2 keys (the benchmark\'s class 21 shape) within 96 steps per operation', (t) => {
  const history = generateKeyValueHistory(new SeededRandom('dead-values-plain'), { clients: 20, operations: 2000, keys: 2, unknownPerTenThousand: 200, valuesPerKey: 3 });
  const operations = history.filter((operation) => operation.outcome === 'ok' || (operation.outcome === 'unknown' && operation.input.kind !== 'get'));
  const invokedAt = Float64Array.from(operations, (operation) => operation.invokedAt);
  const completedAt = Float64Array.from(operations, (operation) => (operation.outcome === 'unknown' ? Infinity : operation.completedAt));
  for (const key of new Set(operations.map((operation) => operation.input.key))) {
    const positions = Int32Array.from(operations.flatMap((operation, position) => (operation.input.key === key ? [position] : [])));
    const search = new KeyValuePlainSearch(operations, invokedAt, completedAt);
    t.true(search.linearizeKey(positions, 96 * positions.length, () => true), `key ${key}: ${search.steps} steps for ${positions.length} operations`);
    t.log(`key ${key}: ${search.steps} steps for ${positions.length} operations`);
  }
});
