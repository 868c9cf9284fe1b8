import test from 'ava';
import { ratio } from '../core/base/ratio.ts';
import { KeyedDraws, RandomStreams, SeededRandom } from './rng.ts';

const draws = (random: { uint32(): number }, n: number): number[] => Array.from({ length: n }, () => random.uint32());

test('a stream depends only on the run seed and its name', (t) => {
  const a = new RandomStreams(42);
  const b = new RandomStreams(42);
  a.stream('network'); // issuing other streams first does not shift this one
  t.deepEqual(draws(a.stream('disk/1'), 8), draws(b.stream('disk/1'), 8));
  t.notDeepEqual(draws(new RandomStreams(42).stream('disk/2'), 8), draws(new RandomStreams(42).stream('disk/1'), 8));
  t.notDeepEqual(draws(new RandomStreams(43).stream('disk/1'), 8), draws(new RandomStreams(42).stream('disk/1'), 8));
});

test('a stream name is issued once per run', (t) => {
  const streams = new RandomStreams(1);
  streams.stream('nemesis');
  t.throws(() => streams.stream('nemesis'), { message: /issued twice/ });
});

test('below(n) stays in range and is roughly uniform, for small and large bounds', (t) => {
  const random = new SeededRandom('uniform');
  for (const bound of [1, 2, 3, 7, 100, 2 ** 21, 2 ** 21 + 1, 3_000_000_019 % 2 ** 32]) {
    for (let i = 0; i < 1_000; i++) {
      const value = random.below(bound);
      t.true(Number.isInteger(value) && value >= 0 && value < bound, `below(${bound}) gave ${value}`);
    }
  }
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) counts[random.below(10)]!++;
  for (const count of counts) t.true(Math.abs(count - 10_000) < 500, `bucket count ${count}`);
});

test('chance(r) hits about r of the time, exactly never for 0 and always for 1', (t) => {
  const random = new SeededRandom('chance');
  let hits = 0;
  for (let i = 0; i < 100_000; i++) if (random.chance(ratio(3, 10))) hits++;
  t.true(Math.abs(hits - 30_000) < 700, `hits ${hits}`);
  for (let i = 0; i < 1_000; i++) {
    t.false(random.chance(ratio(0, 5)));
    t.true(random.chance(ratio(5, 5)));
  }
});

test('between(min, max) includes both ends and rejects an empty range', (t) => {
  const random = new SeededRandom('between');
  const seen = new Set<number>();
  for (let i = 0; i < 1_000; i++) seen.add(random.between(-2, 2));
  t.deepEqual([...seen].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
  t.throws(() => random.between(3, 2));
});

test('seeds must be non-negative safe integers', (t) => {
  t.throws(() => new RandomStreams(-1));
  t.throws(() => new RandomStreams(1.5));
  t.notThrows(() => new RandomStreams(Number.MAX_SAFE_INTEGER));
});

test('keyed draws depend only on the key material and the key, and are roughly uniform', (t) => {
  const a = new KeyedDraws(new SeededRandom('material'));
  const b = new KeyedDraws(new SeededRandom('material'));
  a.reset(1, 2, 3);
  const first = draws(a, 8);
  a.reset(4, 5, 6);
  draws(a, 100); // draws of another key in between do not matter
  a.reset(1, 2, 3);
  t.deepEqual(draws(a, 8), first);
  b.reset(1, 2, 3);
  t.deepEqual(draws(b, 8), first);
  b.reset(1, 2, 4);
  t.notDeepEqual(draws(b, 8), first);
  const other = new KeyedDraws(new SeededRandom('other material'));
  other.reset(1, 2, 3);
  t.notDeepEqual(draws(other, 8), first);
  const counts = new Array<number>(10).fill(0);
  for (let key = 0; key < 20_000; key++) {
    a.reset(key, 0, key % 7);
    counts[a.below(10)]!++;
    counts[a.below(10)]!++;
  }
  for (const count of counts) t.true(Math.abs(count - 4_000) < 300, `bucket count ${count}`);
});
