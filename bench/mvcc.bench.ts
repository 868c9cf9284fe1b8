/**
 * core/mvcc: puts, single-key and prefix ranges, txns (compare + put) and compaction, in
 * operations per wall second, each as a ratio to a plain Map doing the nearest thing (set a
 * value object, get one, scan a sorted key array) measured in the same run. The store keeps every
 * revision, an ordered index and a batch; the ratio says what that costs.
 */
import { isEtcdError } from '../core/api/errors.ts';
import { Backend, KvStore } from '../core/mvcc/index.ts';

const keys = Array.from({ length: 10_000 }, (_, i) => `/registry/pods/ns${i % 10}/pod-${String(i).padStart(5, '0')}`);
const operations = 100_000;

function timed(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

function perSecond(count: number, ms: number): number {
  return (count / ms) * 1000;
}

function mapBaseline(): { put: number; get: number; scan: number } {
  const map = new Map<string, { value: string; version: number; modRevision: number }>();
  let revision = 1;
  const put = timed(() => {
    for (let i = 0; i < operations; i++) {
      const key = keys[i % keys.length]!;
      const previous = map.get(key);
      map.set(key, { value: `v${i}`, version: (previous?.version ?? 0) + 1, modRevision: ++revision });
    }
  });
  let found = 0;
  const get = timed(() => {
    for (let i = 0; i < operations; i++) if (map.get(keys[(i * 7) % keys.length]!) !== undefined) found++;
  });
  const sorted = [...map.keys()].sort();
  const scan = timed(() => {
    for (let i = 0; i < operations / 10; i++) {
      const prefix = `/registry/pods/ns${i % 10}/`;
      let at = sorted.findIndex((key) => key >= prefix);
      for (let n = 0; n < 10 && at < sorted.length && sorted[at]!.startsWith(prefix); n++, at++) found += map.get(sorted[at]!)!.version;
    }
  });
  if (found === 0) throw new Error('baseline found nothing');
  return { put: perSecond(operations, put), get: perSecond(operations, get), scan: perSecond(operations / 10, scan) };
}

function storeRun(): { put: number; get: number; scan: number; txn: number; compact: number; removed: number } {
  const store = KvStore.open(Backend.create());
  const put = timed(() => {
    for (let i = 0; i < operations; i++) {
      store.put({ key: keys[i % keys.length]!, value: `v${i}` });
      if (i % 1000 === 999) store.backend.commit();
    }
  });
  let found = 0;
  const get = timed(() => {
    for (let i = 0; i < operations; i++) {
      const response = store.range({ key: keys[(i * 7) % keys.length]! });
      if (!isEtcdError(response)) found += response.kvs.length;
    }
  });
  const scan = timed(() => {
    for (let i = 0; i < operations / 10; i++) {
      const prefix = `/registry/pods/ns${i % 10}/`;
      const response = store.range({ key: prefix, rangeEnd: `/registry/pods/ns${i % 10}0`, limit: 10 });
      if (!isEtcdError(response)) found += response.kvs.length;
    }
  });
  const txn = timed(() => {
    for (let i = 0; i < operations / 2; i++) {
      const key = keys[i % keys.length]!;
      const current = store.range({ key });
      const modRevision = isEtcdError(current) ? 0 : (current.kvs[0]?.modRevision ?? 0);
      store.txn({ compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision }], success: [{ requestPut: { key, value: `t${i}` } }], failure: [{ requestRange: { key } }] });
    }
  });
  const before = store.revision;
  const compact = timed(() => {
    store.compact({ revision: before });
    store.finishCompaction();
  });
  if (found === 0) throw new Error('the store found nothing');
  const removed = before - 1 - keys.length;
  return { put: perSecond(operations, put), get: perSecond(operations, get), scan: perSecond(operations / 10, scan), txn: perSecond(operations / 2, txn), compact: perSecond(removed, compact), removed };
}

export function bench(out: (line: string) => void): void {
  storeRun(); // warm up
  mapBaseline();
  const baseline = mapBaseline();
  const store = storeRun();
  const line = (what: string, opsPerSecond: number, base: number, baseWhat: string) =>
    out(`mvcc ${what}: ${Math.round(opsPerSecond)} ops/s (ratio to a Map's ${baseWhat} at ${Math.round(base)}/s: ${(opsPerSecond / base).toFixed(3)})`);
  line('put (10,000 keys, commit every 1,000)', store.put, baseline.put, 'set');
  line('range, one key', store.get, baseline.get, 'get');
  line('range, prefix with limit 10', store.scan, baseline.scan, 'sorted scan');
  line('txn (compare mod revision, put)', store.txn, baseline.put, 'set');
  line(`compact (${store.removed} revisions removed, in batches of 1,000)`, store.compact, baseline.put, 'set');
}
