import { raftScenarios } from '../../raft.ts';

/**
 * The sweep half of the mutation-score test command (the other half is the core unit tests):
 * seeds 0..S-1 of every Raft scenario, seed by seed across the scenarios, in this one process,
 * stopping at the first run that finds a violation (exit 1) — a mutant is killed as soon as any
 * check sees it. S is the first argument (default 3).
 *
 * A mutant that makes the runs crawl (a livelock that only the event limit would end) is killed
 * by a budget of CPU time, as Stryker counts a timeout as a kill: CPU time, not wall time, so a
 * busy machine does not kill a slow-but-correct run. (Stryker's own wall-clock timeout left the
 * test command's children running.)
 */
const cpuBudgetMs = 240_000;
const seeds = Number(process.argv[2] ?? 3);
if (!Number.isSafeInteger(seeds) || seeds < 1) {
  console.error(`quickCheck: the seed count must be a positive integer, got "${process.argv[2]}"`);
  process.exit(2);
}
let runs = 0;
for (let seed = 0; seed < seeds; seed++) {
  for (const scenario of raftScenarios) {
    let result;
    try {
      result = scenario.prepare(seed).execute().result;
    } catch (error) {
      // A mutant may break the scenario's own setup: that is a kill too.
      console.error(`quickCheck: ${scenario.name} seed ${seed} threw: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
    runs++;
    const cpu = process.cpuUsage();
    if ((cpu.user + cpu.system) / 1000 > cpuBudgetMs) {
      console.error(`quickCheck: over the CPU budget of ${cpuBudgetMs / 1000} s after ${runs} runs (a timeout)`);
      process.exit(1);
    }
    if (!result.ok) {
      console.error(`quickCheck: ${scenario.name} seed ${seed}: ${result.violation?.message}`);
      process.exit(1);
    }
  }
}
console.log(`quickCheck: ${runs} runs passed`);
