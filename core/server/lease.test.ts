import test from 'ava';
import { ErrLeaseExist, ErrLeaseNotFound, ErrLeaseTTLTooLarge, ErrTimeout } from '../api/index.ts';
import { TestCluster } from './_test/testCluster.ts';
import { call, isErrorReply } from './serverRequest.ts';
import { LeaseCallWaiters, LeaseRenewals, type Waiter } from './waiters.ts';

/** 10 ticks per second, an election timeout of 10 ticks: etcd's minimum TTL is 2 s. */
function cluster(config = {}): TestCluster {
  return new TestCluster({ machines: 3, config: { leaseCheckpointIntervalTicks: 20, ...config } });
}

function settleTicks(c: TestCluster, ticks: number): void {
  c.settle(ticks);
}

test('grant: the server picks an id, a short TTL is raised to 1.5 election timeouts, an id in use is ErrLeaseExist, a huge TTL ErrLeaseTTLTooLarge', (t) => {
  const c = cluster();
  const leader = c.electLeader();
  const follower = (leader % 3) + 1;
  const granted = c.ok(follower, 'LeaseGrant', { TTL: 1 });
  t.true(granted.ID > 0 && Number.isSafeInteger(granted.ID));
  t.is(granted.TTL, 2, "etcd's minimum: ceil(1.5 × 1 s)");
  t.is(c.ok(leader, 'LeaseGrant', { TTL: 30, ID: 77 }).ID, 77);
  const again = c.request(leader, 'LeaseGrant', { TTL: 30, ID: 77 });
  t.true(isErrorReply(again) && again.error === ErrLeaseExist);
  const huge = c.request(leader, 'LeaseGrant', { TTL: 9_000_000_001 });
  t.true(isErrorReply(huge) && huge.error === ErrLeaseTTLTooLarge);
  c.settle(3);
  for (const id of [1, 2, 3]) t.deepEqual(c.ok(id, 'LeaseLeases', {}).leases.map((lease) => lease.ID).sort(), [granted.ID, 77].sort(), `member ${id} lists both`);
});

test('revoke deletes every attached key in one revision; a put with a revoked or unknown lease is ErrLeaseNotFound', (t) => {
  const c = cluster();
  const leader = c.electLeader();
  const { ID } = c.ok(leader, 'LeaseGrant', { TTL: 60 });
  for (const key of ['a', 'b', 'c']) c.ok(leader, 'Put', { key, value: 'v', lease: ID });
  c.ok(leader, 'Put', { key: 'b', value: 'detached' }); // a put without the lease detaches the key
  c.ok(leader, 'Put', { key: 'plain', value: 'v' });
  const ttl = c.ok(leader, 'LeaseTimeToLive', { ID, keys: true });
  t.deepEqual(ttl.keys, ['a', 'c']);
  const before = c.server(leader).state.kv.revision;
  const revoked = c.ok((leader % 3) + 1, 'LeaseRevoke', { ID });
  t.is(revoked.header.revision, before + 1, 'one revision for both deletes');
  c.settle(3);
  for (const id of [1, 2, 3]) {
    const keys = c.ok(id, 'Range', { key: '\0', rangeEnd: '\0', serializable: true }).kvs.map((kv) => kv.key);
    t.deepEqual(keys, ['b', 'plain'], `member ${id}`);
  }
  const put = c.request(leader, 'Put', { key: 'x', value: 'v', lease: ID });
  t.true(isErrorReply(put) && put.error === ErrLeaseNotFound);
  const revokeAgain = c.request(leader, 'LeaseRevoke', { ID });
  t.true(isErrorReply(revokeAgain) && revokeAgain.error === ErrLeaseNotFound);
  t.is(c.ok(leader, 'LeaseTimeToLive', { ID }).TTL, -1, 'a lease that is gone has TTL -1');
  t.is(c.ok(leader, 'LeaseKeepAlive', { ID }).TTL, 0, 'and a keep-alive says 0');
});

test('the leader expires a lease not kept alive, through Raft, no earlier than its TTL; keep-alives on a follower reach the leader', (t) => {
  const c = cluster();
  const leader = c.electLeader();
  const follower = (leader % 3) + 1;
  const kept = c.ok(follower, 'LeaseGrant', { TTL: 3 });
  const dropped = c.ok(follower, 'LeaseGrant', { TTL: 3 });
  c.ok(follower, 'Put', { key: 'kept', value: 'v', lease: kept.ID });
  c.ok(follower, 'Put', { key: 'dropped', value: 'v', lease: dropped.ID });
  for (let second = 0; second < 6; second++) {
    t.is(c.ok(follower, 'LeaseKeepAlive', { ID: kept.ID }).TTL, 3, 'forwarded to the leader and renewed');
    settleTicks(c, 10);
    if (second === 1) t.true(c.server(follower).state.lessor.exists(dropped.ID), 'not expired before its TTL');
  }
  for (const id of [1, 2, 3]) {
    const server = c.server(id);
    t.false(server.state.lessor.exists(dropped.ID), `member ${id} revoked the expired lease`);
    t.true(server.state.lessor.exists(kept.ID));
    t.deepEqual(server.state.kv.range({ key: '\0', rangeEnd: '\0' }), c.server(leader).state.kv.range({ key: '\0', rangeEnd: '\0' }));
  }
  t.true(c.server(leader).leaseLog.since(0).some((entry) => entry.kind === 'expiring' && entry.ID === dropped.ID), 'the leader proposed the expiry');
});

test('leases and their keys survive restarts (the lease bucket) and a new leader extends them by an election timeout', (t) => {
  const c = cluster();
  const leader = c.electLeader();
  const { ID } = c.ok(leader, 'LeaseGrant', { TTL: 5 });
  c.ok(leader, 'Put', { key: 'k', value: 'v', lease: ID });
  c.settle(3);
  for (const id of [1, 2, 3]) {
    c.crash(id);
    c.restart(id);
  }
  const next = c.electLeader();
  t.true(c.server(next).state.lessor.exists(ID));
  const ttl = c.ok(next, 'LeaseTimeToLive', { ID, keys: true });
  t.deepEqual(ttl.keys, ['k'], 'the keys are attached again from the store');
  t.true(ttl.TTL >= 5 && ttl.TTL <= 6, `the full TTL plus an election timeout (${ttl.TTL})`);
  const revoked = c.ok(next, 'LeaseRevoke', { ID });
  t.is(c.ok(next, 'Range', { key: 'k' }).kvs.length, 0);
  t.true(revoked.header.revision > 2);
});

test('checkpoints: a new leader starts a lease from its checkpointed remaining TTL, not its full TTL', (t) => {
  const c = cluster();
  const leader = c.electLeader();
  const { ID } = c.ok(leader, 'LeaseGrant', { TTL: 10 });
  settleTicks(c, 45); // checkpoints every 2 s: the remaining TTL (about 6 s) is checkpointed
  const remaining = c.server(leader).state.lessor.lookup(ID)!.remainingTTL;
  t.true(remaining > 0 && remaining < 10, `checkpointed ${remaining}`);
  c.crash(leader);
  const next = c.electLeader();
  const ttl = c.ok(next, 'LeaseTimeToLive', { ID });
  t.true(ttl.TTL <= remaining + 1, `TTL ${ttl.TTL} after a leader change, from the checkpoint ${remaining} plus an election timeout`);
  const follower = [1, 2, 3].find((id) => id !== next && c.isUp(id))!;
  t.is(c.ok(follower, 'LeaseKeepAlive', { ID }).TTL, 10, 'a keep-alive (forwarded by a follower) renews the full TTL');
  t.is(c.server(next).state.lessor.lookup(ID)!.remainingTTL, 0, 'answered once its clearing checkpoint applied on the primary (etcd Renew)');
  c.settle(5);
  t.is(c.server(next).state.lessor.lookup(ID)!.remainingTTL, 0, 'and clears the checkpoint through Raft');
});

// Session 20 (task leasecp found it, task renew fixed it): etcd's Renew of a checkpointed lease
// waits for its clearing checkpoint (remaining TTL 0) to APPLY (le.cp is raftRequestOnce) before it
// refreshes the lease and answers; detcd's keep-alive proposed the clear and answered at once. A
// leader cut off right after such a renewal acknowledged a TTL that its successor never learnt of:
// the successor ran the lease from the stale checkpoint (TTL 30 acknowledged at tick 163, expired
// at 366). Now the cut-off leader answers the keep-alive with ErrTimeout after a request timeout.
test('a keep-alive of a checkpointed lease is answered only once its clearing checkpoint applied (etcd Renew): a cut-off leader promises no TTL its successor cuts short', (t) => {
  const c = cluster();
  const leader = c.electLeader();
  const { ID } = c.ok(leader, 'LeaseGrant', { TTL: 30 });
  settleTicks(c, 150); // 15 s of checkpoints every 2 s: about 16 s remain, checkpointed on every member
  const checkpointed = c.server(leader).state.lessor.lookup(ID)!.remainingTTL;
  t.true(checkpointed > 0 && checkpointed < 20, `checkpointed ${checkpointed}`);
  c.isolate(leader);
  const renewedAt = c.server(leader).ticks;
  const renewal = c.submit(leader, call('LeaseKeepAlive', { ID }));
  const others = [1, 2, 3].filter((id) => id !== leader);
  for (let round = 0; round < 100 && !others.some((id) => c.server(id).state.lessor.primary); round++) c.settle(1);
  const next = others.find((id) => c.server(id).state.lessor.primary)!;
  const expiry = c.server(next).state.lessor.lookup(ID)!.expiry;
  const early = c.replyTo(renewal);
  const acknowledged = early !== undefined && !isErrorReply(early) && early.method === 'LeaseKeepAlive' && early.response.TTL === 30;
  // Acknowledged with TTL 30 at tick renewedAt: the lease must not expire before 30 s after it (the members tick in lockstep).
  t.true(!acknowledged || expiry >= renewedAt + 300, `acknowledged TTL 30 at tick ${renewedAt}, but member ${next} expires it at tick ${expiry}`);
  // Bounded: the keep-alive whose clear cannot apply is answered with etcd's timeout.
  for (let round = 0; round < 100 && c.replyTo(renewal) === undefined; round++) c.settle(1);
  const late = c.replyTo(renewal);
  t.true(late !== undefined && isErrorReply(late) && late.error === ErrTimeout, `the cut-off keep-alive got ${JSON.stringify(late)}`);
});

// Stryker's survivor S4 (scenarios/mutations/stryker-triage-etcd.md): lease calls waiting to try
// again (no leader, or the leader not yet primary) were timed from the member's tick plus their
// arrival, so once a member had run a request timeout's worth of ticks they failed at the next
// tick instead of retrying (etcd's LeaseRenew forwarding loop retries until the deadline).
test('a lease call waiting to try again is retried until a request timeout has passed since it arrived, however long the member has run', (t) => {
  const waiters = new LeaseCallWaiters();
  const call: Waiter = { client: 1000, id: 1, request: { method: 'LeaseKeepAlive', request: { ID: 7 } }, sinceTick: 5_000 };
  waiters.retry(call);
  const soon = waiters.tick(5_001, 50);
  t.deepEqual([soon.retrying, soon.expired], [[call], []]);
  waiters.retry(call);
  const almost = waiters.tick(5_049, 50);
  t.deepEqual([almost.retrying, almost.expired], [[call], []]);
  waiters.retry(call);
  const late = waiters.tick(5_050, 50);
  t.deepEqual([late.retrying, late.expired], [[], [call]]);
});

test('keep-alives waiting for their clearing checkpoint are bounded, time out after a request timeout, and a stop hands back only the clients', (t) => {
  const renewals = new LeaseRenewals();
  const call: Waiter = { client: 1000, id: 1, request: { method: 'LeaseKeepAlive', request: { ID: 7 } }, sinceTick: 100 };
  renewals.add(1, { ID: 7, sinceTick: 100, answer: { waiter: call } });
  renewals.add(2, { ID: 7, sinceTick: 120, answer: { forwardedBy: 2, forwardId: 9 } });
  t.deepEqual(renewals.expire(149, 50), []);
  t.deepEqual(renewals.expire(150, 50).map((renewal) => renewal.sinceTick), [100]);
  t.is(renewals.take(1), undefined, 'gone once expired');
  renewals.add(3, { ID: 8, sinceTick: 150, answer: { waiter: call } });
  t.deepEqual(renewals.drain(), [call]);
  for (let id = 0; id < LeaseRenewals.limit; id++) renewals.add(id, { ID: 7, sinceTick: 0, answer: { forwardedBy: 2, forwardId: id } });
  t.true(renewals.full);
});
