import test from 'ava';
import { availableParallelism } from 'node:os';
import { allScenarios } from '../../scenarios/index.ts';
import { defaultJobs } from '../commands/sweep.ts';
import { planTasks, plannedRuns, type SweepPlan } from './plan.ts';

const defaultSweep: SweepPlan = { scenarios: allScenarios, firstSeed: 0, seeds: 10, seedsGiven: false, shard: { index: 1, count: 1 }, timeBudgetMs: null, determinismEvery: 5 };

function seedsPerScenario(plan: SweepPlan, limit = Infinity): Map<string, number[]> {
  const seeds = new Map<string, number[]>();
  let count = 0;
  for (const task of planTasks(plan)) {
    if (count++ >= limit) break;
    seeds.set(task.scenario, [...(seeds.get(task.scenario) ?? []), task.seed]);
  }
  return seeds;
}

test('the default sweep (npm start) runs every scenario: 10 seeds, 4 of the costliest Raft ones, 2 of each etcd one', (t) => {
  const seeds = seedsPerScenario(defaultSweep);
  t.deepEqual([...seeds.keys()], allScenarios.map((scenario) => scenario.name), 'no scenario dropped');
  for (const scenario of allScenarios) t.is(seeds.get(scenario.name)!.length, scenario.family === 'etcd' ? 2 : ['raft-calm', 'raft-clocks', 'raft-divergent-snapshot', 'raft-slow-followers'].includes(scenario.name) ? 4 : 10, scenario.name);
  t.is(plannedRuns(defaultSweep), [...seeds.values()].reduce((sum, list) => sum + list.length, 0));
});

test('the default sweep checks determinism on every 5th seed index: seed 0 of every scenario, and seed 5', (t) => {
  const checked = [...planTasks(defaultSweep)].filter((task) => task.checkDeterminism);
  t.is(new Set(checked.map((task) => task.scenario)).size, allScenarios.length);
  t.deepEqual([...new Set(checked.map((task) => task.seed))], [0, 5]);
});

test('a time-budgeted sweep (the gate) runs every scenario seed by seed, the costly ones too, as long as the budget lasts', (t) => {
  const gate: SweepPlan = { ...defaultSweep, seeds: null, timeBudgetMs: 60_000 };
  const seeds = seedsPerScenario(gate, allScenarios.length * 20);
  for (const scenario of allScenarios) t.is(seeds.get(scenario.name)!.length, 20, scenario.name);
  t.is(plannedRuns(gate), null);
});

test('--seeds N runs N seeds of every scenario, the costly ones too', (t) => {
  const seeds = seedsPerScenario({ ...defaultSweep, seeds: 3, seedsGiven: true });
  for (const scenario of allScenarios) t.is(seeds.get(scenario.name)!.length, 3, scenario.name);
});

test('a sweep runs in as many processes as the machine has cores, unless it is small', (t) => {
  t.is(defaultJobs(plannedRuns(defaultSweep)), availableParallelism());
  t.is(defaultJobs(null), availableParallelism());
  t.is(defaultJobs(24), 1);
});
