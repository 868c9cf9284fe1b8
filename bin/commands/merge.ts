import { readFileSync } from 'node:fs';
import type { Command } from '../cli/command.ts';
import { writeOutputFile } from '../cli/files.ts';
import { exitViolation, parseCommandLine, UsageError } from '../cli/usage.ts';
import type { SweepRecord, SweepRunReport } from '../sweep/runTask.ts';
import { formatJsonLines, formatOutcome, junitOf, summarizeRecords, sweepSummary, type ScenarioInfo, type SweepSummary } from '../sweep/summary.ts';

const help = `usage: detcd-sim merge FILE... [--json FILE] [--junit FILE] [--require-coverage]

Merges the JSON summaries of several sweeps ("sweep --json FILE"), typically the shards of a CI
matrix ("sweep --shard I/N"), into one table, one behaviour coverage and one exit code. A run that
appears in two files is counted once; files from different commits are merged with a warning.

  --json FILE          write the merged runs and summary (as "sweep --json"); - for stdout
  --junit FILE         write the merged result as JUnit XML
  --require-coverage   fail when a scenario leaves a behaviour count it needs at zero (also on
                       when any merged sweep required it)

Exit codes: 0 every run passed, 1 some run failed (or coverage was lost), 2 bad input.`;

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'merge the JSON summaries of sweep shards into one table and exit code',
  help,
  run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'string' }, junit: { type: 'string' }, 'require-coverage': { type: 'boolean', default: false } }, true);
    if (positionals.length === 0) throw new UsageError('give the JSON files of the sweeps to merge ("sweep --json FILE")');
    const sweeps = positionals.map(readSweep);
    const commits = [...new Set(sweeps.map((sweep) => sweep.summary.commit))];
    if (commits.length > 1) io.err(`detcd-sim merge: warning: the sweeps come from different commits: ${commits.join(', ')}`);
    const scenarios = mergeScenarios(sweeps.map((sweep) => sweep.summary.scenarios));
    const records = new Map<string, SweepRecord>();
    for (const sweep of sweeps) for (const record of sweep.records) records.set(`${record.report.scenario}:${record.report.seed}`, record);
    const outcome = summarizeRecords(scenarios, [...records.values()]);
    // Everything, coverage included, is recomputed from the distinct runs: a run two shards share counts once.
    const requireCoverage = values['require-coverage'] || sweeps.some((sweep) => sweep.summary.requireCoverage);
    const wallMs = Math.max(...sweeps.map((sweep) => sweep.summary.wallMs));
    const interrupted = sweeps.map((sweep) => sweep.summary.interrupted).find((signal) => signal !== null) ?? null;
    const say = values.json === '-' ? io.err : io.out;
    say(`merge: ${sweeps.length} sweep(s), ${records.size} distinct runs`);
    say(formatOutcome(outcome, wallMs, requireCoverage));
    if (interrupted !== null) say(`warning: a merged sweep was interrupted by ${interrupted}: its runs are partial`);
    const plan = { merged: positionals, shards: sweeps.map((sweep) => sweep.summary.plan.shard ?? '1/1') };
    const summary: SweepSummary = sweepSummary(scenarios, outcome, records.size, wallMs, requireCoverage, plan, interrupted);
    if (values.json !== undefined) {
      const text = formatJsonLines(scenarios, [...records.values()], summary);
      if (values.json === '-') io.out(text.trimEnd());
      else writeOutputFile(values.json, text, '--json');
    }
    if (values.junit !== undefined) writeOutputFile(values.junit, junitOf(outcome, wallMs, requireCoverage, { merged: positionals.join(' ') }), '--junit');
    return outcome.failures === 0 && (!requireCoverage || outcome.coverageLost === 0) ? 0 : exitViolation;
  },
};

interface ReadSweep {
  readonly records: SweepRecord[];
  readonly summary: SweepSummary;
}

/** One sweep's JSON lines: runs, then the summary; anything else is bad input naming the line. */
function readSweep(file: string): ReadSweep {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const records: SweepRecord[] = [];
  let summary: SweepSummary | undefined;
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new UsageError(`${file}:${index + 1}: not JSON (is this the output of "sweep --json FILE"?)`);
    }
    if ('summary' in value && 'scenarios' in value) summary = value as unknown as SweepSummary;
    else if (typeof value.scenario === 'string' && typeof value.seed === 'number' && 'traceHash' in value) records.push(recordOf(value));
    else throw new UsageError(`${file}:${index + 1}: neither a run nor a sweep summary`);
  });
  if (summary === undefined) throw new UsageError(`${file}: no summary line (the sweep did not finish writing, or it is not a "sweep --json" file)`);
  return { records, summary };
}

function recordOf(line: Record<string, unknown>): SweepRecord {
  const { nondeterministic, page, checkedDeterminism, ...report } = line;
  return {
    report: report as unknown as SweepRunReport,
    ...(checkedDeterminism === true ? { checkedDeterminism: true } : {}),
    ...(typeof nondeterministic === 'string' ? { nondeterministic } : {}),
    ...(typeof page === 'string' ? { page } : {}),
  };
}

/** Every scenario any sweep ran, in the order they first appear. */
function mergeScenarios(lists: readonly (readonly ScenarioInfo[])[]): ScenarioInfo[] {
  const merged = new Map<string, ScenarioInfo>();
  for (const list of lists) for (const scenario of list) if (!merged.has(scenario.name)) merged.set(scenario.name, scenario);
  return [...merged.values()];
}
