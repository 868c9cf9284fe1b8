import { availableParallelism } from 'node:os';
import { buildInfo } from '../../reports/buildInfo.ts';
import { formatJunit, sweepJunitCases, type JunitCase } from '../../reports/junit.ts';
import { allScenarios } from '../../scenarios/index.ts';
import { mutations, type Mutation } from '../../scenarios/mutations/catalogue.ts';
import { replayCommand } from '../../scenarios/scenario.ts';
import type { Command, Io } from '../cli/command.ts';
import { makeOutputFolder, writeOutputFile } from '../cli/files.ts';
import { exitViolation, parseCommandLine, parseDuration, parseNat, UsageError } from '../cli/usage.ts';
import { loadCode } from '../cli/variant.ts';
import { seedFrom, type SweepPlan } from '../sweep/plan.ts';
import { formatJsonLines, formatOutcome, summarizeRecords, sweepSummary, type ScenarioInfo } from '../sweep/summary.ts';
import { runSweep } from './sweep.ts';

const defaultBudget = '10m';

const help = `usage: detcd-sim gate [--time-budget DURATION] [--jobs N] [--seed-from random|TEXT]
                      [--junit FILE] [--json FILE] [--report DIR]

The CI gate for a consensus change (npm run gate):
  1. the mutation catalogue's pinned catches: each deliberate bug, patched into a copy of the
     code, must still be caught by the run pinned beside it (scenarios/mutations/catalogue.ts);
  2. a time-budgeted sweep over every scenario, from a first seed derived from the commit (so each
     commit explores new seeds, and each failure prints its replay line), determinism checked on
     every 10th seed, behaviour coverage required (a count a scenario needs may not stay zero).
JUnit out, with a test case per scenario, per coverage requirement and per mutant.

  --time-budget DURATION   the whole gate's budget (default ${defaultBudget}); the sweep gets what the
                           mutants leave
  --jobs N                 sweep worker processes (default: every core, ${availableParallelism()} here)
  --seed-from random|TEXT  the sweep's first seed (default: hashed from the commit id)
  --junit FILE             JUnit XML of everything
  --json FILE              the sweep's runs and summary (as "sweep --json")
  --report DIR             a page for every failing run

Exit codes: 0 the gate passes, 1 it fails, 2 bad input, 130/143 stopped by a signal.`;

/** Time kept back from the sweep's budget for the runs still going when it ends, and the report. */
const sweepMarginMs = 30_000;

export const gateCommand: Command = {
  name: 'gate',
  summary: 'the CI gate: pinned mutant catches, a time-budgeted sweep of every scenario, coverage, JUnit',
  help,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, {
      'time-budget': { type: 'string' },
      jobs: { type: 'string' },
      'seed-from': { type: 'string' },
      junit: { type: 'string' },
      json: { type: 'string' },
      report: { type: 'string' },
    });
    const budgetMs = parseDuration(values['time-budget'] ?? defaultBudget, '--time-budget') / 1000;
    const jobs = values.jobs === undefined ? availableParallelism() : parseNat(values.jobs, '--jobs', availableParallelism());
    if (jobs === 0) throw new UsageError('--jobs must be at least 1');
    if (values.report !== undefined) makeOutputFolder(values.report, '--report');
    const started = performance.now();
    const { version, commit } = buildInfo();
    io.out(`gate: detcd ${version}, commit ${commit}, budget ${(budgetMs / 1000).toFixed(0)} s, ${jobs} job(s)`);

    const mutantCases = await checkPinnedCatches(io);
    const sweepBudgetMs = Math.max(10_000, budgetMs - (performance.now() - started) - sweepMarginMs);
    const seedSource = values['seed-from'] ?? (commit === 'unknown' ? 'random' : commit.replace(/-dirty$/, ''));
    const plan: SweepPlan & { seedSource: string | null } = { scenarios: allScenarios, firstSeed: seedFrom(seedSource), seeds: null, seedsGiven: false, shard: { index: 1, count: 1 }, timeBudgetMs: sweepBudgetMs, determinismEvery: 10, seedSource };
    const context = { find: (name: string) => allScenarios.find((s) => s.name === name)!, variant: {}, reportDir: values.report ?? null };
    const sweep = await runSweep(plan, jobs, context, values.report === undefined ? [] : ['--report', values.report], io, false);
    const scenarios: ScenarioInfo[] = allScenarios.map(({ name, family, expect, coverage }) => ({ name, family, expect, ...(coverage === undefined ? {} : { coverage }) }));
    const outcome = summarizeRecords(scenarios, sweep.records);
    io.out(formatOutcome(outcome, sweep.wallMs, true));
    const wallMs = performance.now() - started;
    const cases = [...sweepJunitCases(outcome.rows, outcome.coverage, true), ...mutantCases];
    const failed = cases.filter((c) => c.failure !== undefined).length;
    if (values.junit !== undefined) writeOutputFile(values.junit, formatJunit({ name: 'detcd-sim gate', version, commit, wallMs, properties: { firstSeed: String(plan.firstSeed), seedFrom: seedSource, runs: String(sweep.records.length) } }, cases), '--junit');
    if (values.json !== undefined) {
      const planInfo = { firstSeed: plan.firstSeed, seedFrom: seedSource, seeds: null, shard: '1/1', timeBudgetMs: sweepBudgetMs, outOfTime: sweep.outOfTime, determinismEvery: plan.determinismEvery };
      writeOutputFile(values.json, formatJsonLines(scenarios, sweep.records, sweepSummary(scenarios, outcome, sweep.records.length, sweep.wallMs, true, planInfo, sweep.interrupted)), '--json');
    }
    io.out(`gate: ${failed === 0 ? 'PASSED' : `FAILED (${failed} of ${cases.length} checks)`}; ${sweep.records.length} sweep runs and ${mutantCases.filter((c) => c.skipped === undefined).length} pinned mutant catches in ${(wallMs / 1000).toFixed(0)} s`);
    if (sweep.interrupted !== null) return sweep.interrupted === 'SIGINT' ? 130 : 143;
    return failed === 0 ? 0 : exitViolation;
  },
};

/** Each catalogued mutant, patched in, must be caught by its pinned run (and the report says how to replay it). */
async function checkPinnedCatches(io: Io): Promise<JunitCase[]> {
  const cases: JunitCase[] = [];
  for (const mutation of mutations) {
    const caughtAt = mutation.caughtAt;
    if (caughtAt === null) {
      // Argued equivalent in the catalogue: nothing to catch, said so in the report.
      cases.push({ classname: 'detcd-sim.mutants', name: `mutant ${mutation.name}`, timeMs: 0, skipped: 'no pinned catch: argued equivalent in the catalogue' });
      continue;
    }
    const started = performance.now();
    const verdict = await pinnedCatch(mutation, caughtAt);
    const timeMs = performance.now() - started;
    const replay = replayCommand(caughtAt.scenario, caughtAt.seed, { mutant: mutation.name });
    const name = `mutant ${mutation.name} is caught at ${caughtAt.scenario} seed ${caughtAt.seed}`;
    if (verdict === null) {
      io.out(`gate: caught   ${mutation.name} (${(timeMs / 1000).toFixed(1)} s): ${replay}`);
      cases.push({ classname: 'detcd-sim.mutants', name, timeMs });
    } else {
      io.out(`gate: MISSED   ${mutation.name}: ${verdict}\n  replay: ${replay}`);
      cases.push({ classname: 'detcd-sim.mutants', name, timeMs, failure: { message: verdict, text: `${mutation.bug}\nreplay: ${replay}` } });
    }
  }
  return cases;
}

/** Null when the pinned run catches the mutant; otherwise what it did instead. */
async function pinnedCatch(mutation: Mutation, caughtAt: NonNullable<Mutation['caughtAt']>): Promise<string | null> {
  const code = await loadCode({ mutant: mutation.name });
  try {
    const { scenario, seed, violation } = caughtAt;
    const result = code.find(scenario).prepare(seed).execute().result;
    if (result.ok) return `the pinned run passed: the checks no longer catch "${mutation.bug}"`;
    if (!result.violation!.message.includes(violation)) return `caught, but by another check: ${result.violation!.message} (pinned: "${violation}")`;
    return null;
  } finally {
    code.close();
  }
}
