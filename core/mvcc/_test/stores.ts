import { isEtcdError, type EtcdError } from '../../api/errors.ts';
import { Backend, defaultBackendOptions, type BackendOptions } from '../backend.ts';
import { KvStore, defaultKvStoreOptions, type KvStoreOptions } from '../kvStore.ts';

/** A new store on a new backend. */
export function newStore(options: Partial<KvStoreOptions> = {}, backendOptions: BackendOptions = defaultBackendOptions): KvStore {
  return KvStore.open(Backend.create(backendOptions), { ...defaultKvStoreOptions, ...options });
}

/** The value, or a thrown error naming the EtcdError (for steps a test expects to succeed). */
export function ok<T>(result: T | EtcdError): T {
  if (isEtcdError(result)) throw new Error(`unexpected ${result.toString()}`);
  return result;
}

/** Puts each [key, value] in its own request. */
export function putAll(store: KvStore, ...pairs: [string, string][]): void {
  for (const [key, value] of pairs) ok(store.put({ key, value }));
}

/** Keys and values of a range at a revision, as "key=value" strings. */
export function read(store: KvStore, key: string, rangeEnd?: string, revision?: number): string[] {
  const response = ok(store.range({ key, ...(rangeEnd === undefined ? {} : { rangeEnd }), ...(revision === undefined ? {} : { revision }) }));
  return response.kvs.map((kv) => `${kv.key}=${kv.value}`);
}
