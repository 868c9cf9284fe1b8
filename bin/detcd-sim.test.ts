import test from 'ava';
import { mutations } from '../scenarios/mutations/catalogue.ts';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cli } from './_test/cli.ts';

const launcher = join(dirname(fileURLToPath(import.meta.url)), 'detcd-sim');
const run = promisify(execFile);

/** The `scenario:seed:traceHash` of every run in a sweep's JSON lines, sorted. */
function traceHashes(jsonLines: string): string[] {
  return jsonLines
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((record) => 'traceHash' in record)
    .map((record) => `${record.scenario}:${record.seed}:${record.traceHash}`)
    .sort();
}


test('run --json prints one object with the required fields', async (t) => {
  const { code, out } = await cli('run', '--seed', '3', '--scenario', 'heartbeat-calm', '--json');
  t.is(code, 0);
  const report = JSON.parse(out);
  t.like(report, { seed: 3, scenario: 'heartbeat-calm', ok: true });
  t.regex(report.traceHash, /^[0-9a-f]{16}$/);
  t.true(report.events > 1_000);
  t.true(report.simulatedMs > 1_000);
  t.is(report.replay, 'npx detcd-sim run --seed 3 --scenario heartbeat-calm');
});

test('run prints a header with the seed, scenario and every option, a summary and the trace hash', async (t) => {
  const { code, out } = await cli('run', '--seed', '11');
  t.is(code, 0);
  t.regex(out, /^detcd-sim run: seed 11, scenario heartbeat-swarm/);
  for (const option of ['nodeCount: 5', 'network.loss:', 'disk.tornWrite:', 'clock.driftPpmMax:', 'tickIntervalUs:', 'faults:']) t.true(out.includes(option), option);
  t.regex(out, /summary:\n {2}events: \d+/);
  t.regex(out, /result: ok\ntrace: [0-9a-f]{16}\n$/);
});

test('a run that finds a violation exits 1 and prints the replay line', async (t) => {
  const { code, out } = await cli('run', '--seed', '0', '--scenario', 'bug-heartbeat-unsynced-send');
  t.is(code, 1);
  t.regex(out, /result: VIOLATION at \d+us \([\d.]+s, event \d+\): node \d+ sent counter/);
  t.true(out.includes('replay: npx detcd-sim run --seed 0 --scenario bug-heartbeat-unsynced-send'));
});

test('run --check-determinism replays in process and agrees', async (t) => {
  const { code, out } = await cli('run', '--seed', '2', '--scenario', 'heartbeat-crashes', '--check-determinism');
  t.is(code, 0);
  t.true(out.includes('determinism: ok'));
});

for (const [argv, message] of [
  [['run', '--sed', '1'], /Unknown option '--sed'/],
  [['run', '--seed'], /Option '--seed <value>' argument missing/],
  [['run', '--seed', 'abc'], /--seed must be a non-negative integer, got "abc"/],
  [['run', '--seed', '-4'], /--seed needs a value \(one that starts with "-" is written --seed=VALUE\)/],
  [['run', '--seed=-4'], /--seed must be a non-negative integer, got "-4"/],
  [['run', '--seed', '99999999999999999999'], /--seed must be at most/],
  [['run', '--scenario', 'nope'], /unknown scenario "nope"/],
  [['run', 'extra'], /Unexpected argument 'extra'/],
  [['sweep', '--seeds', '0'], /--seeds must be at least 1/],
  [['sweep', '--family', 'martian'], /no scenario of family "martian"/],
  [['frobnicate'], /unknown command "frobnicate"/],
  [['sweep', '--jobs', '0'], /--jobs must be at least 1/],
  [['sweep', '--jobs', '999'], /--jobs must be at most/],
  [['mutants', '--mutant', 'nope'], /unknown mutant "nope"/],
  [['mutants', '--seeds', 'x'], /--seeds must be a non-negative integer/],
] as const) {
  test(`bad input: ${argv.join(' ')} → one line on stderr, exit 2`, async (t) => {
    const { code, out, err } = await cli(...argv);
    t.is(code, 2);
    t.is(out, '');
    t.regex(err, message);
    t.is(err.trimEnd().split('\n').length, 1, 'exactly one line');
    t.false(err.includes('    at '), 'no stack trace');
  });
}

test('--help works for the tool and every command', async (t) => {
  const top = await cli('--help');
  t.is(top.code, 0);
  for (const command of ['run', 'sweep', 'shrink', 'merge', 'gate', 'scenarios', 'check', 'mutants']) {
    t.true(top.out.includes(command));
    const help = await cli(command, '--help');
    t.is(help.code, 0);
    t.regex(help.out, /usage: detcd-sim/);
  }
});

test('scenarios lists each scenario on one line', async (t) => {
  const { code, out } = await cli('scenarios');
  t.is(code, 0);
  const lines = out.trimEnd().split('\n');
  t.true(lines.length >= 8);
  t.true(lines.every((line) => /^[a-z0-9-]+ {2,}\S/.test(line)));
});

test('sweep prints a table and passes when bug scenarios are caught', async (t) => {
  const { code, out } = await cli('sweep', '--family', 'heartbeat', '--seeds', '3');
  t.is(code, 0, out);
  t.regex(out, /^scenario +seeds +passed +failed/m);
  t.regex(out, /bug-heartbeat-unsynced-send \(bug: passed = caught\) +3 +3 +0 +same/);
  t.regex(out, /\d+ runs, 0 failed/);
});

test('sweep --jobs 2 makes the same runs as one process', async (t) => {
  const one = await cli('sweep', '--family', 'heartbeat', '--seeds', '3', '--no-determinism-check', '--json', '-');
  const two = await cli('sweep', '--family', 'heartbeat', '--seeds', '3', '--no-determinism-check', '--json', '-', '--jobs', '2');
  t.is(one.code, 0);
  t.is(two.code, 0);
  t.is(traceHashes(one.out).length, 24);
  t.deepEqual(traceHashes(two.out), traceHashes(one.out));
  // The same order too, whatever order the workers finished in: the lines are not sorted here.
  const order = (out: string): string[] => out.trim().split('\n').filter((line) => line.includes('traceHash')).map((line) => line.slice(0, 80));
  t.deepEqual(order(two.out), order(one.out));
});

test('a run that throws in a sweep worker ends the sweep with an internal error naming it (the sweep used to wait forever)', async (t) => {
  const started = performance.now();
  const { code, err } = await cli('sweep', '--scenarios', 'bin/_test/throwingScenarios.ts', '--seeds', '3', '--jobs', '2', '--no-report');
  t.is(code, 70, err);
  t.regex(err, /counter-throws seed 1: Error: a scenario that cannot prepare seed 1/);
  t.true(performance.now() - started < 120_000, 'and it ends');
});

test('mutants --list names each planted bug', async (t) => {
  const { code, out } = await cli('mutants', '--list');
  t.is(code, 0);
  t.regex(out, /^commit-previous-term-by-counting +commits an earlier term's entry/m);
  t.regex(out, /^etcd-consistent-index-not-saved +the consistent index is not saved/m);
  t.is(out.trim().split('\n').length, mutations.length);
});

test('determinism across processes: 20 seeds give the same trace hashes in two processes, and 20 different ones', async (t) => {
  const args = [launcher, 'sweep', '--scenario', 'heartbeat-swarm', '--seeds', '20', '--json', '-', '--no-determinism-check'];
  const [first, second] = await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
  const a = traceHashes(first.stdout);
  t.is(a.length, 20);
  t.deepEqual(a, traceHashes(second.stdout));
  t.is(new Set(a.map((entry) => entry.split(':')[2])).size, 20, 'different seeds, different hashes');
});
