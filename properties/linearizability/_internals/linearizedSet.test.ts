import test from 'ava';
import fc from 'fast-check';
import { LinearizedSet } from './linearizedSet.ts';
import { PendingBits } from './pendingBits.ts';
import { added, outOfMemory, present, VisitedCache } from './visitedCache.ts';

const completedCount = 12;
const unknownCount = 8;

/** Adds distinct operations (ids ≥ completedCount are unknown ones) and returns the undo log. */
function build(order: readonly number[]) {
  const set = new LinearizedSet(completedCount);
  const added = new Set<number>();
  const undo: [number, number][] = [];
  for (const operation of order) {
    if (added.has(operation)) continue;
    added.add(operation);
    if (operation < completedCount) undo.push([operation, set.addCompleted(operation)]);
    else {
      set.addUnknown(operation - completedCount);
      undo.push([operation, 0]);
    }
  }
  return { set, added, undo };
}

const snapshot = (set: LinearizedSet) => JSON.stringify([set.members(completedCount), set.hashLow, set.hashHigh]);

test('a set holds exactly what was added, in one representation whatever the order, and undoes back to empty', (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(completedCount + unknownCount - 1), { maxLength: 30 }), (order) => {
      const { set, added, undo } = build(order);
      const reordered = build([...added].reverse()).set;
      const sameMembers = JSON.stringify(set.members(completedCount)) === JSON.stringify([...added].sort((a, b) => a - b));
      const sameSet = snapshot(set) === snapshot(reordered);
      for (const [operation, moved] of undo.reverse()) {
        if (operation < completedCount) set.removeCompleted(operation, moved);
        else set.removeUnknown(operation - completedCount);
      }
      return sameMembers && sameSet && snapshot(set) === snapshot(new LinearizedSet(completedCount));
    }),
  );
  t.pass();
});

test('the frontier is the first completed operation missing', (t) => {
  const { set } = build([1, 0, 3, 2, 5, 13]);
  t.is(set.frontier, 4);
  t.deepEqual([...set.ahead.subarray(0, set.aheadCount)], [5]);
  t.deepEqual(set.unknownSlots(), [1]);
});

test('the visited cache finds a configuration again only with an equal set and state, and prunes supersets of unknown operations', (t) => {
  const cache = new VisitedCache<number>((a, b) => a === b, () => true);
  for (let i = 0; i < 3000; i++) t.is(cache.addIfAbsent(build([i % completedCount, (i * 7) % completedCount]).set, i, i & 3), added);
  const again = build([2005 % completedCount, (2005 * 7) % completedCount]).set;
  t.is(cache.addIfAbsent(again, 2005, 2005 & 3), present);
  t.is(cache.addIfAbsent(again, 99999, 2005 & 3), added, 'same hash, other state');
  t.is(cache.addIfAbsent(build([0, 12]).set, 7, 7), added);
  t.is(cache.addIfAbsent(build([0, 12, 14]).set, 7, 7), present, 'a superset of its unknown operations');
  t.is(cache.addIfAbsent(build([0, 14]).set, 7, 7), added, 'not a superset');
  t.is(cache.size, 3003);
});

test('the visited cache reserves what it allocates and stops at the budget', (t) => {
  let reserved = 0;
  const limit = 200_000;
  const cache = new VisitedCache<number>(
    (a, b) => a === b,
    (bytes) => {
      if (bytes > 0 && reserved + bytes > limit) return false;
      reserved += bytes;
      return true;
    },
  );
  t.true(cache.usable);
  let result = added;
  let i = 0;
  while (result === added) result = cache.addIfAbsent(build([i % completedCount]).set, i++, i);
  t.is(result, outOfMemory);
  t.true(reserved <= limit && reserved === cache.bytes, `${reserved} reserved, ${cache.bytes} held`);
  cache.release();
  t.is(reserved, 0);
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
