import { isEtcdError, type EtcdError } from '../api/errors.ts';
import type { KeyValue } from '../api/kv.ts';
import { revisionHeader, type RangeRequest, type RangeResponse, type SortTarget } from '../api/rpc.ts';
import type { ReadView } from './mvccState.ts';
import { indexEnd } from './treeIndex.ts';
import { valueLength } from './valueSlabs.ts';

/**
 * A Range request as etcd's applier serves it (etcdserver/apply.go Range): with a sort order or
 * any min/max filter every key is fetched, then filtered, sorted and cut to `limit` (`more`
 * says something was cut); otherwise one more than `limit` is fetched to know `more`. `count` is
 * the number of keys in range before filters and limit.
 */
export function applyRange(view: ReadView, request: RangeRequest): RangeResponse | EtcdError {
  const requestLimit = request.limit ?? 0;
  const sortOrder = request.sortOrder ?? 'NONE';
  const sortTarget = request.sortTarget ?? 'KEY';
  const minMod = request.minModRevision ?? 0;
  const maxMod = request.maxModRevision ?? 0;
  const minCreate = request.minCreateRevision ?? 0;
  const maxCreate = request.maxCreateRevision ?? 0;
  const filtered = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
  let limit = sortOrder !== 'NONE' || filtered ? 0 : requestLimit;
  if (limit > 0) limit++;

  const result = view.range(request.key, indexEnd(request.rangeEnd), { limit, revision: request.revision ?? 0, count: request.countOnly === true });
  if (isEtcdError(result)) return result;

  let kvs = result.kvs;
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        (maxMod === 0 || kv.modRevision <= maxMod) &&
        (minMod === 0 || kv.modRevision >= minMod) &&
        (maxCreate === 0 || kv.createRevision <= maxCreate) &&
        (minCreate === 0 || kv.createRevision >= minCreate),
    );
  }
  // The index returns keys ascending; any other target sorts ascending unless told otherwise.
  const order = sortTarget !== 'KEY' && sortOrder === 'NONE' ? 'ASCEND' : sortOrder;
  if (order === 'ASCEND' || order === 'DESCEND') kvs = sorted(kvs, sortTarget, order === 'DESCEND');

  let more = false;
  if (requestLimit > 0 && kvs.length > requestLimit) {
    kvs = kvs.slice(0, requestLimit);
    more = true;
  }
  if (request.keysOnly === true) kvs = kvs.map(withoutValue);
  return { header: revisionHeader(result.revision), kvs, more, count: result.count };
}

function withoutValue(kv: KeyValue): KeyValue {
  return valueLength(kv) === 0 ? kv : { key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: '', lease: kv.lease };
}

/**
 * Sorted by the target. Ties keep key order, ascending, in both directions (a stable sort; etcd
 * uses Go's unstable sort.Sort, so its order among ties is unspecified).
 */
function sorted(kvs: readonly KeyValue[], target: SortTarget, descending: boolean): KeyValue[] {
  const compare = comparators[target] ?? comparators.KEY;
  const sign = descending ? -1 : 1;
  return kvs.slice().sort((a, b) => sign * compare(a, b));
}

const compareBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const comparators: Record<SortTarget, (a: KeyValue, b: KeyValue) => number> = {
  KEY: (a, b) => compareBytes(a.key, b.key),
  VERSION: (a, b) => a.version - b.version,
  CREATE: (a, b) => a.createRevision - b.createRevision,
  MOD: (a, b) => a.modRevision - b.modRevision,
  VALUE: (a, b) => compareBytes(a.value, b.value),
};
