import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cli } from '../_test/cli.ts';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

/*
 * The gate as CI runs it, on a small budget: a pinned seed set (`--seeds`, `--seed-from`) over one
 * scenario and one pinned catch, so that the verdicts, the JUnit, the JSON and the pages are the
 * same every time. `npm run gate` is the same command over every scenario and mutant.
 */

const scenario = 'raft-single';
const mutant = 'single-member-commit-before-durable';
const small = ['--scenario', scenario, '--seeds', '2', '--seed-from', 'gate-test'];

function outputs(): { dir: string; junit: string; json: string; pages: string; flags: string[]; [Symbol.dispose](): void } {
  const dir = scratchFolder('detcd-gate-');
  const [junit, json, pages] = [join(dir, 'junit.xml'), join(dir, 'sweep.jsonl'), join(dir, 'pages')];
  return { dir, junit, json, pages, flags: ['--junit', junit, '--json', json, '--report', pages], [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The JSON lines: one per run, then the summary. */
function jsonLines(path: string): { runs: { scenario: string; seed: number; ok: boolean; traceHash: string }[]; summary: { summary: { failed: number; failures: { replay: string }[] }[]; version: string; commit: string } } {
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  return { runs: lines.slice(0, -1), summary: lines.at(-1) };
}

test.serial('on a clean tree the gate passes (exit 0): its pinned catch holds, its sweep finds nothing, and JUnit, JSON and no pages say so', async (t) => {
  using out = outputs();
  const { code, out: text } = await cli('gate', ...small, '--pinned', mutant, '--jobs', '1', ...out.flags);
  t.is(code, 0, text);
  t.regex(text, new RegExp(`gate: caught +${mutant} .*: npx detcd-sim run --seed 0 --scenario ${scenario} --mutant ${mutant}`));
  t.regex(text, /gate: PASSED; 2 sweep runs and 1 pinned mutant catches/);

  const junit = readFileSync(out.junit, 'utf8');
  t.regex(junit, /<testsuites name="detcd-sim gate" tests="3" failures="0"/);
  t.regex(junit, new RegExp(`<testcase classname="detcd-sim.sweep" name="${scenario}" time="[\\d.]+"/>`));
  t.regex(junit, /<testcase classname="detcd-sim.coverage" name="raft-single exercises [^"]+"/);
  t.regex(junit, new RegExp(`<testcase classname="detcd-sim.mutants" name="mutant ${mutant} is caught at ${scenario} seed 0" time="[\\d.]+"/>`));
  t.regex(junit, /<property name="commit" value="[^"]+"\/>/);
  t.regex(junit, /<property name="seedFrom" value="gate-test"\/>/);

  const { runs, summary } = jsonLines(out.json);
  t.is(runs.length, 2);
  t.true(runs.every((run) => run.scenario === scenario && run.ok && /^[0-9a-f]{8,}$/.test(run.traceHash)));
  t.is(summary.summary[0]!.failed, 0);
  t.truthy(summary.version);
  t.truthy(summary.commit);
  t.deepEqual(readdirSync(out.pages), [], 'no failing run, no page');
});

test.serial('on a clean tree the gate passes over the expected-violation scenarios too: each judged on its promised catch rate, said in the JUnit', async (t) => {
  using out = outputs();
  const { code, out: text } = await cli('gate', '--scenario', 'etcd-lease-pauses', '--scenario', 'etcd-lock', '--seeds', '3', '--seed-from', 'a commit id', '--pinned', 'none', '--jobs', '1', ...out.flags);
  t.is(code, 0, text);
  t.regex(text, /^rate etcd-lease-pauses \(expected violation\): caught in 3\/3 seeds \(100%\), promised ≥ 95%: holds$/m);
  const junit = readFileSync(out.junit, 'utf8');
  t.regex(junit, /<testcase classname="detcd-sim.sweep" name="etcd-lock \(expected violation: caught in ≥ 95% of seeds\)" time="[\d.]+">\n {6}<system-out>expected violation caught in 3\/3 seeds/);
  t.false(existsSync(out.pages) && readdirSync(out.pages).length > 0, 'no pages: nothing failed');
});

test.serial("on a catalogued mutant the gate fails (exit 1): every failing seed is a JUnit failure with its replay line, in the JSON, and drawn as a page; the replay reproduces the run's trace hash", async (t) => {
  using out = outputs();
  const { code, out: text } = await cli('gate', ...small, '--mutant', mutant, '--jobs', '2', ...out.flags);
  t.is(code, 1, text);
  t.regex(text, new RegExp(`gate: detcd .*, mutant ${mutant}, 2 seed\\(s\\) per scenario, 2 job\\(s\\)`));
  t.regex(text, /gate: FAILED \(1 of 2 checks\); 2 sweep runs and 0 pinned mutant catches/);

  const { runs, summary } = jsonLines(out.json);
  t.is(runs.length, 2);
  t.true(runs.every((run) => !run.ok));
  const replays = summary.summary[0]!.failures.map((failure) => failure.replay);
  t.deepEqual(replays, runs.map((run) => `npx detcd-sim run --seed ${run.seed} --scenario ${scenario} --mutant ${mutant}`));

  const junit = readFileSync(out.junit, 'utf8');
  t.regex(junit, /<testsuites name="detcd-sim gate" tests="2" failures="1"/);
  t.regex(junit, new RegExp(`<property name="variant" value="mutant ${mutant}"/>`));
  t.regex(junit, new RegExp(`<testcase classname="detcd-sim.sweep" name="${scenario}"[^>]*>\\s*<failure message="2 of 2 seeds failed`));
  for (const replay of replays) t.true(junit.includes(`replay: ${replay}`), replay);

  const pages = readdirSync(out.pages).sort();
  t.deepEqual(pages, runs.map((run) => `${scenario}-seed-${run.seed}-${mutant}.html`).sort());
  const page = readFileSync(join(out.pages, pages[0]!), 'utf8');
  t.regex(page, /<title>[^<]*raft-single[^<]*<\/title>/);
  t.true(page.includes('it is not durable on a quorum'), 'the page names the violation');
  t.regex(text, new RegExp(`page: .*${pages[0]!.replace(/\./g, '\\.')}`));

  const replayed = await cli(...replays[0]!.split(' ').slice(2));
  t.is(replayed.code, 1);
  t.true(replayed.out.includes(runs[0]!.traceHash), 'the replay line reproduces the same trace hash');
});

for (const [args, message] of [
  [['--seeds', '2', '--time-budget', '1m'], /give --time-budget or --seeds, not both/],
  [['--seeds', '0'], /--seeds must be at least 1/],
  [['--pinned', 'no-such-mutant'], /unknown mutant "no-such-mutant"/],
  [['--pinned', 'none', '--pinned', mutant], /--pinned none goes alone/],
  [['--mutant', mutant, '--pinned', mutant], /--pinned does not go with --mutant/],
  [['--scenario', 'no-such-scenario', '--pinned', 'none'], /unknown scenario "no-such-scenario"/],
] as const) {
  test(`gate ${args.join(' ')}: one line, exit 2`, async (t) => {
    const { code, out, err } = await cli('gate', ...args);
    t.is(code, 2);
    t.regex(err, message);
    t.is(err.trimEnd().split('\n').length, 1, err);
    t.notRegex(out, /sweep:/);
  });
}
