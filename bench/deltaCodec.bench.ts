/**
 * `npm run bench deltaCodec`: what a backend commit's delta record costs to encode
 * (core/mvcc/backendCodec's `encodeBackendRecord`, with the runtime's native byte strings), per
 * record: one put's (a 276-byte key of check perf's shape and a 256-byte value: a commit of one
 * put, the sequential put path) and a batch commit's (100 puts, the runtime's commit every 100 ms
 * under load). Records are made by core/mvcc itself (a put and a commit), then encoded many
 * times. Printed as ns per record, and as a ratio to another checkout's codec
 * (DETCD_BENCH_BASELINE=<dir>, e.g. /work/wt-base) measured in the same run, alternated round by
 * round with the order swapped. DETCD_BENCH_DELTA_ROUNDS (default 7).
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const prefix = '/etcdctl-check-perf/';
/** Flat strings, as the runtime's keys and values are (decoded from bytes), not the ropes that repeat and padEnd make. */
const flat = (text: string) => Buffer.from(text, 'latin1').toString('latin1');
const value = flat('v'.repeat(256));

interface Checkout {
  readonly name: string;
  /** The records a commit of `puts` puts writes. */
  readonly records: (puts: number) => readonly unknown[];
  readonly encode: (record: unknown) => Uint8Array;
}

interface Store {
  put(request: { key: string; value: string }): unknown;
  readonly backend: { commit(): boolean; takeWrites(): { records: readonly unknown[] }[] };
}

async function load(name: string, root: string): Promise<Checkout> {
  const mvcc = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'index.ts')).href)) as { Backend: { create(): unknown }; KvStore: { open(backend: unknown): Store } };
  const codec = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'backendCodec.ts')).href)) as { encodeBackendRecord(record: unknown): Uint8Array };
  const native = (await import(pathToFileURL(join(root, 'runtime', 'nativeByteStrings.ts')).href)) as { useNativeByteStrings(): void };
  native.useNativeByteStrings();
  return {
    name,
    records(puts) {
      const store = mvcc.KvStore.open(mvcc.Backend.create());
      store.put({ key: keyOf(0), value });
      store.backend.commit();
      store.backend.takeWrites();
      for (let i = 1; i <= puts; i++) store.put({ key: keyOf(i), value });
      store.backend.commit();
      return store.backend.takeWrites().flatMap((write) => write.records);
    },
    encode: (record) => codec.encodeBackendRecord(record),
  };
}

/** Check perf's key shape: the prefix and 256 bytes (a number, then zeros). */
function keyOf(i: number): string {
  return flat(`${prefix}${String(i).padStart(8, '0')}`.padEnd(prefix.length + 256, '\0'));
}

/** ns per record over `times` encodings of `records` (round robin). */
function time(checkout: Checkout, records: readonly unknown[], times: number): number {
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < times; i++) bytes += checkout.encode(records[i % records.length]).length;
  const ns = Number(process.hrtime.bigint() - started) / times;
  if (bytes === 0) throw new Error(`${checkout.name}: no bytes`);
  return ns;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const least = (values: readonly number[]) => Math.min(...values);

export async function bench(out: (line: string) => void): Promise<void> {
  const rounds = Number(process.env.DETCD_BENCH_DELTA_ROUNDS ?? 7);
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`DETCD_BENCH_DELTA_ROUNDS must be 1-100, got ${process.env.DETCD_BENCH_DELTA_ROUNDS}`);
  const checkouts = [await load('here', resolve(import.meta.dirname, '..'))];
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined) checkouts.push(await load('base', resolve(baseline)));
  else out('deltaCodec: set DETCD_BENCH_BASELINE=<a checkout of main with its own node_modules> to compare');
  const cases = [
    { name: '1 put', puts: 1, times: 200_000 },
    { name: '100 puts', puts: 100, times: 4_000 },
  ];
  for (const { name, puts, times } of cases) {
    const records = new Map(checkouts.map((checkout) => [checkout.name, checkout.records(puts)]));
    const sizes = checkouts.map((checkout) => checkout.encode(records.get(checkout.name)![0]).length);
    if (new Set(sizes).size !== 1) throw new Error(`${name}: the checkouts' records differ in size (${sizes.join(', ')})`);
    for (const checkout of checkouts) time(checkout, records.get(checkout.name)!, times); // warm up
    const results = new Map(checkouts.map((checkout) => [checkout.name, [] as number[]]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? checkouts : [...checkouts].reverse();
      for (const checkout of order) results.get(checkout.name)!.push(time(checkout, records.get(checkout.name)!, times));
    }
    for (const checkout of checkouts) {
      const ns = results.get(checkout.name)!;
      out(`deltaCodec ${checkout.name.padEnd(4)} ${name} record (${sizes[0]} bytes): ${least(ns).toFixed(0)} ns least, ${median(ns).toFixed(0)} median per record; rounds ${ns.map((v) => v.toFixed(0)).join(', ')}`);
    }
    if (baseline !== undefined) {
      const here = results.get('here')!;
      const base = results.get('base')!;
      out(`deltaCodec here / base ${name}: ${(least(here) / least(base)).toFixed(2)} least, ${(median(here) / median(base)).toFixed(2)} median`);
    }
  }
}
