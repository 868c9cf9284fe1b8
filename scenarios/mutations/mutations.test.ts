import test from 'ava';
import { findScenario } from '../index.ts';
import { mutations } from './catalogue.ts';
import { makePatchedCopy, patchedScenarios, removePatchedCopy } from './patchedCopy.ts';

/**
 * The invariants bite: each deliberate bug of the catalogue, patched into a copy of the sources,
 * is caught by the Raft scenario family at the seed pinned beside it (found by `detcd-sim
 * mutants`), and the unpatched code passes that same run.
 */
for (const mutation of mutations) {
  const pinned = mutation.caughtAt === null ? 'nowhere (argued equivalent)' : `${mutation.caughtAt.scenario} seed ${mutation.caughtAt.seed}`;
  test(`mutant ${mutation.name} is caught at ${pinned}: ${mutation.bug}`, async (t) => {
    if (mutation.caughtAt === null) {
      // A mutant the hunt never caught stays in the catalogue only with the argument that it cannot go wrong here.
      t.true((mutation.equivalent ?? '').length > 80, 'every mutant of the catalogue is caught at a pinned run, or argued equivalent');
      return;
    }
    const { scenario, seed, violation } = mutation.caughtAt;
    const copy = makePatchedCopy(mutation);
    try {
      const patched = (await patchedScenarios(copy))(scenario).prepare(seed).execute().result;
      t.false(patched.ok, 'the patched code passed');
      t.true(patched.violation!.message.includes(violation), patched.violation!.message);
    } finally {
      removePatchedCopy(copy);
    }
    const clean = findScenario(scenario)!.prepare(seed).execute().result;
    t.true(clean.ok, `the unpatched code fails too: ${clean.violation?.message}`);
  });
}

test('every patch applies to exactly one place (a catalogue that drifted from the code fails here)', (t) => {
  for (const mutation of mutations) {
    const copy = makePatchedCopy(mutation);
    removePatchedCopy(copy);
  }
  t.pass();
});
