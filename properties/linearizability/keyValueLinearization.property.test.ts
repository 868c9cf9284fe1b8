/**
 * The kv model's fast path (`linearize`, `models/keyValueLinearization.ts`) and the certificate
 * that admits what it proposes (`_internals/certificate.ts`):
 * - whatever it proposes and the certificate admits is linearizable by the plain search (on
 *   generated, planted and mutated histories), so the fast path never changes a verdict;
 * - it decides every generated history with unique written values that is linearizable, whatever
 *   becomes of its unknown writes, per key and as one partition: the job order by zone is exact
 *   there, and the search is only for what it does not read;
 * - the certificate refuses an order that breaks real time, the model, or leaves an ok operation
 *   out.
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../sim/rng.ts';
import { BudgetMeter } from './budget.ts';
import { generateKeyValueHistory, type UnknownEffect } from './generator/keyValueHistory.ts';
import { plantAnomaly } from './generator/plantAnomaly.ts';
import type { Operation } from './history.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from './models/keyValue.ts';
import { linearizeKeyValue } from './models/keyValueLinearization.ts';
import { certifiesLinearization } from './_internals/certificate.ts';
import { mutateHistory, mutateKeyValueOutput } from './_test/mutateHistory.ts';
import { referenceLinearizable } from './_test/referenceChecker.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

const effects: readonly UnknownEffect[] = ['inside', 'after-give-up', 'never', 'half'];
const seed = fc.integer({ min: 0, max: 0x7fffffff });

/** What the checker hands a model: failed operations and unknown gets left out. */
function relevant(operations: readonly KeyValueOperation[]): KeyValueOperation[] {
  return operations.filter((operation) => operation.outcome === 'ok' || (operation.outcome === 'unknown' && operation.input.kind !== 'get'));
}

/** The operations of each key, as the checker partitions them. */
function byKey(operations: readonly KeyValueOperation[]): KeyValueOperation[][] {
  const keys = new Map<string, KeyValueOperation[]>();
  for (const operation of relevant(operations)) {
    const list = keys.get(operation.input.key);
    if (list === undefined) keys.set(operation.input.key, [operation]);
    else list.push(operation);
  }
  return [...keys.values()];
}

/** Whether the fast path proposes an order for `operations` and the certificate admits it. */
function decidedAtOnce(operations: readonly KeyValueOperation[]): boolean {
  const order = linearizeKeyValue(operations);
  return order !== undefined && certifiesLinearization(keyValueModel, operations, order, new BudgetMeter());
}

function generated(value: number, operationsMax: number, repeated: boolean): KeyValueOperation[] {
  const random = new SeededRandom(`kv-linearization-${value}`);
  return generateKeyValueHistory(random, {
    clients: 1 + random.below(10),
    operations: 1 + random.below(operationsMax),
    keys: 1 + random.below(3),
    unknownPerTenThousand: random.below(4) * 1000,
    failPerTenThousand: random.below(2) * 500,
    unknownEffect: effects[random.below(effects.length)]!,
    latencyMax: 1 + random.below(10),
    thinkMax: random.below(4),
    ...(repeated ? { valuesPerKey: 1 + random.below(3) } : {}),
  });
}

test('kv fast path: generated histories with unique values are decided at once, per key and as one partition, whatever becomes of the unknown writes', (t) => {
  fc.assert(
    fc.property(seed, (value) => {
      const operations = generated(value, 400, false);
      return byKey(operations).every(decidedAtOnce) && decidedAtOnce(relevant(operations));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('kv fast path: what the certificate admits, the plain search finds linearizable (generated, planted, mutated, repeated values)', (t) => {
  const seen = { admitted: 0, refused: 0 };
  fc.assert(
    fc.property(seed, (value) => {
      const random = new SeededRandom(`kv-linearization-mutated-${value}`);
      let operations = generated(value, 30, random.below(3) === 0);
      const plant = random.below(3);
      if (plant === 1) operations = plantAnomaly(random, operations, 'stale-read').history;
      if (plant === 2) operations = plantAnomaly(random, operations, 'foreign-read').history;
      for (let mutations = random.below(3); mutations > 0; mutations--) operations = mutateHistory(random, operations, mutateKeyValueOutput);
      const whole = relevant(operations);
      if (!decidedAtOnce(whole)) {
        seen.refused++;
        return true;
      }
      seen.admitted++;
      return referenceLinearizable(keyValueModel, operations, 200_000) !== false;
    }),
    { numRuns: 400 },
  );
  t.true(seen.admitted > 50 && seen.refused > 50, JSON.stringify(seen));
});

test('kv replay (repeated values): what the certificate admits, the plain search finds linearizable; most put/get histories are decided at once', (t) => {
  const seen = { admitted: 0, refused: 0, registers: 0, registersDecided: 0 };
  fc.assert(
    fc.property(seed, (value) => {
      const random = new SeededRandom(`kv-replay-${value}`);
      const registers = random.below(2) === 0;
      let operations = generateKeyValueHistory(random, {
        clients: 1 + random.below(8),
        operations: 1 + random.below(40),
        keys: 1 + random.below(2),
        unknownPerTenThousand: random.below(3) * 1000,
        latencyMax: 1 + random.below(10),
        thinkMax: random.below(4),
        valuesPerKey: 1 + random.below(3),
        ...(registers ? { mix: { get: 1, put: 1, append: 0 } } : {}),
      });
      const mutated = random.below(2) === 0;
      if (mutated) operations = mutateHistory(random, operations, mutateKeyValueOutput);
      const decided = byKey(operations).every(decidedAtOnce);
      if (registers && !mutated) {
        seen.registers++;
        if (decided) seen.registersDecided++;
      }
      if (!decided) {
        seen.refused++;
        return true;
      }
      seen.admitted++;
      // Its keys' orders merged by the points their operations took (the model checked as one
      // partition): admitted too.
      if (!decidedAtOnce(relevant(operations))) return false;
      return referenceLinearizable(keyValueModel, operations, 200_000) !== false;
    }),
    { numRuns: 400 },
  );
  t.true(seen.admitted > 100 && seen.refused > 10, JSON.stringify(seen));
  t.true(seen.registersDecided >= 0.8 * seen.registers, JSON.stringify(seen));
});

const put = (process: number, invokedAt: number, completedAt: number, value: string): KeyValueOperation => ({ process, invokedAt, completedAt, input: { kind: 'put', key: 'x', value }, output: {}, outcome: 'ok' });
const get = (process: number, invokedAt: number, completedAt: number, value: string): KeyValueOperation => ({ process, invokedAt, completedAt, input: { kind: 'get', key: 'x' }, output: { value }, outcome: 'ok' });

test('the certificate refuses an order against real time, an illegal step, and an ok operation left out', (t) => {
  const history = [put(0, 0, 1, 'a'), get(1, 2, 3, 'a'), put(0, 4, 5, 'b'), get(1, 6, 7, 'b')];
  const admits = (order: number[]) => certifiesLinearization(keyValueModel, history, Int32Array.from(order), new BudgetMeter());
  t.true(admits([0, 1, 2, 3]));
  t.false(admits([0, 2, 1, 3]), 'get a after put b: the model refuses the step');
  t.false(admits([2, 0, 1, 3]), 'put b was invoked after get a completed');
  t.false(admits([0, 1, 2]), 'get b is left out');
  t.false(admits([0, 1, 1, 2, 3]), 'get a twice');
});

test('the fast path gives up on a value no write makes and on a stale read; repeated and empty values are replayed', (t) => {
  t.true(decidedAtOnce([put(0, 0, 1, 'a'), put(1, 0, 1, 'a'), get(2, 2, 3, 'a')]));
  t.true(decidedAtOnce([put(0, 0, 1, ''), get(2, 2, 3, '')]));
  t.is(linearizeKeyValue([put(0, 0, 1, 'a'), get(2, 2, 3, 'b')]), undefined);
  // A stale read: the order by zone fails, and the search (here: none) would decide.
  t.is(linearizeKeyValue([put(0, 0, 1, 'a'), put(0, 2, 3, 'b'), get(1, 4, 5, 'a')]), undefined);
  t.deepEqual(Array.from(linearizeKeyValue([put(0, 0, 10, 'a'), put(1, 0, 10, 'b'), get(2, 1, 2, 'b'), get(3, 3, 4, 'a')])!), [1, 2, 0, 3]);
});
