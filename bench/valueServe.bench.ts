/**
 * `npm run bench valueServe`: what a 1 kB value costs on its way in and out of core/mvcc, with the
 * runtime's native byte strings: puts (the store copies a long value into a slab:
 * core/mvcc/valueSlabs.ts), single-key ranges and 100-key prefix ranges turned into the gRPC
 * shell's wire objects (runtime/client/kvWire's `rangeResponse`: a value's Buffer, a view of a slab
 * value's bytes or a copy of a string's). Per operation in ns, and as a ratio to another checkout
 * (DETCD_BENCH_BASELINE=<dir>, e.g. /work/wt-base) measured in the same run, alternated round by
 * round with the order swapped. DETCD_BENCH_SERVE_ROUNDS (default 7).
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const keyCount = 20_000;
const prefix = '/etcdctl-check-perf/';
const valueBytes = Buffer.alloc(1024, 7);

interface Store {
  put(request: { key: string; value: string }): unknown;
  range(request: { key: string; rangeEnd?: string; limit?: number }): unknown;
}

interface Checkout {
  readonly name: string;
  readonly mvcc: { Backend: { create(): unknown }; KvStore: { open(backend: unknown): Store } };
  readonly rangeResponse: (response: unknown) => { kvs: { value: Buffer }[] };
}

async function load(name: string, root: string): Promise<Checkout> {
  const mvcc = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'index.ts')).href)) as Checkout['mvcc'];
  const wire = (await import(pathToFileURL(join(root, 'runtime', 'client', 'kvWire.ts')).href)) as { rangeResponse: Checkout['rangeResponse'] };
  const native = (await import(pathToFileURL(join(root, 'runtime', 'nativeByteStrings.ts')).href)) as { useNativeByteStrings(): void };
  native.useNativeByteStrings();
  return { name, mvcc, rangeResponse: wire.rangeResponse };
}

function keyOf(i: number): string {
  return Buffer.from(prefix + i.toString(16).padStart(12, '0') + '\0'.repeat(244), 'latin1').toString('latin1');
}

const keys = Array.from({ length: keyCount }, (_, i) => keyOf(i));

function ns(run: () => number, count: number): number {
  const started = process.hrtime.bigint();
  const checked = run();
  const elapsed = Number(process.hrtime.bigint() - started) / count;
  if (checked === 0) throw new Error('nothing done');
  return elapsed;
}

/** ns per put, per single-key range served, per 100-key range served. */
function round(checkout: Checkout): [number, number, number] {
  const store = checkout.mvcc.KvStore.open(checkout.mvcc.Backend.create());
  // Each value its own string, as the runtime decodes each request's.
  const values = keys.map(() => valueBytes.toString('latin1'));
  const put = ns(() => {
    for (let i = 0; i < keyCount; i++) store.put({ key: keys[i]!, value: values[i]! });
    return keyCount;
  }, keyCount);
  const single = ns(() => {
    let bytes = 0;
    for (let i = 0; i < keyCount; i++) bytes += checkout.rangeResponse(store.range({ key: keys[(i * 7919) % keyCount]! })).kvs[0]!.value.length;
    return bytes;
  }, keyCount);
  const prefixRanges = keyCount / 100;
  const hundred = ns(() => {
    let bytes = 0;
    for (let i = 0; i < prefixRanges; i++) for (const kv of checkout.rangeResponse(store.range({ key: keys[i * 100]!, rangeEnd: '/etcdctl-check-perf0', limit: 100 })).kvs) bytes += kv.value.length;
    return bytes;
  }, prefixRanges);
  return [put, single, hundred];
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function bench(out: (line: string) => void): Promise<void> {
  const rounds = Number(process.env.DETCD_BENCH_SERVE_ROUNDS ?? 7);
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`DETCD_BENCH_SERVE_ROUNDS must be 1-100, got ${process.env.DETCD_BENCH_SERVE_ROUNDS}`);
  const checkouts = [await load('here', resolve(import.meta.dirname, '..'))];
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined) checkouts.push(await load('base', resolve(baseline)));
  else out('valueServe: set DETCD_BENCH_BASELINE=<a checkout of main with its own node_modules> to compare');
  for (const checkout of checkouts) round(checkout); // warm up
  const results = new Map(checkouts.map((checkout) => [checkout.name, [[], [], []] as number[][]]));
  for (let r = 0; r < rounds; r++) {
    for (const checkout of r % 2 === 0 ? checkouts : [...checkouts].reverse()) round(checkout).forEach((value, i) => results.get(checkout.name)![i]!.push(value));
  }
  const names = ['put', 'range of 1 key', 'range of 100 keys'];
  for (const checkout of checkouts) {
    const figures = results.get(checkout.name)!;
    out(`valueServe ${checkout.name.padEnd(4)} ${names.map((name, i) => `${name} ${median(figures[i]!).toFixed(0)} ns`).join(', ')} (medians of ${rounds})`);
  }
  if (baseline !== undefined) {
    const here = results.get('here')!;
    const base = results.get('base')!;
    out(`valueServe here / base: ${names.map((name, i) => `${name} ${(median(here[i]!) / median(base[i]!)).toFixed(2)}`).join(', ')}`);
  }
}
