import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { runReport, type RunReport } from '../../reports/runReport.ts';
import { formatSweepTable, summarizeSweep, type SweepRow } from '../../reports/sweepReport.ts';
import { checkDeterminism, compareRuns } from '../../scenarios/determinism.ts';
import { allScenarios } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { Command, Io } from '../cli/command.ts';
import { exitViolation, parseCommandLine, parseNat, UsageError } from '../cli/usage.ts';
import { resolveScenario } from './run.ts';

const defaultSeeds = 10;
const seedsMax = 1_000_000;
const launcher = join(dirname(fileURLToPath(import.meta.url)), '..', 'detcd-sim');

const help = `usage: detcd-sim sweep [--scenario NAME]... [--family NAME] [--seeds N] [--first-seed S]
                       [--jobs N] [--json] [--no-determinism-check]

Runs many seeds of each scenario and prints a summary table, then a replay line for every
failing seed. By default every scenario runs ${defaultSeeds} seeds (0..${defaultSeeds - 1}), or fewer where the
scenario says so (an etcd run costs several Raft runs: the etcd family runs 1 seed), and every run
is executed twice to check that it is deterministic.

  --scenario NAME          only this scenario (repeatable)
  --family NAME            only scenarios of this family (heartbeat, raft, raft-bugs, ...)
  --seeds N                seeds per scenario (default ${defaultSeeds}, or the scenario's own; at most ${seedsMax})
  --first-seed S           the first seed (default 0)
  --jobs N                 run in N processes, each a slice of the seeds (default 1; at most
                           the machine's ${availableParallelism()} cores)
  --json                   one JSON object per run, then one summary object
  --no-determinism-check   run each seed once

Exit codes: 0 every run passed, 1 some run failed or was not deterministic, 2 bad input.`;

/** One finished run, whichever process made it. */
interface SweepRecord {
  readonly report: RunReport;
  /** The first divergent event, when the run did not replay to the same trace. */
  readonly nondeterministic?: string;
}

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
      jobs: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-determinism-check': { type: 'boolean', default: false },
    });
    let scenarios: readonly Scenario[] = values.scenario === undefined ? allScenarios : values.scenario.map((name) => resolveScenario(name));
    if (values.family !== undefined) {
      const family = values.family;
      scenarios = scenarios.filter((s) => s.family === family);
      if (scenarios.length === 0) throw new UsageError(`no scenario of family "${family}" (families: ${[...new Set(allScenarios.map((s) => s.family))].join(', ')})`);
    }
    const explicitSeeds = values.seeds === undefined ? undefined : parseNat(values.seeds, '--seeds', seedsMax);
    if (explicitSeeds === 0) throw new UsageError('--seeds must be at least 1');
    const seedsOf = (scenario: Scenario): number => explicitSeeds ?? scenario.sweepSeeds ?? defaultSeeds;
    const firstSeed = values['first-seed'] === undefined ? 0 : parseNat(values['first-seed'], '--first-seed');
    const jobs = values.jobs === undefined ? 1 : parseNat(values.jobs, '--jobs', availableParallelism());
    if (jobs === 0) throw new UsageError('--jobs must be at least 1');
    const checkDeterminismToo = !values['no-determinism-check'];

    const showProgress = !values.json && process.stderr.isTTY === true;
    const bar = showProgress ? new cliProgress.SingleBar({ format: 'sweep [{bar}] {value}/{total} runs | {scenario} | {failures} failed', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
    bar?.start(scenarios.reduce((sum, scenario) => sum + seedsOf(scenario), 0), 0, { scenario: '', failures: 0 });
    const records = new Map<string, SweepRecord[]>(scenarios.map((s) => [s.name, []]));
    let failures = 0;
    const started = performance.now();
    const onRecord = (record: SweepRecord): void => {
      const scenario = scenarios.find((s) => s.name === record.report.scenario)!;
      records.get(scenario.name)!.push(record);
      const asExpected = scenario.expect === 'pass' ? record.report.ok : !record.report.ok;
      if (!asExpected || record.nondeterministic !== undefined) failures++;
      if (values.json) io.out(JSON.stringify(record.nondeterministic === undefined ? record.report : { ...record.report, nondeterministic: record.nondeterministic }));
      bar?.increment(1, { scenario: scenario.name, failures });
    };
    // Scenarios are swept in groups of the same seed count, each group split across the processes.
    for (const seeds of [...new Set(scenarios.map(seedsOf))]) {
      const group = scenarios.filter((scenario) => seedsOf(scenario) === seeds);
      if (jobs === 1) sweepHere(group, firstSeed, seeds, checkDeterminismToo, onRecord);
      else await sweepInProcesses(argv, group, firstSeed, seeds, jobs, onRecord, io);
    }
    bar?.stop();

    const rows: SweepRow[] = scenarios.map((scenario) => {
      const own = records.get(scenario.name)!.sort((a, b) => a.report.seed - b.report.seed);
      const nondeterministic = own.filter((r) => r.nondeterministic !== undefined).map((r) => ({ seed: r.report.seed, detail: r.nondeterministic! }));
      return summarizeSweep(scenario.name, scenario.expect, own.map((r) => r.report), nondeterministic, checkDeterminismToo);
    });
    const wallMs = performance.now() - started;
    if (values.json) io.out(JSON.stringify({ summary: rows, failures, wallMs: Math.round(wallMs) }));
    else io.out(formatSweepTable(rows, wallMs));
    return failures === 0 ? 0 : exitViolation;
  },
};

function sweepHere(scenarios: readonly Scenario[], firstSeed: number, seeds: number, checkDeterminismToo: boolean, onRecord: (record: SweepRecord) => void): void {
  for (const scenario of scenarios) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const runStarted = performance.now();
      const prepared = scenario.prepare(seed);
      const executed = prepared.execute();
      const report = runReport(scenario.name, prepared, executed, performance.now() - runStarted);
      let nondeterministic: string | undefined;
      if (checkDeterminismToo) {
        const verdict = compareRuns(executed, scenario.prepare(seed).execute());
        // Hashes differ: replay both with trails to name the first divergent event.
        if (!verdict.deterministic) nondeterministic = checkDeterminism(scenario, seed).firstDivergence ?? verdict.traceHashes.join(' vs ');
      }
      onRecord(nondeterministic === undefined ? { report } : { report, nondeterministic });
    }
  }
}

/**
 * Splits the seeds into `jobs` contiguous slices and sweeps each in its own `detcd-sim sweep
 * --json` process. Every run is still decided by its scenario and seed alone, so the records are
 * the ones a single process would make.
 */
async function sweepInProcesses(argv: readonly string[], scenarios: readonly Scenario[], firstSeed: number, seeds: number, jobs: number, onRecord: (record: SweepRecord) => void, io: Io): Promise<void> {
  const passOn = withoutOptions(argv, ['--seeds', '--first-seed', '--jobs', '--json', '--scenario', '--family']);
  const scenarioFlags = scenarios.flatMap((s) => ['--scenario', s.name]);
  const slice = Math.ceil(seeds / jobs);
  const children: Promise<void>[] = [];
  for (let start = firstSeed; start < firstSeed + seeds; start += slice) {
    const count = Math.min(slice, firstSeed + seeds - start);
    const args = [launcher, 'sweep', ...scenarioFlags, ...passOn, '--first-seed', String(start), '--seeds', String(count), '--json'];
    children.push(
      new Promise((resolve, reject) => {
        // The launcher loads the TypeScript itself; only the heap flag it also sets is passed on
        // (a parent's own loader flags would make a child transform the sources twice).
        const child = spawn(process.execPath, ['--max-semi-space-size=32', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const parsed = JSON.parse(line) as (RunReport & { nondeterministic?: string }) | { summary: unknown };
          if ('summary' in parsed) return;
          const { nondeterministic, ...report } = parsed;
          onRecord(nondeterministic === undefined ? { report } : { report, nondeterministic });
        });
        child.on('error', reject);
        child.on('close', (code) => {
          if (code === 0 || code === exitViolation) resolve();
          else {
            io.err(stderr.trim());
            reject(new Error(`a sweep process for seeds ${start}..${start + count - 1} exited with ${code}`));
          }
        });
      }),
    );
  }
  await Promise.all(children);
}

/** `argv` without the named options and their values. */
function withoutOptions(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (names.includes(name)) {
      if (!arg.includes('=') && name !== '--json') i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}
