import test from 'ava';
import { formatJunit, sweepJunitCases } from './junit.ts';
import { summarizeSweep } from './sweepReport.ts';

test('JUnit: one test case per scenario; a failing seed is a failure with its replay line; XML-escaped; no timestamps', (t) => {
  const run = (seed: number, violation: string | null) => ({ seed, violation: violation === null ? null : { message: violation, timeUs: 1, event: 1 }, replay: `npx detcd-sim run --seed ${seed} --scenario raft-swarm`, events: 10, simulatedMs: 1, wallMs: 1, convergedAfterMs: null });
  const rows = [summarizeSweep('raft-swarm', { expect: 'pass' }, [run(1, null), run(2, 'stale read: "a" < b & c')], [], 2), summarizeSweep('raft-calm', { expect: 'pass' }, [], [], 0)];
  const coverage = [{ scenario: 'raft-swarm', family: 'raft', runs: 2, counts: { leaderChanges: 0 }, required: ['leaderChanges'], lost: ['leaderChanges'], undecided: [], needed: {} }];
  const xml = formatJunit({ name: 'detcd-sim sweep', version: '0.1.0', commit: 'abc', properties: {}, wallMs: 1500 }, sweepJunitCases(rows, coverage, true));
  t.regex(xml, /<testsuites name="detcd-sim sweep" tests="3" failures="2" skipped="1" time="1.500">/);
  t.regex(xml, /<failure message="1 of 2 seeds failed; first: seed 2: stale read: &quot;a&quot; &lt; b &amp; c" type="failure">seed 2: .*\n {2}replay: npx detcd-sim run --seed 2 --scenario raft-swarm<\/failure>/);
  t.regex(xml, /<testcase classname="detcd-sim.coverage" name="raft-swarm exercises leaderChanges" time="0.000">\n {6}<failure message="lost coverage: leaderChanges = 0 over 2 runs"/);
  t.regex(xml, /<skipped message="no run of this scenario/);
  t.false(/timestamp/.test(xml));
});

test('JUnit: a required count at zero over fewer runs than its rate needs passes, saying it is not judged yet', (t) => {
  const coverage = [{ scenario: 'etcd-swarm', family: 'etcd', runs: 20, counts: { clockJumps: 0 }, required: ['clockJumps'], lost: [], undecided: ['clockJumps'], needed: { clockJumps: 47 } }];
  const xml = formatJunit({ name: 'detcd-sim sweep', version: '0.1.0', commit: 'abc', properties: {}, wallMs: 1 }, sweepJunitCases([], coverage, true));
  t.regex(xml, /name="etcd-swarm exercises clockJumps" time="0.000">\n {6}<system-out>clockJumps = 0 over 20 runs: not judged before 47 \(a zero this short can be chance\)<\/system-out>/);
  t.false(/<failure/.test(xml));
});
