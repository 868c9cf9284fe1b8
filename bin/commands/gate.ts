import { availableParallelism } from 'node:os';
import { buildInfo } from '../../reports/buildInfo.ts';
import { formatJunit, sweepJunitCases, type JunitCase } from '../../reports/junit.ts';
import { mutations, type Mutation } from '../../scenarios/mutations/catalogue.ts';
import { replayCommand, type CodeVariant } from '../../scenarios/scenario.ts';
import type { Command, Io } from '../cli/command.ts';
import { makeOutputFolder, writeOutputFile } from '../cli/files.ts';
import { exitViolation, parseCommandLine, parseDuration, parseNat, UsageError } from '../cli/usage.ts';
import { findMutation, loadCode, variantOf } from '../cli/variant.ts';
import { seedFrom, seedsMax, type SweepPlan } from '../sweep/plan.ts';
import { formatJsonLines, formatOutcome, scenarioInfo, summarizeRecords, sweepSummary, type ScenarioInfo } from '../sweep/summary.ts';
import { chooseScenarios, runSweep, workerFlagsOf } from './sweep.ts';

const defaultBudget = '10m';

const help = `usage: detcd-sim gate [--time-budget DURATION | --seeds N] [--jobs N] [--seed-from random|TEXT]
                      [--scenario NAME]... [--family NAME] [--pinned NAME|none]...
                      [--mutant NAME | --patch FILE] [--junit FILE] [--json FILE] [--report DIR]

The CI gate for a consensus change (npm run gate):
  1. the mutation catalogue's pinned catches: each deliberate bug, patched into a copy of the
     code, must still be caught by the run pinned beside it (scenarios/mutations/catalogue.ts);
  2. a time-budgeted sweep over every scenario, from a first seed derived from the commit (so each
     commit explores new seeds, and each failure prints its replay line), determinism checked on
     every 10th seed, behaviour coverage required (a count a scenario needs may not stay zero
     over as many runs as its measured rate says a zero is not chance: reports/coverageRates.ts).
JUnit out, with a test case per scenario, per coverage requirement and per mutant.

  --time-budget DURATION   the whole gate's budget (default ${defaultBudget}); the sweep gets what the
                           mutants leave
  --seeds N                sweep N seeds per scenario instead (no time budget): a gate that
                           runs the same seeds each time, for a small or a pinned gate
  --jobs N                 sweep worker processes (default: every core, ${availableParallelism()} here)
  --seed-from random|TEXT  the sweep's first seed (default: hashed from the commit id)
  --scenario NAME          sweep only this scenario (repeatable; default: every scenario)
  --family NAME            sweep only the scenarios of this family
  --pinned NAME|none       check only this mutant's pinned catch (repeatable; none: no mutant)
  --mutant NAME            gate a catalogued mutant instead of this checkout: the sweep runs its
                           code and the gate should fail (pinned catches are not checked on it)
  --patch FILE             gate your own mutant (a find/replace JSON file), as --mutant
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
      seeds: { type: 'string' },
      jobs: { type: 'string' },
      'seed-from': { type: 'string' },
      scenario: { type: 'string', multiple: true },
      family: { type: 'string' },
      pinned: { type: 'string', multiple: true },
      mutant: { type: 'string' },
      patch: { type: 'string' },
      junit: { type: 'string' },
      json: { type: 'string' },
      report: { type: 'string' },
    });
    if (values['time-budget'] !== undefined && values.seeds !== undefined) throw new UsageError('give --time-budget or --seeds, not both');
    const budgetMs = parseDuration(values['time-budget'] ?? defaultBudget, '--time-budget') / 1000;
    const seeds = values.seeds === undefined ? null : parseNat(values.seeds, '--seeds', seedsMax);
    if (seeds === 0) throw new UsageError('--seeds must be at least 1');
    const jobs = values.jobs === undefined ? availableParallelism() : parseNat(values.jobs, '--jobs', availableParallelism());
    if (jobs === 0) throw new UsageError('--jobs must be at least 1');
    const variant = variantOf(values);
    if (variant.mutant !== undefined && variant.patch !== undefined) throw new UsageError('give --mutant NAME or --patch FILE, not both');
    const pinned = pinnedMutations(values.pinned, variant);
    if (values.report !== undefined) makeOutputFolder(values.report, '--report');
    const started = performance.now();
    const { version, commit } = buildInfo();
    const code = await loadCode(variant);
    try {
      const scenarioList = chooseScenarios(values.scenario, values.family, code);
      const gated = variant.mutant !== undefined ? `mutant ${variant.mutant}` : variant.patch !== undefined ? `the mutant of ${variant.patch}` : 'this checkout';
      io.out(`gate: detcd ${version}, commit ${commit}, ${gated}, ${seeds === null ? `budget ${(budgetMs / 1000).toFixed(0)} s` : `${seeds} seed(s) per scenario`}, ${jobs} job(s)`);
      const mutantCases = await checkPinnedCatches(pinned, io);
      const sweepBudgetMs = seeds !== null ? null : Math.max(10_000, budgetMs - (performance.now() - started) - sweepMarginMs);
      const seedSource = values['seed-from'] ?? (commit === 'unknown' ? 'random' : commit.replace(/-dirty$/, ''));
      const plan: SweepPlan & { seedSource: string | null } = { scenarios: scenarioList, firstSeed: seedFrom(seedSource), seeds, seedsGiven: seeds !== null, shard: { index: 1, count: 1 }, timeBudgetMs: sweepBudgetMs, determinismEvery: 10, seedSource };
      const context = { find: (name: string) => code.find(name), variant, reportDir: values.report ?? null };
      const sweep = await runSweep(plan, jobs, context, workerFlagsOf(code, values.report ?? null), io, false);
      const scenarios: ScenarioInfo[] = scenarioList.map(scenarioInfo);
      const outcome = summarizeRecords(scenarios, sweep.records);
      io.out(formatOutcome(outcome, sweep.wallMs, true));
      for (const record of sweep.records) if (record.page !== undefined) io.out(`page: ${record.page}`);
      const wallMs = performance.now() - started;
      const cases = [...sweepJunitCases(outcome.rows, outcome.coverage, true), ...mutantCases];
      const failed = cases.filter((c) => c.failure !== undefined).length;
      const properties = { firstSeed: String(plan.firstSeed), seedFrom: seedSource, runs: String(sweep.records.length), ...(gated === 'this checkout' ? {} : { variant: gated }) };
      if (values.junit !== undefined) writeOutputFile(values.junit, formatJunit({ name: 'detcd-sim gate', version, commit, wallMs, properties }, cases), '--junit');
      if (values.json !== undefined) {
        const planInfo = { firstSeed: plan.firstSeed, seedFrom: seedSource, seeds, shard: '1/1', timeBudgetMs: sweepBudgetMs, outOfTime: sweep.outOfTime, determinismEvery: plan.determinismEvery };
        writeOutputFile(values.json, formatJsonLines(scenarios, sweep.records, sweepSummary(scenarios, outcome, sweep.records.length, sweep.wallMs, true, planInfo, sweep.interrupted, sweep.cost)), '--json');
      }
      io.out(`gate: ${failed === 0 ? 'PASSED' : `FAILED (${failed} of ${cases.length} checks)`}; ${sweep.records.length} sweep runs and ${mutantCases.filter((c) => c.skipped === undefined).length} pinned mutant catches in ${(wallMs / 1000).toFixed(0)} s`);
      if (sweep.interrupted !== null) return sweep.interrupted === 'SIGINT' ? 130 : 143;
      return failed === 0 ? 0 : exitViolation;
    } finally {
      code.close();
    }
  },
};

/**
 * The mutants whose pinned catches the gate checks: every one, those named (`--pinned`), or none.
 * A gate of a mutant checks none: the catalogue's patches apply to this checkout, not to a copy
 * that already carries a bug.
 */
function pinnedMutations(names: readonly string[] | undefined, variant: CodeVariant): readonly Mutation[] {
  const ofMutant = variant.mutant !== undefined || variant.patch !== undefined;
  if (names === undefined) return ofMutant ? [] : mutations;
  if (names.includes('none')) {
    if (names.length > 1) throw new UsageError('--pinned none goes alone');
    return [];
  }
  if (ofMutant) throw new UsageError('--pinned does not go with --mutant or --patch: a mutant\'s gate checks no pinned catches');
  return names.map(findMutation);
}

/** Each catalogued mutant, patched in, must be caught by its pinned run (and the report says how to replay it). */
async function checkPinnedCatches(pinned: readonly Mutation[], io: Io): Promise<JunitCase[]> {
  const cases: JunitCase[] = [];
  for (const mutation of pinned) {
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
