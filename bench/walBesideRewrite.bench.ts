/**
 * `npm run bench walBesideRewrite`: how long a member's WAL appends and syncs wait while the
 * backend's periodic whole-file rewrite (136 MiB at ~110k revisions under `etcdctl check perf`,
 * its second run) is encoded, synced and renamed in, with a local snapshot taken in the middle of
 * it (every member snapshots at the same index; in the lead's failed run 2 one fell inside the
 * rewrite and every member's puts took 0.8-0.9 s).
 *
 * A FileStore gets the rewrite (DETCD_BENCH_REWRITE_MB, 256 KiB slices of ~1.7 ms, as `bench
 * dbRewrite`), and meanwhile what a member under check perf writes: every 2 ms a WAL append and a
 * sync, every 100 ms a backend commit, and once DETCD_BENCH_SNAPSHOT_AT of the rewrite's slices
 * are made (default half), a local snapshot's writes (the WAL rewrite and the db commit at its
 * index, through the member's `arrange`). Per run: the syncs' wait from write to done (median,
 * 99th percentile, longest, how many over 100 ms) from the rewrite's start until it is durable,
 * and the loop's longest gap (a wait that long may be the loop's or the CPU's, not the store's).
 *
 * DETCD_BENCH_BASELINE=<a checkout of main with its own node_modules>: its FileStore and arrange
 * are measured too, taking turns with this checkout's (two rounds each).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Codec } from '../core/host/codec.ts';
import type { DurableRecord, DurableWrite } from '../core/host/node.ts';
import { Backend } from '../core/mvcc/index.ts';
import { emptyConfState } from '../core/raft/index.ts';
import type * as FileStoreModule from '../runtime/storage/fileStore.ts';
import type * as ArrangeModule from '../runtime/storage/walSnapshotWrites.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { rewriteSlices, rewriteSliceCount } from './dbRewrite.bench.ts';

const snapshotAt = Number(process.env.DETCD_BENCH_SNAPSHOT_AT ?? 0.5);
const rewriteMarker = { rewrite: true } as unknown as DurableRecord;

interface Variant {
  readonly name: string;
  readonly FileStore: typeof FileStoreModule.FileStore;
  /** A member's arrange, new per run (it remembers whether the last snapshot postponed its compaction). */
  readonly arrange: () => NonNullable<FileStoreModule.FileStoreOptions['arrange']>;
}

async function variantFrom(name: string, checkout: string): Promise<Variant> {
  const store = (await import(pathToFileURL(join(checkout, 'runtime', 'storage', 'fileStore.ts')).href)) as typeof FileStoreModule;
  const snapshots = (await import(pathToFileURL(join(checkout, 'runtime', 'storage', 'walSnapshotWrites.ts')).href)) as typeof ArrangeModule;
  // As runtime/server.ts arranges them (a checkout without postponeWalCompaction: always barriers).
  const postpone = (snapshots as Partial<typeof ArrangeModule>).postponeWalCompaction;
  const arrange = (): NonNullable<FileStoreModule.FileStoreOptions['arrange']> => {
    let postponedLast = false;
    return (writes, state) => {
      if (snapshots.walSnapshotIndex(writes) === null || postpone === undefined || state === undefined) return snapshots.arrangeWalSnapshotWrites(writes);
      postponedLast = postpone(state.rewriting, postponedLast);
      return snapshots.arrangeWalSnapshotWrites(writes, { postponeCompaction: postponedLast });
    };
  };
  return { name, FileStore: store.FileStore, arrange };
}

/** A local snapshot's writes at `index`, as the etcd member makes them: WAL rewrite, then the db commit at that index. */
function snapshotWrites(index: number): DurableWrite[] {
  const { backend } = Backend.open([]);
  backend.setConsistentIndex(index, 2);
  const image = backend.snapshot();
  const snapshot = { metadata: { index, term: 2, confState: { ...emptyConfState, voters: [1, 2, 3] } }, data: image };
  return [
    { kind: 'replace', file: 'wal', records: [{ type: 'snapshot', snapshot }, { type: 'hardState', hardState: { term: 2, vote: 1, commit: index } }] as unknown as DurableRecord[] },
    { kind: 'append', file: 'db', records: [image] },
  ];
}

interface Figures {
  syncs: number;
  p50: number;
  p99: number;
  max: number;
  over100: number;
  /** The longest gap between the 2 ms timer's turns: a wait no longer than it is the loop's (or the CPU's), not the store's. */
  loopGapMs: number;
  durableMs: number;
}

async function run(variant: Variant): Promise<Figures> {
  const dataDir = scratchFolder('detcd-walrewrite-');
  let made = 0;
  const snapshotSlice = Math.floor(rewriteSliceCount() * snapshotAt);
  let snapshotDue = false;
  const codec: Codec<DurableRecord> = {
    // Small records: ~1.4 kB, a check perf entry; a WAL rewrite or db commit alike (their size is not the point here).
    encode: () => new Uint8Array(1400),
    decode: () => ({}) as DurableRecord,
    encodeInSlices: (record) =>
      record !== rewriteMarker
        ? null
        : (function* () {
            for (const slice of rewriteSlices()) {
              if (++made === snapshotSlice) snapshotDue = true;
              yield slice;
            }
          })(),
  };
  let durable!: () => void;
  const done = new Promise<void>((resolve) => (durable = resolve));
  const store = new variant.FileStore({ dataDir, codec, log: () => {}, onFatal: (error) => { throw error; }, onDeferredReplace: () => durable(), arrange: variant.arrange() });
  store.read();
  const waits: number[] = [];
  let index = 1;
  let lastCommit = performance.now();
  const started = performance.now();
  let lastTurn = started;
  let loopGapMs = 0;
  store.write([{ kind: 'replace', file: 'db', records: [rewriteMarker] }]);
  const timer = setInterval(() => {
    loopGapMs = Math.max(loopGapMs, performance.now() - lastTurn);
    lastTurn = performance.now();
    const writes: DurableWrite[] = [{ kind: 'append', file: 'wal', records: [{ entry: index++ } as unknown as DurableRecord] }];
    if (performance.now() - lastCommit >= 100) {
      lastCommit = performance.now();
      writes.push({ kind: 'append', file: 'db', records: [{ commit: index } as unknown as DurableRecord] });
    }
    if (snapshotDue) {
      snapshotDue = false;
      writes.push(...snapshotWrites(index));
    }
    const at = performance.now();
    store.write(writes);
    store.sync(() => waits.push(performance.now() - at));
  }, 2);
  await done;
  const durableMs = performance.now() - started;
  clearInterval(timer);
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  const sorted = [...waits].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { syncs: waits.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, over100: waits.filter((ms) => ms > 100).length, loopGapMs, durableMs };
}

export async function bench(out: (line: string) => void): Promise<void> {
  const variants = [await variantFrom('here', join(import.meta.dirname, '..'))];
  if (process.env.DETCD_BENCH_BASELINE) variants.push(await variantFrom('base', process.env.DETCD_BENCH_BASELINE));
  out(`WAL append + sync every 2 ms beside a ${rewriteSliceCount() / 4} MiB db rewrite, a local snapshot at ${snapshotAt * 100}% of its slices`);
  for (let round = 0; round < 2; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const f = await run(variant);
      out(`${variant.name.padEnd(5)} ${f.syncs} syncs: wait p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, longest ${f.max.toFixed(0)} ms, ${f.over100} over 100 ms; longest loop gap ${f.loopGapMs.toFixed(0)} ms; rewrite durable in ${f.durableMs.toFixed(0)} ms`);
    }
  }
}
