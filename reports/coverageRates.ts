import type { CoverageRates } from './coverage.ts';

/**
 * Measured per-run rates of the required coverage counts: per scenario, over how many runs, and in
 * how many of them each count was non-zero. `coverageOf` waits for as many runs as a count's rate
 * needs before it judges a zero (`coverageRunsNeeded`). Made by
 * `npx tsx reports/measureCoverageRates.ts SWEEP.jsonl...` from sweeps with --no-determinism-check;
 * remeasure when a scenario's space or operators change (a test checks every required count is here).
 */
export const measuredCoverage: CoverageRates = {};
