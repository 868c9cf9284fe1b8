import test from 'ava';
import fc from 'fast-check';
import { sortIds } from './sortIds.ts';

test('ids come out as a stable sort by the primary, then the secondary number would give them', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 })), { maxLength: 300 }), fc.boolean(), (pairs, withSecondary) => {
      const primary = Float64Array.from(pairs, ([first]) => first);
      const secondary = Float64Array.from(pairs, ([, second]) => second);
      const ids = Int32Array.from(pairs, (_, index) => pairs.length - 1 - index);
      const expected = [...ids].sort((a, b) => primary[a]! - primary[b]! || (withSecondary ? secondary[a]! - secondary[b]! : 0));
      sortIds(ids, primary, withSecondary ? secondary : undefined);
      return [...ids].every((id, index) => id === expected[index]);
    }),
  );
  t.pass();
});

test('a nearly sorted history (each time displaced by up to a window) sorts as a stable sort would', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 30, maxLength: 3000 }), fc.integer({ min: 1, max: 4 }), (jitter, step) => {
      // Times ascending by `step`, each pushed later by its jitter; equal times occur.
      const primary = Float64Array.from(jitter, (delay, index) => index * step + delay);
      const secondary = Float64Array.from(jitter, (delay) => delay % 3);
      const ids = Int32Array.from(jitter, (_, index) => index);
      const expected = [...ids].sort((a, b) => primary[a]! - primary[b]! || secondary[a]! - secondary[b]!);
      sortIds(ids, primary, secondary);
      return [...ids].every((id, index) => id === expected[index]);
    }),
  );
  t.pass();
});
