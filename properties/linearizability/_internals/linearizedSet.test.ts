import test from 'ava';
import fc from 'fast-check';
import { emptyLinearizedSet, linearizedMembers, sameLinearizedSet, withOperation, zobristWord } from './linearizedSet.ts';
import { PendingBits } from './pendingBits.ts';
import { VisitedCache } from './visitedCache.ts';

const completedCount = 12;
const size = 20;
const zobristLow = Int32Array.from({ length: size }, (_, id) => zobristWord(id, 0));
const zobristHigh = Int32Array.from({ length: size }, (_, id) => zobristWord(id, 1));

/** Adds operations in the given order, skipping repeats. */
function build(order: readonly number[]) {
  let set = emptyLinearizedSet;
  const added = new Set<number>();
  for (const operation of order) {
    if (added.has(operation)) continue;
    added.add(operation);
    set = withOperation(set, operation, completedCount, zobristLow, zobristHigh);
  }
  return { set, added };
}

test('a set holds exactly what was added, in one representation whatever the order', (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(size - 1), { maxLength: 30 }), (order) => {
      const { set, added } = build(order);
      const reordered = build([...added].reverse()).set;
      const members = linearizedMembers(set);
      return JSON.stringify(members) === JSON.stringify([...added].sort((a, b) => a - b)) && sameLinearizedSet(set, reordered);
    }),
  );
  t.pass();
});

test('the frontier is the first completed operation missing', (t) => {
  const { set } = build([1, 0, 3, 2, 5, 13]);
  t.is(set.frontier, 4);
  t.deepEqual(set.ahead, [5]);
  t.deepEqual(set.unknown, [13]);
  t.false(sameLinearizedSet(set, build([1, 0, 3, 2, 5]).set));
});

test('the visited cache finds a configuration again only with an equal set and state', (t) => {
  const cache = new VisitedCache<number>((a, b) => a === b);
  for (let i = 0; i < 3000; i++) t.true(cache.addIfAbsent(build([i % size, (i * 7) % size]).set, i, i & 3));
  t.false(cache.addIfAbsent(build([5, 15]).set, 2005, 2005 & 3));
  t.true(cache.addIfAbsent(build([5, 15]).set, 99999, 2005 & 3), 'same hash, other state');
  t.is(cache.size, 3001);
});

test('pending bits walk members downward from any point', (t) => {
  const bits = new PendingBits(70);
  for (const member of [3, 31, 32, 64, 69]) bits.delete(member);
  t.is(bits.highestAtOrBelow(69), 68);
  t.is(bits.highestAtOrBelow(64), 63);
  t.is(bits.highestAtOrBelow(32), 30);
  t.is(bits.highestAtOrBelow(-1), -1);
  bits.add(69);
  t.true(bits.has(69));
  t.false(bits.has(64));
  const empty = new PendingBits(5);
  for (let member = 0; member < 5; member++) empty.delete(member);
  t.is(empty.highestAtOrBelow(4), -1);
});
