import test from 'ava';
import { ServerLog } from './serverLog.ts';
import { HeartbeatTimeouts, printableKey, SlowWork } from './slowWork.ts';

function slowWork() {
  const lines: string[] = [];
  const counts = { heartbeat: 0, apply: 0 };
  const clock = { ms: 0 };
  const log = new ServerLog({ sink: (line) => lines.push(line), level: 'info', now: () => clock.ms });
  const work = new SlowWork(log, { heartbeatSendFailure: () => counts.heartbeat++, slowApply: () => counts.apply++ }, 100);
  return { work, lines, counts, clock };
}

test("etcd's heartbeat detector: a heartbeat to a peer later than two intervals after the last one to it exceeds by the difference; a reset forgets", (t) => {
  const detector = new HeartbeatTimeouts(200);
  t.is(detector.observe(2, 0), 0);
  t.is(detector.observe(3, 50), 0);
  t.is(detector.observe(2, 200), 0);
  t.is(detector.observe(2, 440), 40);
  t.is(detector.observe(3, 440), 190);
  detector.reset();
  t.is(detector.observe(2, 5_000), 0);
});

test("a late heartbeat is warned with etcd's words and counted; one on time is not", (t) => {
  const { work, lines, counts } = slowWork();
  work.heartbeatSent(0x2, 0);
  work.heartbeatSent(0x2, 100);
  work.heartbeatSent(0x2, 340);
  t.deepEqual(lines, ['W | etcdserver: failed to send out heartbeat on time (exceeded the 100ms timeout for 40ms, to 2)', 'W | etcdserver: server is likely overloaded']);
  t.is(counts.heartbeat, 1);
  work.leadershipChanged();
  work.heartbeatSent(0x2, 9_000);
  t.is(counts.heartbeat, 1, 'a new leadership starts the schedule afresh');
});

test("etcd's thresholds: fsync over 1 s, a request or a turn of the loop over 100 ms, a tick more than an interval late", (t) => {
  const { work, lines, counts, clock } = slowWork();
  work.synced('wal', 999);
  work.synced('wal', 1_200);
  work.synced('db', 1_500);
  work.answered({ readOnly: true, text: 'Range key:"k"' }, 'ok', 100);
  work.answered({ readOnly: true, text: 'Range key:"k"' }, 'ok', 150);
  clock.ms = 2_000;
  work.answered({ readOnly: false, text: 'Put key:"k"' }, 'etcdserver: request timed out', 7_000);
  work.pumped(100, 10, '');
  work.pumped(250, 10, 'saved a snapshot at index 10000');
  work.tickLate(90);
  work.tickLate(340);
  t.deepEqual(lines, [
    'W | wal: sync duration of 1.2s, expected less than 1s',
    'W | backend: commit sync duration of 1.5s, expected less than 1s',
    'W | etcdserver: read-only range request "Range key:"k"" with result "ok" took too long (150ms) to execute',
    'W | etcdserver: request "Put key:"k"" with result "etcdserver: request timed out" took too long (7s) to execute',
    'W | etcdserver: apply entries took too long [250ms for 10 entries; saved a snapshot at index 10000]',
    'W | etcdserver: the event loop was blocked for 340ms (a tick came that late; expected every 100ms)',
  ]);
  t.is(counts.apply, 1);
});

test('keys in log lines: printable bytes as they are, others escaped, long ones cut with their length', (t) => {
  t.is(printableKey('foo/bar'), 'foo/bar');
  t.is(printableKey('a\u0000"\\'), 'a\\x00\\x22\\x5c');
  const long = printableKey('k'.repeat(256));
  t.is(long, `${'k'.repeat(64)}…(256 bytes)`);
  t.is(printableKey('\u0000'.repeat(256)), `${'\\x00'.repeat(16)}…(256 bytes)`);
});

test("a slow Ready write names its writes and, when known, what its time went on", (t) => {
  const { work, lines, clock } = slowWork();
  work.wrote(100, 'append db (1 records)');
  work.wrote(180, 'append db (1 records)');
  clock.ms = 2_000; // the log says one a second of each kind
  work.wrote(1_800, 'append db (1 records)', '1 record encoded whole (2.0 KiB) in 0.4 ms, 1.8 s outside the encoding; process CPU 1.79s; GC 1790 ms (1 major 1790 ms, longest 1790 at +3)');
  t.deepEqual(lines, [
    'W | etcdserver: writing a Ready took too long [180ms: append db (1 records)]',
    'W | etcdserver: writing a Ready took too long [1.8s: append db (1 records); 1 record encoded whole (2.0 KiB) in 0.4 ms, 1.8 s outside the encoding; process CPU 1.79s; GC 1790 ms (1 major 1790 ms, longest 1790 at +3)]',
  ]);
});
