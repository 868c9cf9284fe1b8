import test from 'ava';
import { checkTypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import { findScenario } from './index.ts';
import { mutations } from './mutations/catalogue.ts';
import { makePatchedCopy, patchedScenarios, removePatchedCopy } from './mutations/patchedCopy.ts';

/**
 * The Raft family's clients' history, in the checker's terms, says what the runs did: passing runs
 * under loss, duplication (a request delivered twice is appended twice), crashes and membership
 * changes give linearizable histories; a leader serving stale reads gives one that is not.
 */
for (const [name, seed] of [['raft-lossy', 3], ['raft-swarm', 1], ['raft-crashes', 2], ['raft-membership', 4]] as const) {
  test(`${name} seed ${seed}: the clients' history is linearizable`, (t) => {
    const executed = findScenario(name)!.prepare(seed).execute();
    t.true(executed.result.ok, executed.result.violation?.message);
    const history = executed.clientHistory()!;
    t.is(history.model, 'etcd');
    t.true(history.operations.length > 100);
    t.is(checkTypedHistory(history, { budget: { timeoutMs: 30_000 } }).result.verdict, 'linearizable');
  });
}

test("a leader answering reads without its heartbeat round (mutant) gives a history that is not linearizable", async (t) => {
  const mutation = mutations.find((m) => m.name === 'read-index-without-heartbeat')!;
  const copy = makePatchedCopy(mutation);
  try {
    const executed = (await patchedScenarios(copy))(mutation.caughtAt!.scenario).prepare(mutation.caughtAt!.seed).execute();
    t.is(checkTypedHistory(executed.clientHistory()!, { budget: { timeoutMs: 30_000 } }).result.verdict, 'not-linearizable');
  } finally {
    removePatchedCopy(copy);
  }
});
