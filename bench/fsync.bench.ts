/**
 * `npm run bench fsync`: why the WAL is preallocated (runtime/storage/segmentPipeline.ts).
 *
 * The same append (1 KiB, about a check-perf entry) + fdatasync, made through Node's FileHandle
 * as FileStore makes it, on two files in the same directory:
 *
 * - growing: each write extends the file, so the fdatasync must also commit the new size and
 *   blocks (on ext4 a journal commit) — detcd's WAL before segments;
 * - preallocated: the file was written full of zeros and synced first, so each write overwrites
 *   allocated blocks and the fdatasync flushes data only — etcd's WAL (fallocate'd segments) and
 *   detcd's now.
 *
 * Blocks of appends alternate between the two (growing first in odd rounds, preallocated first in
 * even ones), so the machine's load drifts over both alike; the figure that counts is the ratio.
 */
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const recordBytes = 1024;
const appendsPerBlock = 300;
const rounds = 6;

type Kind = 'growing' | 'preallocated';

async function block(dir: string, kind: Kind, times: number[]): Promise<void> {
  const path = join(dir, kind);
  const handle = await open(path, 'w+');
  try {
    if (kind === 'preallocated') {
      await handle.write(Buffer.alloc(recordBytes * appendsPerBlock), 0, recordBytes * appendsPerBlock, 0);
      await handle.sync();
    }
    const record = Buffer.alloc(recordBytes, 'x');
    for (let i = 0; i < appendsPerBlock; i++) {
      await handle.write(record, 0, recordBytes, i * recordBytes);
      const started = process.hrtime.bigint();
      await handle.datasync();
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    await handle.close();
    rmSync(path, { force: true });
  }
}

function summary(times: number[]): { mean: number; p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
  return { mean: sorted.reduce((sum, time) => sum + time, 0) / sorted.length, p50: at(50), p99: at(99) };
}

export async function bench(out: (line: string) => void): Promise<void> {
  // Where `npm run bench runtime` puts its members' data dirs.
  const dir = scratchFolder('detcd-fsync-');
  const times: Record<Kind, number[]> = { growing: [], preallocated: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const order: Kind[] = round % 2 === 0 ? ['growing', 'preallocated'] : ['preallocated', 'growing'];
      for (const kind of order) await block(dir, kind, times[kind]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const growing = summary(times.growing);
  const preallocated = summary(times.preallocated);
  out(`${rounds} alternated blocks of ${appendsPerBlock} × (${recordBytes}-byte write + fdatasync) each, in ${dir.replace(/-[^-]*$/, '-…')}`);
  for (const [name, figures] of [['growing file     ', growing], ['preallocated file', preallocated]] as const) {
    out(`${name}  fdatasync mean ${figures.mean.toFixed(3)} ms  p50 ${figures.p50.toFixed(3)} ms  p99 ${figures.p99.toFixed(3)} ms`);
  }
  out(`preallocated / growing: mean ${(preallocated.mean / growing.mean).toFixed(2)}×  p50 ${(preallocated.p50 / growing.p50).toFixed(2)}×  p99 ${(preallocated.p99 / growing.p99).toFixed(2)}×  (below 1: preallocating pays)`);
}
