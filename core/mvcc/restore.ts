import { assert } from '../base/assert.ts';
import { KeyIndex } from './keyIndex.ts';
import { isTombstone } from './backendImage.ts';
import type { MvccState } from './mvccState.ts';
import { revision } from './revision.ts';

/**
 * Rebuilds the store's memory from its backend (etcd main's store.restore()): the index from the
 * key bucket in revision order, the current revision from the last change seen, the compaction
 * revision from the finished mark. Returns the revision of a compaction to resume (scheduled but
 * not finished), or -1.
 */
export function restoreState(state: MvccState): number {
  const { backend, index } = state;
  if (backend.finishedCompactRevision >= 0) state.compactMainRevision = backend.finishedCompactRevision;
  let scheduled = backend.scheduledCompactRevision;

  let current = 1;
  backend.scan(0, 0, Number.MAX_SAFE_INTEGER, (main, sub, kv) => {
    assert(main >= current, () => `key bucket out of order: ${main} after ${current}`);
    current = main;
    const rev = revision(main, sub);
    const keyIndex = index.keyIndex(kv.key);
    if (keyIndex !== undefined) {
      if (!isTombstone(kv)) keyIndex.put(rev);
      else assert(keyIndex.tombstone(rev), () => `a tombstone at ${main}.${sub} for ${kv.key}, which is not live`);
      return true;
    }
    const restored = new KeyIndex(kv.key);
    if (isTombstone(kv)) restored.restoreTombstone(rev);
    else restored.restore(revision(kv.createRevision, 0), rev, kv.version);
    index.insert(restored);
    return true;
  });
  index.indexLiveKeys();

  // Compaction may have removed every change up to its revision: the revision is at least that.
  if (current < state.compactMainRevision) current = state.compactMainRevision;
  // And a crash between removing the latest changes and writing the finished mark must not send
  // the revision back either (etcd #17780): the scheduled mark counts too.
  if (current < scheduled) current = scheduled;
  state.currentRevision = current;

  if (scheduled <= state.compactMainRevision) scheduled = -1;
  return scheduled;
}
