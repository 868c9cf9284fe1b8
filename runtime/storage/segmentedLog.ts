import { close as closeFd, constants, fdatasync, open as openFd, readdirSync, readFileSync, unlinkSync, writev, writevSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../../core/base/assert.ts';
import { scanFrames, type DamagedTail } from './frame.ts';
import type { SegmentNaming } from './layout.ts';
import { SegmentPipeline, type PreparedSegment, type SegmentSizes } from './segmentPipeline.ts';

/** The segment written now: appends go at `offset`, which stays within `capacity` unless one batch is larger than a whole segment. */
interface CurrentSegment {
  readonly sequence: number;
  readonly base: number;
  readonly path: string;
  /** Opened when first written after a start. */
  handle: FileHandle | null;
  /** The same file opened O_DSYNC for durable appends (`append(parts, true)`), opened at the first. */
  dsync: number | null;
  offset: number;
  capacity: number;
  /**
   * Appends written since the segment was last made durable, kept (uncopied) so that a durable
   * append can write them again in front of its own: an O_DSYNC write flushes only its own range
   * (ext4: `generic_write_sync`), so it covers them only if it spans them. Null when they outgrew
   * `unsyncedBytesKept`: then a durable append is a plain one and the next sync covers it.
   */
  unsynced: { from: number; parts: Buffer[]; bytes: number } | null;
}

/** The most bytes of plain appends kept to be rewritten by a durable append (a follower's commit-index records between two synced Readys are a few hundred bytes). */
const unsyncedBytesKept = 256 * 1024;

export interface SegmentedRead {
  readonly payloads: Uint8Array[];
  /** Which segment each payload came from: the segment's file name and its first payload's index. */
  readonly sources: readonly { readonly segment: string; readonly firstPayload: number }[];
  /** The first torn or corrupt frame, in the segment named; nothing after it (in any segment) is used. */
  readonly damage: { readonly segment: string; readonly tail: DamagedTail; readonly segmentsUnused: number } | null;
}

export interface SegmentedLogIo {
  /** An fdatasync timed for the metrics (`FileStore.timedSync`). */
  readonly timedSync: (handle: FileHandle) => Promise<void>;
  /** A durable append's write (write and flush in one call) took this long: reported as an fsync's duration. */
  readonly durableWrite?: (seconds: number) => void;
  readonly syncDirectory: (directory: string) => Promise<void>;
  readonly log: (line: string) => void;
}

/**
 * One logical append-only file (the WAL) kept as preallocated segments, as etcd's WAL is
 * (server/wal/wal.go): appends overwrite a segment's zeros, so an fdatasync flushes data only;
 * when a batch does not fit, `cut` seals the segment (truncated after its last frame and synced,
 * etcd's `cut()`) and renames the next, already prepared one into the log. `replace` (the node's
 * compaction, a WAL rewrite) writes a new segment that is its own base, and removes the older
 * ones once the rename is durable: etcd's `ReleaseLockTo` and purge.
 *
 * On disk the log is the newest segment's base and every segment from it up to the newest, in
 * sequence; each is read up to its zero tail (or its end). A crash in a rename or a removal
 * leaves either the old log or the new one, and older segments are removed at the next start.
 */
export class SegmentedLog {
  private readonly naming: SegmentNaming;
  private readonly pipeline: SegmentPipeline;
  private readonly io: SegmentedLogIo;
  /** Segment paths of the log by sequence, the current one last, with their sizes (a sealed one's as truncated). */
  private segments: { readonly sequence: number; readonly path: string; bytes: number }[] = [];
  private current: CurrentSegment | null = null;
  private lastSequence = -1;
  /** Segments set aside (`setAside`), by path, until adopted: still open, holding `bytes` of frames. */
  private readonly asides = new Map<string, PreparedSegment & { readonly bytes: number }>();

  constructor(naming: SegmentNaming, sizes: SegmentSizes, io: SegmentedLogIo) {
    this.naming = naming;
    this.pipeline = new SegmentPipeline(naming.directory, naming.preparedPrefix, sizes);
    this.io = io;
  }

  /** The handle the next fsync round must sync, if any segment was written. */
  get handle(): FileHandle | null {
    return this.current?.handle ?? null;
  }

  /** Whether the next segment's zeros are being written and synced now (their flushes, up to 8 MiB each, share the disk). */
  get preparing(): boolean {
    return this.pipeline.busy;
  }

  get directory(): string {
    return this.naming.directory;
  }

  /** The bytes the live segments take (the current one's whole capacity). */
  get bytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.bytes;
    return total;
  }

  /** Whether any segment exists (the logical file exists). */
  get exists(): boolean {
    return this.segments.length > 0;
  }

  /** Reads the log at start (synchronously, as FileStore.read) and starts preparing the next segment. */
  read(): SegmentedRead {
    const found = readdirSync(this.naming.directory)
      .flatMap((entry) => {
        const parsed = this.naming.parse(entry);
        return parsed === null ? [] : [{ ...parsed, path: join(this.naming.directory, entry), entry }];
      })
      .sort((a, b) => a.sequence - b.sequence);
    this.pipeline.start();
    const newest = found.at(-1);
    if (newest === undefined) return { payloads: [], sources: [], damage: null };
    this.lastSequence = newest.sequence;
    for (const stale of found.filter((segment) => segment.sequence < newest.base)) {
      // A compaction's new segment was renamed in and the process died before removing these.
      this.io.log(`${stale.entry}: a segment from before the last compaction; removed`);
      unlinkSync(stale.path);
    }
    const live = found.filter((segment) => segment.sequence >= newest.base);
    live.forEach((segment, index) => {
      if (segment.sequence !== newest.base + index || segment.base !== newest.base) {
        throw new Error(`${this.naming.directory}: segment ${this.naming.name(newest.base + index, newest.base)} is missing or misnamed (found ${segment.entry}); the log cannot be read in order`);
      }
    });
    this.segments = live.map(({ sequence, path }) => ({ sequence, path, bytes: 0 }));
    const payloads: Uint8Array[] = [];
    const sources: { segment: string; firstPayload: number }[] = [];
    for (const [index, segment] of live.entries()) {
      const bytes = readFileSync(segment.path);
      this.segments[index]!.bytes = bytes.byteLength;
      const scanned = scanFrames(bytes, { zeroTail: true });
      sources.push({ segment: segment.entry, firstPayload: payloads.length });
      // Not push(...payloads): a 64 MiB segment of small records is more arguments than a call takes.
      for (const payload of scanned.payloads) payloads.push(payload);
      if (scanned.damage !== null) return { payloads, sources, damage: { segment: segment.entry, tail: scanned.damage, segmentsUnused: live.length - 1 - index } };
      if (index === live.length - 1) this.current = { sequence: segment.sequence, base: segment.base, path: segment.path, handle: null, dsync: null, offset: scanned.end, capacity: bytes.byteLength, unsynced: emptyUnsynced(scanned.end) };
    }
    return { payloads, sources, damage: null };
  }

  /**
   * Writes frames at the end of the log, cutting to the next segment first if they do not fit.
   * With `durable`, when it can, in one write through the segment's O_DSYNC descriptor (with the
   * appends since the last sync in front of them): the write returns once the data is on the
   * disk, as a write and an fdatasync would, in one trip through libuv's pool instead of two (and
   * one wake of the event loop). Returns the bytes appended and whether the log is now durable
   * (else the caller's next sync must cover it).
   */
  async append(parts: readonly Buffer[], durable = false): Promise<{ readonly bytes: number; readonly durable: boolean }> {
    const bytes = byteLength(parts);
    if (this.current === null || this.current.offset + bytes > this.current.capacity) await this.cut();
    const current = this.current!;
    if (current.handle === null) current.handle = await open(current.path, 'r+');
    const unsynced = current.unsynced;
    if (durable && unsynced !== null) {
      if (current.dsync === null) current.dsync = await openDsync(current.path);
      const started = process.hrtime.bigint();
      await writeAllFd(current.dsync, unsynced.parts.length === 0 ? parts : [...unsynced.parts, ...parts], unsynced.from);
      this.io.durableWrite?.(Number(process.hrtime.bigint() - started) / 1e9);
    } else await writeAllFd(current.handle.fd, parts, current.offset);
    current.offset += bytes;
    current.capacity = Math.max(current.capacity, current.offset);
    this.segments.at(-1)!.bytes = current.capacity;
    if (durable && unsynced !== null) {
      current.unsynced = emptyUnsynced(current.offset);
      return { bytes, durable: true };
    }
    if (unsynced !== null) {
      unsynced.parts.push(...parts);
      unsynced.bytes += bytes;
      if (unsynced.bytes > unsyncedBytesKept) current.unsynced = null;
    }
    return { bytes, durable: false };
  }

  /**
   * Whether `appendOnLoop` can take an append of `bytes` now: the current segment is open for
   * durable writes (its O_DSYNC descriptor opened by an earlier `append(parts, true)`), it fits
   * without a cut, and the appends since the last sync are kept (a plain write would need a
   * sync) and, with it, at most `bytesMax`.
   */
  canAppendOnLoop(bytes: number, bytesMax: number): boolean {
    const current = this.current;
    if (current === null || current.handle === null || current.dsync === null || current.unsynced === null) return false;
    return current.offset + bytes <= current.capacity && current.unsynced.bytes + bytes <= bytesMax;
  }

  /**
   * `append(parts, true)` done synchronously on the calling thread (`writevSync` on the O_DSYNC
   * descriptor, with the appends since the last sync in front): durable when it returns, with no
   * trip through libuv's pool and no wake of the event loop after it; the loop is blocked for the
   * write and its flush. Only when `canAppendOnLoop` says so. A failed write throws (the store's
   * fatal path, as an asynchronous one rejects).
   */
  appendOnLoop(parts: readonly Buffer[], bytesMax: number): number {
    const bytes = byteLength(parts);
    assert(this.canAppendOnLoop(bytes, bytesMax), () => `an append of ${bytes} bytes on the loop that ${this.naming.directory}'s current segment cannot take that way`);
    const current = this.current!;
    const unsynced = current.unsynced!;
    const started = process.hrtime.bigint();
    writeAllFdSync(current.dsync!, unsynced.parts.length === 0 ? parts : [...unsynced.parts, ...parts], unsynced.from);
    this.io.durableWrite?.(Number(process.hrtime.bigint() - started) / 1e9);
    current.offset += bytes;
    current.unsynced = emptyUnsynced(current.offset);
    return bytes;
  }

  /** fdatasyncs the current segment (everything appended so far is durable after it). */
  async sync(): Promise<void> {
    const current = this.current;
    if (current === null || current.handle === null) return;
    const offset = current.offset;
    await this.io.timedSync(current.handle);
    current.unsynced = emptyUnsynced(offset);
  }

  /** Starts the log over with these frames, in a new segment (temporary until renamed), then releases the older segments. */
  async replace(parts: readonly Buffer[]): Promise<number> {
    const prepared = await this.prepareReplace();
    await writeAll(prepared.handle, parts, 0);
    return this.commitReplace(prepared, byteLength(parts));
  }

  /**
   * The segment a replace is written into, from offset 0 (a prepared one, under its temporary
   * name): `commitReplace` makes it the log. Until then the log is as it was, and a crash leaves
   * it so (the temporary file is removed at the next start).
   */
  prepareReplace(): Promise<PreparedSegment> {
    return this.pipeline.take(false);
  }

  /** Syncs a segment from `prepareReplace` holding `bytes` of frames, renames it into the log as its new base, then releases the older segments. Returns the bytes. */
  async commitReplace(prepared: PreparedSegment, bytes: number): Promise<number> {
    await this.io.timedSync(prepared.handle);
    return this.adopt(prepared, bytes);
  }

  /**
   * Syncs a segment from `prepareReplace` holding `bytes` of frames and renames it to `asidePath`
   * (a name of its own in the log's directory, which survives a restart: etcd's
   * `<index>.snap.db`), without making it part of the log: `adoptAside` does that later. A crash
   * before the rename leaves a temporary file (removed at start), after it a durable file the
   * caller can find by its name.
   */
  async setAside(prepared: PreparedSegment, bytes: number, asidePath: string): Promise<number> {
    await this.io.timedSync(prepared.handle);
    await rename(prepared.path, asidePath);
    await this.io.syncDirectory(this.naming.directory);
    this.asides.set(asidePath, { handle: prepared.handle, path: asidePath, capacity: prepared.capacity, bytes });
    return bytes;
  }

  /** Makes the segment set aside at `asidePath` (`setAside`) the log's new base, as `commitReplace` would have; the older segments are released. */
  async adoptAside(asidePath: string): Promise<number> {
    const aside = this.asides.get(asidePath);
    if (aside === undefined) throw new Error(`${asidePath}: no segment was set aside under this name`);
    this.asides.delete(asidePath);
    return this.adopt(aside, aside.bytes);
  }

  /** Renames a synced segment holding `bytes` of frames into the log as its new base, then releases the older segments. */
  private async adopt(prepared: PreparedSegment, bytes: number): Promise<number> {
    const sequence = ++this.lastSequence;
    const path = join(this.naming.directory, this.naming.name(sequence, sequence));
    await rename(prepared.path, path);
    await this.io.syncDirectory(this.naming.directory);
    // Durable: the older segments are no longer part of the log.
    await this.current?.handle?.close();
    await closeDsync(this.current);
    for (const old of this.segments) await unlink(old.path);
    this.segments = [{ sequence, path, bytes: Math.max(prepared.capacity, bytes) }];
    this.current = { sequence, base: sequence, path, handle: prepared.handle, dsync: null, offset: bytes, capacity: Math.max(prepared.capacity, bytes), unsynced: emptyUnsynced(bytes) };
    return bytes;
  }

  /** Closes the current segment and the pipeline (removing a segment prepared but not taken). */
  async close(): Promise<void> {
    await this.pipeline.close();
    for (const aside of this.asides.values()) await aside.handle.close();
    this.asides.clear();
    await this.current?.handle?.close();
    await closeDsync(this.current);
    if (this.current !== null) this.current.handle = null;
  }

  /**
   * Seals the current segment and continues in the next: etcd's `cut()`. The seal's sync comes
   * before anything is written to the next segment, so a crash can never keep a later segment's
   * frames while losing an earlier one's (a hole in the log).
   */
  private async cut(): Promise<void> {
    // The first segment of a new file is not a sign of growth.
    const prepared = await this.pipeline.take(this.current !== null);
    const sealed = this.current;
    if (sealed !== null) {
      if (sealed.handle === null) sealed.handle = await open(sealed.path, 'r+');
      await sealed.handle.truncate(sealed.offset);
      this.segments.at(-1)!.bytes = sealed.offset;
      await this.io.timedSync(sealed.handle);
      await sealed.handle.close();
      await closeDsync(sealed);
    }
    const sequence = ++this.lastSequence;
    const base = sealed?.base ?? sequence;
    const path = join(this.naming.directory, this.naming.name(sequence, base));
    await rename(prepared.path, path);
    await this.io.syncDirectory(this.naming.directory);
    this.segments.push({ sequence, path, bytes: prepared.capacity });
    this.current = { sequence, base, path, handle: prepared.handle, dsync: null, offset: 0, capacity: prepared.capacity, unsynced: emptyUnsynced(0) };
  }
}

function emptyUnsynced(from: number): { from: number; parts: Buffer[]; bytes: number } {
  return { from, parts: [], bytes: 0 };
}

/**
 * Opens a segment for writes that are durable when they return (O_DSYNC: data and the metadata
 * needed to read it back, as fdatasync). Callback fs, as `writeAllFd`: the WAL's per-put calls
 * skip FileHandle's promise machinery.
 */
function openDsync(path: string): Promise<number> {
  return new Promise((resolve, reject) => openFd(path, constants.O_RDWR | constants.O_DSYNC, (error, fd) => (error === null ? resolve(fd) : reject(error))));
}

async function closeDsync(segment: CurrentSegment | null): Promise<void> {
  if (segment === null || segment.dsync === null) return;
  const fd = segment.dsync;
  segment.dsync = null;
  await new Promise<void>((resolve, reject) => closeFd(fd, (error) => (error === null ? resolve() : reject(error))));
}

/** `writeAll` on a descriptor, with callback fs (a WAL append per put: FileHandle's promise calls cost more per call). */
export async function writeAllFd(fd: number, parts: readonly Buffer[], position: number): Promise<void> {
  let pending: readonly Buffer[] = parts;
  let at = position;
  while (pending.length > 0) {
    const bytesWritten = await new Promise<number>((resolve, reject) => writev(fd, pending as Buffer[], at, (error, written) => (error === null ? resolve(written) : reject(error))));
    at += bytesWritten;
    pending = unwritten(pending, bytesWritten);
  }
}

/** `writeAllFd` done synchronously (`SegmentedLog.appendOnLoop`): a short write continues where it stopped. */
export function writeAllFdSync(fd: number, parts: readonly Buffer[], position: number): void {
  let pending: readonly Buffer[] = parts;
  let at = position;
  while (pending.length > 0) {
    const bytesWritten = writevSync(fd, pending as Buffer[], at);
    at += bytesWritten;
    pending = unwritten(pending, bytesWritten);
  }
}

/** What of `parts` a gathering write of `bytesWritten` bytes left unwritten (a short write continues from there). */
function unwritten(parts: readonly Buffer[], bytesWritten: number): Buffer[] {
  let left = bytesWritten;
  let done = 0;
  while (done < parts.length && left >= parts[done]!.byteLength) left -= parts[done++]!.byteLength;
  const rest = parts.slice(done);
  if (left > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}

/** fdatasync with callback fs (see `writeAllFd`). */
export function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
}

function byteLength(parts: readonly Buffer[]): number {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  return total;
}

/** Writes every part, in order, from `position` on (or at the end with null), with gathering writes; a short write continues where it stopped. */
export async function writeAll(handle: FileHandle, parts: readonly Buffer[], position: number | null): Promise<void> {
  let pending = parts.filter((part) => part.byteLength > 0);
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at ?? undefined);
    if (at !== null) at += bytesWritten;
    pending = unwritten(pending, bytesWritten);
  }
}
