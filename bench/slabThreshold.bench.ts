/**
 * `npm run bench slabThreshold`: where the store's value slabs should start
 * (core/mvcc/valueSlabs.ts's `slabValueMin`, 64 bytes). For values of each length in
 * DETCD_BENCH_SLAB_VALUES (default 16,32,48,64,100,200) and each threshold in
 * DETCD_BENCH_SLAB_MINS (default none,0,32,64,128,256; `none`: every value a string, the
 * baseline measured in the same run), a store of 20,000 keys put once, each value its own flat
 * string as a member decodes it: bytes per key kept on V8's heap and in ArrayBuffers (after full
 * collections: load does not change them; 64 KiB slabs, so the current one's empty tail is small), then ns per put and per single-key range turned into
 * the gRPC shell's wire objects (runtime/client/kvWire.ts, native byte strings), alternated
 * round by round (DETCD_BENCH_SLAB_ROUNDS, default 5; the least of the rounds).
 */
import { getHeapStatistics } from 'node:v8';
import * as mvcc from '../core/mvcc/index.ts';
import { rangeResponse } from '../runtime/client/kvWire.ts';
import { useNativeByteStrings } from '../runtime/nativeByteStrings.ts';
import { fullGc } from './storeHeap.bench.ts';

const keyCount = 20_000;
const keys = Array.from({ length: keyCount }, (_, i) => Buffer.from(`/bench/${i.toString(16).padStart(8, '0')}`, 'latin1').toString('latin1'));

/** `count` distinct flat strings of `length` bytes (a member decodes each value from its request's bytes). */
function valuesOf(length: number, count: number): string[] {
  const bytes = Buffer.alloc(length, 'v');
  return Array.from({ length: count }, (_, i) => {
    bytes.writeUInt32BE(i, 0);
    return bytes.toString('latin1');
  });
}

function filled(min: number, values: readonly string[]): mvcc.KvStore {
  const previous = mvcc.useSlabValueMin(min);
  // 64 KiB slabs: the current slab's empty tail is at most ~3 bytes a key here (a 4 MiB one's was
  // 200), as in a large store, where full slabs amortise it.
  const previousSize = mvcc.useSlabSize(64 * 1024);
  try {
    const store = mvcc.KvStore.open(mvcc.Backend.create());
    for (let i = 0; i < keyCount; i++) {
      store.put({ key: keys[i]!, value: values[i]! });
      if (i % 100 === 99) store.backend.commit();
    }
    store.backend.commit();
    return store;
  } finally {
    mvcc.useSlabValueMin(previous);
    mvcc.useSlabSize(previousSize);
  }
}

function filledWithFresh(min: number, length: number): mvcc.KvStore {
  return filled(min, valuesOf(length, keyCount));
}

function kept(gc: () => void, min: number, length: number): { heap: number; external: number } {
  gc();
  gc();
  const heapBefore = getHeapStatistics().used_heap_size;
  const externalBefore = process.memoryUsage().arrayBuffers;
  // The values are made inside the measurement, in a frame of their own (an interpreter register
  // of this one kept the array alive through the reading): what the store keeps of them counts.
  let store: mvcc.KvStore | null = filledWithFresh(min, length);
  gc();
  gc();
  const heap = getHeapStatistics().used_heap_size - heapBefore;
  const external = process.memoryUsage().arrayBuffers - externalBefore;
  if (store.revision <= keyCount) throw new Error('not filled');
  store = null;
  return { heap, external };
}

function timed(min: number, values: readonly string[]): { put: number; get: number } {
  let started = process.hrtime.bigint();
  const store = filled(min, values);
  const put = Number(process.hrtime.bigint() - started) / keyCount;
  let bytes = 0;
  started = process.hrtime.bigint();
  for (let i = 0; i < keyCount; i++) {
    const response = rangeResponse(store.range({ key: keys[i]! }) as never) as { kvs: { value: Buffer }[] };
    bytes += response.kvs[0]!.value.byteLength;
  }
  const get = Number(process.hrtime.bigint() - started) / keyCount;
  if (bytes === 0) throw new Error('nothing read');
  return { put, get };
}

export async function bench(out: (line: string) => void): Promise<void> {
  useNativeByteStrings();
  const gc = fullGc();
  const lengths = (process.env.DETCD_BENCH_SLAB_VALUES ?? '16,32,48,64,100,200').split(',').map(Number);
  const mins = (process.env.DETCD_BENCH_SLAB_MINS ?? 'none,0,32,64,128,256').split(',').map((min) => (min === 'none' ? Number.POSITIVE_INFINITY : Number(min)));
  const rounds = Number(process.env.DETCD_BENCH_SLAB_ROUNDS ?? 5);
  if (lengths.some((n) => !(n > 0)) || mins.some((n) => !(n >= 0)) || !(rounds > 0)) throw new Error('DETCD_BENCH_SLAB_VALUES: lengths; DETCD_BENCH_SLAB_MINS: thresholds or none; DETCD_BENCH_SLAB_ROUNDS: a count');
  const name = (min: number) => (min === Number.POSITIVE_INFINITY ? 'none' : `${min}`);
  for (const length of lengths) {
    const values = valuesOf(length, keyCount);
    const memory = new Map(mins.map((min) => [min, kept(gc, min, length)] as const));
    const best = new Map(mins.map((min) => [min, { put: Infinity, get: Infinity }]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? mins : [...mins].reverse();
      for (const min of order) {
        const run = timed(min, values);
        const b = best.get(min)!;
        b.put = Math.min(b.put, run.put);
        b.get = Math.min(b.get, run.get);
      }
    }
    const base = { ...memory.get(mins[0]!)!, ...best.get(mins[0]!)! };
    out(`values of ${length} B (${keyCount} keys; ratios to slab threshold ${name(mins[0]!)}):`);
    for (const min of mins) {
      const { heap, external } = memory.get(min)!;
      const { put, get } = best.get(min)!;
      const total = (heap + external) / keyCount;
      out(
        `  threshold ${name(min).padStart(4)}: heap ${(heap / keyCount).toFixed(0).padStart(4)} + slabs ${(external / keyCount).toFixed(0).padStart(4)} = ${total.toFixed(0).padStart(4)} B/key (${(total / ((base.heap + base.external) / keyCount)).toFixed(2)}x), ` +
          `put ${put.toFixed(0)} ns (${(put / base.put).toFixed(2)}x), get ${get.toFixed(0)} ns (${(get / base.get).toFixed(2)}x)`,
      );
    }
  }
}
