import test from 'ava';
import { plannedCoverage, plannedCoverageFaults } from '../scenarios/coverage.ts';
import { allScenarios } from '../scenarios/index.ts';
import { coverageOf, coverageRunsMin, coverageRunsNeeded, coverageRunsNeededFor, formatCoverage, rateLowerBound } from './coverage.ts';
import { measuredCoverage } from './coverageRates.ts';

const runs = (stats: Record<string, number>, count = coverageRunsMin) => Array.from({ length: count }, () => ({ stats }));
const none = {};

test('a count the scenario requires beyond the common ones is summed, not reported lost (lease expiries)', (t) => {
  const row = coverageOf({ name: 'etcd-lease', family: 'etcd', coverage: ['leaseExpiries', 'crashes'] }, runs({ leaseExpiries: 2, crashes: 1, leaderChanges: 3 }), none);
  t.is(row.counts.leaseExpiries, 2 * coverageRunsMin);
  t.deepEqual(row.lost, []);
  t.regex(formatCoverage([row]), /etcd: leaderChanges=\d+ crashes=\d+ leaseExpiries=\d+/);
});

test('a required count without a measured rate that stays zero over coverageRunsMin runs is lost; over fewer it is not judged', (t) => {
  const scenario = { name: 'etcd-lock', family: 'etcd', coverage: ['lockIncrements'] };
  t.deepEqual(coverageOf(scenario, runs({ crashes: 1 }), none).lost, ['lockIncrements']);
  const few = coverageOf(scenario, runs({ crashes: 1 }, coverageRunsMin - 1), none);
  t.deepEqual(few.lost, []);
  t.deepEqual(few.undecided, ['lockIncrements']);
});

test('a zero is judged only after the runs its measured rate needs: by chance it happens at most once in a million', (t) => {
  // Non-zero in 30 % of 2,000 draws: the rate vouched for is a little lower, and needs ~40 runs.
  const rates = { 'etcd-clocks': { clockJumps: [600, 2000] as const } };
  const needed = coverageRunsNeededFor('etcd-clocks', 'clockJumps', rates);
  const rate = rateLowerBound(600, 2000);
  t.true(rate < 0.3 && rate > 0.26);
  t.true((1 - rate) ** needed <= 1e-6 && (1 - rate) ** (needed - 1) > 1e-6);
  const scenario = { name: 'etcd-clocks', family: 'etcd', coverage: ['clockJumps'] };
  const short = coverageOf(scenario, runs({}, needed - 1), rates);
  t.deepEqual([short.lost, short.undecided, short.needed], [[], ['clockJumps'], { clockJumps: needed }]);
  t.regex(formatCoverage([short]), new RegExp(`not judged yet.*etcd-clocks clockJumps=0 \\(${needed - 1} run\\(s\\) of ${needed}\\)`));
  t.deepEqual(coverageOf(scenario, runs({}, needed), rates).lost, ['clockJumps']);
  // A count the scenario's runs produced is never lost, however few the runs.
  t.deepEqual(coverageOf(scenario, runs({ clockJumps: 1 }, 1), rates).undecided, []);
});

test('the runs needed: never fewer than coverageRunsMin, longer for rarer counts and for rates measured over fewer runs', (t) => {
  t.is(coverageRunsNeeded(1), coverageRunsMin);
  t.is(coverageRunsNeeded(0.9), coverageRunsMin);
  t.is(coverageRunsNeeded(0.5), 20);
  t.is(coverageRunsNeeded(0.1), 132);
  t.is(coverageRunsNeeded(0), Number.POSITIVE_INFINITY);
  t.true(rateLowerBound(10, 20) < rateLowerBound(100, 200));
  t.true(rateLowerBound(30, 30) < 1 && rateLowerBound(30, 30) > 0.6);
  t.is(rateLowerBound(0, 50), 0);
});

test('every required count of every scenario that passes has a measured rate, seen non-zero (remeasure: reports/measureCoverageRates.ts)', (t) => {
  const missing: string[] = [];
  for (const scenario of allScenarios) {
    for (const name of scenario.coverage ?? []) {
      const measured = measuredCoverage[scenario.name]?.[name];
      if (measured === undefined || measured[0] === 0) missing.push(`${scenario.name} ${name}${measured === undefined ? '' : ` (0 of ${measured[1]})`}`);
    }
  }
  t.deepEqual(missing, []);
});

test('the rates measured from fault plans still hold: 200 seeds of each scenario draw within 5 sigma of the table (else remeasure)', (t) => {
  const seeds = 200;
  const off: string[] = [];
  for (const scenario of allScenarios) {
    const counts = (scenario.coverage ?? []).filter((name) => plannedCoverageFaults[name] !== undefined && (measuredCoverage[scenario.name]?.[name]?.[1] ?? 0) >= 1000);
    if (counts.length === 0) continue;
    const seen: Record<string, number> = Object.fromEntries(counts.map((name) => [name, 0]));
    for (let seed = 0; seed < seeds; seed++) {
      const planned = plannedCoverage(scenario, seed);
      for (const name of counts) if (planned.has(name)) seen[name]!++;
    }
    for (const name of counts) {
      const [nonZero, of] = measuredCoverage[scenario.name]![name]!;
      const p = nonZero / of;
      if (Math.abs(seen[name]! - seeds * p) > 5 * Math.sqrt(seeds * p * (1 - p)) + 1) off.push(`${scenario.name} ${name}: ${seen[name]}/${seeds}, table ${nonZero}/${of}`);
    }
  }
  t.deepEqual(off, []);
});
