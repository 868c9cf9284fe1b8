import test from 'ava';
import { SystemTicker } from './ticker.ts';

test('ticks come at the interval on average: each timeout aims at the next due time, so lateness does not accumulate', (t) => {
  // On the ticker's own clock, not the wall's: timed with real timers this failed on a loaded
  // machine (30 ticks took 607 ms, the bound was 600), and performance belongs in benchmarks.
  let nowMs = 0;
  const delays: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((_callback: () => void, delay: number) => {
    delays.push(delay);
    return {} as NodeJS.Timeout;
  }) as unknown as typeof setTimeout;
  try {
    const ticker = new SystemTicker(10, 2, () => nowMs);
    let ticks = 0;
    ticker.start(() => ticks++);
    for (let n = 1; n <= 30; n++) {
      nowMs = n * 10 + 3; // every timer fires 3 ms late
      (ticker as unknown as { fire(): void }).fire();
    }
    ticker.stop();
    t.is(ticks, 30);
    // 3 ms late each time, each next timeout is 7 ms away (tick n+1 is due at 10(n+1)), not 10:
    // a plain interval would be 90 ms late after 30 ticks, this one stays 3 ms late.
    t.deepEqual(delays, [10, ...Array.from({ length: 30 }, () => 7)]);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

test('after a stall the owed ticks fire back to back, at most burstMax, then the schedule restarts', (t) => {
  let nowMs = 0;
  const ticker = new SystemTicker(100, 2, () => nowMs);
  let ticks = 0;
  ticker.start(() => ticks++);
  nowMs = 1_000; // ten intervals late: a paused process
  (ticker as unknown as { fire(): void }).fire();
  t.is(ticks, 2);
  t.is(ticker.skipped, 8);
  nowMs = 1_100;
  (ticker as unknown as { fire(): void }).fire();
  t.is(ticks, 3);
  ticker.stop();
});

test('a stopped ticker never fires again, and a bad interval is refused', async (t) => {
  const ticker = new SystemTicker(5);
  let ticks = 0;
  ticker.start(() => ticks++);
  ticker.stop();
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.is(ticks, 0);
  t.throws(() => new SystemTicker(0), { message: /positive/ });
});

test('a tick that comes more than one interval after it was due reports how late it was: the event loop was blocked', (t) => {
  let nowMs = 0;
  const late: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (() => ({}) as NodeJS.Timeout) as unknown as typeof setTimeout;
  try {
    const ticker = new SystemTicker(100, 2, () => nowMs, (lateMs) => late.push(lateMs));
    ticker.start(() => {});
    const fire = () => (ticker as unknown as { fire(): void }).fire();
    nowMs = 150; // tick 1 due at 100: 50 ms late, within an interval
    fire();
    nowMs = 540; // tick 2 due at 200: 340 ms late
    fire();
    ticker.stop();
    t.deepEqual(late, [340]);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});
