/**
 * The kv fast path's bounded plain search (`models/keyValuePlainSearch.ts`), for keys whose
 * written values repeat:
 * - given room, it is exact: it orders a key exactly when the reference search (Wing & Gong with
 *   Lowe's cache, `referenceLinearizable`) finds the key linearizable, and every order it finds
 *   is admitted by the certificate (real time and model steps);
 * - through the checker, with its bound and the search behind it, verdicts are the reference's,
 *   linearizable as generated and after mutations;
 * - on the benchmark's shape (appends of three values per key, 10 clients) it orders keys within
 *   its bound, so the checker's search is not needed there;
 * - its list of calls and returns made by one native sort of exact numbers (`packedEntries`) is
 *   the one `sortIds` makes, and it declines every key it cannot make exactly.
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../sim/rng.ts';
import { BudgetMeter } from './budget.ts';
import { checkLinearizability } from './checker.ts';
import { generateKeyValueHistory } from './generator/keyValueHistory.ts';
import type { Operation } from './history.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from './models/keyValue.ts';
import { linearizeKeyValue } from './models/keyValueLinearization.ts';
import { KeyValuePlainSearch, packedEntries, sortedEntries } from './models/keyValuePlainSearch.ts';
import { certifiesLinearization } from './_internals/certificate.ts';
import { mutateHistory, mutateKeyValueOutput } from './_test/mutateHistory.ts';
import { referenceLinearizable } from './_test/referenceChecker.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

const seed = fc.integer({ min: 0, max: 0x7fffffff });

/** A crowded history with repeated values, appends included, mutated two times in three. */
function crowded(label: string, value: number): KeyValueOperation[] {
  const random = new SeededRandom(`${label}-${value}`);
  const history = generateKeyValueHistory(random, {
    clients: 2 + random.below(8),
    operations: 1 + random.below(40),
    keys: 1,
    unknownPerTenThousand: random.below(4) * 1000,
    latencyMax: 1 + random.below(12),
    thinkMax: random.below(3),
    valuesPerKey: 1 + random.below(3),
  });
  return random.below(3) !== 0 ? mutateHistory(random, history, mutateKeyValueOutput) : history;
}

/** What the checker hands a model: failed operations and unknown gets left out. */
function relevant(operations: readonly KeyValueOperation[]): KeyValueOperation[] {
  return operations.filter((operation) => operation.outcome === 'ok' || (operation.outcome === 'unknown' && operation.input.kind !== 'get'));
}

function plainSearch(operations: readonly KeyValueOperation[], stepLimit: number): KeyValuePlainSearch & { found: boolean } {
  const invokedAt = Float64Array.from(operations, (operation) => operation.invokedAt);
  const completedAt = Float64Array.from(operations, (operation) => (operation.outcome === 'unknown' ? Infinity : operation.completedAt));
  const search = new KeyValuePlainSearch(operations, invokedAt, completedAt);
  const found = search.linearizeKey(Int32Array.from(operations, (_, position) => position), stepLimit, () => true);
  return Object.assign(search, { found });
}

test('plain search on one key, given room: orders it exactly when the reference search finds it linearizable, and the certificate admits every order', (t) => {
  const seen = { ordered: 0, refused: 0 };
  fc.assert(
    fc.property(seed, (value) => {
      const operations = relevant(crowded('kv-plain', value));
      const reference = referenceLinearizable(keyValueModel, operations, 1_000_000);
      if (reference === undefined) return true;
      const search = plainSearch(operations, 10_000_000);
      if (search.found !== reference) return false;
      if (!search.found) {
        seen.refused++;
        return true;
      }
      seen.ordered++;
      return certifiesLinearization(keyValueModel, operations, search.order.slice(0, search.length), new BudgetMeter());
    }),
    { numRuns: 400 },
  );
  t.true(seen.ordered > 100 && seen.refused >= 10, JSON.stringify(seen));
});

test('the checker with the bounded plain search in its fast path gives the reference verdict on crowded histories with repeated values', (t) => {
  fc.assert(
    fc.property(seed, (value) => {
      const history = crowded('kv-plain-checker', value);
      const reference = referenceLinearizable(keyValueModel, history, 1_000_000);
      if (reference === undefined) return true;
      const verdict = checkLinearizability(keyValueModel, history).verdict;
      return verdict === (reference ? 'linearizable' : 'not-linearizable');
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('appends of three values per key from 10 clients (the benchmark shape): every key is ordered within the bound', (t) => {
  const history = generateKeyValueHistory(new SeededRandom('kv-plain-bench-shape'), { clients: 10, operations: 3000, keys: 3, unknownPerTenThousand: 200, valuesPerKey: 3 });
  const order = linearizeKeyValue(relevant(history).filter((operation) => operation.input.key === 'k0'));
  t.not(order, undefined);
  const result = checkLinearizability(keyValueModel, history);
  t.is(result.verdict, 'linearizable');
  // Only the certificate's steps: one per operation kept, no search.
  t.true(result.steps <= history.length, `${result.steps} steps`);
});

test("the benchmark shape: a level's read goes first and its other gets cost no step, so the plain search backtracks little", (t) => {
  // Before task checker11 the plain search took 5.2 steps per operation on these keys (offering
  // the writes invoked before a read first, and counting every get the current value refused).
  const history = relevant(generateKeyValueHistory(new SeededRandom('kv-plain-bench-shape'), { clients: 10, operations: 3000, keys: 3, unknownPerTenThousand: 200, valuesPerKey: 3 }));
  let steps = 0;
  for (const key of ['k0', 'k1', 'k2']) {
    const search = plainSearch(
      history.filter((operation) => operation.input.key === key),
      1_000_000,
    );
    t.true(search.found, key);
    steps += search.steps;
  }
  t.true(steps < 3 * history.length, `${steps} steps for ${history.length} operations`);
});

test('the memory the plain search reserves is given back, and a refusal makes it give up', (t) => {
  const history = relevant(generateKeyValueHistory(new SeededRandom('kv-plain-memory'), { clients: 10, operations: 1000, keys: 5, unknownPerTenThousand: 200, valuesPerKey: 3 }));
  let held = 0;
  let most = 0;
  const order = linearizeKeyValue(history, (bytes) => {
    held += bytes;
    most = Math.max(most, held);
    return true;
  });
  t.not(order, undefined);
  t.is(held, 0);
  t.true(most > 0);
  t.is(
    linearizeKeyValue(history, (bytes) => bytes <= 0),
    undefined,
  );
});

test('the entry list by one native sort (packedEntries) is the sorted one wherever it is made, and it declines what it cannot make exactly', (t) => {
  const seen = { packed: 0, declined: 0 };
  const time = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 60 }) },
    fc.constantFrom(-1, 0.5, 2 ** 36 - 1, 2 ** 36, 2 ** 40, Number.MAX_SAFE_INTEGER, Infinity, NaN, -0),
  );
  const operation = fc.record({ invoked: time, length: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 12 }) }, fc.constantFrom(0.25, Infinity, 2 ** 36)) });
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 60 }), fc.boolean(), fc.integer({ min: 0, max: 0x7fffffff }), (drawn, inOrder, shuffle) => {
      // Positions into arrays with a few other operations between (as a key's in its partition).
      const calls = inOrder ? [...drawn].sort((a, b) => (Number.isNaN(a.invoked) || Number.isNaN(b.invoked) ? 0 : a.invoked - b.invoked)) : drawn;
      const invokedAt = new Float64Array(2 * calls.length);
      const completedAt = new Float64Array(2 * calls.length);
      const positions = new Int32Array(calls.length);
      calls.forEach(({ invoked, length }, at) => {
        const position = 2 * at + ((shuffle >>> at % 31) & 1);
        positions[at] = position;
        invokedAt[position] = invoked;
        completedAt[position] = invoked + length;
      });
      const packed = packedEntries(positions, invokedAt, completedAt);
      if (packed === undefined) {
        seen.declined++;
        // Declined only for a reason: calls out of order, or a time not whole, negative or too large.
        const exact = (value: number) => value === Infinity || (Number.isInteger(value) && value >= 0 && value < 2 ** 36);
        let ordered = true;
        for (let at = 1; at < positions.length; at++) ordered &&= invokedAt[positions[at - 1]!]! <= invokedAt[positions[at]!]!;
        return !ordered || !Array.from(positions).every((position) => exact(invokedAt[position]!) && invokedAt[position] !== Infinity && exact(completedAt[position]!));
      }
      seen.packed++;
      const sorted = sortedEntries(positions, invokedAt, completedAt);
      return packed.next.join() === sorted.next.join() && packed.previous.join() === sorted.previous.join();
    }),
    { numRuns: 600 },
  );
  // Both ways are drawn often (a sanity bound, not a distribution: 600 runs packed 193-300).
  t.true(seen.packed > 100 && seen.declined > 50, JSON.stringify(seen));
  // Found by this property (seed -1110822896): an unknown outcome's call past the bound was packed
  // after its own return. Pinned, since 600 runs draw it only now and then.
  t.is(packedEntries(Int32Array.of(0), Float64Array.of(Number.MAX_SAFE_INTEGER), Float64Array.of(Infinity)), undefined);
  t.is(packedEntries(Int32Array.of(0), Float64Array.of(2 ** 36), Float64Array.of(Infinity)), undefined);
});
