import test from 'ava';
import fc from 'fast-check';
import { RevisionSet } from './revision.ts';

test('a RevisionSet holds exactly the revisions added and not deleted since, across chunks of mains and mains of one or several subs', (t) => {
  // Mains near chunk edges (16,384 a chunk) and far apart; subs 0-3, so some mains hold several.
  const main = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 16_380, max: 16_390 }), fc.integer({ min: 1, max: 2 ** 40 }));
  const op = fc.record({ add: fc.boolean(), main, sub: fc.integer({ min: 0, max: 3 }) });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const set = new RevisionSet();
      const reference = new Set<string>();
      for (const { add, main, sub } of ops) {
        if (add) set.add(main, sub);
        else set.delete(main, sub);
        if (add) reference.add(`${main}.${sub}`);
        else reference.delete(`${main}.${sub}`);
        if (set.size !== reference.size) return false;
      }
      return ops.every(({ main }) => [0, 1, 2, 3, 4].every((sub) => set.has(main, sub) === reference.has(`${main}.${sub}`)));
    }),
    { numRuns: 300 },
  );
  t.pass();
});
