/**
 * The state of an etcd keyspace as the model sees it: the store revision and, per key, its value,
 * create and mod revisions and version (etcd's `mvccpb.KeyValue`), in a persistent sorted map.
 * Only the latest version of each key is kept: the model does not serve historical reads.
 */
import { finalize32, hashString32, mix32 } from '../../../core/base/hash.ts';
import { mapEqual, mapForRange, mapGet, mapHash, type SortedMap } from './persistentSortedMap.ts';
import type { EtcdKeyValue } from './etcdTypes.ts';

export interface StoredKey {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly hash: number;
}

export interface EtcdState {
  /** etcd's current revision: 1 for a new cluster, +1 per transaction that changes a key. */
  readonly revision: number;
  readonly keys: SortedMap<StoredKey>;
  readonly hash: number;
}

export function etcdState(revision: number, keys: SortedMap<StoredKey>): EtcdState {
  return { revision, keys, hash: finalize32(mix32(mapHash(keys), revision)) | 0 };
}

export function storedKey(value: string, createRevision: number, modRevision: number, version: number): StoredKey {
  const hash = mix32(mix32(mix32(hashString32(value), createRevision), modRevision), version);
  return { value, createRevision, modRevision, version, hash: finalize32(hash) | 0 };
}

export function sameEtcdState(a: EtcdState, b: EtcdState): boolean {
  return a === b || (a.revision === b.revision && a.hash === b.hash && mapEqual(a.keys, b.keys, sameStoredKey));
}

function sameStoredKey(a: StoredKey, b: StoredKey): boolean {
  return a === b || (a.value === b.value && a.createRevision === b.createRevision && a.modRevision === b.modRevision && a.version === b.version);
}

/** Whether a kv from a response shows this stored key (revision fields only when present). */
export function showsStoredKey(shown: EtcdKeyValue, key: string, stored: StoredKey): boolean {
  return (
    shown.key === key &&
    shown.value === stored.value &&
    (shown.createRevision === undefined || shown.createRevision === stored.createRevision) &&
    (shown.modRevision === undefined || shown.modRevision === stored.modRevision) &&
    (shown.version === undefined || shown.version === stored.version)
  );
}

export function describeStoredKey(key: string, stored: StoredKey | undefined): string {
  if (stored === undefined) return `${JSON.stringify(key)} absent`;
  return `${JSON.stringify(key)}=${JSON.stringify(stored.value)} (create ${stored.createRevision}, mod ${stored.modRevision}, version ${stored.version})`;
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
  return `revision ${state.revision}: {${parts.join(', ')}${more}}`;
}
