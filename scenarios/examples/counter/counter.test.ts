import test from 'ava';
import fc from 'fast-check';
import type { Io } from '../../../bin/cli/command.ts';
import { main } from '../../../bin/detcd-sim.ts';
import { caseOfRun, caseProperty, caseSize, checkDeterminism, shrinkCase } from '../../harness.ts';
import { scenarios } from './counter.ts';

/** The worked example of README's "Testing your own protocol" runs as the section says. */
const [swarm, buggy] = scenarios as [NonNullable<(typeof scenarios)[0]>, NonNullable<(typeof scenarios)[1]>];

test('the example protocol passes its checks under crashes, partitions and pauses, deterministically', (t) => {
  for (let seed = 0; seed < 5; seed++) {
    const result = swarm.prepare(seed).execute().result;
    t.true(result.ok, `seed ${seed}: ${result.violation?.message}`);
  }
  t.true(checkDeterminism(swarm, 3).deterministic);
});

test('its planted bug is caught, and shrinks to one crash and a few adds', (t) => {
  const prepared = buggy.prepare(1);
  const executed = prepared.execute({ recordWorkload: true });
  t.regex(executed.result.violation?.message ?? '', /answered \d+ twice/);
  const result = shrinkCase(buggy, caseOfRun(buggy.name, {}, prepared, executed), { runsMax: 2_000, wallMsMax: 60_000 });
  const size = caseSize(result.shrunk);
  t.true(size.faults <= 1 && size.operations <= 4, JSON.stringify(size));
});

test('a property over its cases passes', (t) => {
  t.false(fc.check(caseProperty(swarm), { numRuns: 4, seed: 3 }).failed);
});

test('the command line runs it: detcd-sim run --scenarios scenarios/examples/counter/counter.ts', async (t) => {
  let out = '';
  const io: Io = { out: (text) => void (out += `${text}\n`), err: (text) => void (out += `${text}\n`) };
  t.is(await main(['run', '--scenarios', 'scenarios/examples/counter/counter.ts', '--scenario', 'counter-unsynced-reply', '--seed', '1'], io), 1);
  t.regex(out, /replay: npx detcd-sim run --seed 1 --scenario counter-unsynced-reply --scenarios scenarios\/examples\/counter\/counter.ts/);
});
