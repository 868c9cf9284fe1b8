import test from 'ava';
import type { HistoryEntry } from '../../sim/client.ts';
import { raftLiveness } from './raftLiveness.ts';

/*
 * raftLiveness on a hand-made run: three members, the cluster part decided by one flag (a leader
 * followed by every voter, caught up), the clients' calls written into the history. Quiet at 20 s;
 * calls have a 2 s deadline and clients pause up to 4 s.
 */
const quietUs = 20_000_000;

function run() {
  let live = false;
  const history: HistoryEntry<string, string>[] = [];
  const member = (id: number) => ({
    softState: { role: live && id === 1 ? 'leader' : 'follower', lead: live ? 1 : 0 },
    hardState: { term: 2, vote: 1, commit: 10 },
    storage: { lastIndex: () => 10, term: () => 2 },
    confState: { voters: [1, 2, 3], votersOutgoing: [] },
    appliedIndex: 10,
  });
  const sim = { nowUs: quietUs, members: [1, 2, 3], history, node: (id: number) => member(id), processState: () => 'up' };
  const check = raftLiveness(10_000_000, 10, { timeoutUs: 2_000_000, pacingUsMax: 4_000_000 });
  const at = (us: number) => {
    sim.nowUs = us;
    // As the simulator asks: the deadline only while liveness does not hold.
    const holds = check.holds(sim as never);
    return { holds, deadline: holds ? { atUs: Number.NaN, why: 'held' } : check.deadline!(sim as never) };
  };
  let id = 0;
  const call = (client: number, invokeUs: number, completeUs: number | null, outcome: 'ok' | 'fail' | 'unknown') => {
    history.push({ client, id: ++id, to: 1, invokeUs, completeUs, attempts: 1, lastTo: 1, request: 'put', reply: completeUs === null ? null : 'reply', outcome });
  };
  return { at, call, goLive: () => (live = true), check };
}

test('before the cluster is live the fixed bound applies; once it is, a client whose call in flight is lost is held to that call, its pause and its next call (etcd-lease seed 158\'s compactor)', (t) => {
  const { at, call, goLive } = run();
  t.false(at(quietUs).holds);
  call(13, 21_200_000, null, 'unknown'); // invoked before the cluster was live, given up at 23.2 s
  t.is(at(20_500_000).deadline.atUs, quietUs + 10_000_000);
  goLive();
  const first = at(22_100_000);
  t.false(first.holds);
  t.is(first.deadline.atUs, 23_200_000 + 4_000_000 + 2_000_000, 'its call in flight, a pause and a deadline');
  t.regex(first.deadline.why, /client 13 was not served/);
  // After its pause its next call is on the live cluster: it may be lost once (then a pause and one more call).
  call(13, 26_600_000, null, 'unknown');
  t.is(at(26_700_000).deadline.atUs, 28_600_000 + 4_000_000 + 2_000_000);
  call(13, 27_840_000, 27_840_000, 'ok');
  t.true(at(27_900_000).holds, 'served at 27.84 s, 0.76 s before that call\'s deadline');
});

test('on the live cluster one call may be lost (the client pauses and calls again); a second lost call fails the run at its deadline, whatever the fixed bound says', (t) => {
  const { at, call, goLive } = run();
  goLive();
  t.true(at(21_000_000).holds, 'live, and no client working yet');
  call(7, 21_500_000, null, 'unknown');
  t.is(at(21_600_000).deadline.atUs, 23_500_000 + 4_000_000 + 2_000_000, 'in flight: it may be lost once');
  t.is(at(23_500_000).deadline.atUs, 29_500_000, 'lost: a pause and the next call');
  call(7, 23_600_000, null, 'unknown');
  t.is(at(23_700_000).deadline.atUs, 25_600_000, 'the next call must be answered by its deadline');
  const { holds, deadline } = at(25_600_000);
  t.false(holds);
  t.is(deadline.atUs, 25_600_000);
  t.is(deadline.why, 'client 7 was not served and lost two calls on a cluster live since 21000000us, the last (call 2, invoked at 23600000us) not answered within its deadline of 2000000us');
});

test('a refusal after the cluster is live moves the client\'s deadline to the refusal plus a pause and a deadline; success ends the judgement', (t) => {
  const { at, call, goLive, check } = run();
  at(quietUs);
  goLive();
  at(21_000_000);
  call(9, 21_100_000, 21_300_000, 'fail'); // ErrCompacted, say: answered, not served
  t.is(at(21_400_000).deadline.atUs, 21_300_000 + 4_000_000 + 2_000_000);
  call(9, 24_000_000, 24_100_000, 'ok');
  t.true(at(24_200_000).holds);
  t.deepEqual(check.figures(), { quietAtUs: quietUs, clusterLiveAtUs: 21_000_000, lastDeadlineUs: 27_300_000, slowestCallUs: 200_000 }, 'the slowest answer on the live cluster: 200 ms');
  t.deepEqual(run().check.figures(), { quietAtUs: 0, clusterLiveAtUs: null, lastDeadlineUs: null, slowestCallUs: null });
});
