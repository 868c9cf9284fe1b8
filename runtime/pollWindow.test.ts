import test from 'ava';
import { PollWindow, type PollWindowOptions } from './pollWindow.ts';

/** One turn of polling, ms: a power of two, so the sums are exact. */
const turnMs = 1 / 128;

/** A poll window on a clock and a turn queue the test drives: each turn of polling takes `turnMs`. */
function harness(options: Partial<PollWindowOptions>) {
  const world = { nowMs: 1_000, cpuMs: 0, turns: [] as (() => void)[] };
  const window = new PollWindow({
    windowUs: 500,
    budgetMsPerSecond: 250,
    busyShareMax: 0.3,
    ...options,
    now: () => world.nowMs,
    cpuMs: () => world.cpuMs,
    nextTurn: (poll) => world.turns.push(poll),
  });
  /** Runs turns of polling, each `turnMs` long (and busy), until none is asked for or `max` ran; how many ran. */
  const run = (turnMs: number, max = 100_000): number => {
    let ran = 0;
    while (world.turns.length > 0 && ran < max) {
      world.nowMs += turnMs;
      world.cpuMs += turnMs;
      world.turns.shift()!();
      ran++;
    }
    return ran;
  };
  return { world, window, run };
}

test('off (0 µs): a turn of work asks for no polling', (t) => {
  const { world, window } = harness({ windowUs: 0 });
  window.worked();
  t.false(window.enabled);
  t.is(world.turns.length, 0);
  t.is(window.counts.windows, 0);
});

test('after a turn of work the loop polls for the window, then sleeps', (t) => {
  const { window, run } = harness({ windowUs: 500 });
  window.worked();
  // 1/128 ms per turn (exact in binary): the window of 0.5 ms is 64 turns.
  t.is(run(turnMs), 64);
  t.is(window.counts.windows, 1);
  t.true(Math.abs(window.counts.pollingMs - 0.5) < 1e-6);
});

test('work that comes while the loop polls is counted as caught and opens the window again from then', (t) => {
  const { world, window, run } = harness({ windowUs: 500 });
  window.worked();
  t.is(run(turnMs, 20), 20);
  window.worked();
  t.is(window.counts.caught, 1);
  t.is(window.counts.windows, 1, 'the same chain of polling goes on');
  t.is(run(turnMs), 64);
  t.is(world.turns.length, 0);
});

test('a turn that ran other work (longer than a poll) is not counted as polling', (t) => {
  const { window, run } = harness({ windowUs: 500 });
  window.worked();
  run(0.2);
  t.is(window.counts.pollingMs, 0);
});

test('the budget cuts polling at its share of each second; the next second polls again', (t) => {
  const { world, window, run } = harness({ windowUs: 100_000, budgetMsPerSecond: 10 });
  window.worked();
  // 10 ms of polling in 1/128 ms turns, then the cut.
  t.is(run(turnMs), 1_280);
  t.is(window.counts.budgetCuts, 1);
  world.nowMs += 1_000;
  window.worked();
  t.is(run(turnMs), 1_280);
});

test('a process whose CPU was over the share in the last sample does not poll; an idle one polls again', (t) => {
  const { world, window, run } = harness({ windowUs: 500, busyShareMax: 0.3 });
  // 100 ms with 50 ms of the loop's own work: busy.
  world.nowMs += 100;
  world.cpuMs += 50;
  window.worked();
  t.is(world.turns.length, 0);
  t.is(window.counts.busySamples, 1);
  // The next 100 ms mostly idle: it polls again.
  world.nowMs += 100;
  world.cpuMs += 5;
  window.worked();
  t.is(world.turns.length, 1);
  run(turnMs);
  // Its own polling does not count as busy: 100 ms later, after 0.5 ms of polling and 10 ms of work, still idle.
  world.nowMs += 100;
  world.cpuMs += 10;
  window.worked();
  t.is(window.counts.busySamples, 1);
  t.is(world.turns.length, 1);
});

test('stop ends the polling at its next turn', (t) => {
  const { window, run } = harness({ windowUs: 500 });
  window.worked();
  run(turnMs, 5);
  window.stop();
  t.is(run(turnMs), 1);
  window.worked();
  t.is(run(turnMs), 0);
});
