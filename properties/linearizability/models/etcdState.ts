/**
 * The state of an etcd keyspace as the model sees it: the store revision, the compaction
 * revision and, per key, its value, create and mod revisions, version and lease (etcd's
 * `mvccpb.KeyValue`), in a persistent sorted map — and the keyspace at every earlier revision,
 * for historical reads. The map is persistent, so keeping the map of each revision costs nothing
 * but a link: `past` is the chain of earlier revisions, newest first, with jump pointers so that
 * finding revision r takes O(log² n) steps (skew-binary jumps: a node at depth d also points to
 * depth d - lowbit(d)).
 *
 * etcd keeps history down to its compaction revision; the model keeps it all and answers reads
 * below the compaction revision with ErrCompacted, as etcd does. Compaction changes only the
 * compaction revision, not the keyspace or the revision.
 */
import { finalize32, hashString32, mix32 } from '../../../core/base/hash.ts';
import { mapEqual, mapForRange, mapGet, mapHash, type SortedMap } from './persistentSortedMap.ts';
import type { EtcdKeyValue } from './etcdTypes.ts';

export interface StoredKey {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** 0: no lease. */
  readonly lease: number;
  readonly hash: number;
}

export interface EtcdState {
  /** etcd's current revision: 1 for a new cluster, +1 per transaction that changes a key. */
  readonly revision: number;
  /** Reads below this revision fail with ErrCompacted; -1 before any compaction (etcd's start). */
  readonly compactRevision: number;
  readonly keys: SortedMap<StoredKey>;
  /** The keyspace at each earlier revision this state went through, newest first. */
  readonly past: PastRevision | undefined;
  readonly hash: number;
}

/** The keyspace at one earlier revision. */
export interface PastRevision {
  readonly revision: number;
  readonly keys: SortedMap<StoredKey>;
  readonly previous: PastRevision | undefined;
  /** The node at depth `depth - lowbit(depth)`, when that is above 0. */
  readonly skip: PastRevision | undefined;
  /** 1 for the oldest. */
  readonly depth: number;
  /** Of this node and all older ones. */
  readonly hash: number;
}

/** The first state of a history: an empty keyspace at `revision` (nothing known before it). */
export function initialEtcdState(revision: number): EtcdState {
  return withHash({ revision, compactRevision: -1, keys: undefined, past: undefined });
}

/** The state after a write that created revision `state.revision + 1` with keyspace `keys`. */
export function afterWrite(state: EtcdState, keys: SortedMap<StoredKey>): EtcdState {
  return withHash({ revision: state.revision + 1, compactRevision: state.compactRevision, keys, past: pastNode(state) });
}

export function afterCompaction(state: EtcdState, compactRevision: number): EtcdState {
  return withHash({ revision: state.revision, compactRevision, keys: state.keys, past: state.past });
}

/**
 * The keyspace at `revision` (undefined when it was empty), or null when that is before the
 * history began (the model does not know it). `revision` must not be above the state's.
 */
export function keysAt(state: EtcdState, revision: number): SortedMap<StoredKey> | null {
  if (revision >= state.revision) return state.keys;
  let node = state.past;
  while (node !== undefined && node.revision > revision) {
    node = node.skip !== undefined && node.skip.revision >= revision ? node.skip : node.previous;
  }
  return node?.revision === revision ? node.keys : null;
}

function pastNode(state: EtcdState): PastRevision {
  const previous = state.past;
  const depth = (previous?.depth ?? 0) + 1;
  const skipDepth = depth - (depth & -depth);
  let skip = previous;
  while (skip !== undefined && skip.depth > skipDepth) skip = skip.skip !== undefined && skip.skip.depth >= skipDepth ? skip.skip : skip.previous;
  const hash = finalize32(mix32(mix32(previous?.hash ?? 0x70617374, state.revision), mapHash(state.keys))) | 0;
  return { revision: state.revision, keys: state.keys, previous, skip: skipDepth > 0 ? skip : undefined, depth, hash };
}

function withHash(fields: Omit<EtcdState, 'hash'>): EtcdState {
  const { revision, compactRevision, keys, past } = fields;
  const hash = finalize32(mix32(mix32(mix32(mapHash(keys), revision), compactRevision), past?.hash ?? 0)) | 0;
  return { revision, compactRevision, keys, past, hash };
}

export function storedKey(value: string, createRevision: number, modRevision: number, version: number, lease: number): StoredKey {
  const hash = mix32(mix32(mix32(mix32(hashString32(value), createRevision), modRevision), version), lease);
  return { value, createRevision, modRevision, version, lease, hash: finalize32(hash) | 0 };
}

export function sameEtcdState(a: EtcdState, b: EtcdState): boolean {
  if (a === b) return true;
  if (a.revision !== b.revision || a.compactRevision !== b.compactRevision || a.hash !== b.hash) return false;
  if (!mapEqual(a.keys, b.keys, sameStoredKey)) return false;
  for (let left = a.past, right = b.past; left !== right; left = left.previous, right = right!.previous) {
    if (left === undefined || right === undefined || left.hash !== right.hash || !mapEqual(left.keys, right.keys, sameStoredKey)) return false;
  }
  return true;
}

function sameStoredKey(a: StoredKey, b: StoredKey): boolean {
  return a === b || (a.value === b.value && a.createRevision === b.createRevision && a.modRevision === b.modRevision && a.version === b.version && a.lease === b.lease);
}

/** Whether a kv from a response shows this stored key (fields only when present; no value when keys-only). */
export function showsStoredKey(shown: EtcdKeyValue, key: string, stored: StoredKey, keysOnly = false): boolean {
  return (
    shown.key === key &&
    (shown.value === undefined || shown.value === (keysOnly ? '' : stored.value)) &&
    (shown.createRevision === undefined || shown.createRevision === stored.createRevision) &&
    (shown.modRevision === undefined || shown.modRevision === stored.modRevision) &&
    (shown.version === undefined || shown.version === stored.version) &&
    (shown.lease === undefined || shown.lease === stored.lease)
  );
}

export function describeStoredKey(key: string, stored: StoredKey | undefined): string {
  if (stored === undefined) return `${JSON.stringify(key)} absent`;
  const lease = stored.lease === 0 ? '' : `, lease ${stored.lease}`;
  return `${JSON.stringify(key)}=${JSON.stringify(stored.value)} (create ${stored.createRevision}, mod ${stored.modRevision}, version ${stored.version}${lease})`;
}

/** The state as text, all keys or those in `focusKeys`, at most `keyLimit` of them. */
export function describeEtcdState(state: EtcdState, focusKeys: readonly string[] | undefined, keyLimit = 20): string {
  const parts: string[] = [];
  let total = 0;
  if (focusKeys === undefined) {
    mapForRange(state.keys, '', undefined, (key, stored) => {
      total++;
      if (parts.length < keyLimit) parts.push(describeStoredKey(key, stored));
      return true;
    });
  } else {
    for (const key of focusKeys) {
      total++;
      if (parts.length < keyLimit) parts.push(describeStoredKey(key, mapGet(state.keys, key)));
    }
  }
  const more = total > parts.length ? `, … ${total - parts.length} more` : '';
  const compacted = state.compactRevision > 0 ? ` (compacted at ${state.compactRevision})` : '';
  return `revision ${state.revision}${compacted}: {${parts.join(', ')}${more}}`;
}
