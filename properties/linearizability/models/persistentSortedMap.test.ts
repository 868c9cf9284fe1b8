import test from 'ava';
import fc from 'fast-check';
import { mapDelete, mapEntries, mapEqual, mapForRange, mapGet, mapHash, mapSet, type SortedMap } from './persistentSortedMap.ts';

interface Value {
  readonly hash: number;
}
const value = (n: number): Value => ({ hash: n * 2654435761 });

test('behaves like a sorted Map, keeps old versions intact and stays balanced', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 2 }), fc.nat(5)), { maxLength: 80 }), (edits) => {
      let map: SortedMap<Value> = undefined;
      const reference = new Map<string, Value>();
      const versions: [SortedMap<Value>, [string, Value][]][] = [];
      for (const [insert, key, n] of edits) {
        if (insert) {
          const v = value(n);
          map = mapSet(map, key, v);
          reference.set(key, v);
        } else {
          map = mapDelete(map, key);
          reference.delete(key);
        }
        versions.push([map, [...reference].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
      }
      for (const [version, expected] of versions) {
        if (JSON.stringify(mapEntries(version)) !== JSON.stringify(expected)) return false;
        if (version !== undefined && version.height > 2 * Math.log2(expected.length + 2)) return false;
      }
      return [...reference].every(([key, v]) => mapGet(map, key) === v);
    }),
  );
  t.pass();
});

test('equal contents are equal and hash alike whatever the insertion order', (t) => {
  const keys = ['d', 'a', 'c', 'b', 'e'];
  const forward = keys.reduce<SortedMap<Value>>((map, key, i) => mapSet(map, key, value(i)), undefined);
  const backward = [...keys].reverse().reduce<SortedMap<Value>>((map, key) => mapSet(map, key, value(keys.indexOf(key))), undefined);
  t.true(mapEqual(forward, backward, (a, b) => a.hash === b.hash));
  t.is(mapHash(forward), mapHash(backward));
  t.false(mapEqual(forward, mapSet(backward, 'a', value(9)), (a, b) => a.hash === b.hash));
});

test('ranges are half-open and may be unbounded above', (t) => {
  const map = ['a', 'b', 'ba', 'c'].reduce<SortedMap<Value>>((m, key, i) => mapSet(m, key, value(i)), undefined);
  const keysIn = (low: string, high: string | undefined) => {
    const keys: string[] = [];
    mapForRange(map, low, high, (key) => keys.push(key) > 0);
    return keys;
  };
  t.deepEqual(keysIn('b', 'c'), ['b', 'ba']);
  t.deepEqual(keysIn('b', undefined), ['b', 'ba', 'c']);
  t.deepEqual(keysIn('bb', 'bz'), []);
});
