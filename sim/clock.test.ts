import test from 'ava';
import { SimClock } from './clock.ts';

/** Fires the clock's ticks until `untilUs` of real time; returns their real times. */
function ticksUntil(clock: SimClock, untilUs: number, jumps: { atUs: number; deltaUs: number }[] = []): number[] {
  const fired: number[] = [];
  let now = 0;
  const pending = [...jumps];
  for (;;) {
    const next = clock.nextTickRealUs(now);
    if (pending.length > 0 && pending[0]!.atUs <= next) {
      const jump = pending.shift()!;
      now = jump.atUs;
      clock.jump(now, jump.deltaUs);
      continue;
    }
    if (next > untilUs) return fired;
    now = next;
    fired.push(now);
    clock.tickFired(now);
  }
}

test('a steady clock ticks every interval', (t) => {
  const clock = new SimClock({ tickIntervalUs: 100_000, offsetUs: 0, driftPpm: 0, tickBurstMax: 1 });
  const fired = ticksUntil(clock, 10_000_000);
  t.is(fired.length, 100);
  t.is(fired[0], 100_000);
  t.is(fired[99], 10_000_000);
});

test('a drifting clock fires ticks at the drifted rate', (t) => {
  const fast = new SimClock({ tickIntervalUs: 100_000, offsetUs: 0, driftPpm: 100_000, tickBurstMax: 1 }); // 10% fast
  const slow = new SimClock({ tickIntervalUs: 100_000, offsetUs: 0, driftPpm: -100_000, tickBurstMax: 1 }); // 10% slow
  t.is(ticksUntil(fast, 100_000_000).length, 1_100);
  t.is(ticksUntil(slow, 100_000_000).length, 900);
});

test('an offset changes the local reading, not the tick rate', (t) => {
  const clock = new SimClock({ tickIntervalUs: 100_000, offsetUs: 5_000_000, driftPpm: 0, tickBurstMax: 1 });
  t.is(clock.localAt(0), 5_000_000);
  t.is(ticksUntil(clock, 10_000_000).length, 100);
});

test('a forward jump owes a burst of ticks, capped; a backward jump goes quiet until it catches up', (t) => {
  const burst = new SimClock({ tickIntervalUs: 100_000, offsetUs: 0, driftPpm: 0, tickBurstMax: 3 });
  const forward = ticksUntil(burst, 2_000_000, [{ atUs: 1_050_000, deltaUs: 1_000_000 }]);
  // 10 ticks before the jump, then three owed ticks at once, then the regular schedule.
  t.deepEqual(forward.slice(9, 14), [1_000_000, 1_050_000, 1_050_000, 1_050_000, 1_100_000]);
  const quiet = new SimClock({ tickIntervalUs: 100_000, offsetUs: 0, driftPpm: 0, tickBurstMax: 3 });
  const backward = ticksUntil(quiet, 3_000_000, [{ atUs: 1_050_000, deltaUs: -1_000_000 }]);
  t.deepEqual(backward.slice(9, 12), [1_000_000, 2_100_000, 2_200_000], "no tick while the clock relives the second it lost");
});

test('a restarted ticker starts one interval from now', (t) => {
  const clock = new SimClock({ tickIntervalUs: 100_000, offsetUs: 0, driftPpm: 0, tickBurstMax: 1 });
  clock.restartTicker(1_234_567);
  t.is(clock.nextTickRealUs(1_234_567), 1_334_567);
});

test('drift beyond ±50% is rejected', (t) => {
  t.throws(() => new SimClock({ tickIntervalUs: 1, offsetUs: 0, driftPpm: 600_000, tickBurstMax: 1 }));
});
