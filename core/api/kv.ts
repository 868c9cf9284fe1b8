import type { Bytes } from './bytes.ts';

/**
 * etcd's `mvccpb.KeyValue`. Revisions are main revisions; `version` counts the modifications in
 * the key's current generation (1 on create, reset by a delete); `lease` is 0 for none.
 * Numbers are safe integers (etcd's int64 above 2^53 is refused at the API edge).
 * Objects are immutable and shared: the store hands out the very objects it keeps.
 */
export interface KeyValue {
  readonly key: Bytes;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: Bytes;
  readonly lease: number;
}

/** `mvccpb.Event_EventType` by its proto name. */
export type EventType = 'PUT' | 'DELETE';

/**
 * etcd's `mvccpb.Event`: one change a write made. A DELETE's `kv` holds only the key and
 * `modRevision` = the deletion's revision (etcd's watchable store sets it from the tombstone's
 * revision); `prevKv` is the key's value before the change, absent when the key did not exist.
 */
export interface Event {
  readonly type: EventType;
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}
