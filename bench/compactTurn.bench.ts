/**
 * `npm run bench compactTurn`: the longest turn of a member's loop that a compaction takes, in
 * core/mvcc alone (session 19, task simslice). A store of DETCD_BENCH_COMPACT_KEYS keys (default
 * 300,000; check perf's 276-byte keys, 16-byte values), each put twice, is compacted at the
 * revision between the two puts. (Each key's first revision is the one in effect there, so it is
 * kept: the removal batches only scan. The turns are the index slices'; session 20 found the
 * longest was the keep set's growth, core/mvcc/revision.ts. Compacted at the current revision,
 * removals commit 10 batches a turn and young-generation GCs set the longest turns, in one run
 * at load ~14.)
 * The compaction runs:
 * - live: the Compact's apply (`store.compact`), then the turns of `stepCompaction` as the member
 *   runs them on ticks (up to 10 batches a tick, or one index slice: core/server's
 *   `stepCompaction`);
 * - install: a snapshot taken right after the Compact (the scheduled mark, nothing removed),
 *   installed as a follower's host does it: its key index prepared beforehand
 *   (`PreparedIndex.inSteps`, in turns, not timed here), then `KvStore.open` adopting it, which
 *   resumes the compaction, then the resumed compaction's turns.
 * For each: the Compact (or open) in ms, the longest later turn, and how many turns.
 *
 * The baseline measured in the same run is another checkout's core/mvcc (DETCD_BENCH_BASELINE=<dir>,
 * e.g. /work/wt-base), alternated round by round; DETCD_BENCH_COMPACT_ROUNDS (default 3).
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fullGc, keyOf } from './cleanup.bench.ts';

interface Store {
  put(request: { key: string; value: string }): unknown;
  compact(request: { revision: number }): unknown;
  stepCompaction(): boolean;
  readonly compacting: boolean;
  /** Absent before the index compaction was sliced. */
  readonly compactingIndex?: boolean;
  readonly revision: number;
  readonly backend: { commit(): boolean; takeWrites(): unknown; snapshot(): { keys: unknown } };
}

interface Checkout {
  readonly name: string;
  readonly create: () => Store;
  /** A follower's install of `image`: the index prepared first (untimed), then `open` (timed by the caller). */
  readonly prepareInstall: (image: { keys: unknown }) => () => Store;
}

async function load(name: string, root: string): Promise<Checkout> {
  type Steps = Generator<void, unknown, void>;
  const mvcc = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'index.ts')).href)) as {
    Backend: { create(): unknown; fromSnapshot(image: unknown): unknown };
    KvStore: { open(backend: unknown, options?: unknown, restored?: unknown): Store };
    PreparedIndex: { inSteps(keys: unknown): Steps };
  };
  const store = (await import(pathToFileURL(join(root, 'core', 'mvcc', 'kvStore.ts')).href)) as { defaultKvStoreOptions: unknown };
  return {
    name,
    create: () => mvcc.KvStore.open(mvcc.Backend.create()),
    prepareInstall: (image) => {
      const steps = mvcc.PreparedIndex.inSteps(image.keys);
      let step = steps.next();
      while (step.done !== true) step = steps.next();
      const prepared = step.value as { take(keys: unknown): unknown };
      return () => mvcc.KvStore.open(mvcc.Backend.fromSnapshot(image), store.defaultKvStoreOptions, prepared.take(image.keys));
    },
  };
}

/** Batches a member runs per tick (core/server's default compactionBatchesPerTick). */
const batchesPerTick = 10;

/** The turns of a compaction's steps as the member runs them: the longest (ms) and how many. */
function turns(store: Store): { longest: number; count: number } {
  let longest = 0;
  let count = 0;
  while (store.compacting) {
    const started = performance.now();
    for (let i = 0; i < batchesPerTick && store.compacting; i++) {
      const indexSlice = store.compactingIndex === true;
      store.stepCompaction();
      if (indexSlice) break;
    }
    longest = Math.max(longest, performance.now() - started);
    count++;
  }
  return { longest, count };
}

interface Round {
  readonly compact: number;
  readonly compactTurns: { longest: number; count: number };
  readonly open: number;
  readonly openTurns: { longest: number; count: number };
}

function round(checkout: Checkout, keyCount: number, gc: () => void): Round {
  const value = 'v'.repeat(16);
  let store = checkout.create();
  for (let pass = 0; pass < 2; pass++) {
    // The same keys twice: the compaction (between the two) keeps every key's first revision.
    for (let i = 0; i < keyCount; i++) {
      store.put({ key: keyOf(1, i), value });
      if (i % 1000 === 999) store.backend.commit();
    }
    store.backend.commit();
    store.backend.takeWrites();
  }
  const revision = keyCount + 1;
  gc();
  let started = performance.now();
  store.compact({ revision });
  const compact = performance.now() - started;
  const image = store.backend.snapshot();
  const compactTurns = turns(store);
  store.backend.takeWrites();
  store = undefined as unknown as Store;
  const install = checkout.prepareInstall(image);
  gc();
  started = performance.now();
  const installed = install();
  const open = performance.now() - started;
  const openTurns = turns(installed);
  if (installed.revision !== 2 * keyCount + 1) throw new Error(`${checkout.name}: installed at revision ${installed.revision}`);
  return { compact, compactTurns, open, openTurns };
}

const least = (values: readonly number[]) => Math.min(...values);
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function bench(out: (line: string) => void): Promise<void> {
  const keyCount = Number(process.env.DETCD_BENCH_COMPACT_KEYS ?? 300_000);
  const rounds = Number(process.env.DETCD_BENCH_COMPACT_ROUNDS ?? 3);
  if (!Number.isSafeInteger(keyCount) || keyCount < 1 || !Number.isSafeInteger(rounds) || rounds < 1 || rounds > 50) {
    throw new Error('DETCD_BENCH_COMPACT_KEYS must be a positive integer and DETCD_BENCH_COMPACT_ROUNDS 1-50');
  }
  const gc = fullGc();
  const checkouts = [await load('here', resolve(import.meta.dirname, '..'))];
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined) checkouts.push(await load('base', resolve(baseline)));
  else out('compactTurn: set DETCD_BENCH_BASELINE=<a checkout of main with its own node_modules> to compare');
  const results = new Map(checkouts.map((checkout) => [checkout.name, [] as Round[]]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? checkouts : [...checkouts].reverse();
    for (const checkout of order) results.get(checkout.name)!.push(round(checkout, keyCount, gc));
  }
  const ms = (values: readonly number[]) => `${least(values).toFixed(0)} / ${median(values).toFixed(0)} ms`;
  for (const checkout of checkouts) {
    const all = results.get(checkout.name)!;
    out(
      `compactTurn ${checkout.name.padEnd(4)} ${keyCount.toLocaleString('en')} keys x 2 revisions, least / median of ${rounds}: ` +
        `live Compact ${ms(all.map((r) => r.compact))}, then longest turn ${ms(all.map((r) => r.compactTurns.longest))} (${all[0]!.compactTurns.count} turns); ` +
        `install's open ${ms(all.map((r) => r.open))}, then longest turn ${ms(all.map((r) => r.openTurns.longest))} (${all[0]!.openTurns.count} turns)`,
    );
  }
}
