/**
 * `npm run bench storeHeap`: the V8 heap that core/mvcc keeps per key of `etcdctl check perf`'s
 * keyspace (276-byte keys put once, then deleted by prefix, nothing compacted: what a member holds
 * after a check perf run). Heap bytes after a full collection do not depend on the machine's
 * load, and a full collection's pause grows with them (issue 10's latency tail). Each put's 1 kB
 * value is its own string, as a member decodes each from its request's bytes; the ArrayBuffer
 * bytes (off V8's heap: core/mvcc/valueSlabs.ts's slabs) are reported beside the heap.
 *
 * The baseline measured in the same run is the bare keys (the strings alone); with
 * DETCD_BENCH_BASELINE=<dir> another checkout's core/mvcc is measured too.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const keyCount = 52_000;
const prefix = '/etcdctl-check-perf/';
const valueBytes = Buffer.alloc(1024);

interface MvccModule {
  Backend: { create(): unknown; fromSnapshot(image: unknown, options?: { batchLimit: number; values?: unknown }): unknown };
  KvStore: { open(backend: unknown): { put(request: { key: string; value: string }): unknown; deleteRange(request: { key: string; rangeEnd: string }): unknown; backend: { commit(): void; snapshot(): unknown } } };
  ValueSlabs: new () => unknown;
  encodeBackendImage(image: unknown): Uint8Array;
  decodeBackendImage(bytes: Uint8Array, values: unknown): unknown;
}

/** Puts after the restart: ~1 MiB of values, less than a slab. */
const restartPuts = 1_000;

/** V8's `gc()`, taken for a moment from the flags (no --expose-gc on the command line). */
export function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

/** A flat key string, as a member decodes one from bytes (a concatenation would be a rope). */
export function keyOf(i: number): string {
  return Buffer.from(prefix + i.toString(16).padStart(12, '0') + '\0'.repeat(244), 'latin1').toString('latin1');
}

/** Heap bytes that `build` leaves reachable (its result is kept until after the reading), and ArrayBuffer bytes. */
function heapBytes(gc: () => void, build: () => unknown): { heap: number; external: number } {
  gc();
  gc();
  const before = getHeapStatistics().used_heap_size;
  const externalBefore = process.memoryUsage().arrayBuffers;
  const kept = build();
  gc();
  gc();
  const used = getHeapStatistics().used_heap_size - before;
  const external = process.memoryUsage().arrayBuffers - externalBefore;
  if (kept === undefined) throw new Error('nothing built');
  return { heap: used, external };
}

function storeBytes(gc: () => void, mvcc: MvccModule): { heap: number; external: number } {
  return heapBytes(gc, () => {
    const store = mvcc.KvStore.open(mvcc.Backend.create());
    for (let i = 0; i < keyCount; i++) {
      store.put({ key: keyOf(i), value: valueBytes.toString('latin1') });
      if (i % 100 === 99) store.backend.commit(); // the runtime commits every 100 ms, ~100 puts
    }
    store.deleteRange({ key: prefix, rangeEnd: '/etcdctl-check-perf0' });
    store.backend.commit();
    return store;
  });
}

/**
 * A member restarted after check perf's puts (nothing deleted): its db file decoded, the long
 * values into its decoders' slabs, the backend opened on it, then `restartPuts` more puts. With
 * `shared`, the backend appends to the decoders' allocator (the runtime's member since session 20);
 * without, to its own, while the decoders' last slab stays part full.
 */
function restartedBytes(gc: () => void, mvcc: MvccModule, shared: boolean): { heap: number; external: number } {
  const before = mvcc.KvStore.open(mvcc.Backend.create());
  for (let i = 0; i < keyCount; i++) before.put({ key: keyOf(i), value: valueBytes.toString('latin1') });
  before.backend.commit();
  const file = mvcc.encodeBackendImage(before.backend.snapshot());
  return heapBytes(gc, () => {
    const values = new mvcc.ValueSlabs();
    const image = mvcc.decodeBackendImage(file, values);
    const store = mvcc.KvStore.open(mvcc.Backend.fromSnapshot(image, shared ? { batchLimit: 10_000, values } : undefined));
    for (let i = 0; i < restartPuts; i++) store.put({ key: keyOf(keyCount + i), value: valueBytes.toString('latin1') });
    store.backend.commit();
    return [store, values];
  });
}

export async function bench(out: (line: string) => void): Promise<void> {
  const gc = fullGc();
  const keysOnly = heapBytes(gc, () => Array.from({ length: keyCount }, (_, i) => keyOf(i))).heap;
  const checkouts = [['here', resolve(import.meta.dirname, '..')]];
  if (process.env.DETCD_BENCH_BASELINE) checkouts.push(['base', resolve(process.env.DETCD_BENCH_BASELINE)]);
  out(`baseline: ${keyCount} keys of 276 bytes alone        ${(keysOnly / keyCount).toFixed(0)} bytes per key`);
  for (const [name, root] of checkouts) {
    const mvcc = (await import(pathToFileURL(join(root!, 'core', 'mvcc', 'index.ts')).href)) as MvccModule;
    const { heap: bytes, external } = storeBytes(gc, mvcc);
    out(
      `${name!.padEnd(5)} core/mvcc, put then deleted: ${(bytes / keyCount).toFixed(0)} bytes per key (${(bytes / keysOnly).toFixed(2)}x the keys alone; ${(bytes / 2 ** 20).toFixed(1)} MB), ArrayBuffers ${(external / keyCount).toFixed(0)} bytes per key (${(external / 2 ** 20).toFixed(1)} MB)`,
    );
    const own = restartedBytes(gc, mvcc, false);
    const shared = restartedBytes(gc, mvcc, true);
    out(
      `${name!.padEnd(5)} restarted (${keyCount} values decoded, ${restartPuts} put after): ArrayBuffers ${(own.external / 2 ** 20).toFixed(1)} MB with the backend's own allocator, ${(shared.external / 2 ** 20).toFixed(1)} MB on its decoders' (${(shared.external / own.external).toFixed(3)}x); heap ${(own.heap / 2 ** 20).toFixed(1)} vs ${(shared.heap / 2 ** 20).toFixed(1)} MB`,
    );
  }
}
