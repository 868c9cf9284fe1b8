/**
 * `npm run bench quotaHeap`: what a member's keyspace costs at the space quota's ceiling (issue
 * 10's task quota). The keyspace lives in V8's heap; the backend image on disk and in a snapshot
 * is its encoding. For each modelled db size in DETCD_BENCH_QUOTA_MB (default 128,512,1024; the
 * first is the baseline, about check perf's db), a store of 1 kB values under 276-byte keys (as
 * check perf's) is built, and measured:
 * - heap: used heap after full collections, and as a multiple of the modelled db size (the quota
 *   is checked against that size);
 * - encode: the image in the codec's slices (the backend file's rewrite), its bytes and time;
 * - decode: the image decoded from one buffer (a restart, a follower installing a snapshot), its
 *   time, and the heap while the old keyspace and the new one are both alive (a follower whose
 *   keyspace is replaced by a leader's snapshot holds both until the install is done).
 * The heap limit (`heap_size_limit`) is printed: the default depends on the machine's memory.
 */
import { getHeapStatistics } from 'node:v8';
import { Backend } from '../core/mvcc/backend.ts';
import { KvStore } from '../core/mvcc/kvStore.ts';
import { etcdCodec } from '../core/server/codec.ts';
import { fullGc, keyOf } from './storeHeap.bench.ts';

function usedHeap(gc: () => void): number {
  gc();
  gc();
  return getHeapStatistics().used_heap_size;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export async function bench(out: (line: string) => void): Promise<void> {
  const gc = fullGc();
  const sizesMb = (process.env.DETCD_BENCH_QUOTA_MB ?? '128,512,1024').split(',').map(Number);
  if (sizesMb.some((size) => !(size > 0))) throw new Error(`DETCD_BENCH_QUOTA_MB must be sizes in MiB, got ${process.env.DETCD_BENCH_QUOTA_MB}`);
  out(`heap limit ${mb(getHeapStatistics().heap_size_limit)} MiB; 1 kB values, 276-byte keys`);
  let baseline: { ratio: number; encodeMs: number; decodeMs: number; mb: number } | null = null;
  for (const sizeMb of sizesMb) {
    const before = usedHeap(gc);
    // Each value its own flat string, as a member decodes each from an entry's bytes.
    const valueBytes = Buffer.alloc(1024, 'v');
    let store: KvStore | null = KvStore.open(Backend.create());
    for (let i = 0; store.backend.size < sizeMb * 2 ** 20; i++) {
      valueBytes.writeUInt32BE(i, 0);
      store.put({ key: keyOf(i), value: valueBytes.toString('latin1') });
      if (i % 100 === 99) store.backend.commit();
    }
    // The whole image (a commit's carries what it changed: its file record would be that delta).
    const { delta: _delta, ...image } = store.backend.snapshot();
    const heap = usedHeap(gc) - before;
    const dbBytes = store.backend.size;
    let started = performance.now();
    const slices: Buffer[] = [];
    for (const slice of etcdCodec.record.encodeInSlices!(image, true)!) slices.push(Buffer.from(slice));
    const encodeMs = performance.now() - started;
    const encoded = Buffer.concat(slices);
    slices.length = 0;
    started = performance.now();
    let decoded: unknown = etcdCodec.record.decode(encoded);
    const decodeMs = performance.now() - started;
    const both = usedHeap(gc) - before;
    const peak = getHeapStatistics().total_heap_size;
    const ratio = heap / dbBytes;
    baseline ??= { ratio, encodeMs, decodeMs, mb: sizeMb };
    const scale = sizeMb / baseline.mb;
    out(
      `db ${mb(dbBytes)} MiB: heap ${mb(heap)} MiB (${ratio.toFixed(2)}x the db; ${(ratio / baseline.ratio).toFixed(2)}x the ${baseline.mb} MiB ratio), image ${mb(encoded.byteLength)} MiB ` +
        `encoded in ${(encodeMs / 1000).toFixed(2)} s (${(encodeMs / baseline.encodeMs / scale).toFixed(2)}x per MiB), decoded in ${(decodeMs / 1000).toFixed(2)} s (${(decodeMs / baseline.decodeMs / scale).toFixed(2)}x per MiB); ` +
        `old and new keyspace alive: heap ${mb(both)} MiB (total heap ${mb(peak)} MiB)`,
    );
    store = null;
    decoded = null;
    void decoded;
    void store;
  }
}
