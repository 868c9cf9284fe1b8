import test from 'ava';
import { caseOfRun, executeCase } from './case.ts';
import { formatCase, parseCase } from './caseFile.ts';
import { findScenario } from './index.ts';
import { applySets } from './settings.ts';
import { withKeyedDraws } from './shrink.ts';

/**
 * Keyed network draws (NetworkOptions.keyedDraws) are opt-in: the default run of a seed keeps its
 * trace (these hashes are main 3b72312's, from before the mode existed; etcd-standard seed 2's was
 * re-pinned when the simulator's etcd members took the runtime's coalesced appends, and again when a
 * physical compaction's answer made its Ready sync: session 18, task durable; and when the scenario
 * grew from 10 clients to 16: session 20, task shrink), and the keyed
 * run of the same seed is a run of its own, as deterministic, that a case keeps.
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

test('a run’s own fates, recorded and pinned in keyed mode, replay it to its trace hash — the default run of a seed, and a keyed one (raft-leader-churn-3 seed 0, etcd-standard seed 2)', (t) => {
  for (const [name, seed, hash] of [['raft-leader-churn-3', 0, 'a77faab0872ac964'], ['etcd-standard', 2, '5dcc78da2ab86a09']] as const) {
    const scenario = findScenario(name)!;
    const prepared = scenario.prepare(seed);
    const recorded = prepared.execute({ recordFates: true });
    t.is(recorded.result.traceHash, hash, 'recording changes nothing');
    t.true(recorded.fates!.length > 1_000);
    const pinnedOptions = { ...withKeyedDraws(prepared.options), network: { ...withKeyedDraws(prepared.options).network, fates: recorded.fates! } };
    t.is(scenario.prepare(seed, { options: pinnedOptions, knobs: prepared.knobs }).execute().result.traceHash, hash, `${name} pinned`);
  }
  const scenario = findScenario('raft-swarm')!;
  const keyed = scenario.prepare(3, { options: withKeyedDraws(scenario.prepare(3).options) });
  const executed = keyed.execute({ recordFates: true, recordWorkload: true });
  const pinned = { ...keyed.options, network: { ...keyed.options.network, fates: executed.fates! } };
  t.is(scenario.prepare(3, { options: pinned, knobs: keyed.knobs }).execute().result.traceHash, executed.result.traceHash, 'a keyed run pinned');
});

test('a case keeps its pinned fates, one a line, and replays with them; a bad one is named', (t) => {
  const scenario = findScenario('raft-stale-traffic')!;
  const prepared = scenario.prepare(3);
  const recorded = prepared.execute({ recordFates: true, recordWorkload: true });
  const options = { ...withKeyedDraws(prepared.options), network: { ...withKeyedDraws(prepared.options).network, fates: recorded.fates! } };
  const pinned = scenario.prepare(3, { options, knobs: prepared.knobs });
  const written = formatCase(caseOfRun(scenario.name, {}, pinned, pinned.execute({ recordWorkload: true })));
  t.regex(written, /\n {2}"fates": \[\n {4}\[\d+,\d+,\d+,\d+,-?\d+,-?\d+\],\n/);
  const read = parseCase(written);
  t.deepEqual(read.options.network.fates, recorded.fates);
  t.is(executeCase(scenario, read).executed.result.traceHash, recorded.result.traceHash);
  t.throws(() => parseCase(written.replace(/"fates": \[\n {4}\[[^\]]*\]/, '"fates": [\n    [1,2,3]')), { message: /fates\[0\] must be \[from, to, key, occurrence, delayUs, duplicateUs\]/ });
  t.throws(() => parseCase(written.replace('"keyedDraws":true', '"keyedDraws":false')), { message: /fates are pinned in keyed mode only/ });
});

test('--set network.keyedDraws=false on a case with pinned fates drops them with the mode (pins are keyed)', (t) => {
  const prepared = findScenario('raft-swarm')!.prepare(0);
  const fates = [{ from: 1, to: 2, key: 1, occurrence: 0, delayUs: -1, duplicateUs: -1 }];
  const options = { ...prepared.options, network: { ...prepared.options.network, keyedDraws: true, fates } };
  t.deepEqual(applySets({ options, knobs: prepared.knobs }, ['network.keyedDraws=true']).options.network.fates, fates);
  const off = applySets({ options, knobs: prepared.knobs }, ['network.keyedDraws=false']).options.network;
  t.is(off.keyedDraws, false);
  t.is(off.fates, undefined);
});
