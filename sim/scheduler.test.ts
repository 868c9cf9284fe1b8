import test from 'ava';
import fc from 'fast-check';
import { Scheduler } from './scheduler.ts';

test('events come out ordered by time, then by the order they were scheduled', (t) => {
  const scheduler = new Scheduler({ queuedEventsMax: 100 });
  scheduler.schedule(20, 1, 0, 0, 'c');
  scheduler.schedule(10, 1, 0, 0, 'a');
  scheduler.schedule(20, 1, 0, 0, 'd');
  scheduler.schedule(10, 1, 0, 0, 'b');
  const seen: unknown[] = [];
  while (scheduler.pop()) seen.push(`${scheduler.nowUs}:${String(scheduler.payload)}`);
  t.deepEqual(seen, ['10:a', '10:b', '20:c', '20:d']);
});

test('the heap agrees with a stable sort for any interleaving of pushes and pops (property)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(-1)), { maxLength: 300 }), (script) => {
      const scheduler = new Scheduler({ queuedEventsMax: 1_000 });
      let reference: { time: number; seq: number }[] = [];
      let seq = 0;
      for (const step of script) {
        if (step >= 0) {
          const time = scheduler.nowUs + step;
          scheduler.schedule(time, 0, 0, seq, null);
          reference.push({ time, seq: seq++ });
        } else if (reference.length > 0) {
          reference.sort((a, b) => a.time - b.time || a.seq - b.seq);
          const expected = reference.shift()!;
          scheduler.pop();
          if (scheduler.nowUs !== expected.time || scheduler.source !== expected.seq) return false;
        }
      }
      reference = reference.sort((a, b) => a.time - b.time || a.seq - b.seq);
      for (const expected of reference) {
        scheduler.pop();
        if (scheduler.nowUs !== expected.time || scheduler.source !== expected.seq) return false;
      }
      return !scheduler.pop();
    }),
  );
  t.pass();
});

test('scheduling into the past is an error, not a clamp', (t) => {
  const scheduler = new Scheduler({ queuedEventsMax: 10 });
  scheduler.schedule(100, 0, 0, 0, null);
  scheduler.pop();
  t.throws(() => scheduler.schedule(99, 0, 0, 0, null), { message: /into the past/ });
  t.notThrows(() => scheduler.schedule(100, 0, 0, 0, null));
});

test('the queue is bounded, and it grows its storage up to the bound', (t) => {
  const scheduler = new Scheduler({ queuedEventsMax: 3_000 });
  for (let i = 0; i < 3_000; i++) scheduler.schedule(3_000 - i, 0, 0, 0, i);
  t.throws(() => scheduler.schedule(1, 0, 0, 0, null), { message: /queue is full/ });
  let previous = -1;
  while (scheduler.pop()) {
    t.true(scheduler.nowUs >= previous);
    previous = scheduler.nowUs;
  }
});

test('times must be integers', (t) => {
  const scheduler = new Scheduler({ queuedEventsMax: 10 });
  t.throws(() => scheduler.schedule(1.5, 0, 0, 0, null), { message: /not an integer/ });
});
