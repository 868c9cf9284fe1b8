import test from 'ava';
import fc from 'fast-check';
import type { ConfState } from '../../core/raft/index.ts';
import { quorumHolds } from './quorum.ts';

/** The dumbest possible reading: count yes votes in each half of the config. */
function dumbQuorum(config: ConfState, yes: ReadonlySet<number>): boolean {
  const wins = (ids: readonly number[]) => {
    if (ids.length === 0) return true;
    let count = 0;
    for (const id of ids) if (yes.has(id)) count++;
    return count >= Math.floor(ids.length / 2) + 1;
  };
  if (config.voters.length === 0 && config.votersOutgoing.length === 0) return false;
  return wins(config.voters) && wins(config.votersOutgoing);
}

test('quorumHolds agrees with counting, for simple and joint configurations (property)', (t) => {
  const ids = fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 7 });
  fc.assert(
    fc.property(ids, ids, fc.uniqueArray(fc.integer({ min: 1, max: 9 })), (voters, outgoing, yes) => {
      const config: ConfState = { voters, votersOutgoing: outgoing, learners: [], learnersNext: [], autoLeave: false };
      const set = new Set(yes);
      return quorumHolds(config, (id) => set.has(id)) === dumbQuorum(config, set);
    }),
  );
  t.pass();
});

test('a joint configuration needs both majorities', (t) => {
  const config: ConfState = { voters: [1, 2, 3], votersOutgoing: [3, 4, 5], learners: [], learnersNext: [], autoLeave: false };
  t.false(quorumHolds(config, (id) => [1, 2].includes(id)));
  t.true(quorumHolds(config, (id) => [1, 3, 4].includes(id)));
});
