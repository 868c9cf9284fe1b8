import test from 'ava';
import { coverageOf, coverageRunsMin, formatCoverage } from './coverage.ts';

const runs = (stats: Record<string, number>, count = coverageRunsMin) => Array.from({ length: count }, () => ({ stats }));

test('a count the scenario requires beyond the common ones is summed, not reported lost (lease expiries)', (t) => {
  const row = coverageOf({ name: 'etcd-lease', family: 'etcd', coverage: ['leaseExpiries', 'crashes'] }, runs({ leaseExpiries: 2, crashes: 1, leaderChanges: 3 }));
  t.is(row.counts.leaseExpiries, 2 * coverageRunsMin);
  t.deepEqual(row.lost, []);
  t.regex(formatCoverage([row]), /etcd: leaderChanges=\d+ crashes=\d+ leaseExpiries=\d+/);
});

test('a required count that stays zero over enough runs is lost; over too few it is not judged', (t) => {
  const scenario = { name: 'etcd-lock', family: 'etcd', coverage: ['lockIncrements'] };
  t.deepEqual(coverageOf(scenario, runs({ crashes: 1 })).lost, ['lockIncrements']);
  const few = coverageOf(scenario, runs({ crashes: 1 }, coverageRunsMin - 1));
  t.deepEqual(few.lost, []);
  t.deepEqual(few.undecided, ['lockIncrements']);
});
