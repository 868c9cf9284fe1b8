/**
 * core/mvcc: etcd's multi-version key-value store and its backend. See ARCHITECTURE.md, "The
 * MVCC store and its backend", for the contract the server keeps.
 */
export { Backend, backendFile, defaultBackendOptions, receivedBackendFile, type BackendOptions, type OpenedBackend } from './backend.ts';
export { changeAt, changeCount, isBackendImage, isTombstone, metadataOnlyImage, pageSize, type BackendImage, type BackendMeta } from './backendImage.ts';
export type { LeaseLookup } from './applyTxn.ts';
export { decodeBackendImage, encodeBackendImage, readBackendImage, writeBackendImage } from './backendImageCodec.ts';
export { hashBackendImage } from './hash.ts';
export { DeleteRangeJob } from './applyWrite.ts';
export { KvStore, defaultKvStoreOptions, noLeases, type KvStoreOptions, type WriteResult } from './kvStore.ts';
export { PreparedIndex, type RestoredIndex } from './restore.ts';
export type { Revision } from './revision.ts';
export { plainKeyValue, SlabKeyValue, slabValueMin, useSlabSize, useSlabValueMin, valueLength, ValueSlabs } from './valueSlabs.ts';
