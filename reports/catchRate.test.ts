import test from 'ava';
import { binomialAtMost, implausible, judgeCatchRate } from './catchRate.ts';
import { formatSweepTable, summarizeSweep } from './sweepReport.ts';
import { formatJunit, sweepJunitCases } from './junit.ts';

const run = (seed: number, caught: boolean) => ({
  seed,
  violation: caught ? { message: 'lease 7 expired early', timeUs: 1, event: 1 } : null,
  replay: `npx detcd-sim run --seed ${seed} --scenario etcd-lease-pauses`,
  events: 10,
  simulatedMs: 1,
  wallMs: 1,
  convergedAfterMs: null,
});
/** `seeds` runs of which those listed missed. */
const runs = (seeds: number, missed: readonly number[]) => Array.from({ length: seeds }, (_, seed) => run(seed, !missed.includes(seed)));
const promise = { expect: 'violation', promisedCatchRate: 0.95 } as const;

test('the binomial tail: exact on small cases, and finite for a million seeds', (t) => {
  t.is(binomialAtMost(0, 2, 0.5), 0.25);
  t.true(Math.abs(binomialAtMost(1, 3, 0.5) - 0.5) < 1e-12);
  t.is(binomialAtMost(5, 5, 0.3), 1);
  const large = binomialAtMost(948_000, 1_000_000, 0.95);
  t.true(large > 0 && large < 1e-15, String(large));
});

test('a promised rate holds when the seeds reach it, or fall short only by what chance explains', (t) => {
  t.deepEqual(judgeCatchRate(246, 250, 0.95), { caught: 246, seeds: 250, promised: 0.95, holds: true, text: 'caught in 246/250 seeds (98.4%), promised ≥ 95%: holds' });
  const short = judgeCatchRate(27, 30, 0.95);
  t.true(short.holds);
  t.regex(short.text, /caught in 27\/30 seeds \(90%\), promised ≥ 95%: holds \(below the rate, but 30 seeds cannot tell/);
});

test('a promised rate is broken by implausibly few catches, by none at all, and a promise of every seed by any miss', (t) => {
  const broken = judgeCatchRate(200, 250, 0.95);
  t.false(broken.holds);
  t.regex(broken.text, /caught in 200\/250 seeds \(80%\), promised ≥ 95%: BROKEN \(so few catches happen with probability \S+ at 95%\)/);
  t.true(binomialAtMost(200, 250, 0.95) < implausible);
  // With few seeds at least one catch: none of two seeds breaks it, though 0.25% is not implausible by the test alone.
  t.false(judgeCatchRate(0, 2, 0.95).holds);
  t.true(judgeCatchRate(1, 2, 0.95).holds);
  t.false(judgeCatchRate(9, 10, 1).holds);
  t.true(judgeCatchRate(0, 0, 0.95).holds);
});

test('a gate over a clean tree keeps its promise for any seeds: a scenario that catches in 99% of seeds breaks a 95% promise in under one sweep in a thousand, at any size', (t) => {
  for (const seeds of [1, 2, 5, 10, 20, 50, 100, 250, 1000, 2000]) {
    // The chance that Binomial(seeds, 0.99) lands where the verdict is "broken".
    let failing = 0;
    for (let caught = 0; caught <= seeds; caught++) if (!judgeCatchRate(caught, seeds, 0.95).holds) failing = caught;
    const chance = failing === 0 && judgeCatchRate(0, seeds, 0.95).holds ? 0 : binomialAtMost(failing, seeds, 0.99);
    t.true(chance < (seeds === 1 ? 0.011 : 0.001), `${seeds} seeds: ${chance}`);
  }
});

test('a sweep row of a scenario that promises a rate lists its misses without failing them while the rate holds', (t) => {
  const row = summarizeSweep('etcd-lease-pauses', promise, runs(100, [17, 42]), [], 0);
  t.is(row.failed, 0);
  t.deepEqual(row.missed.map((miss) => miss.seed), [17, 42]);
  t.true(row.catchRate!.holds);
  const table = formatSweepTable([row], 1000);
  t.regex(table, /^etcd-lease-pauses \(bug: caught in ≥ 95% of seeds\) +100 +100 +0 /m);
  t.regex(table, /^rate etcd-lease-pauses \(expected violation\): caught in 98\/100 seeds \(98%\), promised ≥ 95%: holds$/m);
  t.regex(table, /^miss etcd-lease-pauses: not caught in seeds 17, 42 \(listed, not failed: the promised rate holds\)\n {2}replay: npx detcd-sim run --seed 17 --scenario etcd-lease-pauses$/m);
  t.notRegex(table, /^FAIL/m);
  const xml = formatJunit({ name: 'detcd-sim sweep', version: '0.1.0', commit: 'abc', properties: {}, wallMs: 1 }, sweepJunitCases([row], [], false));
  t.regex(xml, /failures="0"/);
  t.regex(xml, /<testcase classname="detcd-sim.sweep" name="etcd-lease-pauses \(expected violation: caught in ≥ 95% of seeds\)" time="0.100">\n {6}<system-out>expected violation caught in 98\/100 seeds \(98%\), promised ≥ 95%: holds\nseed 17: missed \(listed, not failed\)\n {2}replay: npx detcd-sim run --seed 17/);
});

test('once the rate breaks, every miss is a failure and the JUnit failure says caught in how many seeds of what was promised', (t) => {
  const missed = Array.from({ length: 20 }, (_, i) => i * 5);
  const row = summarizeSweep('etcd-lease-pauses', promise, runs(100, missed), [], 0);
  t.is(row.failed, 20);
  t.deepEqual(row.missed, []);
  t.regex(row.failures[0]!.reason, /the re-created bug was not caught \(caught in 80\/100 seeds \(80%\), promised ≥ 95%: BROKEN/);
  const xml = formatJunit({ name: 'detcd-sim sweep', version: '0.1.0', commit: 'abc', properties: {}, wallMs: 1 }, sweepJunitCases([row], [], false));
  t.regex(xml, /<failure message="expected violation caught in 80\/100 seeds \(80%\), promised ≥ 95%: BROKEN/);
  t.regex(formatSweepTable([row], 1000), /^FAIL etcd-lease-pauses \(expected violation\): caught in 80\/100/m);
});

test('a bug scenario that promises every seed (the default) fails on each miss, as before', (t) => {
  const row = summarizeSweep('bug-heartbeat-unsynced-send', { expect: 'violation' }, runs(3, [1]), [], 0);
  t.is(row.failed, 1);
  t.regex(formatSweepTable([row], 1000), /^bug-heartbeat-unsynced-send \(bug: passed = caught\) +3 +2 +1 /m);
});
