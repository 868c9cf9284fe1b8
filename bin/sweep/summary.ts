import { buildInfo } from '../../reports/buildInfo.ts';
import { coverageOf, formatCoverage, type CoverageRow } from '../../reports/coverage.ts';
import { formatJunit, sweepJunitCases } from '../../reports/junit.ts';
import { formatSweepTable, summarizeSweep, type Expectation, type SweepRow } from '../../reports/sweepReport.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { SweepCost } from './cost.ts';
import type { SweepRecord } from './runTask.ts';

/** What a sweep's summary says of each scenario it ran (so `merge` needs nothing else). */
export interface ScenarioInfo extends Expectation {
  readonly name: string;
  readonly family: string;
  readonly coverage?: readonly string[];
}

/** What a summary keeps of a scenario. */
export function scenarioInfo(scenario: Scenario): ScenarioInfo {
  const { name, family, expect, promisedCatchRate, coverage } = scenario;
  return { name, family, expect, ...(promisedCatchRate === undefined ? {} : { promisedCatchRate }), ...(coverage === undefined ? {} : { coverage }) };
}

/** The last line of `sweep --json FILE`: the table's rows and everything needed to merge shards. */
export interface SweepSummary {
  readonly summary: readonly SweepRow[];
  readonly scenarios: readonly ScenarioInfo[];
  readonly coverage: readonly CoverageRow[];
  readonly runs: number;
  readonly failures: number;
  readonly coverageLost: number;
  readonly requireCoverage: boolean;
  readonly wallMs: number;
  readonly version: string;
  readonly commit: string;
  /** What was planned: seeds, shard, budget, determinism sampling, code variant. */
  readonly plan: Readonly<Record<string, unknown>>;
  /** The signal that stopped the sweep early, or null. */
  readonly interrupted: string | null;
  /** Where the time went, per process (absent from a merge). */
  readonly cost?: SweepCost;
}

export interface SweepOutcome {
  readonly rows: readonly SweepRow[];
  readonly coverage: readonly CoverageRow[];
  /** Runs whose verdict was not what their scenario expects, or that were not deterministic. */
  readonly failures: number;
  readonly coverageLost: number;
}

/** The records in report order (scenario order, then seed), whatever order they came in. */
export function inReportOrder(scenarios: readonly ScenarioInfo[], records: readonly SweepRecord[]): SweepRecord[] {
  const position = new Map(scenarios.map((scenario, index) => [scenario.name, index]));
  return [...records].sort((a, b) => position.get(a.report.scenario)! - position.get(b.report.scenario)! || a.report.seed - b.report.seed);
}

export function summarizeRecords(scenarios: readonly ScenarioInfo[], records: readonly SweepRecord[]): SweepOutcome {
  const byScenario = new Map<string, SweepRecord[]>(scenarios.map((scenario) => [scenario.name, []]));
  for (const record of inReportOrder(scenarios, records)) byScenario.get(record.report.scenario)?.push(record);
  const rows = scenarios.map((scenario) => {
    const own = byScenario.get(scenario.name)!;
    const nondeterministic = own.filter((r) => r.nondeterministic !== undefined).map((r) => ({ seed: r.report.seed, detail: r.nondeterministic! }));
    const checked = own.filter((r) => r.checkedDeterminism === true).length;
    return summarizeSweep(scenario.name, scenario, own.map((r) => r.report), nondeterministic, checked);
  });
  const coverage = scenarios.map((scenario) => coverageOf(scenario, byScenario.get(scenario.name)!.map((r) => r.report)));
  return {
    rows,
    coverage,
    failures: rows.reduce((sum, row) => sum + row.failed, 0),
    coverageLost: coverage.reduce((sum, row) => sum + row.lost.length, 0),
  };
}

/** The table, the coverage and, when required and lost, why the sweep fails. */
export function formatOutcome(outcome: SweepOutcome, wallMs: number, requireCoverage: boolean): string {
  const { version, commit } = buildInfo();
  const lines = [formatSweepTable(outcome.rows, wallMs), formatCoverage(outcome.coverage)];
  if (requireCoverage && outcome.coverageLost > 0) lines.push(`FAIL coverage: ${outcome.coverageLost} required count(s) stayed at zero (see LOST above)`);
  lines.push(`detcd ${version}, commit ${commit}`);
  return lines.join('\n');
}

export function sweepSummary(scenarios: readonly ScenarioInfo[], outcome: SweepOutcome, runs: number, wallMs: number, requireCoverage: boolean, plan: Readonly<Record<string, unknown>>, interrupted: string | null, cost?: SweepCost): SweepSummary {
  const { version, commit } = buildInfo();
  return {
    summary: outcome.rows,
    scenarios,
    coverage: outcome.coverage,
    runs,
    failures: outcome.failures,
    coverageLost: outcome.coverageLost,
    requireCoverage,
    wallMs: Math.round(wallMs),
    version,
    commit,
    plan,
    interrupted,
    ...(cost === undefined ? {} : { cost }),
  };
}

/** `sweep --json FILE`: one line per run in report order, then the summary line. */
export function formatJsonLines(scenarios: readonly ScenarioInfo[], records: readonly SweepRecord[], summary: SweepSummary): string {
  const lines = inReportOrder(scenarios, records).map((record) => JSON.stringify(recordLine(record)));
  lines.push(JSON.stringify(summary));
  return `${lines.join('\n')}\n`;
}

/** A run's JSON line: its report, and what the sweep added (determinism, page). */
export function recordLine(record: SweepRecord): Record<string, unknown> {
  return { ...record.report, ...(record.checkedDeterminism === true ? { checkedDeterminism: true } : {}), ...(record.nondeterministic === undefined ? {} : { nondeterministic: record.nondeterministic }), ...(record.page === undefined ? {} : { page: record.page }) };
}

export function junitOf(outcome: SweepOutcome, wallMs: number, requireCoverage: boolean, properties: Readonly<Record<string, string>>): string {
  const { version, commit } = buildInfo();
  return formatJunit({ name: 'detcd-sim sweep', version, commit, properties, wallMs }, sweepJunitCases(outcome.rows, outcome.coverage, requireCoverage));
}
