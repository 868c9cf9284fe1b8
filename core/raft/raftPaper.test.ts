import test from 'ava';
import { RandomCluster } from './_test/randomCluster.ts';

/*
 * The safety properties of the Raft paper (Figure 3), checked after every step of randomized
 * runs with message loss, duplication and reordering, partitions, crashes with restarts, and
 * compaction: election safety, leader append-only, log matching, leader completeness, state
 * machine safety — and that term and commit index never go backwards. Each run then heals and
 * must converge: a leader is elected and a new proposal is applied everywhere.
 */

const seeds = 120;
const stepsPerRun = 600;
// Fault-free steps to elect a leader and apply a proposal everywhere (the worst seen is under 4,000).
const convergeStepsMax = 20_000;

for (const size of [3, 5]) {
  for (const [preVote, checkQuorum] of [
    [false, false],
    [true, true],
  ] as const) {
    test(`${size} nodes, prevote=${preVote} checkquorum=${checkQuorum}: the paper's properties hold on ${seeds} random runs, which then converge`, (t) => {
      for (let seed = 1; seed <= seeds; seed++) {
        const cluster = new RandomCluster({ seed, size, preVote, checkQuorum });
        const where = `seed ${seed} (size ${size}, prevote ${preVote}, checkquorum ${checkQuorum})`;
        let converged: boolean;
        try {
          cluster.run(stepsPerRun);
          converged = cluster.converge(convergeStepsMax);
        } catch (error) {
          t.fail(`${where} after ${cluster.steps} steps: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        if (!converged) {
          t.fail(`${where} did not converge within ${convergeStepsMax} fault-free steps`);
          return;
        }
      }
      t.pass();
    });
  }
}
