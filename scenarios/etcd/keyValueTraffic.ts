import { prefixEnd } from '../../core/api/index.ts';
import { assert } from '../../core/base/assert.ts';
import type { Random } from '../../core/base/random.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { EtcdCall, EtcdTraffic } from '../../sim/etcdClient.ts';
import { del, get, keyValuesOf, modRevisionIs, opDelete, opGet, opPut, pick, put, revisionOf, txn, UniqueValues, valueIs, versionIs } from './requests.ts';

/**
 * Key-value traffic like etcd's robustness tests' (`traffic/etcd.go`): a weighted mix of reads
 * and writes over a small key space, with unique values so every write is told apart.
 *
 * - `put`: a put, sometimes asking for the previous kv.
 * - `get`: a linearizable range of one key.
 * - `staleGet`: a serializable range of one key (served from the member's own state).
 * - `revisionGet`: a range of one key at a revision near the last one this client saw: a past one
 *   (a historical read, or ErrCompacted) or one not reached yet (ErrFutureRev, or an answer once
 *   the store got there).
 * - `list`: a linearizable range over the whole key space, sometimes with a limit.
 * - `staleList`: the same range, serializable.
 * - `compareAndSet`: a txn that puts a key if its value is the one this client last saw
 *   (else reads it).
 * - `multiTxn`: a txn over several keys: compares on versions and mod revisions, puts and a
 *   delete on success, reads on failure.
 * - `delete`: a delete of one key, sometimes with its previous kv.
 * - `deleteRange`: a delete of a range of keys.
 */
export interface KeyValueMix {
  readonly put: number;
  readonly get: number;
  readonly staleGet: number;
  readonly revisionGet?: number;
  readonly list: number;
  readonly staleList?: number;
  /** A read-only txn of serializable ranges (etcd's IsTxnSerializable: served from the member's state). */
  readonly staleTxn?: number;
  readonly compareAndSet: number;
  readonly multiTxn: number;
  readonly delete: number;
  readonly deleteRange: number;
}

/** One key, register-like: puts, reads and compare-and-sets (Jepsen's register workload). */
export const registerMix: KeyValueMix = { put: 35, get: 35, staleGet: 5, list: 0, compareAndSet: 25, multiTxn: 0, delete: 0, deleteRange: 0 };
/** etcd's robustness traffic: every kind of call. */
export const mixedMix: KeyValueMix = { put: 25, get: 15, staleGet: 10, revisionGet: 5, list: 10, compareAndSet: 10, multiTxn: 15, delete: 7, deleteRange: 3 };
/** Multi-key transactions mostly. */
export const txnMix: KeyValueMix = { put: 10, get: 10, staleGet: 5, list: 10, compareAndSet: 10, multiTxn: 55, delete: 0, deleteRange: 0 };
/** Deletes and ranges of deletes against puts. */
export const deleteMix: KeyValueMix = { put: 35, get: 15, staleGet: 5, list: 15, compareAndSet: 0, multiTxn: 5, delete: 15, deleteRange: 10 };
/** Reads only: a client that watches others' keys without moving the revision. */
export const readOnlyMix: KeyValueMix = { put: 0, get: 50, staleGet: 10, list: 40, compareAndSet: 0, multiTxn: 0, delete: 0, deleteRange: 0 };
/**
 * Serializable reads only, single keys, the whole key space and read-only txns of both: served
 * at once from whatever the member holds, so they land between the slices of a range delete that member is applying (where
 * every read at the current revision must still show the store before the delete).
 */
export const staleReadMix: KeyValueMix = { put: 0, get: 0, staleGet: 30, list: 0, staleList: 50, staleTxn: 20, compareAndSet: 0, multiTxn: 0, delete: 0, deleteRange: 0 };
/** Reads mostly, linearizable and serializable mixed. */
export const readMix: KeyValueMix = { put: 20, get: 25, staleGet: 25, revisionGet: 10, list: 15, compareAndSet: 5, multiTxn: 0, delete: 0, deleteRange: 0 };

export class KeyValueTraffic implements EtcdTraffic {
  readonly name: string;
  private readonly mix: KeyValueMix;
  private readonly keys: readonly string[];
  private readonly prefix: string;
  private readonly values: UniqueValues;
  private readonly total: number;
  /** The value this client last saw of each key (for compare-and-set). */
  private readonly seen = new Map<string, { value: string; modRevision: number; version: number }>();
  /** The highest header revision this client has seen. */
  private revision = 1;

  /** Values drawn long (`largeValues`), or the unique values as they are. */
  private readonly large: boolean;

  constructor(options: { readonly tag: string; readonly mix: KeyValueMix; readonly prefix: string; readonly keyCount: number; readonly largeValues?: boolean }) {
    this.mix = options.mix;
    this.large = options.largeValues === true;
    this.prefix = options.prefix;
    this.keys = Array.from({ length: options.keyCount }, (_, i) => keyName(options.prefix, i));
    assert(options.keyCount >= 1 && options.keyCount <= 20, 'between 1 and 20 keys');
    this.values = new UniqueValues(options.tag);
    this.name = `kv(${options.prefix}*)`;
    this.total = Object.values(options.mix).reduce((sum, weight) => sum + weight, 0);
  }

  next(random: Random): EtcdCall {
    let roll = random.below(this.total);
    const mix = this.mix;
    const key = pick(random, this.keys);
    if ((roll -= mix.put) < 0) return put(key, this.value(random), random.below(2) === 0);
    if ((roll -= mix.get) < 0) return get(key);
    if ((roll -= mix.staleGet) < 0) return get(key, { serializable: true });
    if ((roll -= mix.revisionGet ?? 0) < 0) return get(key, { revision: Math.max(1, this.revision + random.below(7) - 3) });
    if ((roll -= mix.list) < 0) return get(this.prefix, { rangeEnd: prefixEnd(this.prefix), ...(random.below(3) === 0 ? { limit: 1 + random.below(3) } : {}) });
    if ((roll -= mix.staleList ?? 0) < 0) return get(this.prefix, { rangeEnd: prefixEnd(this.prefix), serializable: true });
    if ((roll -= mix.staleTxn ?? 0) < 0) return this.staleTxn(key);
    if ((roll -= mix.compareAndSet) < 0) return this.compareAndSet(key, random);
    if ((roll -= mix.multiTxn) < 0) return this.multiTxn(random);
    if ((roll -= mix.delete) < 0) return del(key, undefined, random.below(2) === 0);
    const from = random.below(this.keys.length);
    return del(this.keys[from]!, keyName(this.prefix, from + 1 + random.below(3)), random.below(2) === 0);
  }

  onComplete(request: ServerRequest, reply: ServerReply | null): void {
    this.revision = Math.max(this.revision, revisionOf(reply) ?? 0);
    for (const kv of keyValuesOf(request, reply)) this.seen.set(kv.key, { value: kv.value, modRevision: kv.modRevision, version: kv.version });
  }

  private compareAndSet(key: string, random: Random): EtcdCall {
    const seen = this.seen.get(key);
    const compare = seen === undefined ? versionIs(key, 'EQUAL', 0) : valueIs(key, seen.value);
    return txn([compare], [opPut(key, this.value(random))], [opGet(key)]);
  }

  /**
   * A read-only txn of serializable ranges: whether the key still has the version this client
   * last saw (or exists), then the key and the whole prefix, or the key alone. etcd serves it from
   * the member's state, like a serializable range (IsTxnSerializable), and the history check
   * judges it so: compares and ranges at its header revision.
   */
  private staleTxn(key: string): EtcdCall {
    const seen = this.seen.get(key);
    const compare = seen === undefined ? versionIs(key, 'GREATER', 0) : versionIs(key, 'EQUAL', seen.version);
    return txn([compare], [opGet(key, { serializable: true }), opGet(this.prefix, { rangeEnd: prefixEnd(this.prefix), serializable: true })], [opGet(key, { serializable: true })]);
  }

  /** The next unique value; with `largeValues` padded to a drawn length (no draw without: the other clients' runs stay as they were). */
  private value(random: Random): string {
    const value = this.values.next();
    return this.large ? largeValue(value, random) : value;
  }

  /** Two or three keys: compares on what this client saw, writes on success, reads on failure. */
  private multiTxn(random: Random): EtcdCall {
    const count = 2 + random.below(2);
    const keys = [...new Set(Array.from({ length: count }, () => pick(random, this.keys)))].sort();
    const compare = keys.map((key) => {
      const seen = this.seen.get(key);
      if (seen === undefined || random.below(3) === 0) return versionIs(key, random.below(2) === 0 ? 'GREATER' : 'LESS', random.below(3));
      return modRevisionIs(key, random.below(2) === 0 ? 'EQUAL' : 'GREATER', seen.modRevision);
    });
    const success = keys.map((key, index) => (index === keys.length - 1 && random.below(4) === 0 ? opDelete(key) : opPut(key, this.value(random))));
    if (random.below(2) === 0) success.push(opGet(this.prefix, { rangeEnd: prefixEnd(this.prefix) }));
    return txn(compare, success, keys.map((key) => opGet(key)));
  }
}

/** The i-th key of a prefix: a letter each (so that ranges over them read naturally: [pa, pd) holds pa, pb, pc). */
function keyName(prefix: string, i: number): string {
  return `${prefix}${String.fromCharCode(97 + i)}`;
}

/**
 * `value` padded to a drawn length: a third of them short (as drawn, under the store's 64-byte
 * slab threshold), half 64 bytes to 1 kB, a sixth 1 kB to 8 kB (core/mvcc/valueSlabs.ts: the long
 * ones live in slabs). The padding repeats the value, so that no two values share their bytes and
 * a slab region read at a wrong offset or length shows.
 */
export function largeValue(value: string, random: Random): string {
  const roll = random.below(6);
  if (roll < 2) return value;
  const length = roll < 5 ? 64 + random.below(960) : 1024 + random.below(7 * 1024);
  const unit = `${value}~`;
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, Math.max(length, value.length));
}
