import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** A segment file written full of zeros and synced, waiting under a temporary name to be taken. */
export interface PreparedSegment {
  readonly handle: FileHandle;
  readonly path: string;
  /** Its size in bytes: what can be written into it without growing it. */
  readonly capacity: number;
}

export interface SegmentSizes {
  /** The first segment's size, bytes. Each next one is twice the last, up to `maxBytes`. */
  readonly firstBytes: number;
  /** etcd's `wal.SegmentSizeBytes`: 64 MiB. */
  readonly maxBytes: number;
}

/** etcd 3.4 cuts its WAL at 64 MiB (wal.SegmentSizeBytes). detcd starts at 4 MiB and doubles at each cut (see SegmentPipeline). */
export const defaultSegmentSizes: SegmentSizes = { firstBytes: 4 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 };

const zeros = Buffer.alloc(1024 * 1024);
/** Zeros are synced this often while a segment is prepared, so no single flush is larger (it shares the disk with the WAL's own fsyncs). */
const syncEveryBytes = 8 * 1024 * 1024;

/**
 * Prepares the next log segment ahead of time, off the write path: etcd's `filePipeline`
 * (server/wal/file_pipeline.go), which allocates `<n%2>.tmp` in the background so that `cut()`
 * only renames it.
 *
 * Why: an fdatasync after an append that grew the file must also commit the new size and the
 * new blocks (on ext4 a journal commit: a second write and flush); into a segment whose blocks
 * are already allocated and written, the same fdatasync flushes the data only.
 * `npm run bench fsync` measures both in one run. etcd preallocates with fallocate(2), which
 * Node does not offer; fallocate also leaves "unwritten" extents whose conversion on first write
 * is itself metadata. Writing zeros and syncing them allocates for real.
 *
 * Sizes double from `firstBytes` to `maxBytes` at each cut: a member that writes little (every
 * test cluster) writes a few MiB of zeros, not 128, while a busy one soon cuts at etcd's 64 MiB.
 */
export class SegmentPipeline {
  private readonly directory: string;
  private readonly prefix: string;
  private readonly sizes: SegmentSizes;
  private nextBytes: number;
  private count = 0;
  private pending: Promise<PreparedSegment> | null = null;
  /** A segment's zeros are being written and synced now (`busy`). */
  private preparing = false;
  /** Set by close: a preparation under way stops at its next chunk (a graceful stop need not wait for 64 MiB of zeros). */
  private closing = false;

  constructor(directory: string, prefix: string, sizes: SegmentSizes) {
    if (!(sizes.firstBytes > 0 && sizes.maxBytes >= sizes.firstBytes)) throw new RangeError(`segment sizes must be 0 < first <= max (${sizes.firstBytes}, ${sizes.maxBytes})`);
    this.directory = directory;
    this.prefix = prefix;
    this.sizes = sizes;
    this.nextBytes = sizes.firstBytes;
  }

  /** Starts preparing the next segment if none is under way or waiting. */
  start(): void {
    if (this.pending !== null) return;
    // A name of its own: a segment taken may stay unrenamed for seconds (a backend rewrite streamed
    // into it, FileStore.deferReplace) while later ones are taken and prepared. Leftovers of
    // earlier processes are removed at start (FileStore's constructor).
    const path = join(this.directory, `${this.prefix}.${this.count++}.tmp`);
    this.preparing = true;
    this.pending = prepare(path, this.nextBytes, () => this.closing).finally(() => (this.preparing = false));
    // A failure is reported to whoever takes it; until then it must not count as unhandled.
    this.pending.catch(() => {});
  }

  /** Whether a segment's zeros are being written and synced now: their flushes (up to 8 MiB each) share the disk with the log's own writes. */
  get busy(): boolean {
    return this.preparing;
  }

  /**
   * The prepared segment (waiting for it if it is not ready yet); the next one is started at once,
   * twice as large if `grown` (the log outgrew a segment), else as large: a compaction's rewrite
   * says nothing about the write rate, and a small `--snapshot-count` must not make every
   * snapshot write 64 MiB of zeros.
   */
  async take(grown: boolean): Promise<PreparedSegment> {
    this.start();
    const pending = this.pending!;
    this.pending = null;
    const prepared = await pending;
    if (grown) this.nextBytes = Math.min(this.sizes.maxBytes, this.nextBytes * 2);
    this.start();
    return prepared;
  }

  /** Waits for a preparation under way and removes what it made. */
  async close(): Promise<void> {
    this.closing = true;
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return;
    const prepared = await pending.catch(() => null);
    if (prepared === null) return;
    await prepared.handle.close();
    await unlink(prepared.path).catch(() => {});
  }
}

async function prepare(path: string, capacity: number, closing: () => boolean): Promise<PreparedSegment> {
  const handle = await open(path, 'w+', 0o600);
  try {
    let unsynced = 0;
    for (let at = 0; at < capacity && !closing(); ) {
      const { bytesWritten } = await handle.write(zeros, 0, Math.min(zeros.byteLength, capacity - at), at);
      at += bytesWritten;
      unsynced += bytesWritten;
      if (unsynced >= syncEveryBytes || at === capacity) {
        await handle.datasync();
        unsynced = 0;
      }
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  return { handle, path, capacity };
}
