import type { Bytes } from '../api/bytes.ts';
import type { KeyValue } from '../api/kv.ts';
import { assert } from '../base/assert.ts';
import { runToEnd, type Steps } from '../base/steps.ts';
import { changeAt, changeCount, changeIsTombstone, changeKey, keyValueOfChange, type KeyBucket, type RevisionChanges, type StoredChange } from './backendImage.ts';
import { KeyIndex } from './keyIndex.ts';
import type { MvccState } from './mvccState.ts';
import { revision } from './revision.ts';
import { countSlabBytes, SlabKeyValue } from './valueSlabs.ts';
import { TreeIndex } from './treeIndex.ts';

/** What a restore builds from the key bucket alone: the index, the last main revision in the bucket, and perhaps the leased live keys. */
export interface RestoredIndex {
  readonly index: TreeIndex;
  /** The highest main revision of a change in the bucket; 1 when it is empty. */
  readonly lastMain: number;
  /** Every live key with a lease (what `KvStore.leasedKeys` answers after the restore), in key order; null: not gathered. */
  readonly leasedKeys: ReadonlyMap<Bytes, number> | null;
  /** Per value slab, the bytes of its values the bucket holds (the backend adopts them: `Backend.adoptSlabCounts`), counted in the same pass. */
  readonly slabBytes: Map<Uint8Array, number>;
}

/** The key bucket's revisions, main by main, in order (`KeyBucket.entries()` or `Backend.revisions()`). */
type Revisions = Iterable<readonly [number, RevisionChanges]>;

/** Revisions (then live keys) a step of a prepared index: 1.4-2 ms each at load 15 for check perf's 276-byte keys and 1 KiB values (`bench snapshotInstall`). */
export const restoreRevisionsPerStep = 256;

/**
 * Rebuilds the store's memory from its backend (etcd main's store.restore()): the index from the
 * key bucket in revision order, the current revision from the last change seen, the compaction
 * revision from the finished mark. `restored`, when given, is that index already built from the
 * same key bucket (`PreparedIndex`: a follower builds a snapshot's in steps before installing it).
 * Returns the revision of a compaction to resume (scheduled but not finished), or -1.
 */
export function restoreState(state: MvccState, restored: RestoredIndex | null = null): number {
  const { backend } = state;
  if (backend.finishedCompactRevision >= 0) state.compactMainRevision = backend.finishedCompactRevision;
  let scheduled = backend.scheduledCompactRevision;

  const built = restored ?? runToEnd(restoreIndexInSteps(backend.revisions(), Number.POSITIVE_INFINITY));
  state.index = built.index;
  backend.adoptSlabCounts(built.slabBytes);
  let current = built.lastMain;

  // Compaction may have removed every change up to its revision: the revision is at least that.
  if (current < state.compactMainRevision) current = state.compactMainRevision;
  // And a crash between removing the latest changes and writing the finished mark must not send
  // the revision back either (etcd #17780): the scheduled mark counts too.
  if (current < scheduled) current = scheduled;
  state.currentRevision = current;

  if (scheduled <= state.compactMainRevision) scheduled = -1;
  return scheduled;
}

/**
 * The index of a key bucket, built a step at a time (`perStep` revisions, then live keys, a
 * step): every key's generations from the changes in revision order, then the live keys' index.
 * Run to its end in one go it is the restore's own (the same inserts in the same order); a host
 * runs it in turns for a snapshot's frozen image (`PreparedIndex`).
 */
export function* restoreIndexInSteps(revisions: Revisions, perStep: number): Steps<RestoredIndex> {
  assert(perStep > 0, () => `a restore step of ${perStep} revisions`);
  const index = new TreeIndex();
  const slabBytes = new Map<Uint8Array, number>();
  let lastMain = 1;
  let inStep = 0;
  for (const [main, changes] of revisions) {
    assert(main >= lastMain, () => `key bucket out of order: ${main} after ${lastMain}`);
    lastMain = main;
    for (let sub = 0; sub < changeCount(changes); sub++) {
      const change = changeAt(changes, sub);
      if (change === undefined) continue;
      restoreChange(index, main, sub, change);
      if (change instanceof SlabKeyValue) countSlabBytes(slabBytes, change);
      if (++inStep < perStep) continue;
      inStep = 0;
      yield;
    }
  }
  yield* index.indexLiveKeysInSteps(perStep);
  return { index, lastMain, leasedKeys: null, slabBytes };
}

function restoreChange(index: TreeIndex, main: number, sub: number, change: StoredChange): void {
  const rev = revision(main, sub);
  const key = changeKey(change);
  const tombstone = changeIsTombstone(change);
  const keyIndex = index.keyIndex(key);
  if (keyIndex !== undefined) {
    if (!tombstone) keyIndex.put(rev);
    else assert(keyIndex.tombstone(rev), () => `a tombstone at ${main}.${sub} for ${key}, which is not live`);
    return;
  }
  const restored = new KeyIndex(key);
  if (tombstone) restored.restoreTombstone(rev);
  else {
    const kv = change as KeyValue;
    restored.restore(revision(kv.createRevision, 0), rev, kv.version);
  }
  index.insert(restored);
}

/** Every live key of `index` with a lease, and its lease, in key order (etcd's keyToLease after a restore), `perStep` keys a step. */
export function* leasedKeysInSteps(index: TreeIndex, get: (main: number, sub: number) => KeyValue | undefined, perStep: number): Steps<Map<Bytes, number>> {
  const leased = new Map<Bytes, number>();
  let inStep = 0;
  for (const keyIndex of index.liveKeys()) {
    const kv = get(keyIndex.modifiedMain, keyIndex.modifiedSub);
    assert(kv !== undefined, () => `the live key ${keyIndex.key} has no value`);
    if (kv.lease !== 0) leased.set(keyIndex.key, kv.lease);
    if (++inStep < perStep) continue;
    inStep = 0;
    yield;
  }
  return leased;
}

/**
 * A snapshot image's index, built ahead of its install from the image's frozen key bucket (a
 * follower's host runs `PreparedIndex.inSteps` in turns of its loop before it steps the message:
 * built in the install's one step, a 200 MiB image's index held the loop 1.0-1.3 s). The install
 * adopts it only for that very bucket (the same frozen tree object, so the same revisions), and
 * once: the index is the restored store's from then on, and changes with it.
 */
export class PreparedIndex {
  readonly keys: KeyBucket;
  private restored: RestoredIndex | null;

  private constructor(keys: KeyBucket, restored: RestoredIndex) {
    this.keys = keys;
    this.restored = restored;
  }

  /** Builds the index of a frozen key bucket, `perStep` revisions (then live keys) a step. */
  static *inSteps(keys: KeyBucket, perStep: number = restoreRevisionsPerStep): Steps<PreparedIndex> {
    assert(keys.isFrozen, 'an index prepared from a key bucket that is not frozen');
    const restored = yield* restoreIndexInSteps(keys.entries(), perStep);
    const leasedKeys = yield* leasedKeysInSteps(
      restored.index,
      (main, sub) => {
        const changes = keys.get(main);
        const change = changes === undefined ? undefined : changeAt(changes, sub);
        return change === undefined ? undefined : keyValueOfChange(change, main);
      },
      perStep,
    );
    return new PreparedIndex(keys, { ...restored, leasedKeys });
  }

  /** The index, if it was built from `keys` and not taken yet; null otherwise (then the restore builds its own). */
  take(keys: KeyBucket): RestoredIndex | null {
    if (keys !== this.keys || this.restored === null) return null;
    const restored = this.restored;
    this.restored = null;
    return restored;
  }
}
