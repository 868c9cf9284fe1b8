import test from 'ava';
import { isEtcdError } from '../api/errors.ts';
import { Backend } from './backend.ts';
import { KvStore } from './kvStore.ts';

/*
 * Golden values from etcd's own tests (server/storage/mvcc/hash_test.go, TestHashByRevValue and
 * TestHashByRevValueLastRevision, Apache-2.0): the same puts and compactions must give the same
 * CRC-32C, which holds only if the key bucket's keys and values are encoded byte for byte as etcd
 * encodes them.
 */
const compactionCycle = 71;

function pickKey(i: number): string {
  if (i % (compactionCycle * 2) === 30) return 'zenek';
  if (i % compactionCycle === 30) return 'xavery';
  return ['alice', 'bob', 'celine', 'dominik', 'eve', 'frederica', 'gorge'][i % 7]!;
}

function putKeyValues(store: KvStore, from: number, count: number): void {
  for (let i = from; i <= from + count; i++) store.put({ key: pickKey(i), value: String(i) });
}

/** Hash at `revision` (0: current), then compact there, as etcd's testHashByRev does. */
function hashThenCompact(store: KvStore, revision: number): [number, number, number] {
  const at = revision === 0 ? store.revision : revision;
  const hashed = store.hashKV({ revision: at });
  if (isEtcdError(hashed)) throw new Error(hashed.message);
  const compacted = store.compact({ revision: at });
  if (isEtcdError(compacted)) throw new Error(compacted.message);
  return [hashed.hash, hashed.compactRevision, hashed.hashRevision];
}

/** etcd's loop: put a cycle of revisions, hash, compact; then a long run of puts, hash, compact. Go's integer division. */
function etcdHashRun(midCycle: boolean, stepCompaction: boolean): [number, number, number][] {
  const hashAt = (rev: number, span: number) => (midCycle ? rev + Math.floor(span / 2) : 0);
  const store = KvStore.open(Backend.create());
  const total = 1210;
  const got: [number, number, number][] = [];
  let rev = 0;
  for (; rev < total; rev += compactionCycle) {
    putKeyValues(store, rev, compactionCycle);
    got.push(hashThenCompact(store, hashAt(rev, compactionCycle)));
    if (stepCompaction) store.finishCompaction();
  }
  putKeyValues(store, rev, total);
  got.push(hashThenCompact(store, hashAt(rev, total)));
  return got;
}

const atMidCycle: [number, number, number][] = [
  [4082599214, -1, 35], [2279933401, 35, 106], [3284231217, 106, 177], [126286495, 177, 248],
  [900108730, 248, 319], [2475485232, 319, 390], [1226296507, 390, 461], [2503661030, 461, 532],
  [4155130747, 532, 603], [106915399, 603, 674], [406914006, 674, 745], [1882211381, 745, 816],
  [806177088, 816, 887], [664311366, 887, 958], [1496914449, 958, 1029], [2434525091, 1029, 1100],
  [3988652253, 1100, 1171], [1122462288, 1171, 1242], [724436716, 1242, 1883],
];

const atLastRevision: [number, number, number][] = [
  [1913897190, -1, 73], [224860069, 73, 145], [1565167519, 145, 217], [1566261620, 217, 289],
  [2037173024, 289, 361], [691659396, 361, 433], [2713730748, 433, 505], [3919322507, 505, 577],
  [769967540, 577, 649], [2909194793, 649, 721], [1576921157, 721, 793], [4067701532, 793, 865],
  [2226384237, 865, 937], [2923408134, 937, 1009], [2680329256, 1009, 1081], [1546717673, 1081, 1153],
  [2713657846, 1153, 1225], [1046575299, 1225, 1297], [2017735779, 1297, 2508],
];

test("HashKV equals etcd's for the same puts and compactions, hashed mid-cycle (etcd TestHashByRevValue)", (t) => {
  t.deepEqual(etcdHashRun(true, false), atMidCycle);
});

test("HashKV equals etcd's hashed at the latest revision (etcd TestHashByRevValueLastRevision)", (t) => {
  t.deepEqual(etcdHashRun(false, false), atLastRevision);
});

test('HashKV does not depend on how far compaction removals have got', (t) => {
  t.deepEqual(etcdHashRun(false, true), atLastRevision);
});
