import { assert } from '../base/assert.ts';
import { emptyKeyBucket, emptyMeta, type BackendImage, type BackendMeta, type RevisionChanges } from './backendImage.ts';

/**
 * What one commit changed since the record before it in the backend's file: the main revisions
 * whose changes were written or removed (compaction), and the server buckets that were replaced.
 * It rides on the commit's image (`BackendImage.delta`): the simulator keeps restoring from whole
 * images, while a real disk stores only the delta (`deltaRecordOf`) — a commit costs what it
 * changed, not the size of the database — and a restart replays the deltas onto the last whole
 * image in the file (`applyDeltaRecord`). A file's first record, and every record of a replace, is
 * a whole image: a delta only ever follows the record it was taken against.
 */
export interface BackendDelta {
  /** Main revisions written or removed since the previous record, ascending. */
  readonly mains: readonly number[];
  /** Server buckets whose value is another object than in the previous record, by name. */
  readonly buckets: readonly string[];
}

/**
 * A delta made self-contained (what a file holds instead of an image): the changes of every main
 * revision it lists as they are after the commit (null: the revision is gone), the whole meta
 * except the buckets, the replaced buckets' values, and the modelled sizes.
 */
export interface BackendDeltaRecord {
  readonly type: 'backend-delta';
  readonly mains: readonly (readonly [main: number, changes: RevisionChanges | null])[];
  readonly consistentIndex: number;
  readonly term: number;
  readonly scheduledCompactRevision: number;
  readonly finishedCompactRevision: number;
  readonly buckets: readonly (readonly [name: string, value: unknown])[];
  readonly sizeInUse: number;
  readonly size: number;
}

export function isBackendDeltaRecord(record: unknown): record is BackendDeltaRecord {
  return typeof record === 'object' && record !== null && (record as { type?: unknown }).type === 'backend-delta';
}

/** What changed from the record before (its meta; null: an empty database) to now, given the main revisions touched in between. */
export function deltaBetween(previous: BackendMeta | null, meta: BackendMeta, touchedMains: Iterable<number>): BackendDelta {
  const mains = [...touchedMains].sort((a, b) => a - b);
  const before = (previous ?? emptyMeta).buckets;
  const after = meta.buckets;
  const buckets = Object.keys(after).filter((name) => after[name] !== before[name]).sort();
  assert(Object.keys(before).every((name) => name in after), 'a server bucket disappeared between commits');
  return { mains, buckets };
}

/** The self-contained record a file stores for an image that carries a delta. */
export function deltaRecordOf(image: BackendImage): BackendDeltaRecord {
  const delta = image.delta;
  assert(delta !== undefined, 'an image without a delta is stored whole');
  const { consistentIndex, term, scheduledCompactRevision, finishedCompactRevision, buckets } = image.meta;
  return {
    type: 'backend-delta',
    mains: delta.mains.map((main) => [main, image.keys.get(main) ?? null] as const),
    consistentIndex,
    term,
    scheduledCompactRevision,
    finishedCompactRevision,
    buckets: delta.buckets.map((name) => [name, buckets[name]] as const),
    sizeInUse: image.sizeInUse,
    size: image.size,
  };
}

/** The image a delta record leads to from the record before it (null: the file's start, an empty database). */
export function applyDeltaRecord(previous: BackendImage | null, record: BackendDeltaRecord): BackendImage {
  const keys = previous === null ? emptyKeyBucket() : previous.keys.clone();
  for (const [main, changes] of record.mains) {
    if (changes === null) keys.delete(main);
    else keys.set(main, changes);
  }
  keys.freeze();
  const buckets: Record<string, unknown> = { ...(previous?.meta ?? emptyMeta).buckets };
  for (const [name, value] of record.buckets) buckets[name] = value;
  const meta: BackendMeta = Object.freeze({
    consistentIndex: record.consistentIndex,
    term: record.term,
    scheduledCompactRevision: record.scheduledCompactRevision,
    finishedCompactRevision: record.finishedCompactRevision,
    buckets: Object.freeze(buckets),
  });
  return { type: 'backend-image', keys, meta, sizeInUse: record.sizeInUse, size: record.size };
}

/** The same database without its delta: what a replace of the file writes (a file starts with a whole image). */
export function wholeImage(image: BackendImage): BackendImage {
  if (image.delta === undefined) return image;
  const { type, keys, meta, sizeInUse, size } = image;
  return { type, keys, meta, sizeInUse, size };
}
