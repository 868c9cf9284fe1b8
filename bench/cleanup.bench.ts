/**
 * `npm run bench cleanup`: the apply of `etcdctl check perf`'s cleanup (issue 10) in core/mvcc
 * alone, on a store as a member holds it at the end of a second check perf run: 55k keys of run 2
 * live under the prefix and run 1's 55k keys tombstoned beside them (nothing compacted). One
 * DeleteRange of the prefix, as a member applies it with no prev_kv watcher (events without
 * prevKv): the delete, the batch commit its 55k changes force (etcd's batch limit), and the commit
 * record's bytes (what the runtime writes to the db file, with its native byte strings). Keys are
 * check perf's: the prefix and 256 bytes; values 256 bytes. Also timed: run 2's puts (55k new
 * keys), which any index kept beside the key tree makes dearer.
 *
 * The baseline measured in the same run is another checkout's core/mvcc
 * (DETCD_BENCH_BASELINE=<dir>, e.g. /work/wt-base, main with its own node_modules), alternated
 * round by round with this one's, each round on a fresh store built the same way; without it,
 * only this checkout's figures are printed. Each timing starts after two full collections, and
 * includes the collections the apply itself causes. DETCD_BENCH_CLEANUP_ROUNDS (default 5).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const keyCount = 55_000;
const prefix = '/etcdctl-check-perf/';
const rangeEnd = '/etcdctl-check-perf0';
const value = 'v'.repeat(256);

interface Store {
  put(request: { key: string; value: string }): unknown;
  deleteRange(request: { key: string; rangeEnd: string }): { response: { deleted: number }; events: readonly unknown[] };
  eventsCarryPrevKv: boolean;
  readonly backend: { commit(): boolean; takeWrites(): { records: readonly unknown[] }[] };
}

interface Checkout {
  readonly name: string;
  readonly open: () => Store;
  readonly encode: (record: unknown) => Uint8Array;
}

async function load(name: string, root: string): Promise<Checkout> {
  const mvcc = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'index.ts')).href)) as { Backend: { create(): unknown }; KvStore: { open(backend: unknown): Store } };
  const codec = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'backendCodec.ts')).href)) as { encodeBackendRecord(record: unknown): Uint8Array };
  // The runtime's byte strings and buffers (Buffer's latin1 coding), installed in that checkout's own codec.
  const native = (await import(pathToFileURL(join(root, 'runtime', 'nativeByteStrings.ts')).href)) as { useNativeByteStrings(): void };
  native.useNativeByteStrings();
  return { name, open: () => mvcc.KvStore.open(mvcc.Backend.create()), encode: (record) => codec.encodeBackendRecord(record) };
}

/** V8's full collection as a function (for benches that time from a clean heap). */
export function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

/**
 * A key of check perf's shape, as a flat string: the prefix and 256 bytes (check perf's are a
 * varint of a random number, then zeros; here the run, a hash of the index and the index, then
 * zeros). The hash spreads the puts over the key order, as random keys do.
 */
export function keyOf(run: number, i: number): string {
  const spread = (Math.imul(i + 1, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
  return Buffer.from(`${prefix}${run}${spread}${String(i).padStart(6, '0')}`.padEnd(prefix.length + 256, '\0'), 'latin1').toString('latin1');
}

/** A store holding run 2's keys live and run 1's tombstoned, the runtime's writes taken; and how long run 2's puts took (ms). */
function secondRunStore(checkout: Checkout): { store: Store; putMs: number } {
  const store = checkout.open();
  store.eventsCarryPrevKv = false;
  let putMs = 0;
  for (const run of [1, 2]) {
    const started = performance.now();
    for (let i = 0; i < keyCount; i++) {
      store.put({ key: keyOf(run, i), value });
      if (i % 100 === 99) store.backend.commit(); // the runtime commits every 100 ms, ~100 puts
    }
    store.backend.commit();
    putMs = performance.now() - started;
    if (run === 1) {
      const deleted = store.deleteRange({ key: prefix, rangeEnd }).response.deleted;
      if (deleted !== keyCount) throw new Error(`run 1's cleanup deleted ${deleted} of ${keyCount} keys`);
      store.backend.commit();
    }
    store.backend.takeWrites();
  }
  return { store, putMs };
}

interface Round {
  /** The DeleteRange with the commit it forces, ms. */
  readonly apply: number;
  /** Its commit records as bytes, ms. */
  readonly encode: number;
  /** Run 2's 55k puts of new keys (with a commit every 100), ms: what an index beside the tree costs the puts. */
  readonly puts: number;
}

function round(checkout: Checkout, gc: () => void): Round {
  const { store, putMs } = secondRunStore(checkout);
  gc();
  gc();
  let started = performance.now();
  const deleted = store.deleteRange({ key: prefix, rangeEnd }).response.deleted;
  store.backend.commit();
  const apply = performance.now() - started;
  if (deleted !== keyCount) throw new Error(`${checkout.name}: the cleanup deleted ${deleted} of ${keyCount} keys`);
  let bytes = 0;
  started = performance.now();
  for (const write of store.backend.takeWrites()) for (const record of write.records) bytes += checkout.encode(record).length;
  const encode = performance.now() - started;
  if (bytes === 0) throw new Error(`${checkout.name}: the cleanup wrote nothing`);
  return { apply, encode, puts: putMs };
}

const least = (values: readonly number[]) => Math.min(...values);
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function bench(out: (line: string) => void): Promise<void> {
  const rounds = Number(process.env.DETCD_BENCH_CLEANUP_ROUNDS ?? 5);
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`DETCD_BENCH_CLEANUP_ROUNDS must be 1-100, got ${process.env.DETCD_BENCH_CLEANUP_ROUNDS}`);
  const gc = fullGc();
  const checkouts = [await load('here', resolve(import.meta.dirname, '..'))];
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined) checkouts.push(await load('base', resolve(baseline)));
  else out('cleanup: set DETCD_BENCH_BASELINE=<a checkout of main with its own node_modules> to compare');
  for (const checkout of checkouts) round(checkout, gc); // warm up
  const results = new Map(checkouts.map((checkout) => [checkout.name, [] as Round[]]));
  for (let r = 0; r < rounds; r++) {
    // Alternated, and the order swapped every round.
    const order = r % 2 === 0 ? checkouts : [...checkouts].reverse();
    for (const checkout of order) results.get(checkout.name)!.push(round(checkout, gc));
  }
  const figure = (name: string, field: keyof Round) => results.get(name)!.map((result) => result[field]);
  for (const checkout of checkouts) {
    const apply = figure(checkout.name, 'apply');
    const encode = figure(checkout.name, 'encode');
    out(
      `cleanup ${checkout.name.padEnd(4)} DeleteRange of ${keyCount.toLocaleString('en')} keys (${keyCount.toLocaleString('en')} more tombstoned): ` +
        `${least(apply).toFixed(0)} ms least, ${median(apply).toFixed(0)} median (${((median(apply) * 1000) / keyCount).toFixed(2)} us/key); ` +
        `its records' bytes ${least(encode).toFixed(0)} / ${median(encode).toFixed(0)} ms; run 2's puts ${least(figure(checkout.name, 'puts')).toFixed(0)} / ${median(figure(checkout.name, 'puts')).toFixed(0)} ms; ` +
        `rounds ${apply.map((ms) => ms.toFixed(0)).join(', ')}`,
    );
  }
  if (baseline !== undefined) {
    const ratio = (field: keyof Round, pick: (values: readonly number[]) => number) => (pick(figure('here', field)) / pick(figure('base', field))).toFixed(2);
    out(
      `cleanup here / base: DeleteRange ${ratio('apply', least)} least, ${ratio('apply', median)} median; records' bytes ${ratio('encode', least)} least, ${ratio('encode', median)} median; ` +
        `run 2's puts ${ratio('puts', least)} least, ${ratio('puts', median)} median`,
    );
  }
}
