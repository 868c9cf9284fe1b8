import type { Bytes } from '../api/bytes.ts';
import { ErrCompacted, ErrFutureRev, type EtcdError } from '../api/errors.ts';
import type { MvccState } from './mvccState.ts';
import { RevisionSet } from './revision.ts';

/** The physical part of one compaction: removing from the key bucket what the index no longer needs. */
interface CompactionJob {
  readonly revision: number;
  /** The revisions at or below `revision` to keep (the index's compaction says so: whole once `indexFrom` is null). */
  readonly keep: RevisionSet;
  /** The first key the index's compaction has yet to reach, or null once it reached them all. */
  indexFrom: Bytes | null;
  /** Where the next batch starts. */
  main: number;
  sub: number;
}

/**
 * Compaction as etcd does it (mvcc/kvstore.go updateCompactRev + kvstore_compaction.go):
 * 1. refuse a revision at or below the last compaction (ErrCompacted) or above the current one
 *    (ErrFutureRev); from here reads below `revision` fail;
 * 2. write the scheduled mark and force a commit, so a crash from here on resumes it;
 * 3. compact the in-memory index, which says what the key bucket must keep: `indexSliceKeys`
 *    keys at once, the rest a slice per `step` (etcd compacts its index under a lock in one go; a
 *    member here is one loop, and 300k keys took ~0.6 s of it: issue 10). Reads between slices
 *    are answered as before (see TreeIndex.compactKeys); nothing is removed before the keep set
 *    is whole;
 * 4. remove the rest from the key bucket in batches of `batchLimit` examined revisions, each
 *    batch committed on its own (`step`, driven by the server as etcd's background job runs
 *    every 10 ms); the last batch writes the finished mark, which rides the next periodic commit.
 * Jobs run one after the other, as etcd's FIFO scheduler runs them; the index's slices of every
 * job come before any removal (a job's index slices start once the jobs before it have theirs done).
 */
export class Compactor {
  private readonly state: MvccState;
  private readonly batchLimit: number;
  private readonly indexSliceKeys: number;
  private readonly jobs: CompactionJob[] = [];
  /** After the last job: the survivors of sparse value slabs being copied out (valueSlabs.ts), from `main` on. */
  private relocation: { readonly slabs: ReadonlySet<Uint8Array>; main: number } | null = null;

  constructor(state: MvccState, batchLimit: number, indexSliceKeys: number) {
    this.state = state;
    this.batchLimit = batchLimit;
    this.indexSliceKeys = indexSliceKeys;
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
    const job: CompactionJob = { revision, keep: new RevisionSet(), indexFrom: '', main: 0, sub: 0 };
    const first = this.indexing === null;
    this.jobs.push(job);
    // A store of up to `indexSliceKeys` keys has its index compacted here, as before slicing.
    if (first) this.compactIndex(job);
  }

  /** The job whose index slices are under way (or next), or null when every job's keep set is whole. */
  private get indexing(): CompactionJob | null {
    for (const job of this.jobs) if (job.indexFrom !== null) return job;
    return null;
  }

  /** Whether an index compaction is under way: `step` would do one of its slices. */
  get compactingIndex(): boolean {
    return this.indexing !== null;
  }

  private compactIndex(job: CompactionJob): void {
    job.indexFrom = this.state.index.compactKeys(job.revision, job.indexFrom!, this.indexSliceKeys, job.keep);
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
   * Runs one slice of an index compaction under way, or else one batch of the oldest job:
   * examines up to `batchLimit` revisions at or below its revision, removes those not kept, and
   * commits — or, when fewer remain, writes the finished mark. Returns whether work remains.
   */
  step(): boolean {
    const indexing = this.indexing;
    if (indexing !== null) {
      this.compactIndex(indexing);
      return true;
    }
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
