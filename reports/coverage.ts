import type { RunReport } from './runReport.ts';

/**
 * Behaviour coverage: how often a sweep's runs did what their scenarios exist to exercise — leader
 * changes, snapshots sent and installed, membership changes applied, partitions healed,
 * unknown-outcome operations, clock jumps, torn writes recovered, crashes, pauses — summed over
 * each scenario's runs. Each scenario names the counts it must not leave at zero
 * (`Scenario.coverage`); one that stays zero is lost coverage, and `--require-coverage` (the gate)
 * fails on it, so a green gate cannot hide a scenario that stopped doing its job.
 */
export const coverageCounts = ['leaderChanges', 'snapshotsSent', 'snapshotsInstalled', 'membershipChangesApplied', 'partitionsHealed', 'opsUnknown', 'clockJumps', 'tornWritesRecovered', 'crashes', 'pauses'] as const;

/**
 * Coverage is judged from this many runs of a scenario on: a swarm draws its fault classes per seed,
 * and a handful of seeds may simply not have drawn one (the gate makes dozens per scenario).
 */
export const coverageRunsMin = 16;

export interface CoverageRow {
  readonly scenario: string;
  readonly family: string;
  readonly runs: number;
  /** Every coverage count the runs reported, summed (counts a family does not keep are absent). */
  readonly counts: Readonly<Record<string, number>>;
  /** The counts this scenario must not leave at zero. */
  readonly required: readonly string[];
  /** Required counts that are zero over at least `coverageRunsMin` runs. */
  readonly lost: readonly string[];
  /** Required counts that are zero over fewer runs: too few to judge. */
  readonly undecided: readonly string[];
}

export function coverageOf(scenario: { name: string; family: string; coverage?: readonly string[] }, runs: readonly Pick<RunReport, 'stats'>[]): CoverageRow {
  const counts: Record<string, number> = {};
  // The common counts, and whatever this scenario requires beyond them (a family's own: lease expiries).
  const names = [...new Set([...coverageCounts, ...(scenario.coverage ?? [])])];
  for (const run of runs) {
    for (const name of names) {
      const value = run.stats[name];
      if (value !== undefined) counts[name] = (counts[name] ?? 0) + value;
    }
  }
  const required = scenario.coverage ?? [];
  const zero = runs.length === 0 ? [] : required.filter((name) => (counts[name] ?? 0) === 0);
  const judged = runs.length >= coverageRunsMin;
  return { scenario: scenario.name, family: scenario.family, runs: runs.length, counts, required, lost: judged ? zero : [], undecided: judged ? [] : zero };
}

/** Per family, the counts summed over its scenarios; then every lost count, by scenario. */
export function formatCoverage(rows: readonly CoverageRow[]): string {
  const lines = ['behaviour coverage (summed over the runs):'];
  for (const family of [...new Set(rows.map((row) => row.family))]) {
    const totals: Record<string, number> = {};
    for (const row of rows.filter((r) => r.family === family)) for (const [name, value] of Object.entries(row.counts)) totals[name] = (totals[name] ?? 0) + value;
    const names = [...coverageCounts.filter((name) => name in totals), ...Object.keys(totals).filter((name) => !(coverageCounts as readonly string[]).includes(name)).sort()];
    lines.push(`  ${family}: ${names.map((name) => `${name}=${totals[name]}`).join(' ')}`);
  }
  for (const row of rows) if (row.lost.length > 0) lines.push(`  LOST ${row.scenario}: ${row.lost.map((name) => `${name}=0`).join(' ')} over ${row.runs} run(s)`);
  const undecided = rows.filter((row) => row.undecided.length > 0);
  if (undecided.length > 0) lines.push(`  (not judged, fewer than ${coverageRunsMin} runs: ${undecided.map((row) => `${row.scenario} ${row.undecided.join(',')}=0`).join('; ')})`);
  return lines.join('\n');
}
