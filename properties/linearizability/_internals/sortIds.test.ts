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
