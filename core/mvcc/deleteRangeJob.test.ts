import test from 'ava';
import fc from 'fast-check';
import { fromKey } from '../api/bytes.ts';
import { hashBackendImage } from './hash.ts';
import type { KvStore } from './kvStore.ts';
import { newStore, ok, putAll, read } from './_test/stores.ts';

/*
 * A DeleteRange applied in slices (DeleteRangeJob, issue 10) is the same write as one applied at
 * once — events, response, revision, backend — and until its end a read at the current revision
 * sees the store as before it.
 */

const keyNames = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** A store with history: puts, a delete or two, some keys put again. */
function seeded(ops: readonly (readonly [number, boolean])[]): KvStore {
  const store = newStore();
  for (const [i, put] of ops) {
    const key = keyNames[i % keyNames.length]!;
    if (put) putAll(store, [key, `v${store.revision}`]);
    else store.deleteRange({ key });
  }
  return store;
}

const scenario = fc.record({
  ops: fc.array(fc.tuple(fc.nat(15), fc.boolean()), { maxLength: 30 }),
  from: fc.nat(keyNames.length - 1),
  span: fc.integer({ min: -1, max: keyNames.length }),
  prevKv: fc.boolean(),
  slice: fc.integer({ min: 1, max: 4 }),
});

test('a range delete applied in slices writes what the whole one writes; reads before its end see the store before it', (t) => {
  fc.assert(
    fc.property(scenario, ({ ops, from, span, prevKv, slice }) => {
      const key = keyNames[from]!;
      // -1: the single key; keyNames.length: every key from `key` on; else [key, key + span).
      const rangeEnd = span < 0 ? undefined : span >= keyNames.length ? fromKey : String.fromCharCode(key.charCodeAt(0) + span);
      const request = { key, ...(rangeEnd === undefined ? {} : { rangeEnd }), prevKv };
      const whole = seeded(ops);
      const sliced = seeded(ops);
      const before = read(sliced, '\0', fromKey);
      const beforeRevision = sliced.revision;
      const expected = whole.deleteRange(request);

      const job = sliced.beginDeleteRange(request);
      let steps = 0;
      while (!job.step(slice)) {
        steps++;
        t.deepEqual(read(sliced, '\0', fromKey), before, 'a read between slices sees the store before the delete');
        t.is(sliced.revision, beforeRevision);
        t.throws(() => sliced.backend.commit(), { message: /inside a write transaction/ }, 'no commit while the delete is open');
        t.true(steps <= keyNames.length, 'the slices end');
      }
      const result = job.finish();
      t.deepEqual(result.response, expected.response);
      t.deepEqual(result.events, expected.events);
      t.is(sliced.revision, whole.revision);
      t.deepEqual(read(sliced, '\0', fromKey), read(whole, '\0', fromKey));
      t.deepEqual(ok(sliced.hashKV()), ok(whole.hashKV()));
      t.is(hashBackendImage(sliced.backend.snapshot()), hashBackendImage(whole.backend.snapshot()));
    }),
    { numRuns: 300 },
  );
});

test('a slice of exactly the keys left ends with an empty one; a delete of nothing ends at once without a revision', (t) => {
  const store = newStore();
  putAll(store, ['a', '1'], ['b', '2']);
  const job = store.beginDeleteRange({ key: 'a', rangeEnd: 'c' });
  t.false(job.step(2));
  t.true(job.step(2));
  t.is(job.finish().response.deleted, 2);
  t.is(store.revision, 4);
  const none = store.beginDeleteRange({ key: 'a', rangeEnd: 'c' });
  t.true(none.step(5));
  const result = none.finish();
  t.deepEqual([result.response.deleted, result.response.header.revision, result.events.length, store.revision], [0, 4, 0, 4]);
});
