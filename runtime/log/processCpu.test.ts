import test from 'ava';
import { processCpuMicros, ThrottledCpuClock } from './processCpu.ts';

test('a throttled CPU clock reads the CPU at most once per interval and counts a slow write from the reading taken before it', (t) => {
  let cpu = 1_000;
  let reads = 0;
  const clock = new ThrottledCpuClock(20, () => {
    reads++;
    return cpu;
  });
  t.deepEqual(clock.reading(100), { atMs: 100, micros: 1_000 });
  cpu = 1_500;
  // Writes within the interval share the first reading: no system call each.
  t.deepEqual(clock.reading(110), { atMs: 100, micros: 1_000 });
  t.deepEqual(clock.reading(119.9), { atMs: 100, micros: 1_000 });
  t.is(reads, 1);
  const before = clock.reading(120);
  t.deepEqual(before, { atMs: 120, micros: 1_500 });
  t.is(reads, 2);
  cpu = 151_500;
  // A slow write: its CPU since the reading (µs), read once more.
  t.is(clock.since(before), 150_000);
  t.is(reads, 3);
});

test("the process's CPU time only grows", (t) => {
  const first = processCpuMicros();
  let spin = 0;
  for (let i = 0; i < 1e6; i++) spin += i;
  t.true(spin > 0);
  t.true(processCpuMicros() >= first);
});
