import test from 'ava';
import { gcLogMs } from './gcPauses.ts';
import { describeActivity, describeGc, LoopActivity } from './loopActivity.ts';
import { LoopStallWatch } from './loopStallWatch.ts';
import { ServerLog } from './serverLog.ts';

test('a stall is named by the spans inside it, cut to its window: GC first, then pumps with the longest one\'s entries and snapshot', (t) => {
  const activity = new LoopActivity();
  activity.note('pump', 100, 5, 3);
  activity.note('pump', 1_000, 250, 2, 'a snapshot at index 90000');
  activity.note('store-write', 1_010, 200, 0, 'append wal, replace db');
  activity.note('gc-major', 1_300, 120, 4);
  activity.note('gc-minor', 1_430, 10);
  activity.note('pump', 1_480, 40, 12); // begins inside the window, ends after it
  activity.note('pump', 5_000, 5, 1);
  const summaries = activity.within(990, 1_500);
  t.deepEqual([...summaries.keys()].sort(), ['gc-major', 'gc-minor', 'pump', 'store-write']);
  t.deepEqual(summaries.get('pump'), { count: 2, ms: 270, longestMs: 250, longestAtMs: 10, longestDetail: '2 entries applied, a snapshot at index 90000' });
  t.is(
    describeActivity(summaries),
    'GC 130 ms (1 major 120 ms, longest 120 at +310; 1 minor 10 ms, longest 10 at +440); pumps 270 ms in 2 (longest 250 at +10: 2 entries applied, a snapshot at index 90000); store writes (inside those) 200 ms in 1 (longest 200 at +20: append wal, replace db)',
  );
  t.is(describeActivity(activity.within(2_000, 3_000)), 'no pump, write or GC in it');
});

test("a slow store write's GC: only the GC pauses inside its window, or that there were none", (t) => {
  const activity = new LoopActivity();
  activity.note('pump', 1_000, 400, 1);
  activity.note('store-write', 1_100, 300, 0, 'append db');
  activity.note('gc-major', 1_150, 240, 0);
  t.is(describeGc(activity.within(1_100, 1_400)), 'GC 240 ms (1 major 240 ms, longest 240 at +50)');
  t.is(describeGc(activity.within(2_000, 2_300)), 'no GC pause in it');
});

test('the ring keeps the newest spans: the oldest are overwritten once it is full', (t) => {
  const activity = new LoopActivity();
  for (let i = 0; i < 20_000; i++) activity.note('pump', i, 0.5, 1);
  t.is(activity.within(0, 1_000).get('pump'), undefined);
  t.is(activity.within(0, 30_000).get('pump')?.count, 16_384);
});

test('GC pauses are logged over DETCD_GC_LOG_MS, or over 50 ms with the stall watch on, else not at all; a bad value turns them off', (t) => {
  t.is(gcLogMs({}, false), null);
  t.is(gcLogMs({}, true), 50);
  t.is(gcLogMs({ DETCD_GC_LOG_MS: '20' }, false), 20);
  t.is(gcLogMs({ DETCD_GC_LOG_MS: '0' }, true), 0);
  t.is(gcLogMs({ DETCD_GC_LOG_MS: 'x' }, true), null);
});

test('a blocked loop is reported once it runs again, with the main thread\'s CPU and the pumps inside the gap', async (t) => {
  const lines: string[] = [];
  const intervalMs = 5;
  const reportMs = 50;
  const watch = new LoopStallWatch(new ServerLog({ sink: (line) => lines.push(line), level: 'info' }), intervalMs, reportMs);
  watch.start();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const startedMs = performance.now();
  while (performance.now() - startedMs < 120); // the loop held: a pump that spins
  watch.activity.note('pump', startedMs, performance.now() - startedMs, 7);
  // Waits for the spin's report, not for the first one: on a loaded machine the process may also
  // be descheduled for longer than reportMs before or after the spin, and that gap is a true stall.
  const pumped = (line: string) => line.includes('7 entries applied');
  const deadline = Date.now() + 5_000;
  while (!lines.some(pumped) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  watch.stop();
  const seen = [...lines];
  const spins = seen.filter(pumped);
  t.is(spins.length, 1, seen.join('\n'));
  t.regex(spins[0]!, /^W \| detcd: event loop stalled \d+ ms \(from .*, process time \d+ ms(; main thread on a CPU \d+ ms, waiting for one \d+ ms; process CPU \d+ ms)?\): .*pumps \d+ ms in 1 \(longest \d+ at \+\d+: 7 entries applied\)/);
  t.true(stalledMs(spins[0]!) >= 120, spins[0]);
  t.true(Number(/pumps (\d+) ms in 1/.exec(spins[0]!)?.[1]) >= 120, 'the whole spin lies inside the reported gap');
  // Any other report is a real gap (the process waited for a CPU), over the threshold and with no pump in it.
  for (const line of seen.filter((line) => !pumped(line))) {
    t.regex(line, /^W \| detcd: event loop stalled \d+ ms \(from .*\): (no pump, write or GC in it|GC .*)$/);
    t.true(stalledMs(line) >= intervalMs + reportMs, line);
  }
});

function stalledMs(line: string): number {
  return Number(/stalled (\d+) ms/.exec(line)?.[1] ?? NaN);
}
