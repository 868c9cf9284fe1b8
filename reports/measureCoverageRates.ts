/**
 * Measures the per-run rates of the required coverage counts (reports/coverageRates.ts):
 *   npx tsx reports/measureCoverageRates.ts [--draws N] SWEEP.jsonl...
 * A count a fault in the plan makes non-zero (crashes, pauses, clock jumps, partitions healed) is
 * measured over N seeds' fault plans (`prepare` only: no run), and checked against the sweeps' runs:
 * a run whose plan has the fault but whose count is zero makes the plan's rate untrustworthy, and
 * that count is measured over the runs instead. Every other count is measured over the runs.
 * Prints the table as TypeScript, and each count's runs needed (`coverageRunsNeeded`) on stderr.
 */
import { readFileSync } from 'node:fs';
import { plannedCoverage, plannedCoverageFaults } from '../scenarios/coverage.ts';
import { allScenarios } from '../scenarios/index.ts';
import { coverageRunsNeeded, rateLowerBound } from './coverage.ts';

const planned = plannedCoverageFaults;

const argv = process.argv.slice(2);
let draws = 2000;
if (argv[0] === '--draws') {
  draws = Number(argv[1]);
  argv.splice(0, 2);
}
const runs = new Map<string, { seed: number; stats: Record<string, number> }[]>();
for (const file of argv) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as { scenario?: string; seed?: number; stats?: Record<string, number> };
    if (record.scenario === undefined || record.stats === undefined || record.seed === undefined) continue;
    const own = runs.get(record.scenario) ?? [];
    // The same seed in two files (two commits' sweeps) counts once.
    if (!own.some((run) => run.seed === record.seed)) own.push({ seed: record.seed, stats: record.stats });
    runs.set(record.scenario, own);
  }
}

const plannedCounts = plannedCoverage;

const table: Record<string, Record<string, [number, number]>> = {};
for (const scenario of allScenarios) {
  const required = scenario.coverage ?? [];
  if (required.length === 0) continue;
  const own = runs.get(scenario.name) ?? [];
  const row: Record<string, [number, number]> = {};
  const plans = new Map<number, Set<string>>();
  const planOf = (seed: number): Set<string> => {
    let plan = plans.get(seed);
    if (plan === undefined) plans.set(seed, (plan = plannedCounts(scenario, seed)));
    return plan;
  };
  for (const name of required) {
    const measured: [number, number] = [own.filter((run) => (run.stats[name] ?? 0) > 0).length, own.length];
    if (planned[name] === undefined) {
      row[name] = measured;
      continue;
    }
    const misses = own.filter((run) => planOf(run.seed).has(name) !== (run.stats[name] ?? 0) > 0);
    if (misses.length > 0) {
      process.stderr.write(`${scenario.name} ${name}: the plan disagrees with ${misses.length} of ${own.length} runs (seeds ${misses.slice(0, 5).map((run) => run.seed).join(', ')}): measured over the runs\n`);
      row[name] = measured;
      continue;
    }
    let nonZero = 0;
    for (let seed = 0; seed < draws; seed++) if (planOf(seed).has(name)) nonZero++;
    row[name] = [nonZero, draws];
  }
  table[scenario.name] = row;
  for (const [name, [nonZero, of]] of Object.entries(row)) {
    const rate = rateLowerBound(nonZero, of);
    process.stderr.write(`${scenario.name.padEnd(28)} ${name.padEnd(26)} ${String(nonZero).padStart(5)}/${String(of).padEnd(5)} rate ≥ ${rate.toFixed(3)}  needs ${coverageRunsNeeded(rate)} runs\n`);
  }
}

const lines = Object.entries(table).map(([scenario, row]) => `  '${scenario}': { ${Object.entries(row).map(([name, [a, b]]) => `${name}: [${a}, ${b}]`).join(', ')} },`);
process.stdout.write(`export const measuredCoverage: CoverageRates = {\n${lines.join('\n')}\n};\n`);
