import test from 'ava';
import type { EtcdServer } from '../../core/server/index.ts';
import { LeaseLog, type LeaseLogEntry } from '../../core/server/leaseLog.ts';
import { StaleCheckpoints } from './staleCheckpoints.ts';

/*
 * StaleCheckpoints on hand-made lease logs: a member's proposals, applies, renewals and promotions,
 * judged in the order a checker reads them. Only the checkpoint interval is read from the member.
 */
const member = { config: { leaseCheckpointIntervalTicks: 20 } } as unknown as EtcdServer;

/** Feeds `write`'s entries on `log` to the check as member `id`. */
function feed(check: StaleCheckpoints, id: number, log: LeaseLog, write: (log: LeaseLog) => void): void {
  const from = log.lastSeq;
  write(log);
  for (const entry of log.since(from)) check.judge(id, member, entry as LeaseLogEntry);
}

/** Member 1 promoted at its tick 5 and proposed, at its tick 25 as request 42, checkpoints of these leases (seconds by id). */
function primaryProposing(remaining: Readonly<Record<number, number>>) {
  const check = new StaleCheckpoints();
  const leader = new LeaseLog();
  feed(check, 1, leader, (log) => {
    log.promoted(10, 5, 10);
    log.checkpointing(42, 25, Object.entries(remaining).map(([ID, remainingTTL]) => ({ ID: Number(ID), remainingTTL })));
  });
  return { check, leader };
}

test('a renewal answered while the primary\'s own checkpoint of the lease is still to apply fails at the renewal (the mutant lease-renew-ignores-inflight-checkpoint)', (t) => {
  const { check, leader } = primaryProposing({ 7: 18, 8: 3 });
  t.throws(() => feed(check, 1, leader, (log) => log.refreshed(7, 26, 11)), { message: /member 1 renewed lease 7 at its tick 26 \(its state at index 11\) while its own checkpoint of it \(18 s, proposed at its tick 25, request 42\) had not applied there/ });
});

test('a renewal after the checkpoint applied on its proposer, or of another lease, passes; a follower applying it first settles nothing', (t) => {
  const { check, leader } = primaryProposing({ 7: 18 });
  t.notThrows(() => feed(check, 1, leader, (log) => log.refreshed(9, 25, 11)), 'another lease');
  // A follower applying it first does not settle it: the proposer's own state must hold it.
  feed(check, 2, new LeaseLog(), (log) => log.checkpointed(12, [{ ID: 7, remainingTTL: 18 }], false, 1, 42));
  t.is(check.size, 1);
  t.throws(() => feed(check, 1, new LeaseLog(), (log) => log.refreshed(7, 26, 11)));
  const again = primaryProposing({ 7: 18 });
  feed(again.check, 1, again.leader, (log) => log.checkpointed(12, [{ ID: 7, remainingTTL: 18 }], true, 1, 42));
  t.is(again.check.size, 0);
  t.notThrows(() => feed(again.check, 1, again.leader, (log) => log.refreshed(7, 26, 13)));
  t.is(again.check.stats.renewalsOverProposedCheckpoints, 0);
});

test('past one interval the proposal is no longer trusted: the renewal is marked, and fails only if that checkpoint applies after all', (t) => {
  const { check, leader } = primaryProposing({ 7: 18 });
  t.notThrows(() => feed(check, 1, leader, (log) => log.refreshed(7, 45, 11)));
  t.is(check.stats.renewalsOverProposedCheckpoints, 1);
  t.throws(() => feed(check, 3, new LeaseLog(), (log) => log.checkpointed(12, [{ ID: 7, remainingTTL: 18 }], false, 1, 42)), {
    message: /member 3 applied the checkpoint at index 12 \(lease 7: 18 s\), which member 1 proposed at its tick 25, after that member renewed the lease at its tick 45/,
  });
});

test('a promotion forgets every proposal not applied on its proposer (they applied below it or never will); a revoke forgets its lease; a renewal\'s clear of 0 is no proposal', (t) => {
  const { check, leader: one } = primaryProposing({ 7: 18, 8: 4 });
  feed(check, 1, one, (log) => log.checkpointing(43, 26, [{ ID: 9, remainingTTL: 0 }]));
  t.is(check.size, 1);
  feed(check, 1, one, (log) => log.revoked(8, 11, 5, 0, false));
  t.notThrows(() => feed(check, 1, one, (log) => log.refreshed(8, 27, 12)));
  feed(check, 2, new LeaseLog(), (log) => log.promoted(20, 40, 10));
  t.is(check.size, 0);
  t.is(check.stats.checkpointProposalsForgotten, 1);
  t.notThrows(() => feed(check, 1, one, (log) => log.refreshed(7, 60, 21)));
});

test('the proposals held are bounded: past the limit the oldest are forgotten and counted', (t) => {
  const check = new StaleCheckpoints(undefined, 100);
  const leader = new LeaseLog();
  feed(check, 1, leader, (log) => log.promoted(1, 0, 10));
  for (let request = 1; request <= 10_000; request++) feed(check, 1, leader, (log) => log.checkpointing(request, request, [{ ID: request, remainingTTL: 5 }]));
  t.is(check.size, 100);
  t.is(check.stats.checkpointProposalsForgotten, 9_900);
  t.throws(() => feed(check, 1, leader, (log) => log.refreshed(9_999, 10_000, 2)), { message: /request 9999/ });
});
