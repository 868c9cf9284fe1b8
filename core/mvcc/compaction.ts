import { ErrCompacted, ErrFutureRev, type EtcdError } from '../api/errors.ts';
import type { MvccState } from './mvccState.ts';
import type { RevisionSet } from './revision.ts';

/** The physical part of one compaction: removing from the key bucket what the index no longer needs. */
interface CompactionJob {
  readonly revision: number;
  /** The revisions at or below `revision` to keep (the index's compaction said so). */
  readonly keep: RevisionSet;
  /** Where the next batch starts. */
  main: number;
  sub: number;
}

/**
 * Compaction as etcd does it (mvcc/kvstore.go updateCompactRev + kvstore_compaction.go):
 * 1. refuse a revision at or below the last compaction (ErrCompacted) or above the current one
 *    (ErrFutureRev); from here reads below `revision` fail;
 * 2. write the scheduled mark and force a commit, so a crash from here on resumes it;
 * 3. compact the in-memory index, which says what the key bucket must keep;
 * 4. remove the rest from the key bucket in batches of `batchLimit` examined revisions, each
 *    batch committed on its own (`step`, driven by the server as etcd's background job runs
 *    every 10 ms); the last batch writes the finished mark, which rides the next periodic commit.
 * Jobs run one after the other, as etcd's FIFO scheduler runs them.
 */
export class Compactor {
  private readonly state: MvccState;
  private readonly batchLimit: number;
  private readonly jobs: CompactionJob[] = [];
  /** After the last job: the survivors of sparse value slabs being copied out (valueSlabs.ts), from `main` on. */
  private relocation: { readonly slabs: ReadonlySet<Uint8Array>; main: number } | null = null;

  constructor(state: MvccState, batchLimit: number) {
    this.state = state;
    this.batchLimit = batchLimit;
  }

  /** Steps 1–3; the physical removal waits for `step`. */
  compact(revision: number): EtcdError | null {
    const { state } = this;
    if (revision <= state.compactMainRevision) return ErrCompacted;
    if (revision > state.currentRevision) return ErrFutureRev;
    this.schedule(revision);
    return null;
  }

  /** Resumes a compaction a crash interrupted (etcd's compactLockfree from restore). */
  resume(revision: number): void {
    this.schedule(revision);
  }

  private schedule(revision: number): void {
    const { state } = this;
    state.compactMainRevision = revision;
    state.backend.setScheduledCompactRevision(revision);
    state.backend.commit();
    const keep = state.index.compact(revision);
    this.jobs.push({ revision, keep, main: 0, sub: 0 });
  }

  /** Whether removals (or the relocation of values after them) are still to be done. */
  get pending(): boolean {
    return this.jobs.length > 0 || this.relocation !== null;
  }

  /** The revision whose removal is under way, or null. */
  get running(): number | null {
    return this.jobs[0]?.revision ?? null;
  }

  /**
   * Runs one batch of the oldest job: examines up to `batchLimit` revisions at or below its
   * revision, removes those not kept, and commits — or, when fewer remain, writes the finished
   * mark. Returns whether work remains.
   */
  step(): boolean {
    const job = this.jobs[0];
    if (job === undefined) return this.relocation !== null && this.relocateStep();
    const { backend } = this.state;
    const removals: number[] = [];
    let lastMain = job.main;
    let lastSub = job.sub;
    let counted = 0;
    const examined = backend.scan(job.main, job.sub, job.revision, (main, sub) => {
      if (!job.keep.has(main, sub)) removals.push(main, sub);
      lastMain = main;
      lastSub = sub;
      return ++counted < this.batchLimit;
    });
    for (let i = 0; i < removals.length; i += 2) backend.remove(removals[i]!, removals[i + 1]!);
    if (examined < this.batchLimit) {
      backend.setFinishedCompactRevision(job.revision);
      this.jobs.shift();
      if (this.jobs.length === 0) {
        const slabs = backend.sparseSlabs();
        if (slabs.size > 0) this.relocation = { slabs, main: 0 };
      }
      return this.pending;
    }
    job.main = lastMain;
    job.sub = lastSub + 1;
    backend.commit();
    return true;
  }

  /** One batch of the relocation: `batchLimit` changes examined. */
  private relocateStep(): boolean {
    const relocation = this.relocation!;
    relocation.main = this.state.backend.relocateValues(relocation.slabs, relocation.main, this.batchLimit);
    if (relocation.main < 0) this.relocation = null;
    return this.pending;
  }

  /** Runs every batch of every job (tests, and a server that wants it done now). */
  finish(): void {
    while (this.step());
  }
}
