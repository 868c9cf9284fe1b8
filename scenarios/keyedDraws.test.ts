import test from 'ava';
import { caseOfRun, executeCase } from './case.ts';
import { formatCase, parseCase } from './caseFile.ts';
import { findScenario } from './index.ts';
import { applySets } from './settings.ts';
import { withKeyedDraws } from './shrink.ts';

/**
 * Keyed network draws (NetworkOptions.keyedDraws) are opt-in: the default run of a seed keeps its
 * trace (these hashes are main 3b72312's, from before the mode existed), and the keyed run of the
 * same seed is a run of its own, as deterministic, that a case keeps.
 */
test('keyed draws are off by default, so a seed keeps its trace; on, the seed is another run, the same in every replay, and a case keeps the mode', (t) => {
  const scenario = findScenario('raft-leader-churn-3')!;
  const prepared = scenario.prepare(0);
  t.is(prepared.options.network.keyedDraws, undefined);
  t.is(prepared.execute().result.traceHash, 'a77faab0872ac964');
  const keyed = scenario.prepare(0, { options: withKeyedDraws(prepared.options), knobs: prepared.knobs });
  const executed = keyed.execute({ recordWorkload: true });
  t.not(executed.result.traceHash, 'a77faab0872ac964');
  t.is(keyed.execute().result.traceHash, executed.result.traceHash);
  const written = formatCase(caseOfRun(scenario.name, {}, keyed, executed));
  t.regex(written, /"keyedDraws":true/);
  const read = parseCase(written);
  t.is(read.options.network.keyedDraws, true);
  t.is(executeCase(scenario, read).executed.result.traceHash, executed.result.traceHash);
});

test('--set network.keyedDraws=true turns the mode on; a value other than true or false is refused', (t) => {
  const prepared = findScenario('raft-swarm')!.prepare(0);
  const set = applySets({ options: prepared.options, knobs: prepared.knobs }, ['network.keyedDraws=true']);
  t.is(set.options.network.keyedDraws, true);
  t.deepEqual({ ...set.options.network, keyedDraws: undefined }, { ...prepared.options.network, keyedDraws: undefined });
  t.throws(() => applySets({ options: prepared.options, knobs: prepared.knobs }, ['network.keyedDraws=1']), { message: /network\.keyedDraws is true or false/ });
});
