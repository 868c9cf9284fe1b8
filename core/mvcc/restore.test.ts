import test from 'ava';
import fc from 'fast-check';
import { runToEnd } from '../base/steps.ts';
import { Backend } from './backend.ts';
import type { BackendImage } from './backendImage.ts';
import { KvStore, type KvStoreOptions } from './kvStore.ts';
import type { MvccState } from './mvccState.ts';
import { PreparedIndex, type RestoredIndex } from './restore.ts';
import { ok } from './_test/stores.ts';

/** Leases 1-3 exist: a put may name any of them. */
const options: KvStoreOptions = { compactionBatchLimit: 2, leases: { exists: (id) => id >= 1 && id <= 3 } };

type Op =
  | { readonly kind: 'put'; readonly key: string; readonly lease: number }
  | { readonly kind: 'delete'; readonly key: string; readonly end: string }
  | { readonly kind: 'txn'; readonly key: string; readonly lease: number }
  | { readonly kind: 'compact'; readonly back: number; readonly finish: boolean }
  | { readonly kind: 'commit' };

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
const lease = fc.constantFrom(0, 0, 1, 2, 3);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('put' as const), key, lease }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), key, end: fc.constantFrom('', 'c', 'h', '\0') }), weight: 2 },
  // A txn that deletes a key and puts it again: one revision ends a generation and begins the next.
  { arbitrary: fc.record({ kind: fc.constant('txn' as const), key, lease }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6), finish: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('commit' as const) }), weight: 1 },
);

/** A store after `ops`, and its snapshot image (a compaction may be under way in it: the restore resumes it). */
function imageAfter(ops: readonly Op[]): BackendImage {
  const store = KvStore.open(Backend.create({ batchLimit: 5 }), options);
  for (const next of ops) {
    switch (next.kind) {
      case 'put':
        ok(store.put({ key: next.key, value: `${next.key}@${store.revision}`, lease: next.lease }));
        break;
      case 'delete':
        store.deleteRange({ key: next.key, ...(next.end === '' ? {} : { rangeEnd: next.end }) });
        break;
      case 'txn':
        ok(store.txn({ success: [{ requestDeleteRange: { key: next.key, rangeEnd: `${next.key}\0` } }, { requestPut: { key: next.key, value: 'again', lease: next.lease } }] }));
        break;
      case 'compact': {
        const revision = store.revision - next.back;
        if (store.compacting || revision <= store.compactRevision) break;
        ok(store.compact({ revision }));
        if (next.finish) store.finishCompaction();
        break;
      }
      case 'commit':
        store.backend.commit();
        break;
    }
  }
  return store.backend.snapshot();
}

function indexOf(store: KvStore) {
  return (store as unknown as { readonly state: MvccState }).state.index;
}

/** Everything a restored store holds or answers that the index decides. */
function view(store: KvStore) {
  const index = indexOf(store);
  const keyIndexes: unknown[] = [];
  index.forEach((keyIndex) => keyIndexes.push(keyIndex));
  const reads: unknown[] = [];
  for (let revision = Math.max(1, store.compactRevision); revision <= store.revision; revision++) reads.push(ok(store.range({ key: '\0', rangeEnd: '\0', revision })));
  return {
    revision: store.revision,
    compactRevision: store.compactRevision,
    compacting: store.compacting,
    keyIndexes,
    live: [...index.liveKeys()].map((keyIndex) => keyIndex.key),
    highestMain: (index as unknown as { readonly highestMain: number }).highestMain,
    leasedKeys: [...store.leasedKeys()],
    hash: ok(store.hashKV()),
    reads,
  };
}

test('a key index prepared from a snapshot image in steps, and adopted by the restore, is the one the restore builds in one go (random stores: tombstones, compacted and half-compacted revisions, leases)', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (ops, perStep) => {
      const image = imageAfter(ops);
      let steps = 0;
      const preparing = PreparedIndex.inSteps(image.keys, perStep);
      let step = preparing.next();
      for (; step.done !== true; step = preparing.next()) steps++;
      const prepared = step.value;
      if (image.keys.size > perStep) t.true(steps > 0, `${image.keys.size} revisions in ${perStep}s took no step`);
      const restored = prepared.take(image.keys);
      t.not(restored, null);
      const adopted = KvStore.open(Backend.fromSnapshot(image), options, restored);
      t.is(indexOf(adopted), restored!.index, 'adopted, not rebuilt');
      const built = KvStore.open(Backend.fromSnapshot(image), options);
      t.deepEqual(view(adopted), view(built));
    }),
    { numRuns: 300 },
  );
});

test('a prepared index is taken once, and only for the key bucket it was built from', (t) => {
  const image = imageAfter([
    { kind: 'put', key: 'a', lease: 1 },
    { kind: 'put', key: 'b', lease: 0 },
    { kind: 'delete', key: 'a', end: '' },
  ]);
  const other = imageAfter([{ kind: 'put', key: 'a', lease: 2 }]);
  const prepared = runToEnd(PreparedIndex.inSteps(image.keys));
  t.is(prepared.take(other.keys), null, "another image's bucket");
  t.is(prepared.take(image.keys.clone()), null, 'a copy of the bucket (it could be written to)');
  const restored: RestoredIndex | null = prepared.take(image.keys);
  t.not(restored, null);
  t.is(prepared.take(image.keys), null, 'taken already: the index is the restored store\'s now');
  t.throws(() => runToEnd(PreparedIndex.inSteps(Backend.create().snapshot().keys.clone())), { message: /not frozen/ });
});

test('the leased keys a prepared index gathered are handed over once, right after the restore; later the store reads its own', (t) => {
  const image = imageAfter([
    { kind: 'put', key: 'a', lease: 1 },
    { kind: 'put', key: 'b', lease: 2 },
    { kind: 'put', key: 'c', lease: 0 },
  ]);
  const restored = runToEnd(PreparedIndex.inSteps(image.keys)).take(image.keys)!;
  t.deepEqual([...restored.leasedKeys!], [
    ['a', 1],
    ['b', 2],
  ]);
  const store = KvStore.open(Backend.fromSnapshot(image), options, restored);
  t.is(store.leasedKeys(), restored.leasedKeys!, 'handed over');
  ok(store.put({ key: 'c', value: 'v', lease: 3 }));
  t.deepEqual([...store.leasedKeys()], [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);
  const moved = KvStore.open(Backend.fromSnapshot(image), options, runToEnd(PreparedIndex.inSteps(image.keys)).take(image.keys));
  ok(moved.put({ key: 'a', value: 'v' }));
  t.deepEqual([...moved.leasedKeys()], [['b', 2]], 'a write since the restore: read anew');
});
