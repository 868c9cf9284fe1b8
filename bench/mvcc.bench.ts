/**
 * core/mvcc: puts, single-key and prefix ranges, txns (compare + put) and compaction, in
 * operations per wall second, each as a ratio to a plain Map doing the nearest thing (set a
 * value object, get one, scan a sorted key array) measured in the same run. The store keeps every
 * revision, an ordered index and a batch; the ratio says what that costs.
 */
import { isEtcdError } from '../core/api/errors.ts';
import { encodeBackendRecord } from '../core/mvcc/backendCodec.ts';
import type { BackendImage } from '../core/mvcc/backendImage.ts';
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
  benchDelete(out);
}

/**
 * `etcdctl check perf`'s cleanup: one DeleteRange of a prefix holding `deleteKeys` keys, as the
 * apply loop runs it (the delete, then its batch's delta record as bytes, which the runtime
 * writes to the backend file), per key deleted; the baseline is putting the same keys, one put
 * each, measured in the same round. Each round a fresh store; least and median of the rounds.
 * Each round deletes twice, on two fresh stores: with the events' prevKv (what a member with a
 * prev_kv watcher applies) and without it (any other member's apply).
 */
const deleteKeys = 50_000;
const deleteRounds = 5;
const checkPerfValue = 'v'.repeat(256);

interface DeleteRound {
  readonly put: number;
  readonly deleteRange: number;
  readonly encode: number;
  /** The same delete on a second store whose events carry no prevKv (a member no prev_kv watcher reads). */
  readonly deleteRangeNoPrevKv: number;
}

/** One round, in microseconds per key: the delete with events' prevKv, then one without. */
function deleteRound(): DeleteRound {
  const withPrevKv = deleteOnce(true);
  const withoutPrevKv = deleteOnce(false);
  return { ...withPrevKv, deleteRangeNoPrevKv: withoutPrevKv.deleteRange };
}

function deleteOnce(eventsCarryPrevKv: boolean): Omit<DeleteRound, 'deleteRangeNoPrevKv'> {
  const store = KvStore.open(Backend.create());
  store.eventsCarryPrevKv = eventsCarryPrevKv;
  const prefix = '/etcdctl-check-perf/';
  const put = timed(() => {
    for (let i = 0; i < deleteKeys; i++) {
      store.put({ key: `${prefix}${String((i * 7919) % deleteKeys).padStart(8, '0')}`, value: checkPerfValue });
      if (i % 1000 === 999) store.backend.commit();
    }
  });
  store.backend.commit();
  store.backend.takeWrites();
  let deleted = 0;
  const deleteRange = timed(() => {
    deleted = store.deleteRange({ key: prefix, rangeEnd: '/etcdctl-check-perf0' }).response.deleted;
  });
  if (deleted !== deleteKeys) throw new Error(`deleted ${deleted} of ${deleteKeys} keys`);
  store.backend.commit();
  let bytes = 0;
  const encode = timed(() => {
    for (const write of store.backend.takeWrites()) for (const record of write.records) bytes += encodeBackendRecord(record as BackendImage).length;
  });
  if (bytes === 0) throw new Error('the delete wrote nothing');
  const perKey = (ms: number) => (ms * 1000) / deleteKeys;
  return { put: perKey(put), deleteRange: perKey(deleteRange), encode: perKey(encode) };
}

function benchDelete(out: (line: string) => void): void {
  deleteRound(); // warm up
  const rounds = Array.from({ length: deleteRounds }, deleteRound);
  const least = (field: keyof DeleteRound) => Math.min(...rounds.map((round) => round[field]));
  const median = (field: keyof DeleteRound) => rounds.map((round) => round[field]).sort((a, b) => a - b)[Math.floor(deleteRounds / 2)]!;
  // A ratio above 1: deleting a key costs less than putting it did.
  const line = (what: string, field: keyof DeleteRound) =>
    out(
      `mvcc ${what}: ${least(field).toFixed(2)} us/key least, ${median(field).toFixed(2)} median of ${deleteRounds} ` +
        `(ratio to putting them at ${least('put').toFixed(2)} / ${median('put').toFixed(2)} us/key: ${(least('put') / least(field)).toFixed(3)} least, ${(median('put') / median(field)).toFixed(3)} median)`,
    );
  line(`delete range (${deleteKeys.toLocaleString('en')} keys, one txn)`, 'deleteRange');
  line('delete range, events without prevKv (no prev_kv watcher)', 'deleteRangeNoPrevKv');
  line("its delta record's bytes", 'encode');
}
