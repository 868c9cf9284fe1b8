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
}

export function summarizeSweep(scenario: string, expect: 'pass' | 'violation', reports: readonly SweepRun[], nondeterministic: readonly { seed: number; detail: string }[], determinismChecked: number): SweepRow {
  const failures: SweepFailure[] = [];
  for (const report of reports) {
    if (expect === 'pass' && report.violation !== null) failures.push({ seed: report.seed, reason: report.violation.message, replay: report.replay });
    if (expect === 'violation' && report.violation === null) failures.push({ seed: report.seed, reason: 'the re-created bug was not caught', replay: report.replay });
  }
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
  };
}

/** The table `detcd-sim sweep` and `npm start` print. */
export function formatSweepTable(rows: readonly SweepRow[], wallMs: number): string {
  const header = ['scenario', 'seeds', 'passed', 'failed', 'determinism', 'events', 'sim s', 'events/wall s', 'liveness p50'];
  const body = rows.map((row) => [
    row.expect === 'violation' ? `${row.scenario} (bug: passed = caught)` : row.scenario,
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
  for (const row of rows) {
    for (const failure of row.failures) out.push(`FAIL ${row.scenario} seed ${failure.seed}: ${failure.reason}`, `  replay: ${failure.replay}`);
  }
  return out.join('\n');
}
