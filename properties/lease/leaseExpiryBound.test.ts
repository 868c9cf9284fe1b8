import test from 'ava';
import type { NodeId } from '../../core/host/node.ts';
import { Lease } from '../../core/lease/lease.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import { LeaseLog } from '../../core/server/leaseLog.ts';
import { leaseChecks } from './leaseChecks.ts';
import { LeaseExpiryBound } from './leaseExpiryBound.ts';

/*
 * The bound's judgments on hand-made members: a lessor holding `leases`, at `appliedIndex`. Only
 * what LeaseExpiryBound and leaseChecks read is there.
 */
const config = { tickMs: 100, electionTicks: 10, leaseRevokesPerSecond: 1000, leaseCheckpointIntervalTicks: 20 };

function lessorOf(leases: readonly Lease[], primary = false) {
  return { primary, list: () => leases, lookup: (id: number) => leases.find((lease) => lease.id === id), checkpointDueAt: () => undefined };
}

function member(id: NodeId, leases: readonly Lease[], appliedIndex: number) {
  return { id, config, ticks: 0, appliedIndex, leaseLog: new LeaseLog(), state: { lessor: lessorOf(leases) }, softState: { role: 'follower', lead: 0 }, hardState: { term: 1, vote: 0, commit: appliedIndex } };
}

const asServer = (fake: ReturnType<typeof member>) => fake as unknown as EtcdServer;

function checkpointed(index: number, checkpoints: readonly { ID: number; remainingTTL: number }[]) {
  return { seq: 0, kind: 'checkpointed', index, checkpoints, primary: false, proposer: 0, requestId: 0 } as const;
}

test('a renewal while the last checkpoint of its lease still holds a remaining TTL is caught at the renewal (mutant lease-renew-keeps-checkpoint)', (t) => {
  const bound = new LeaseExpiryBound();
  const server = asServer(member(1, [new Lease(7, 20, 4)], 12));
  bound.judge(1, server, checkpointed(10, [{ ID: 7, remainingTTL: 4 }]));
  t.throws(() => bound.judge(1, server, { seq: 0, kind: 'refreshed', ID: 7, tick: 50, index: 12 }), {
    message: 'member 1 renewed lease 7 over its checkpoint: at its tick 50, its state at index 12, the last checkpoint of it (index 10) still says 4 s of its TTL of 20 s; a renewal must clear it (a checkpoint of 0 applied before the answer), or a new primary runs the renewed lease from it',
  });
  // The renewal waited for its clear (a checkpoint of 0 at 11): judged at the clear's index, it passes; a checkpoint after it is not the renewal's business.
  const cleared = new LeaseExpiryBound();
  cleared.judge(1, server, checkpointed(10, [{ ID: 7, remainingTTL: 4 }]));
  cleared.judge(1, server, checkpointed(11, [{ ID: 7, remainingTTL: 0 }]));
  cleared.judge(1, server, checkpointed(14, [{ ID: 7, remainingTTL: 9 }]));
  t.notThrows(() => cleared.judge(1, server, { seq: 0, kind: 'refreshed', ID: 7, tick: 50, index: 11 }));
  // A grant has no checkpoint before it.
  t.notThrows(() => cleared.judge(1, server, { seq: 0, kind: 'refreshed', ID: 8, tick: 50, index: 15 }));
});

test('a member that installs a snapshot is judged as a restarted one: its lessor must hold the remaining TTLs the log says at its applied index', (t) => {
  const fake = member(2, [new Lease(7, 20, 4)], 5);
  const sim = { lastEventNode: 2, members: [1, 2, 3], nowUs: 0, node: (id: NodeId) => (id === 2 ? asServer(fake) : null) };
  const stats = { expiriesJudged: 0, revokesChecked: 0, keysRevoked: 0, promotionsJudged: 0, installsJudged: 0, checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0 };
  const observer = leaseChecks({ timing: false }, stats);
  const afterEvent = (): void => observer.afterEvent!(sim as never);
  fake.leaseLog.checkpointed(5, [{ ID: 7, remainingTTL: 4 }], false);
  afterEvent();
  // A snapshot at index 9 whose backend kept the checkpoint: the same as the log.
  fake.state = { lessor: lessorOf([new Lease(7, 20, 4)]) };
  fake.appliedIndex = 9;
  t.notThrows(afterEvent);
  t.is(stats.installsJudged, 1);
  // One at 12 whose lessor was rebuilt without it (mutant lease-restore-drops-checkpoint, at an install).
  fake.state = { lessor: lessorOf([new Lease(7, 20, 0)]) };
  fake.appliedIndex = 12;
  t.throws(afterEvent, { message: 'member 2 installed a snapshot at applied index 12 holding lease 7 with remaining TTL 0 s, but the last checkpoint of it at or below that index (index 5) says 4 s' });
  t.is(stats.installsJudged, 2);
});

test("a long run's checkpoints, indexes and revoked leases stay bounded by the window, and states above the floor are still judged exactly", (t) => {
  const window = 1_000;
  const forgotten: number[] = [];
  const bound = new LeaseExpiryBound(undefined, { window, forgotten: (lease) => forgotten.push(lease) });
  const server = asServer(member(1, [], 0));
  // Lease 1 lives all run long and is checkpointed every third index; leases 2, 3, ... are each
  // checkpointed twice and revoked a few indexes later: 300,000 indexes.
  let index = 0;
  let largest = { leases: 0, checkpoints: 0, indexes: 0, revoked: 0 };
  for (let lease = 2; index < 300_000; lease++) {
    bound.judge(1, server, checkpointed(++index, [{ ID: 1, remainingTTL: 1 + (index % 19) }, { ID: lease, remainingTTL: 5 }]));
    bound.judge(1, server, checkpointed(++index, [{ ID: lease, remainingTTL: 3 }]));
    bound.revoked(lease, ++index);
    const sizes = bound.sizes;
    largest = { leases: Math.max(largest.leases, sizes.leases), checkpoints: Math.max(largest.checkpoints, sizes.checkpoints), indexes: Math.max(largest.indexes, sizes.indexes), revoked: Math.max(largest.revoked, sizes.revoked) };
  }
  // At most a window and a quarter (pruned every quarter window) of entries, whatever the run's length.
  t.true(largest.indexes <= window * 1.25 + 1, `indexes ${largest.indexes}`);
  t.true(largest.revoked <= (window * 1.25) / 3 + 2, `revoked leases ${largest.revoked}`);
  t.true(largest.leases <= (window * 1.25) / 3 + 3, `leases ${largest.leases}`);
  t.true(largest.checkpoints <= ((window * 1.25) / 3) * 3 + 3, `checkpoints ${largest.checkpoints}`);
  t.true(forgotten.length > 99_000, `forgotten ${forgotten.length}`);
  t.false(forgotten.includes(1), 'the live lease is never forgotten');
  // Lease 1's last checkpoint is the one a primary promoted now runs it from.
  const last = index - 2;
  t.deepEqual(bound.remainingNow(1, 60), { remaining: 1 + (last % 19), index: last });
  // A member restarting just above the floor still finds lease 1's checkpoint below it (kept past the floor)...
  const restarted = (applied: number, remainingTTL: number) => asServer({ ...member(3, [new Lease(1, 60, remainingTTL)], applied) });
  const above = index - window + 5;
  const before = above - ((above - 1) % 3);
  t.notThrows(() => bound.checkRestored(3, restarted(above, 1 + (before % 19))));
  t.throws(() => bound.checkRestored(3, restarted(above, 1 + ((before + 1) % 19))), { message: /member 3 restarted at applied index \d+ holding lease 1/ });
  // ...and one below it is not judged (what it would need is gone), but counted.
  const unjudged = bound.unjudged;
  t.notThrows(() => bound.checkRestored(3, restarted(index - window - 10, 99)));
  t.is(bound.unjudged, unjudged + 1);
});
