import { describePromise, judgeCatchRate, type CatchRateVerdict } from './catchRate.ts';
import type { RunReport } from './runReport.ts';

/** What a sweep's table needs of each run. */
export type SweepRun = Pick<RunReport, 'seed' | 'violation' | 'replay' | 'events' | 'simulatedMs' | 'wallMs' | 'convergedAfterMs'>;

export interface SweepFailure {
  readonly seed: number;
  readonly reason: string;
  readonly replay: string;
}

/** One scenario's line in a sweep's table. */
export interface SweepRow {
  readonly scenario: string;
  /** 'violation' for bug-catalogue scenarios: a seed passes when it catches the bug. */
  readonly expect: 'pass' | 'violation';
  readonly seeds: number;
  readonly passed: number;
  readonly failed: number;
  /** How many of its runs were checked for determinism (run twice, traces compared). */
  readonly determinismChecked: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  /** Median time from quiet to liveness, over the runs that had a liveness phase. */
  readonly convergedMedianMs: number | null;
  readonly failures: readonly SweepFailure[];
  /** An expected-violation scenario's catch rate over the seeds run, judged against its promise (null for the others). */
  readonly catchRate: CatchRateVerdict | null;
  /** Seeds that missed the expected violation while the promised rate held: listed, not failed. */
  readonly missed: readonly SweepFailure[];
}

/** What a sweep must know of a scenario to judge its runs. */
export interface Expectation {
  readonly expect: 'pass' | 'violation';
  /** For an expected violation: the share of seeds that promise to catch it (default 1, every seed; reports/catchRate.ts). */
  readonly promisedCatchRate?: number;
}

export function summarizeSweep(scenario: string, expectation: Expectation, reports: readonly SweepRun[], nondeterministic: readonly { seed: number; detail: string }[], determinismChecked: number): SweepRow {
  const { expect } = expectation;
  const failures: SweepFailure[] = [];
  if (expect === 'pass') for (const report of reports) if (report.violation !== null) failures.push({ seed: report.seed, reason: report.violation.message, replay: report.replay });
  const misses = expect === 'violation' ? reports.filter((report) => report.violation === null).map((report) => ({ seed: report.seed, reason: 'the re-created bug was not caught', replay: report.replay })) : [];
  const catchRate = expect === 'violation' ? judgeCatchRate(reports.length - misses.length, reports.length, expectation.promisedCatchRate ?? 1) : null;
  // While the promised rate holds a miss is listed, not failed; once it breaks, every miss fails.
  if (catchRate !== null && !catchRate.holds) failures.push(...misses.map((miss) => ({ ...miss, reason: `${miss.reason} (${catchRate.text})` })));
  for (const { seed, detail } of nondeterministic) {
    const replay = reports.find((r) => r.seed === seed)?.replay ?? '';
    failures.push({ seed, reason: `not deterministic: ${detail}`, replay: `${replay} --check-determinism` });
  }
  const failedSeeds = new Set(failures.map((f) => f.seed));
  const converged = reports.map((r) => r.convergedAfterMs).filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
  return {
    scenario,
    expect,
    seeds: reports.length,
    passed: reports.length - failedSeeds.size,
    failed: failedSeeds.size,
    determinismChecked,
    events: reports.reduce((sum, r) => sum + r.events, 0),
    simulatedMs: reports.reduce((sum, r) => sum + r.simulatedMs, 0),
    wallMs: reports.reduce((sum, r) => sum + r.wallMs, 0),
    convergedMedianMs: converged.length === 0 ? null : converged[Math.floor(converged.length / 2)]!,
    failures: failures.sort((a, b) => a.seed - b.seed),
    catchRate,
    missed: catchRate !== null && catchRate.holds ? misses : [],
  };
}

/** The table `detcd-sim sweep` and `npm start` print. */
export function formatSweepTable(rows: readonly SweepRow[], wallMs: number): string {
  const header = ['scenario', 'seeds', 'passed', 'failed', 'determinism', 'events', 'sim s', 'events/wall s', 'liveness p50'];
  const body = rows.map((row) => [
    rowName(row),
    String(row.seeds),
    String(row.passed),
    String(row.failed),
    row.determinismChecked === 0 ? '-' : row.failures.some((f) => f.reason.startsWith('not deterministic')) ? 'BROKEN' : row.determinismChecked === row.seeds ? 'same' : `same (${row.determinismChecked})`,
    String(row.events),
    (row.simulatedMs / 1000).toFixed(1),
    row.wallMs === 0 ? '-' : String(Math.round((row.events / row.wallMs) * 1000)),
    row.convergedMedianMs === null ? '-' : `${row.convergedMedianMs.toFixed(0)} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  const total = rows.reduce((sum, row) => sum + row.seeds, 0);
  const failed = rows.reduce((sum, row) => sum + row.failed, 0);
  out.push('', `${total} runs, ${failed} failed, ${(wallMs / 1000).toFixed(1)} s wall`);
  for (const row of rows) if (row.catchRate !== null && row.catchRate.promised < 1 && row.seeds > 0) out.push(`${row.catchRate.holds ? 'rate' : 'FAIL'} ${row.scenario} (expected violation): ${row.catchRate.text}`);
  for (const row of rows) {
    if (row.missed.length > 0) out.push(`miss ${row.scenario}: not caught in seed${row.missed.length === 1 ? '' : 's'} ${listSeeds(row.missed)} (listed, not failed: the promised rate holds)`, `  replay: ${row.missed[0]!.replay}`);
  }
  for (const row of rows) {
    for (const failure of row.failures) out.push(`FAIL ${row.scenario} seed ${failure.seed}: ${failure.reason}`, `  replay: ${failure.replay}`);
  }
  return out.join('\n');
}

/** A scenario's name in the table; an expected violation says what its "passed" column counts. */
function rowName(row: SweepRow): string {
  if (row.expect === 'pass') return row.scenario;
  const promised = row.catchRate?.promised ?? 1;
  return promised >= 1 ? `${row.scenario} (bug: passed = caught)` : `${row.scenario} (bug: ${describePromise(promised)})`;
}

/** Seeds as a short list: the first 20, then how many more. */
function listSeeds(runs: readonly { readonly seed: number }[]): string {
  const shown = runs.slice(0, 20).map((run) => String(run.seed)).join(', ');
  return runs.length > 20 ? `${shown} and ${runs.length - 20} more` : shown;
}
