import test from 'ava';
import { SystemTicker } from './ticker.ts';

test('ticks come at the interval on average: lateness does not accumulate', async (t) => {
  const ticker = new SystemTicker(10);
  let ticks = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    ticker.start(() => {
      ticks++;
      if (ticks === 30) {
        ticker.stop();
        resolve();
      }
    });
  });
  const elapsedMs = performance.now() - started;
  // 30 ticks of 10 ms are due at 300 ms; a drifting timer would be late by its lateness × 30.
  t.true(elapsedMs >= 299 && elapsedMs < 600, `30 ticks took ${elapsedMs.toFixed(1)} ms`);
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
