import { etcdScenarios } from '../../etcd.ts';

/**
 * The sweep half of the etcd mutation-score test command (`npm run mutation-score:etcd`; the
 * other half is core/mvcc's and core/server's unit tests, which run first): seeds 0..S-1 of
 * every etcd scenario, seed by seed across the scenarios, in this one process, stopping at the
 * first run that finds a violation (exit 1) — a mutant is killed as soon as any check sees it.
 * S is the first argument (default 1).
 *
 * Only the scenarios that expect to pass take part: the two that show where etcd's own guarantees
 * end (etcd-lease-pauses, etcd-lock) find their violation on unmutated code, so with them every
 * mutant would count as killed (the first measurement attempt did exactly that).
 *
 * A mutant that makes the runs crawl is killed by a budget of CPU time, as Stryker counts a
 * timeout as a kill: CPU time, not wall time, so a busy machine does not kill a slow but correct
 * run.
 */
const cpuBudgetMs = 300_000;
const seeds = Number(process.argv[2] ?? 1);
if (!Number.isSafeInteger(seeds) || seeds < 1) {
  console.error(`etcdQuickCheck: the seed count must be a positive integer, got "${process.argv[2]}"`);
  process.exit(2);
}
const judged = etcdScenarios.filter((scenario) => scenario.expect === 'pass');
let runs = 0;
for (let seed = 0; seed < seeds; seed++) {
  for (const scenario of judged) {
    let result;
    try {
      result = scenario.prepare(seed).execute().result;
    } catch (error) {
      // A mutant may break the scenario's own setup: that is a kill too.
      console.error(`etcdQuickCheck: ${scenario.name} seed ${seed} threw: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
    runs++;
    const cpu = process.cpuUsage();
    if ((cpu.user + cpu.system) / 1000 > cpuBudgetMs) {
      console.error(`etcdQuickCheck: over the CPU budget of ${cpuBudgetMs / 1000} s after ${runs} runs (a timeout)`);
      process.exit(1);
    }
    if (!result.ok) {
      console.error(`etcdQuickCheck: ${scenario.name} seed ${seed}: ${result.violation?.message.split('\n')[0]}`);
      process.exit(1);
    }
  }
}
console.log(`etcdQuickCheck: ${runs} runs passed`);
