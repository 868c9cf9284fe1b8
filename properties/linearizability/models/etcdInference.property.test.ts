/**
 * The etcd model's lookahead (`etcdLookahead.ts`: facts about each revision's keyspace, checked
 * as the search makes it) never changes a verdict: on histories full of unknown writes, with and
 * without leases, mutated or not, the checker agrees with the plain search — with the lookahead
 * from the first step, and as the model uses it by default. And the history that needed it is
 * decided in a few thousand steps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../../sim/rng.ts';
import { checkLinearizability } from '../checker.ts';
import { parseHistory } from '../formats/parseHistory.ts';
import type { Operation } from '../history.ts';
import { atomicEtcd } from '../_test/atomicObjects.ts';
import { mutateEtcdOutput, mutateHistory } from '../_test/mutateHistory.ts';
import { etcdHistoryOptions, plainEtcdVerdict } from '../_test/etcdAgreement.ts';
import { simulateHistory } from '../_test/simulateHistory.ts';
import { createEtcdModel, etcdModel } from './etcd.ts';
import type { EtcdRequest, EtcdResponse } from './etcdTypes.ts';

const samples = join(import.meta.dirname, '../histories/samples');
const lookingAhead = createEtcdModel({ lookaheadAfterBacktracks: 0 });

const variants = [
  { name: 'unique values, no leases', leases: false },
  { name: 'unique values, leases', leases: true },
  { name: 'three values per key, no leases', leases: false, values: 3 },
];

for (const { name, ...objectOptions } of variants) {
  test(`with many unknown writes (${name}), the verdict is the plain search's`, (t) => {
    let rejected = 0;
    let decided = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => {
        const random = new SeededRandom(`etcd-inference-${name}-${seed}`);
        const options = etcdHistoryOptions(random, 25, 25);
        let history: Operation<EtcdRequest, EtcdResponse>[] = simulateHistory(random, options, atomicEtcd(3, objectOptions));
        for (let mutations = random.below(3); mutations > 0; mutations--) history = mutateHistory(random, history, mutateEtcdOutput);
        const verdict = plainEtcdVerdict(history);
        if (verdict === undefined) return true;
        decided++;
        if (verdict === 'not-linearizable') rejected++;
        return checkLinearizability(lookingAhead, history).verdict === verdict && checkLinearizability(etcdModel, history).verdict === verdict;
      }),
      { numRuns: 100 },
    );
    t.true(decided > 75, `the plain search decided only ${decided} of 100`);
    t.true(rejected > 8, `only ${rejected} of ${decided} histories were not linearizable`);
  });
}

test('etcd-compaction seed 242: 45 unknown writes and a run of gaps are decided in a few thousand steps, not millions', (t) => {
  // The history of `detcd-sim run --seed 242 --scenario etcd-compaction`, which gave up after
  // 5,000,000 steps: a read at revision 23 saw d/c created at 4, and the search had guessed it
  // created at 3, then tried every way of filling the gaps between.
  const { history } = parseHistory(readFileSync(join(samples, 'etcd-compaction-seed-242.jsonl'), 'utf8'));
  const result = checkLinearizability(etcdModel, history.operations as Operation<EtcdRequest, EtcdResponse>[], { budget: { maxSteps: 20_000 } });
  t.is(result.verdict, 'linearizable');
  t.true(result.steps < 10_000, `${result.steps} steps`);
});
