import type { Event, WatchFilter, WatchRequest, WatchResponse } from '../../core/api/index.ts';
import { bytesOf, keyValue, type Wire } from './kvWire.ts';

/*
 * etcd's Watch messages between the wire (proto-loader objects: the request's oneof named by the
 * virtual field `requestUnion`, bytes as Buffers, enums by name) and core/api.
 */

/** A wire WatchRequest as core/api's, or null when it sets none of create, cancel and progress. */
export function watchRequest(wire: Wire): WatchRequest | null {
  const create = wire.createRequest as Wire | undefined | null;
  if (wire.requestUnion === 'createRequest' && create !== undefined && create !== null) {
    const rangeEnd = bytesOf(create.rangeEnd);
    const filters = (Array.isArray(create.filters) ? create.filters : []).filter((filter): filter is WatchFilter => filter === 'NOPUT' || filter === 'NODELETE');
    return {
      createRequest: {
        key: bytesOf(create.key),
        ...(rangeEnd.length > 0 ? { rangeEnd } : {}),
        startRevision: typeof create.startRevision === 'number' ? create.startRevision : 0,
        progressNotify: create.progressNotify === true,
        filters,
        prevKv: create.prevKv === true,
        watchId: typeof create.watchId === 'number' ? create.watchId : 0,
        fragment: create.fragment === true,
      },
    };
  }
  const cancel = wire.cancelRequest as Wire | undefined | null;
  if (wire.requestUnion === 'cancelRequest' && cancel !== undefined && cancel !== null) return { cancelRequest: { watchId: typeof cancel.watchId === 'number' ? cancel.watchId : 0 } };
  if (wire.requestUnion === 'progressRequest') return { progressRequest: {} };
  return null;
}

function event(change: Event): Wire {
  return { type: change.type, kv: keyValue(change.kv), ...(change.prevKv === undefined ? {} : { prevKv: keyValue(change.prevKv) }) };
}

export function watchResponse(response: WatchResponse): Wire {
  return {
    header: response.header,
    watchId: response.watchId,
    created: response.created === true,
    canceled: response.canceled === true,
    compactRevision: response.compactRevision ?? 0,
    cancelReason: response.cancelReason ?? '',
    fragment: response.fragment === true,
    events: response.events.map(event),
  };
}
