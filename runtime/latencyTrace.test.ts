import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { latencyTrace } from './latencyTrace.ts';
import { scratchFolder } from './_test/scratch.ts';

test('without a file the trace is off: marks cost nothing and nothing is written', (t) => {
  const trace = latencyTrace(undefined);
  t.false(trace.enabled);
  trace.mark('grpc.in Put');
  t.notThrows(() => trace.save());
  t.false(latencyTrace('').enabled);
});

test('with a file, a graceful stop writes each mark as "<µs since the epoch> <label>", in order', (t) => {
  const dir = scratchFolder('detcd-trace-');
  try {
    const file = join(dir, 'm1.trace');
    const trace = latencyTrace(file);
    const before = Date.now() * 1000;
    trace.mark('grpc.in Put');
    trace.mark('send MsgApp 2b');
    trace.save();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    t.deepEqual(lines.map((line) => line.slice(line.indexOf(' ') + 1)), ['grpc.in Put', 'send MsgApp 2b']);
    const times = lines.map((line) => Number(line.slice(0, line.indexOf(' '))));
    // The members of one machine share this clock: within a second of Date.now, never backwards.
    t.true(Math.abs(times[0]! - before) < 1_000_000);
    t.true(times[1]! >= times[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with gc, each garbage-collection pause is marked at its own time: "gc.<kind> <ms>" and "gc.end", in time order with the rest', async (t) => {
  const dir = scratchFolder('detcd-trace-');
  try {
    const file = join(dir, 'm1.trace');
    const trace = latencyTrace(file, { gc: true });
    trace.mark('before');
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    // perf_hooks hands GC entries to observers a turn or two later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    trace.mark('after');
    trace.save();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const labels = lines.map((line) => line.slice(line.indexOf(' ') + 1));
    const pause = labels.findIndex((label) => /^gc\.major [0-9.]+$/.test(label));
    t.true(pause > 0, labels.join(' | '));
    t.true(labels.indexOf('gc.end') > pause);
    t.true(labels.indexOf('after') > labels.indexOf('gc.end'));
    const times = lines.map((line) => Number(line.slice(0, line.indexOf(' '))));
    t.deepEqual(times, [...times].sort((a, b) => a - b));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
