import test from 'ava';
import type { NodeId } from '../../core/host/node.ts';
import type { EtcdServer, ServerReply, ServerRequest } from '../../core/server/index.ts';
import { LeaseLog } from '../../core/server/leaseLog.ts';
import { CallArrivals, leaseChecks, type LeaseCheckStats } from './leaseChecks.ts';

/*
 * leaseChecks on hand-made members: only what it and LeaseExpiryBound read is there (no leases
 * held, no leased keys), driven as the simulator drives an observer.
 */
const config = { tickMs: 100, electionTicks: 10, leaseRevokesPerSecond: 1000, leaseCheckpointIntervalTicks: 20 };

function member(id: NodeId, appliedIndex: number) {
  const lessor = { primary: false, list: () => [], lookup: () => undefined, exists: () => false, checkpointDueAt: () => undefined };
  return {
    id,
    config,
    ticks: 0,
    appliedIndex,
    leaseLog: new LeaseLog(),
    state: { lessor, kv: { revision: 1, leasedKeys: () => new Map<string, number>() } },
    softState: { role: 'follower', lead: 0 },
    hardState: { term: 1, vote: 0, commit: appliedIndex },
  };
}

function harness(options: { timing: boolean; window?: number }) {
  const members = new Map([1, 2].map((id) => [id, member(id, 1)] as const));
  const sim = { lastEventNode: 0, members: [1, 2], nowUs: 0, node: (id: NodeId) => (members.get(id) as unknown as EtcdServer | undefined) ?? null };
  const stats: LeaseCheckStats = { expiriesJudged: 0, revokesChecked: 0, keysRevoked: 0, promotionsJudged: 0, installsJudged: 0, checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0 };
  const observer = leaseChecks(options, stats);
  const afterEvent = (): void => observer.afterEvent!(sim as never);
  const call = (client: number, requestId: number, request: ServerRequest, reply: ServerReply | null): void => {
    observer.onRequest!(client, 1, requestId, request, sim as never);
    if (reply !== null) observer.onReply!(1, client, requestId, reply, sim as never);
    afterEvent();
  };
  const header = { cluster_id: 1, member_id: 1, revision: 1, raft_term: 1 };
  const keepAlive = (ID: number, TTL: number) => [{ method: 'LeaseKeepAlive', request: { ID } }, { method: 'LeaseKeepAlive', response: { header, ID, TTL } }] as unknown as [ServerRequest, ServerReply];
  const grant = (ID: number, TTL: number) => [{ method: 'LeaseGrant', request: { TTL } }, { method: 'LeaseGrant', response: { header, ID, TTL, error: '' } }] as unknown as [ServerRequest, ServerReply];
  return { members, sim, stats, afterEvent, call, keepAlive, grant };
}

test('calls never answered are forgotten past each client\'s latest few: the arrivals stay bounded', (t) => {
  const arrivals = new CallArrivals(4);
  for (let requestId = 1; requestId <= 10_000; requestId++) for (const client of [7, 8, 9]) arrivals.arrived(client, requestId, requestId * 10);
  t.is(arrivals.size, 12);
  t.is(arrivals.forgotten, 3 * (10_000 - 4));
  t.is(arrivals.answered(7, 9_999), 99_990, 'a recent call is still judged');
  t.is(arrivals.answered(7, 9_999), undefined, 'once');
  t.is(arrivals.answered(7, 5), undefined, 'an old one is forgotten');
  arrivals.arrived(8, 10_000, 1);
  t.is(arrivals.answered(8, 10_000), 100_000, 'a retry keeps the first arrival');

  // In the observer: a client whose keep-alives all time out holds a bounded number of arrivals.
  const { call, keepAlive, grant, stats } = harness({ timing: false });
  for (let requestId = 1; requestId <= 1_000; requestId++) call(11, requestId, keepAlive(5, 3)[0], null);
  call(11, 2_000, ...grant(5, 3));
  call(11, 2_001, ...keepAlive(5, 3));
  t.is(stats.repliesUnjudged ?? 0, 0, 'the answered calls are judged');
});

test("a late keep-alive answer for a lease revoked and forgotten does not give it a deadline back (no false 'expired early' when a member far behind applies the old revoke)", (t) => {
  const window = 8;
  const { members, sim, stats, afterEvent, call, keepAlive, grant } = harness({ timing: true, window });
  const [one, two] = [members.get(1)!, members.get(2)!];
  sim.nowUs = 1_000_000;
  call(11, 1, ...grant(7, 5));
  // Member 1 applies lease 7's expiry at index 10 (once its TTL passed), then entries past the window.
  sim.nowUs = 7_000_000;
  one.leaseLog.revoked(7, 10, 2, 0, true);
  afterEvent();
  for (let index = 11; index <= 30; index++) one.leaseLog.checkpointed(index, [{ ID: 9, remainingTTL: 1 }], false);
  afterEvent();
  // A deposed leader that never applied the revoke answers a keep-alive of lease 7 late.
  sim.nowUs = 8_000_000;
  call(11, 2, ...keepAlive(7, 5));
  t.is(stats.repliesUnjudged, 1);
  // Member 2, far behind, applies the old revoke: not judged against a deadline the lease no longer has.
  sim.nowUs = 9_000_000;
  two.leaseLog.revoked(7, 10, 2, 0, true);
  t.notThrows(afterEvent);
});

test('a primary that renews a lease after proposing its expiry is caught at the renewal (etcd #20616, mutant etcd-lease-renewed-while-expiring)', (t) => {
  const { members, afterEvent } = harness({ timing: false });
  const one = members.get(1)!;
  one.leaseLog.promoted(3, 10, 10);
  one.leaseLog.refreshed(7, 10, 3);
  one.leaseLog.expiring(7, 41);
  t.notThrows(afterEvent);
  one.leaseLog.refreshed(7, 42, 4);
  t.throws(afterEvent, { message: 'lease 7 renewed after its expiry: member 1 (term 1, applied 1) proposed its revoke at its tick 41 and renewed it at its tick 42, before that revoke applied there' });

  // Its revoke applied, or the lessor promoted again (every lease gets a new expiry): a renewal is no longer judged so.
  const { members: others, afterEvent: after } = harness({ timing: false });
  const two = others.get(2)!;
  two.leaseLog.expiring(7, 41);
  two.leaseLog.expiring(8, 41);
  two.leaseLog.revoked(7, 5, 2, 0, true);
  two.leaseLog.refreshed(7, 43, 5);
  two.leaseLog.promoted(6, 50, 10);
  two.leaseLog.refreshed(8, 51, 6);
  t.notThrows(after);
});
