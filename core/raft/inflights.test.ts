import test from 'ava';
import { Inflights } from './inflights.ts';

test('the window fills by count and frees everything acknowledged', (t) => {
  const inflights = new Inflights(3, Number.MAX_SAFE_INTEGER);
  inflights.add(10, 1);
  inflights.add(12, 1);
  t.false(inflights.full());
  inflights.add(15, 1);
  t.true(inflights.full());
  t.throws(() => inflights.add(16, 1), { message: /full inflights/ });
  inflights.freeLE(12);
  t.is(inflights.count, 1);
  t.false(inflights.full());
  // Wraps around the ring.
  inflights.add(16, 1);
  inflights.add(17, 1);
  t.true(inflights.full());
  inflights.freeLE(100);
  t.is(inflights.count, 0);
  t.is(inflights.bytes, 0);
});

test('the window fills by bytes', (t) => {
  const inflights = new Inflights(10, 100);
  inflights.add(1, 60);
  t.false(inflights.full());
  inflights.add(2, 40);
  t.true(inflights.full());
  inflights.freeLE(1);
  t.is(inflights.bytes, 40);
  t.false(inflights.full());
});

test('indexes must ascend', (t) => {
  const inflights = new Inflights(4, Number.MAX_SAFE_INTEGER);
  inflights.add(5, 0);
  t.throws(() => inflights.add(5, 0), { message: /does not ascend/ });
});

test('freeing below the oldest entry frees nothing, and reset empties', (t) => {
  const inflights = new Inflights(4, Number.MAX_SAFE_INTEGER);
  inflights.add(5, 7);
  inflights.freeLE(4);
  t.is(inflights.count, 1);
  inflights.reset();
  t.is(inflights.count, 0);
  t.is(inflights.bytes, 0);
});
