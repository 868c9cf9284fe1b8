/**
 * `npm run bench dbRewrite`: what a member's event loop and garbage collector see while the
 * backend's periodic whole-file rewrite (the whole keyspace, 136 MiB at ~110k revisions under
 * `etcdctl check perf`) is encoded a slice per turn of the loop and written.
 *
 * Beside a live heap like a member's (DETCD_BENCH_REWRITE_HEAP_MB of small objects, default 150),
 * a DETCD_BENCH_REWRITE_MB (default 136) rewrite of 256 KiB slices is written two ways, taking
 * turns, each twice:
 * - baseline `held`: every slice kept until the end, then the frame written whole through
 *   `SegmentedLog.replace` (FileStore before the rewrite was streamed);
 * - `streamed`: FileStore's deferred replace, each turn's slices written as they are made.
 * A 1 ms timer allocates meanwhile (a member serving puts), so the young and old generations fill
 * as a member's do. Per run: external memory at the start (after a full collection and 200 ms, a
 * `held` run's 136 MiB is oddly still counted when the next run starts, and gone by the first
 * sample within it; not understood), the largest seen within the run (a 1 ms timer's samples),
 * scavenges, the full (mark-compact) GCs and their pauses, the
 * longest loop stall (a 1 ms timer's lateness) and the stalls over 50 ms, and the time to durable.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import type { Codec } from '../core/host/codec.ts';
import type { DurableRecord } from '../core/host/node.ts';
import { FileStore } from '../runtime/storage/fileStore.ts';
import { asBuffer, frameHeader } from '../runtime/storage/frame.ts';
import { dbSegments, layoutDirectories } from '../runtime/storage/layout.ts';
import { SegmentedLog } from '../runtime/storage/segmentedLog.ts';
import { defaultSegmentSizes } from '../runtime/storage/segmentPipeline.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const sliceBytes = 256 * 1024;
const rewriteMb = Number(process.env.DETCD_BENCH_REWRITE_MB ?? 136);
const heapMb = Number(process.env.DETCD_BENCH_REWRITE_HEAP_MB ?? 150);
const sliceMs = 1.7;
/** Objects allocated per ms of the run (each ~60 bytes with its key), kept in a ring of `churn`'s size: a scavenge every few hundred ms, as a member's under check perf. */
const churnPerMs = 700;
const churn: unknown[] = new Array(300_000).fill(null);

/** How many slices a rewrite of DETCD_BENCH_REWRITE_MB has. */
export function rewriteSliceCount(): number {
  return Math.ceil((rewriteMb * 2 ** 20) / sliceBytes);
}

/** The rewrite's slices, each a fresh buffer (as the codec makes them) taking `sliceMs` to make: a member encoded 136 MiB in ~187 turns of 5 ms. */
export function* rewriteSlices(): Generator<Uint8Array> {
  const count = rewriteSliceCount();
  for (let i = 0; i < count; i++) {
    const until = performance.now() + sliceMs;
    while (performance.now() < until);
    yield Buffer.alloc(sliceBytes, i & 0xff);
  }
}

interface Figures {
  externalStartMb: number;
  externalMaxMb: number;
  scavenges: number;
  fullGcs: number;
  fullGcMs: number;
  fullGcMaxMs: number;
  stallMaxMs: number;
  stallsOver50: number;
  durableMs: number;
}

function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

/** Runs `rewrite` while watching the loop, the GC and external memory, after a full collection (the last run's buffers gone). */
async function measure(rewrite: () => Promise<void>, gc: () => void): Promise<Figures> {
  gc();
  // The collected ArrayBuffers are freed (and external memory lowered) by a sweeper after the pause.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const figures: Figures = { externalStartMb: process.memoryUsage().external / 2 ** 20, externalMaxMb: 0, scavenges: 0, fullGcs: 0, fullGcMs: 0, fullGcMaxMs: 0, stallMaxMs: 0, stallsOver50: 0, durableMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) figures.scavenges++;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      figures.fullGcs++;
      figures.fullGcMs += entry.duration;
      figures.fullGcMaxMs = Math.max(figures.fullGcMaxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let churned = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    // A member serving puts meanwhile : short-lived objects, some kept a while.
    for (let i = Math.min(churnPerMs * (now - last), churnPerMs * 200); i > 0; i--) churn[churned++ % churn.length] = { key: `c${churned}`, at: churned };
    const late = now - last - 1;
    last = now;
    figures.stallMaxMs = Math.max(figures.stallMaxMs, late);
    if (late > 50) figures.stallsOver50++;
    figures.externalMaxMb = Math.max(figures.externalMaxMb, process.memoryUsage().external / 2 ** 20);
  }, 1);
  const started = performance.now();
  await rewrite();
  figures.durableMs = performance.now() - started;
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return figures;
}

/** The old path: slices encoded a turn at a time but kept, then the frame written whole. */
async function held(dataDir: string): Promise<void> {
  const naming = dbSegments(dataDir);
  mkdirSync(naming.directory, { recursive: true });
  const syncDirectory = async (directory: string) => {
    const handle = await open(directory, 'r');
    await handle.sync();
    await handle.close();
  };
  const log = new SegmentedLog(naming, defaultSegmentSizes, { timedSync: (handle) => handle.datasync(), syncDirectory, log: () => {} });
  log.read();
  const parts: Buffer[] = [];
  let length = 0;
  let checksum = 0;
  let turnStartedMs = performance.now();
  for (const slice of rewriteSlices()) {
    parts.push(asBuffer(slice));
    length += slice.byteLength;
    checksum = crc32(slice, checksum);
    if (performance.now() - turnStartedMs < 5) continue;
    await new Promise((resolve) => setImmediate(resolve));
    turnStartedMs = performance.now();
  }
  await log.replace([frameHeader(length, checksum), ...parts]);
  await log.close();
}

async function streamed(dataDir: string): Promise<void> {
  const codec: Codec<DurableRecord> = {
    encode: () => new Uint8Array(1),
    decode: () => ({}) as DurableRecord,
    encodeInSlices: () => rewriteSlices(),
  };
  let durable!: () => void;
  const done = new Promise<void>((resolve) => (durable = resolve));
  const store = new FileStore({ dataDir, codec, log: () => {}, onFatal: (error) => { throw error; }, onDeferredReplace: () => durable() });
  for (const directory of layoutDirectories(dataDir)) mkdirSync(directory, { recursive: true });
  store.read();
  store.write([{ kind: 'replace', file: 'db', records: [{} as DurableRecord] }]);
  await done;
  await store.close();
}

function line(name: string, figures: Figures, base: Figures | undefined): string {
  const ratio = (value: number, baseValue: number | undefined) => (baseValue === undefined || baseValue === 0 ? '' : ` (${(value / baseValue).toFixed(2)}x)`);
  return (
    `${name.padEnd(9)} external ${figures.externalStartMb.toFixed(0)} MB at start, max ${figures.externalMaxMb.toFixed(0)} MB${ratio(figures.externalMaxMb, base?.externalMaxMb)}; ` +
    `scavenges ${figures.scavenges}, full GCs ${figures.fullGcs}, ${figures.fullGcMs.toFixed(0)} ms, longest ${figures.fullGcMaxMs.toFixed(0)} ms; ` +
    `loop stall longest ${figures.stallMaxMs.toFixed(0)} ms${ratio(figures.stallMaxMs, base?.stallMaxMs)}, ${figures.stallsOver50} over 50 ms; durable in ${figures.durableMs.toFixed(0)} ms${ratio(figures.durableMs, base?.durableMs)}`
  );
}

export async function bench(out: (line: string) => void): Promise<void> {
  // A member's live heap: the keyspace's small objects, kept through the runs.
  const live: { key: string; revision: number; next: unknown }[] = [];
  for (let i = 0; i < (heapMb * 2 ** 20) / 100; i++) live.push({ key: `k${i}`, revision: i, next: null });
  const gc = fullGc();
  out(`a ${rewriteMb} MiB rewrite in ${sliceBytes / 1024} KiB slices beside ${live.length} live objects (~${heapMb} MB)`);
  for (let round = 0; round < 2; round++) {
    let base: Figures | undefined;
    for (const [name, run] of [['held', held], ['streamed', streamed]] as const) {
      const dataDir = scratchFolder('detcd-rewrite-');
      try {
        const figures = await measure(() => run(dataDir), gc);
        out(line(name, figures, base));
        base ??= figures;
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  if (live.length === 0) out('');
}
