import test from 'ava';
import { emptyConfState } from '../raft/index.ts';
import { assertConfStateIsRafts } from './applyEntries.ts';

const voters = (...ids: number[]) => ({ ...emptyConfState, voters: ids });

test("a conf change applied leaves the server's ConfState equal to Raft's, or the apply fails there, naming both (mutant etcd-snapshot-stale-conf-state)", (t) => {
  t.notThrows(() => assertConfStateIsRafts(2, 40, voters(1, 2, 3, 4), voters(1, 2, 3, 4)));
  const error = t.throws(() => assertConfStateIsRafts(2, 40, voters(1, 2, 3), voters(1, 2, 3, 4)));
  t.regex(error!.message, /^member 2 applied the conf change at index 40 but keeps ConfState .*1 2 3\b.*, not Raft's .*1 2 3 4.*stale membership/);
});
