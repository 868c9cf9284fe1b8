import test from 'ava';
import { Lease } from '../../core/lease/lease.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import type { LeaseLogEntry } from '../../core/server/leaseLog.ts';
import { LeaseExpiryBound } from './leaseExpiryBound.ts';

/*
 * The lease log is read after each event, and one event may set a lease's expiry twice (task deep,
 * session 22: etcd-lock-fenced seed 147, a leader resumed after a pause renewed a lease at its tick
 * 76 and again at 77). The lessor then holds the later expiry; each entry is judged by its own.
 * Hand-made primary: a 100 ms tick, 2 s leases; only what LeaseExpiryBound reads is there.
 */
const config = { tickMs: 100, electionTicks: 10, leaseRevokesPerSecond: 1000, leaseCheckpointIntervalTicks: null };

function primary(leases: readonly Lease[], log: readonly LeaseLogEntry[]): EtcdServer {
  const lessor = { primary: true, list: () => leases, lookup: (id: number) => leases.find((lease) => lease.id === id) };
  const leaseLog = { since: (seq: number) => log.filter((entry) => entry.seq > seq) };
  return { id: 2, config, ticks: 77, appliedIndex: 40, leaseLog, state: { lessor } } as unknown as EtcdServer;
}

// Entries carry an index too (the state they were made in), as a later lease log may want.
const refreshed = (seq: number, ID: number, tick: number) => ({ seq, kind: 'refreshed', ID, tick, index: 40 }) as LeaseLogEntry;
const promoted = (seq: number, tick: number) => ({ seq, kind: 'promoted', index: 39, tick, extendTicks: 10 }) as LeaseLogEntry;

function leaseExpiringAt(expiry: number, id = 7): Lease {
  const lease = new Lease(id, 2, 0);
  lease.expiry = expiry;
  return lease;
}

test('a renewal is judged by its own expiry: one renewed again later in the same event is not judged by the later expiry', (t) => {
  const log = [refreshed(1, 7, 76), refreshed(2, 7, 77)];
  const server = primary([leaseExpiringAt(98)], log);
  const bound = new LeaseExpiryBound();
  t.notThrows(() => bound.judge(2, server, log[0] as Extract<LeaseLogEntry, { kind: 'refreshed' }>));
  t.notThrows(() => bound.judge(2, server, log[1] as Extract<LeaseLogEntry, { kind: 'refreshed' }>));
});

test('an expiry past its renewal\'s bound is still caught when nothing later set it (another lease renewed later does not count)', (t) => {
  const log = [refreshed(1, 7, 76), refreshed(2, 8, 77)];
  const server = primary([leaseExpiringAt(98), leaseExpiringAt(98, 8)], log);
  t.throws(() => new LeaseExpiryBound().judge(2, server, log[0] as Extract<LeaseLogEntry, { kind: 'refreshed' }>), {
    message: 'member 2 granted or renewed lease 7 at its tick 76: it expires at tick 98, after 97 (the tick + its TTL of 2 s + 1)',
  });
});

test('a promotion is not judged by the expiry of a lease renewed after it in the same event, and is judged otherwise', (t) => {
  // Promoted at tick 60: 2 s leases expire by 60 + 10 + 20 + 1 = 91. A renewal at 77 sets 98.
  const renewedAfter = [promoted(1, 60), refreshed(2, 7, 77)];
  t.notThrows(() => new LeaseExpiryBound().judge(2, primary([leaseExpiringAt(98)], renewedAfter), renewedAfter[0] as Extract<LeaseLogEntry, { kind: 'promoted' }>));
  const alone = [promoted(1, 60)];
  t.throws(() => new LeaseExpiryBound().judge(2, primary([leaseExpiringAt(98)], alone), alone[0] as Extract<LeaseLogEntry, { kind: 'promoted' }>), {
    message: /^member 2 promoted its lessor at its tick 60 \(empty entry 39\): lease 7 expires at tick 98, after 91/,
  });
});
