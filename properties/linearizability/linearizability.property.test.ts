/**
 * Property tests of the checker against its specification:
 * - histories linearizable by construction (atomic objects, random overlapping intervals,
 *   failed requests and unknown outcomes, reads among them) are accepted;
 * - after a random mutation, the checker rejects a small history exactly when the brute-force
 *   reference (every real-time order, no pruning) rejects it, and a longer one exactly when the
 *   plain Wing & Gong search with Lowe's cache (no other pruning) rejects it.
 * Each case is generated from one integer seed, which fast-check prints on failure.
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../sim/rng.ts';
import { checkLinearizability } from './checker.ts';
import type { Operation } from './history.ts';
import { withoutPartition, type Model } from './model.ts';
import { etcdModel } from './models/etcd.ts';
import { keyValueModel } from './models/keyValue.ts';
import { registerModel } from './models/register.ts';
import { atomicEtcd, atomicKeyValue, atomicRegister, type AtomicObject } from './_test/atomicObjects.ts';
import { bruteForceLinearizable } from './_test/bruteForce.ts';
import { referenceLinearizable } from './_test/referenceChecker.ts';
import { mutateEtcdOutput, mutateHistory, mutateKeyValueOutput, mutateRegisterOutput, type OutputMutation } from './_test/mutateHistory.ts';
import { simulateHistory, type SimulationOptions } from './_test/simulateHistory.ts';

interface Subject<State, Input, Output extends {} | null> {
  readonly name: string;
  readonly model: Model<State, Input, Output>;
  readonly object: () => AtomicObject<Input, Output>;
  readonly mutate: OutputMutation<Input, Output>;
}

const subjects = [
  { name: 'register', model: registerModel, object: () => atomicRegister(), mutate: mutateRegisterOutput },
  { name: 'kv', model: keyValueModel, object: () => atomicKeyValue(), mutate: mutateKeyValueOutput },
  { name: 'kv as one partition', model: withoutPartition(keyValueModel), object: () => atomicKeyValue(), mutate: mutateKeyValueOutput },
  { name: 'etcd', model: etcdModel, object: () => atomicEtcd(3), mutate: mutateEtcdOutput },
] as const;

const seed = fc.integer({ min: 0, max: 0x7fffffff });

function simulation(random: SeededRandom, operationsMax: number): SimulationOptions {
  return {
    clients: 1 + random.below(5),
    operations: 1 + random.below(operationsMax),
    failPercent: 10,
    unknownPercent: 15,
    latencyMax: 1 + random.below(12),
    thinkMax: random.below(4),
  };
}

function accepts<State, Input, Output extends {} | null>(subject: Subject<State, Input, Output>) {
  test(`${subject.name}: histories linearizable by construction are accepted`, (t) => {
    fc.assert(
      fc.property(seed, (value) => {
        const random = new SeededRandom(`accept-${value}`);
        const history = simulateHistory(random, simulation(random, 60), subject.object());
        const result = checkLinearizability(subject.model, history);
        return result.verdict === 'linearizable';
      }),
      { numRuns: 150 },
    );
    t.pass();
  });
}

function agreesWithBruteForce<State, Input, Output extends {} | null>(subject: Subject<State, Input, Output>) {
  test(`${subject.name}: mutated small histories are rejected exactly when brute force rejects them`, (t) => {
    let rejected = 0;
    fc.assert(
      fc.property(seed, (value) => {
        const random = new SeededRandom(`mutate-${value}`);
        const original = simulateHistory(random, simulation(random, 7), subject.object());
        let history: Operation<Input, Output>[] = original;
        for (let mutations = 1 + random.below(2); mutations > 0; mutations--) history = mutateHistory(random, history, subject.mutate);
        const expected = bruteForceLinearizable(subject.model, history);
        const verdict = checkLinearizability(subject.model, history).verdict;
        if (!expected) rejected++;
        return verdict === (expected ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 400 },
    );
    // The mutations must actually produce violations for this to mean anything (about one in
    // ten does for kv, more for the others; the bound is far below that, as runs are random).
    t.true(rejected > 15, `only ${rejected} of 400 mutated histories were not linearizable`);
  });
}

function agreesWithReference<State, Input, Output extends {} | null>(subject: Subject<State, Input, Output>) {
  test(`${subject.name}: mutated histories of up to 40 operations are rejected exactly when the plain search rejects them`, (t) => {
    let rejected = 0;
    fc.assert(
      fc.property(seed, (value) => {
        const random = new SeededRandom(`reference-${value}`);
        let history: Operation<Input, Output>[] = simulateHistory(random, simulation(random, 40), subject.object());
        for (let mutations = random.below(3); mutations > 0; mutations--) history = mutateHistory(random, history, subject.mutate);
        const expected = referenceLinearizable(subject.model, history);
        if (!expected) rejected++;
        return checkLinearizability(subject.model, history).verdict === (expected ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 150 },
    );
    t.true(rejected > 6, `only ${rejected} of 150 mutated histories were not linearizable`);
  });
}

for (const subject of subjects) {
  accepts(subject as Subject<unknown, unknown, {}>);
  agreesWithBruteForce(subject as Subject<unknown, unknown, {}>);
  agreesWithReference(subject as Subject<unknown, unknown, {}>);
}
