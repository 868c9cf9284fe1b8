import cliProgress from 'cli-progress';
import { runReport, type RunReport } from '../../reports/runReport.ts';
import { formatSweepTable, summarizeSweep, type SweepRow } from '../../reports/sweepReport.ts';
import { checkDeterminism, compareRuns } from '../../scenarios/determinism.ts';
import { allScenarios } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { Command } from '../cli/command.ts';
import { exitViolation, parseCommandLine, parseNat, UsageError } from '../cli/usage.ts';
import { resolveScenario } from './run.ts';

const defaultSeeds = 25;
const seedsMax = 1_000_000;

const help = `usage: detcd-sim sweep [--scenario NAME]... [--family NAME] [--seeds N] [--first-seed S]
                       [--json] [--no-determinism-check]

Runs many seeds of each scenario and prints a summary table, then a replay line for every
failing seed. By default every scenario runs ${defaultSeeds} seeds (0..${defaultSeeds - 1}) and every run
is executed twice to check that it is deterministic.

  --scenario NAME          only this scenario (repeatable)
  --family NAME            only scenarios of this family (e.g. heartbeat)
  --seeds N                seeds per scenario (default ${defaultSeeds}, at most ${seedsMax})
  --first-seed S           the first seed (default 0)
  --json                   one JSON object per run, then one summary object
  --no-determinism-check   run each seed once

Exit codes: 0 every run passed, 1 some run failed or was not deterministic, 2 bad input.`;

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'run many seeds of the scenarios and print a summary table',
  help,
  run(argv, io) {
    const { values } = parseCommandLine(argv, {
      scenario: { type: 'string', multiple: true },
      family: { type: 'string' },
      seeds: { type: 'string' },
      'first-seed': { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-determinism-check': { type: 'boolean', default: false },
    });
    let scenarios: readonly Scenario[] = values.scenario === undefined ? allScenarios : values.scenario.map((name) => resolveScenario(name));
    if (values.family !== undefined) {
      const family = values.family;
      scenarios = scenarios.filter((s) => s.family === family);
      if (scenarios.length === 0) throw new UsageError(`no scenario of family "${family}" (families: ${[...new Set(allScenarios.map((s) => s.family))].join(', ')})`);
    }
    const seeds = values.seeds === undefined ? defaultSeeds : parseNat(values.seeds, '--seeds', seedsMax);
    if (seeds === 0) throw new UsageError('--seeds must be at least 1');
    const firstSeed = values['first-seed'] === undefined ? 0 : parseNat(values['first-seed'], '--first-seed');
    const checkDeterminismToo = !values['no-determinism-check'];

    const showProgress = !values.json && process.stderr.isTTY === true;
    const bar = showProgress ? new cliProgress.SingleBar({ format: 'sweep [{bar}] {value}/{total} runs | {scenario} | {failures} failed', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
    bar?.start(scenarios.length * seeds, 0, { scenario: '', failures: 0 });
    const rows: SweepRow[] = [];
    let failures = 0;
    const started = performance.now();
    for (const scenario of scenarios) {
      const reports: RunReport[] = [];
      const nondeterministic: { seed: number; detail: string }[] = [];
      for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
        const runStarted = performance.now();
        const prepared = scenario.prepare(seed);
        const executed = prepared.execute();
        const report = runReport(scenario.name, prepared, executed, performance.now() - runStarted);
        reports.push(report);
        let detail: string | null = null;
        if (checkDeterminismToo) {
          const again = scenario.prepare(seed).execute();
          const verdict = compareRuns(executed, again);
          // Hashes differ: replay both with trails to name the first divergent event.
          if (!verdict.deterministic) detail = checkDeterminism(scenario, seed).firstDivergence ?? verdict.traceHashes.join(' vs ');
        }
        if (detail !== null) nondeterministic.push({ seed, detail });
        const asExpected = scenario.expect === 'pass' ? report.ok : !report.ok;
        if (!asExpected || detail !== null) failures++;
        if (values.json) io.out(JSON.stringify(detail === null ? report : { ...report, nondeterministic: detail }));
        bar?.increment(1, { scenario: scenario.name, failures });
      }
      rows.push(summarizeSweep(scenario.name, scenario.expect, reports, nondeterministic, checkDeterminismToo));
    }
    bar?.stop();
    const wallMs = performance.now() - started;
    if (values.json) io.out(JSON.stringify({ summary: rows, failures, wallMs: Math.round(wallMs) }));
    else io.out(formatSweepTable(rows, wallMs));
    return failures === 0 ? 0 : exitViolation;
  },
};
