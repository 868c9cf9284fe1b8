import test from 'ava';
import fc from 'fast-check';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { caseSize, executeCase, type RunCase } from './case.ts';
import { parseCase } from './caseFile.ts';
import { caseProperty } from './caseProperty.ts';
import { findScenario } from './index.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

test('a property over cases of a passing scenario passes', (t) => {
  const details = fc.check(caseProperty(findScenario('heartbeat-calm')!), { numRuns: 3, seed: 1 });
  t.false(details.failed, String(details.errorInstance));
});

test('a failing case is shrunk by fast-check: the counterexample is the small case, the message the replay command', (t) => {
  const directory = scratchFolder('detcd-cases-');
  try {
    const scenario = findScenario('bug-heartbeat-unsynced-send')!;
    const details = fc.check(caseProperty(scenario, { caseDirectory: directory, seeds: fc.nat({ max: 50 }) }), { numRuns: 5, seed: 7 });
    t.true(details.failed);
    const shrunk = details.counterexample![0] as RunCase;
    t.true(caseSize(shrunk).faults <= 2, `faults: ${caseSize(shrunk).faults}`);
    t.true(caseSize(shrunk).operations <= 5, `operations: ${caseSize(shrunk).operations}`);
    t.true(details.numShrinks > 0);
    const message = (details.errorInstance as Error).message;
    const file = /replay: npx detcd-sim run --case (\S+)/.exec(message)?.[1];
    t.truthy(file, message);
    t.true(existsSync(file!));
    t.regex(fc.stringify(shrunk), /^bug-heartbeat-unsynced-send seed \d+: \d+ fault.*; replay: npx detcd-sim run --case /);
    // The file replays to the same failure.
    const replayed = executeCase(scenario, parseCase(readFileSync(file!, 'utf8'))).executed.result;
    t.regex(replayed.violation?.message ?? '', /sent counter \d+ to \d+ after already sending/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
