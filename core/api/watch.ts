import type { Bytes } from './bytes.ts';
import type { Event } from './kv.ts';
import type { ResponseHeader } from './rpc.ts';

/** `WatchCreateRequest.FilterType` by its proto name: events of that type are not sent. */
export type WatchFilter = 'NOPUT' | 'NODELETE';

/**
 * etcd's `WatchCreateRequest`: a watch over `key` (one key, or [key, rangeEnd), "\0" meaning every
 * key from `key` on) from `startRevision` (0 or absent: the next revision, current + 1).
 */
export interface WatchCreateRequest {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly startRevision?: number;
  /** Send an empty response every progress interval while nothing else is sent (etcd's progress_notify). */
  readonly progressNotify?: boolean;
  readonly filters?: readonly WatchFilter[];
  /** Every event carries the key's value before it (etcd's prev_kv). */
  readonly prevKv?: boolean;
  /** The watch id the client chooses; 0 or absent: the server picks one. */
  readonly watchId?: number;
  /** Split a response larger than the member's max-request-bytes into fragments. */
  readonly fragment?: boolean;
}

/**
 * etcd's `WatchRequest`: one message on a Watch stream, exactly one of create, cancel or a
 * progress request (answered once every watch of the stream is synced, with watch id -1).
 */
export interface WatchRequest {
  readonly createRequest?: WatchCreateRequest;
  readonly cancelRequest?: { readonly watchId: number };
  readonly progressRequest?: Record<string, never>;
}

/**
 * etcd's `WatchResponse`. A response without events that is neither created nor canceled is a
 * progress notification: every event at or below `header.revision` was sent before it.
 */
export interface WatchResponse {
  readonly header: ResponseHeader;
  readonly watchId: number;
  readonly created?: boolean;
  readonly canceled?: boolean;
  /** Set on a cancel because the start revision was compacted: the compaction's revision. */
  readonly compactRevision?: number;
  readonly cancelReason?: string;
  /** More fragments of this revision's events follow. */
  readonly fragment?: boolean;
  readonly events: readonly Event[];
}

/** The watch id of a progress notification that answers a progress request (etcd's clientv3.InvalidWatchID). */
export const progressWatchId = -1;

/** Whether a response is a progress notification (etcd's WatchResponse.IsProgressNotify). */
export function isProgressNotify(response: WatchResponse): boolean {
  return response.events.length === 0 && response.created !== true && response.canceled !== true && response.compactRevision === undefined;
}
