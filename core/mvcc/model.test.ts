import test from 'ava';
import fc from 'fast-check';
import { mvccModelProperty } from '../../properties/mvcc/modelCommands.ts';

/*
 * The model-based test of core/mvcc: random sequences of puts, deletes, txns, ranges at any
 * revision with random options, compactions, HashKV, commits, syncs, crashes (losing what was
 * not synced, sometimes tearing a record), clean restarts, defrags and snapshot installs, each
 * checked against a reference that keeps every revision's full state. A longer run:
 * `npm run model:mvcc -- --runs 5000` (`--seed S` replays).
 */
test('the store and its backend agree with the reference model through writes, reads at any revision, compaction, crashes and restarts', (t) => {
  fc.assert(mvccModelProperty(60), { numRuns: 500 });
  t.pass();
});
