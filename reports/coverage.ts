import type { RunReport } from './runReport.ts';
import { measuredCoverage } from './coverageRates.ts';

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
 * Coverage is judged from at least this many runs of a scenario: a swarm draws its fault classes per
 * seed, and a handful of seeds may simply not have drawn one. A count whose per-run rate is
 * recorded (`reports/coverageRates.ts`) waits for as many runs as `coverageRunsNeeded` says.
 */
export const coverageRunsMin = 16;

/**
 * A required count is judged lost only when a zero this long would happen by chance with at most
 * this probability, given the count's per-run rate of being non-zero: a gate must not fail by chance.
 */
export const coverageChanceMax = 1e-6;

/**
 * The per-run rate of a count being non-zero that a measurement vouches for: the lower end of the
 * Wilson score interval at z = 3.29 (99.9 %, two-sided) of `nonZero` of `runs`, so a rate measured
 * over a few dozen seeds is taken as lower than measured, and its threshold as longer.
 */
export function rateLowerBound(nonZero: number, runs: number): number {
  if (runs <= 0 || nonZero <= 0) return 0;
  const z = 3.29;
  const p = nonZero / runs;
  const centre = p + (z * z) / (2 * runs);
  const spread = z * Math.sqrt((p * (1 - p)) / runs + (z * z) / (4 * runs * runs));
  return Math.max(0, (centre - spread) / (1 + (z * z) / runs));
}

/**
 * How many runs a count with this per-run rate of being non-zero needs before a zero over all of
 * them is a real signal: (1 - rate)^runs ≤ `coverageChanceMax`, and never fewer than
 * `coverageRunsMin`. A rate of zero (never seen non-zero) is never judged.
 */
export function coverageRunsNeeded(rate: number): number {
  if (!(rate > 0)) return Number.POSITIVE_INFINITY;
  if (rate >= 1) return coverageRunsMin;
  return Math.max(coverageRunsMin, Math.ceil(Math.log(coverageChanceMax) / Math.log(1 - rate)));
}

/** The runs a scenario's required count needs before it is judged: from its measured rate, else `coverageRunsMin`. */
export function coverageRunsNeededFor(scenario: string, count: string, rates: CoverageRates = measuredCoverage): number {
  const measured = rates[scenario]?.[count];
  if (measured === undefined) return coverageRunsMin;
  return coverageRunsNeeded(rateLowerBound(measured[0], measured[1]));
}

/** Per scenario and required count: in how many of how many runs (or seeds' draws) it was non-zero. */
export type CoverageRates = Readonly<Record<string, Readonly<Record<string, readonly [nonZero: number, runs: number]>>>>;

export interface CoverageRow {
  readonly scenario: string;
  readonly family: string;
  readonly runs: number;
  /** Every coverage count the runs reported, summed (counts a family does not keep are absent). */
  readonly counts: Readonly<Record<string, number>>;
  /** The counts this scenario must not leave at zero. */
  readonly required: readonly string[];
  /** Required counts that are zero over at least the runs they need (`coverageRunsNeededFor`). */
  readonly lost: readonly string[];
  /** Required counts that are zero over fewer runs: too few to judge. */
  readonly undecided: readonly string[];
  /** For each undecided count, the runs it needs before it is judged. */
  readonly needed: Readonly<Record<string, number>>;
}

export function coverageOf(scenario: { name: string; family: string; coverage?: readonly string[] }, runs: readonly Pick<RunReport, 'stats'>[], rates: CoverageRates = measuredCoverage): CoverageRow {
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
  const needed = Object.fromEntries(zero.map((name) => [name, coverageRunsNeededFor(scenario.name, name, rates)]));
  const lost = zero.filter((name) => runs.length >= needed[name]!);
  const undecided = zero.filter((name) => runs.length < needed[name]!);
  return { scenario: scenario.name, family: scenario.family, runs: runs.length, counts, required, lost, undecided, needed: Object.fromEntries(undecided.map((name) => [name, needed[name]!])) };
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
  const needs = (row: CoverageRow, name: string): string => (Number.isFinite(row.needed[name]) ? `of ${row.needed[name]}` : 'never judged: no measured rate');
  if (undecided.length > 0) lines.push(`  (not judged yet, a zero this short can be chance: ${undecided.map((row) => `${row.scenario} ${row.undecided.map((name) => `${name}=0 (${row.runs} run(s) ${needs(row, name)})`).join(', ')}`).join('; ')})`);
  return lines.join('\n');
}
