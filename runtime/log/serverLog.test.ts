import test from 'ava';
import { goDuration, ServerLog } from './serverLog.ts';

function logAt(level: 'debug' | 'info' | 'warn' | 'error', clock: { ms: number }) {
  const lines: string[] = [];
  const log = new ServerLog({ sink: (line) => lines.push(line), level, now: () => clock.ms });
  return { log, lines };
}

test("lines have capnslog's layout (level letter, package) and --log-level filters them", (t) => {
  const clock = { ms: 0 };
  const info = logAt('info', clock);
  info.log.info('raft', 'a became leader at term 2');
  info.log.warn('slow-fsync', 'wal', 'sync duration of 1.2s, expected less than 1s');
  t.deepEqual(info.lines, ['I | raft: a became leader at term 2', 'W | wal: sync duration of 1.2s, expected less than 1s']);
  const warn = logAt('warn', clock);
  warn.log.info('raft', 'a became leader at term 2');
  warn.log.warn('slow-fsync', 'wal', 'slow');
  t.deepEqual(warn.lines, ['W | wal: slow']);
  const error = logAt('error', clock);
  error.log.warn('slow-fsync', 'wal', 'slow');
  error.log.warnEvery('detcd', 'stalled');
  t.deepEqual(error.lines, []);
});

test('a storm of one kind of warning prints one line a second, and the next line says how many were left out; other kinds are not held back', (t) => {
  const clock = { ms: 0 };
  const { log, lines } = logAt('info', clock);
  for (let i = 0; i < 500; i++) {
    clock.ms = i; // 500 warnings within half a second
    log.warn('heartbeat', 'etcdserver', `late ${i}`);
  }
  log.warn('slow-fsync', 'wal', 'slow sync');
  clock.ms = 1_200;
  log.warn('heartbeat', 'etcdserver', 'late again');
  t.deepEqual(lines, ['W | etcdserver: late 0', 'W | wal: slow sync', 'W | etcdserver: late again (499 similar warnings left out)']);
});

test("durations as Go prints them, to the microsecond below a second", (t) => {
  t.is(goDuration(40), '40ms');
  t.is(goDuration(40.1234), '40.123ms');
  t.is(goDuration(1_234), '1.234s');
});
