import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { repositoryRoot } from '../../scenarios/mutations/patchedCopy.ts';
import { allScenarios } from '../../scenarios/index.ts';
import type { CodeVariant, Scenario } from '../../scenarios/scenario.ts';
import type { Command, Io } from '../cli/command.ts';
import { makeOutputFolder, writeOutputFile } from '../cli/files.ts';
import { makeProgress } from '../cli/progress.ts';
import { exitViolation, parseCommandLine, parseDuration, parseNat, UsageError } from '../cli/usage.ts';
import { loadCode, variantOf, type LoadedCode } from '../cli/variant.ts';
import { describePlan, parseShard, plannedRuns, planTasks, seedFrom, seedsMax, type SweepPlan, type SweepTask } from '../sweep/plan.ts';
import { promisesRate, runTask, type SweepRecord, type TaskContext } from '../sweep/runTask.ts';
import { formatJsonLines, formatOutcome, junitOf, scenarioInfo, summarizeRecords, sweepSummary, type ScenarioInfo } from '../sweep/summary.ts';
import { CostMeter, type SweepCost } from '../sweep/cost.ts';
import { WorkerPool } from '../sweep/workers.ts';

const defaultSeeds = 10;
/**
 * Determinism is checked on every 5th seed index by default (0, 5, 10, ...): seed index 0 of
 * every scenario, so each scenario's code path is replayed at least once, at a fifth of the cost
 * of checking every run (a checked run is made twice). `--determinism-every 1` checks them all.
 */
const defaultDeterminismEvery = 5;
/** Below this many planned runs a sweep stays in one process: starting a worker costs about a second. */
const smallSweepRuns = 100;
const defaultReportDir = 'out/pages';
export const launcher = `${repositoryRoot}/bin/detcd-sim`;

const help = `usage: detcd-sim sweep [--scenario NAME]... [--family NAME] [--seeds N] [--first-seed S | --seed-from random|TEXT]
                       [--time-budget DURATION] [--shard I/N] [--jobs N] [--mutant NAME | --patch FILE]
                       [--scenarios FILE]
                       [--json FILE] [--junit FILE] [--report DIR | --no-report] [--require-coverage]
                       [--no-determinism-check | --determinism-every N]

Runs many seeds of each scenario and prints a summary table, the behaviour coverage, then a replay
line for every failing seed. By default every scenario runs ${defaultSeeds} seeds (0..${defaultSeeds - 1}), in as many
worker processes as the machine has cores, and every ${defaultDeterminismEvery}th seed index (0, ${defaultDeterminismEvery}, ...) is executed
twice to check that it is deterministic. A costly scenario runs fewer seeds unless --seeds or
--time-budget is given (an etcd run costs several Raft runs, so the etcd family runs 2, the
costliest Raft scenarios 4). Seeds go in order, every scenario per seed,
so a sweep cut short by its time budget (or stopped by SIGINT/SIGTERM, which prints the table of
what finished) has covered every scenario about equally. Reports come out in scenario and seed
order whatever --jobs, and carry the version and commit.

  --scenario NAME          only this scenario (repeatable)
  --family NAME            only scenarios of this family (heartbeat, raft, raft-bugs, etcd, ...)
  --seeds N                seeds per scenario (default ${defaultSeeds}; with --time-budget, as many as fit)
  --first-seed S           the first seed (default 0)
  --seed-from random|TEXT  the first seed drawn at random, or hashed from TEXT (a commit id), so a
                           gate explores new seeds every run; each failure still prints its seed
  --time-budget DURATION   start no run after this long (90s, 10m, 1h30m)
  --shard I/N              run the I-th of N slices (seed indexes k with k mod N = I-1): a CI
                           matrix of N jobs runs one large sweep; "detcd-sim merge" joins them
  --jobs N                 run in N worker processes (default: the machine's ${availableParallelism()} cores, or 1 for
                           fewer than ${smallSweepRuns} planned runs; at most the cores)
  --mutant NAME            run against a catalogued mutant: the sweep should fail, and its replay
                           lines reproduce the catching runs
  --patch FILE             run against your own mutant (a find/replace JSON file)
  --scenarios FILE         sweep your own scenarios: a module exporting "scenarios"
  --json FILE              write one JSON line per run (report order), then a summary line; - for stdout
  --junit FILE             write JUnit XML: a test case per scenario, each failing seed a failure
                           with its replay line
  --report DIR             where to draw every failing run as a page (see "detcd-sim run --report";
                           default ${defaultReportDir})
  --no-report              draw no pages
  --require-coverage       fail when a scenario leaves a behaviour count it needs at zero over
                           enough runs that the zero is not chance (below 1e-6, from the count's
                           measured per-run rate; fewer runs: "not judged yet")
  --no-determinism-check   run each seed once
  --determinism-every N    check determinism on every N-th seed index (default ${defaultDeterminismEvery}; 1: every run)

Exit codes: 0 every run passed, 1 some run failed, was not deterministic or (with
--require-coverage) lost coverage, 2 bad input, 130/143 stopped by SIGINT/SIGTERM.`;

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'run many seeds of the scenarios and print a summary table',
  help,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, {
      scenario: { type: 'string', multiple: true },
      family: { type: 'string' },
      seeds: { type: 'string' },
      'first-seed': { type: 'string' },
      'seed-from': { type: 'string' },
      'time-budget': { type: 'string' },
      shard: { type: 'string' },
      jobs: { type: 'string' },
      mutant: { type: 'string' },
      patch: { type: 'string' },
      scenarios: { type: 'string' },
      json: { type: 'string' },
      junit: { type: 'string' },
      report: { type: 'string' },
      'no-report': { type: 'boolean', default: false },
      'require-coverage': { type: 'boolean', default: false },
      'no-determinism-check': { type: 'boolean', default: false },
      'determinism-every': { type: 'string' },
      // Internal: a worker of a parent sweep (tasks on stdin, records on stdout).
      worker: { type: 'boolean', default: false },
      'patched-copy': { type: 'string' },
    });
    const variant = variantOf(values);
    if (values.worker) return runWorker(variant, values['patched-copy'], values.report ?? null, io);
    if (values.report !== undefined && values['no-report']) throw new UsageError('give --report DIR or --no-report, not both');
    // Failing runs get a page without being asked for one: that is when it is needed.
    const reportDir = values['no-report'] ? null : (values.report ?? defaultReportDir);
    const jobsAsked = values.jobs === undefined ? null : parseNat(values.jobs, '--jobs', availableParallelism());
    if (jobsAsked === 0) throw new UsageError('--jobs must be at least 1');
    if (values.report !== undefined) makeOutputFolder(values.report, '--report');
    const code = await loadCode(variant);
    try {
      const scenarios = chooseScenarios(values.scenario, values.family, code);
      const plan = makePlan(scenarios, values);
      const jobs = jobsAsked ?? defaultJobs(plannedRuns(plan));
      const context: TaskContext = { find: (name) => code.find(name), variant, reportDir };
      const workerFlags = workerFlagsOf(code, reportDir);
      const sweep = await runSweep(plan, jobs, context, workerFlags, io, values.json === '-');
      return finish(sweep, plan, values, io);
    } finally {
      code.close();
    }
  },
};

/** The machine's cores, but one process for a small sweep (a time-budgeted one, null runs, is not small). */
export function defaultJobs(plannedRuns: number | null): number {
  return plannedRuns !== null && plannedRuns < smallSweepRuns ? 1 : availableParallelism();
}

/** The flags a sweep worker needs to run the same code as its parent (the parent's patched copy) and draw pages where it does. */
export function workerFlagsOf(code: LoadedCode, reportDir: string | null): string[] {
  const { variant } = code;
  return [
    ...(variant.mutant === undefined ? [] : ['--mutant', variant.mutant]),
    ...(variant.patch === undefined ? [] : ['--patch', resolve(variant.patch)]),
    ...(code.copy === null ? [] : ['--patched-copy', code.copy]),
    ...(variant.scenarios === undefined ? [] : ['--scenarios', resolve(variant.scenarios)]),
    ...(reportDir === null ? [] : ['--report', reportDir]),
  ];
}

/** The scenarios named, or of the family, or all; the user's own (`--scenarios`) when they gave some. */
export function chooseScenarios(names: readonly string[] | undefined, family: string | undefined, code: LoadedCode): Scenario[] {
  const known = code.own.length > 0 ? code.own : allScenarios;
  let scenarios: Scenario[] = names === undefined ? [...known] : names.map((name) => code.find(name));
  if (family !== undefined) {
    scenarios = scenarios.filter((s) => s.family === family);
    if (scenarios.length === 0) throw new UsageError(`no scenario of family "${family}" (families: ${[...new Set([...code.own, ...allScenarios].map((s) => s.family))].join(', ')})`);
  }
  return scenarios;
}

interface PlanFlags {
  readonly seeds?: string | undefined;
  readonly 'first-seed'?: string | undefined;
  readonly 'seed-from'?: string | undefined;
  readonly 'time-budget'?: string | undefined;
  readonly shard?: string | undefined;
  readonly 'no-determinism-check': boolean;
  readonly 'determinism-every'?: string | undefined;
}

function makePlan(scenarios: readonly Scenario[], values: PlanFlags): SweepPlan & { seedSource: string | null } {
  const timeBudgetMs = values['time-budget'] === undefined ? null : parseDuration(values['time-budget'], '--time-budget') / 1000;
  if (timeBudgetMs === 0) throw new UsageError('--time-budget must be more than zero');
  const seeds = values.seeds === undefined ? (timeBudgetMs === null ? defaultSeeds : null) : parseNat(values.seeds, '--seeds', seedsMax);
  if (seeds === 0) throw new UsageError('--seeds must be at least 1');
  if (values['first-seed'] !== undefined && values['seed-from'] !== undefined) throw new UsageError('give --first-seed or --seed-from, not both');
  const firstSeed = values['seed-from'] !== undefined ? seedFrom(values['seed-from']) : values['first-seed'] === undefined ? 0 : parseNat(values['first-seed'], '--first-seed');
  if (values['no-determinism-check'] && values['determinism-every'] !== undefined) throw new UsageError('give --no-determinism-check or --determinism-every, not both');
  const determinismEvery = values['no-determinism-check'] ? 0 : values['determinism-every'] === undefined ? defaultDeterminismEvery : parseNat(values['determinism-every'], '--determinism-every');
  const shard = values.shard === undefined ? { index: 1, count: 1 } : parseShard(values.shard);
  return { scenarios, firstSeed, seeds, seedsGiven: values.seeds !== undefined, shard, timeBudgetMs, determinismEvery, seedSource: values['seed-from'] ?? null };
}

export interface SweepRun {
  readonly records: SweepRecord[];
  readonly wallMs: number;
  /** The signal that stopped it, or null. */
  readonly interrupted: NodeJS.Signals | null;
  /** Whether the time budget ended it before its seeds did. */
  readonly outOfTime: boolean;
  /** Where the time went, per process. */
  readonly cost: SweepCost;
}

/**
 * Runs the plan, here or in worker processes, with progress on stderr (a bar on a terminal, a line
 * every few seconds otherwise). SIGINT and SIGTERM stop it: workers are killed, and what finished
 * is summarized.
 */
export async function runSweep(plan: SweepPlan & { seedSource: string | null }, jobs: number, context: TaskContext, workerFlags: readonly string[], io: Io, jsonToStdout: boolean): Promise<SweepRun> {
  const started = performance.now();
  const meter = new CostMeter();
  const records: SweepRecord[] = [];
  const total = plannedRuns(plan);
  const progress = makeProgress('sweep', io.progress, 5_000);
  (jsonToStdout ? io.err : io.out)(describePlan(plan, plan.seedSource));
  let failures = 0;
  let misses = 0;
  let interrupted: NodeJS.Signals | null = null;
  let outOfTime = false;
  const scenarios = new Map(plan.scenarios.map((s) => [s.name, s]));
  const onRecord = (record: SweepRecord): void => {
    records.push(record);
    const scenario = scenarios.get(record.report.scenario)!;
    // A miss of a scenario that promises a rate is judged at the end, over all its seeds.
    if (record.nondeterministic !== undefined) failures++;
    else if (scenario.expect === 'pass' ? !record.report.ok : record.report.ok) {
      if (promisesRate(scenario)) misses++;
      else failures++;
    }
    progress.update(records.length, total, `${record.report.scenario} seed ${record.report.seed} | ${failures} failed${misses === 0 ? '' : `, ${misses} expected violations missed (judged by rate)`}`);
  };
  const stopStarting = (): boolean => {
    if (interrupted !== null) return true;
    if (plan.timeBudgetMs !== null && performance.now() - started >= plan.timeBudgetMs) outOfTime = true;
    return outOfTime;
  };
  const pool = jobs > 1 ? new WorkerPool({ count: jobs, launcher, flags: workerFlags, onRecord, io }) : null;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    pool?.kill();
  };
  if (io.ownsSignals === true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const tasks = planTasks(plan);
    if (pool !== null) await pool.run(tasks, stopStarting);
    else await sweepHere(tasks, context, onRecord, stopStarting, meter);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
    await pool?.exited();
  }
  return { records, wallMs: performance.now() - started, interrupted, outOfTime, cost: { parent: meter.cost(), workers: pool?.costs() ?? [] } };
}

/** Runs tasks in this process, giving signals a chance between runs. */
async function sweepHere(tasks: Iterator<SweepTask>, context: TaskContext, onRecord: (record: SweepRecord) => void, stopStarting: () => boolean, meter: CostMeter): Promise<void> {
  for (let next = tasks.next(); next.done !== true && !stopStarting(); next = tasks.next()) {
    const task = next.value;
    onRecord(meter.measure(() => runTask(task, context)));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface OutputFlags {
  readonly json?: string | undefined;
  readonly junit?: string | undefined;
  readonly 'require-coverage': boolean;
}

function finish(sweep: SweepRun, plan: SweepPlan & { seedSource: string | null }, values: OutputFlags, io: Io): number {
  const scenarios: ScenarioInfo[] = plan.scenarios.map(scenarioInfo);
  const outcome = summarizeRecords(scenarios, sweep.records);
  const requireCoverage = values['require-coverage'];
  const planInfo = {
    firstSeed: plan.firstSeed,
    seeds: plan.seeds,
    ...(plan.seedSource === null ? {} : { seedFrom: plan.seedSource }),
    shard: `${plan.shard.index}/${plan.shard.count}`,
    timeBudgetMs: plan.timeBudgetMs,
    outOfTime: sweep.outOfTime,
    determinismEvery: plan.determinismEvery,
  };
  const summary = sweepSummary(scenarios, outcome, sweep.records.length, sweep.wallMs, requireCoverage, planInfo, sweep.interrupted, sweep.cost);
  const table = formatOutcome(outcome, sweep.wallMs, requireCoverage);
  const say = values.json === '-' ? io.err : io.out;
  say(table);
  for (const record of sweep.records) if (record.page !== undefined) say(`page: ${record.page}`);
  if (sweep.outOfTime) say(`time budget spent: ${sweep.records.length} runs made`);
  if (sweep.interrupted !== null) say(`interrupted by ${sweep.interrupted}: the table shows the ${sweep.records.length} runs that finished`);
  if (values.json !== undefined) {
    const text = formatJsonLines(scenarios, sweep.records, summary);
    if (values.json === '-') io.out(text.trimEnd());
    else writeOutputFile(values.json, text, '--json');
  }
  if (values.junit !== undefined) writeOutputFile(values.junit, junitOf(outcome, sweep.wallMs, requireCoverage, { seeds: JSON.stringify(planInfo), runs: String(sweep.records.length) }), '--junit');
  if (sweep.interrupted !== null) return sweep.interrupted === 'SIGINT' ? 130 : 143;
  return outcome.failures === 0 && (!requireCoverage || outcome.coverageLost === 0) ? 0 : exitViolation;
}

/** A worker: tasks on stdin, one JSON record per task on stdout, until stdin ends. */
async function runWorker(variant: CodeVariant, copy: string | undefined, reportDir: string | null, io: Io): Promise<number> {
  const code = await loadCode(variant, copy);
  try {
    const context: TaskContext = { find: (name) => code.find(name), variant, reportDir };
    const meter = new CostMeter();
    for await (const line of createInterface({ input: process.stdin })) {
      if (line.trim() === '') continue;
      const task = JSON.parse(line) as SweepTask;
      try {
        io.out(JSON.stringify(meter.measure(() => runTask(task, context))));
      } catch (error) {
        // A run that throws outside the simulation's own checks (a scenario's prepare, say) ends
        // this worker, and it must really end: the parent's pipe kept stdin open and the worker
        // alive, and the sweep waited for its record forever.
        process.stdin.destroy();
        throw new Error(`${task.scenario} seed ${task.seed}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
    // The last line: where this worker's time went (see cost.ts).
    io.out(JSON.stringify({ workerCost: meter.cost() }));
    return 0;
  } finally {
    code.close();
  }
}
