import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { setTimeout as timer } from 'node:timers';
import { setImmediate, setTimeout } from 'node:timers/promises';
import { assert, AssertionError } from '../../core/base/assert.ts';
import type { Codec } from '../../core/host/codec.ts';
import { tornRecord, type DurableRecord, type DurableState, type DurableWrite } from '../../core/host/node.ts';
import type { DurableStore } from '../../core/host/ports.ts';
import { asBuffer, frameParts, framePartBytes, scanFrames, type DamagedTail } from './frame.ts';
import { PartBuilder, PartsInMemory, type FramedPiece } from './partBuilder.ts';
import { filePath, knownFiles, layoutDirectories, receivedDbFiles, receivedDbPath, segmentedFiles } from './layout.ts';
import { backendFile, receivedBackendFile } from '../../core/mvcc/backend.ts';
import { walFile } from '../../core/replica/wal.ts';
import { fdatasyncFd, SegmentedLog, writeAll } from './segmentedLog.ts';
import { defaultSegmentSizes, type PreparedSegment, type SegmentSizes } from './segmentPipeline.ts';
import { durableBarrier, type ArrangedWrite } from './walSnapshotWrites.ts';
import { trace } from '../latencyTrace.ts';

export interface FileStoreOptions {
  readonly dataDir: string;
  readonly codec: Codec<DurableRecord>;
  /** Operational notes (a torn tail found and cut). */
  readonly log: (line: string) => void;
  /** Each file fsync's duration, by file name (the WAL's feed etcd_disk_wal_fsync_duration_seconds, the backend's etcd_disk_backend_commit_duration_seconds). */
  readonly onFsync?: (file: string, seconds: number) => void;
  /**
   * A write or fsync failed. The process must stop: after a failed fsync the kernel may have
   * dropped the dirty pages, so retrying could report durable what is not (etcd panics too).
   */
  readonly onFatal: (error: Error) => void;
  /**
   * Rearranges one Ready's writes before they are queued (barriers included), e.g. the etcd
   * member's metadata-only WAL snapshot (walSnapshotWrites.ts). `rewriting`: a deferred replace
   * (the backend's rewrite) is still being encoded, synced or renamed in, so a barrier queued now
   * would hold every later write and sync until it is in. Default: as given.
   */
  readonly arrange?: (writes: readonly DurableWrite[], store: { readonly rewriting: boolean }) => readonly ArrangedWrite[];
  /** A deferred replace (a backend rewrite) is on disk: its bytes, the turns and time its encoding and writing took, and the time from queued (written, not yet synced) to durable. */
  readonly onDeferredReplace?: (report: { readonly file: string; readonly bytes: number; readonly turns: number; readonly encodeMs: number; readonly writeMs: number; readonly received?: number }) => void;
  /** A turn of a deferred replace's encoding ran on the loop from `startedMs` (process time) for `ms` (the stall watch's activity). */
  readonly onEncodeTurn?: (startedMs: number, ms: number) => void;
  /** A large append (`deferAppend`: a huge DeleteRange's commit) is framed and queued: its bytes (headers included), the turns and time its encoding took, and whether a barrier waited for it meanwhile. */
  readonly onDeferredAppend?: (report: { readonly file: string; readonly bytes: number; readonly turns: number; readonly encodeMs: number; readonly waited: boolean }) => void;
  /**
   * A record larger than this is written as several frames of at most this many bytes each
   * (default frame.ts's `framePartBytes`): the backend's rewrite, a snapshot's image in the WAL.
   * Tests make it small to cross part boundaries.
   */
  readonly framePartBytes?: number;
  /** Segment sizes of the WAL and the backend (default: 4 MiB doubling to etcd's 64 MiB); tests make them small to cross boundaries. */
  readonly segmentSizes?: SegmentSizes;
  /** How long a WAL append no sync followed is held before it is written if nothing else comes (`holds`); default `heldAppendMs`. */
  readonly heldAppendMs?: number;
  /**
   * A lone durable WAL append (`lastWriteBeforeSync`) of at most this many bytes (with the appends
   * since the last sync written again in front of it) is written on the event loop, synchronously
   * (`appendsOnLoop`); 0: never. Default `walWriteOnLoopBytes`.
   */
  readonly walWriteOnLoopBytes?: number;
  /**
   * Whether messages handed to the peers this turn still wait for their flush (a leader's
   * MsgApps, sent before its sync): then a durable WAL append goes through the pool, issued at
   * once, so its disk write overlaps the flush; written on the loop it would start after it.
   */
  readonly peerFlushPending?: () => boolean;
}

type Operation =
  | { readonly kind: 'append'; readonly file: string; readonly parts: readonly Buffer[] }
  | { readonly kind: 'replace'; readonly file: string; readonly parts: readonly Buffer[] }
  /**
   * A deferred replace, its frame already written into a prepared segment: synced and renamed into
   * the log while later operations on other files go on (see `drain`); or, with `aside` (a
   * received snapshot's index), synced and set aside under its own name instead.
   */
  | { readonly kind: 'streamedReplace'; readonly file: string; readonly streamed: StreamedFrame; readonly aside: number | null; readonly done?: () => void }
  /** A received snapshot's image (walSnapshotWrites.ts `SetAside`) framed whole, to be written into a prepared segment and set aside under its own name. */
  | { readonly kind: 'setAside'; readonly file: string; readonly index: number; readonly parts: readonly Buffer[] }
  /** A received snapshot's image to set aside, held behind a deferred replace of its file until that is in (`release`): never queued. */
  | { readonly kind: 'setAsideLater'; readonly file: string; readonly index: number; readonly record: DurableRecord }
  /** A large append to frame in turns (`appendInTurns`), held behind a deferred replace or append until that is in (`release`): never queued. */
  | { readonly kind: 'appendLater'; readonly file: string; readonly record: DurableRecord }
  /** The image set aside for `index` becomes the file's log (a rename). */
  | { readonly kind: 'adoptAside'; readonly file: string; readonly index: number }
  | { readonly kind: 'sync'; readonly done: () => void }
  | { readonly kind: 'barrier' };

/**
 * A whole-file replace being encoded a slice per turn of the event loop (the backend's periodic
 * rewrite: the whole keyspace). Until it is synced and renamed in, later writes to its file wait
 * here, and once a barrier arrives (it orders files against each other) every later write and
 * sync does.
 */
interface DeferredReplace {
  readonly file: string;
  /** An append (a backend commit's large delta record, `deferAppend`), not a replace: framed in memory and queued as an ordinary append once encoded. */
  readonly append?: true;
  /** Set aside for this snapshot index (walSnapshotWrites.ts `SetAside`) rather than renamed into the log. */
  readonly aside: number | null;
  readonly held: Operation[];
  holdAll: boolean;
  /** Who waits for it to be in (`caughtUp`): told once it, and what was held behind it, are durable. */
  readonly caughtUp: (() => void)[];
}

/** A deferred replace's record, framed as its parts, written whole into a segment not yet part of its log. */
interface StreamedFrame {
  readonly prepared: PreparedSegment;
  /** The frames' bytes, headers included. */
  readonly bytes: number;
  readonly turns: number;
}

/** How long one turn of the event loop may spend encoding a deferred replace. */
const encodeTurnMs = 5;
/** A held WAL append (`FileStore.holds`) is written after this long if nothing else came. */
const heldAppendMs = 20;
/**
 * FileStoreOptions.walWriteOnLoopBytes's default: a put's entry frames to ~0.3 KiB, a Ready of 16
 * puts in flight to ~5 KiB; a snapshot's record or a large txn is far larger (syncwrite in
 * docs/journal/runtime-performance.md).
 */
export const walWriteOnLoopBytes = 16 * 1024;
/**
 * A WAL append written on the loop that took longer than this (the disk stalled: another member's
 * db rewrite on a shared disk, a neighbour's flush) sends the next ones through the pool for
 * `onLoopPauseMs`: a stalled write blocks the loop, heartbeats and their answers with it (the
 * pool's write leaves them to `HostLoop.sendUrgent`), so at most one such write per pause.
 */
const onLoopSlowMs = 20;
const onLoopPauseMs = 1_000;
/** A WAL append larger than this is written at once, not held (a commit index is a few dozen bytes). */
const heldBytesMax = 64 * 1024;
/**
 * How long a deferred replace waits after each turn (unless writes are held behind it that the
 * WAL's order needs: then it runs flat out). Back to back, its turns took 60-80% of a serving
 * member's loop for the 1-2.5 s of a 130 MiB rewrite under check perf (only the write of each
 * turn's slices in between), and requests queued behind them: 160-330 ms loop stalls.
 */
const encodePauseMs = 5;
/** A deferred replace's slices are copied into one buffer of this size per turn (the codec reuses its own: `encodeInSlices(value, true)`). */
const turnBufferBytes = 2 * 1024 * 1024;

/** What one `write` call spent its time on, for a slow write's log line (`FileStore.describeLastWrite`). */
interface WriteAccount {
  /** Records encoded and framed whole, their framed bytes and the milliseconds that took. */
  wholeRecords: number;
  wholeBytes: number;
  wholeMs: number;
  /** Large records begun in turns (a rewrite, a large append, an image set aside) and their first turns' milliseconds, run inside the call. */
  inTurns: number;
  firstTurnsMs: number;
  /** Records held unencoded behind a deferred replace or append. */
  held: number;
  /** The call's own milliseconds. */
  ms: number;
}

export interface FileStoreStats {
  /** `sync` calls by the host loop. */
  syncRequests: number;
  /** Rounds of fsyncs actually made: fewer than requests when syncs queued up and shared one. */
  fsyncRounds: number;
  bytesWritten: number;
}

/**
 * The durable store on real files: the runtime's counterpart of the simulator's SimDisk.
 *
 * - `write` encodes and frames records at once (length + CRC-32) and queues them; one worker
 *   performs the queue in order, so the files see writes in exactly the order the node made them.
 * - `sync` queues a barrier; when the worker reaches it, it fdatasyncs every file written since
 *   the last round (and the directories of new files), then calls `done`. Syncs that queued up
 *   behind a slow fsync share the next round (group commit).
 * - `replace` writes a temporary file, syncs it, renames it over the old one and syncs the
 *   directory: a crash leaves the old file or the new one, never a mix.
 * - `read` (at start) reads each file's frames until the first torn or corrupt one, reports it,
 *   and hands the node `tornRecord` in its place, as the simulated disk does; the node must then
 *   replace the file before appending to it (checked here).
 * - A replace the codec encodes in slices (`Codec.encodeInSlices`: the backend's periodic rewrite,
 *   the whole keyspace) is encoded a slice per turn of the event loop and written as it goes into
 *   a prepared segment, then synced and renamed into the log in the background; its file's later
 *   writes, and a barrier, wait for it; other files' writes and syncs do not (`sync`, `drain`).
 *   A large append the codec slices (a huge delete's commit) is framed a turn at a time the same
 *   way (`deferAppend`, the parts built by `PartBuilder` as the rewrite's and the peer's are).
 * - The WAL and the backend (`db`) are `SegmentedLog`s: preallocated segments, so an fsync flushes
 *   data only, as etcd's. Every other file is one file, replaced whole (or appended to).
 */
export class FileStore implements DurableStore {
  readonly stats: FileStoreStats = { syncRequests: 0, fsyncRounds: 0, bytesWritten: 0 };
  private readonly options: FileStoreOptions;
  private queue: Operation[] = [];
  private running = false;
  private failed: Error | null = null;
  private closed = false;
  private readonly handles = new Map<string, FileHandle>();
  private readonly dirtyFiles = new Set<string>();
  private readonly dirtyDirectories = new Set<string>();
  private readonly tornFiles = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private deferred: DeferredReplace | null = null;
  /** A deferred replace being synced and renamed in while the queue goes on with other files. */
  private background: { readonly file: string; readonly written: Promise<void> } | null = null;
  /** While the worker waits for the background replace with nothing queued: wakes it for work queued meanwhile. */
  private wakeWorker: (() => void) | null = null;
  /** Logical files kept as segments, by name. */
  private readonly segmented: ReadonlyMap<string, SegmentedLog>;
  /**
   * A WAL append that no sync followed (a commit index alone), not written yet: it goes down with
   * the next append to the WAL (in front of it, in the same write), before any other operation,
   * or after `heldAppendMs`, whichever comes first. See `holds`.
   */
  private held: { readonly parts: Buffer[]; bytes: number } | null = null;
  /** No WAL append is written on the loop before this (performance.now()): the last one was slow (`onLoopSlowMs`). */
  private onLoopPausedUntilMs = 0;
  private heldDue = false;
  private heldTimer: NodeJS.Timeout | null = null;
  private readonly account: WriteAccount = { wholeRecords: 0, wholeBytes: 0, wholeMs: 0, inTurns: 0, firstTurnsMs: 0, held: 0, ms: 0 };

  constructor(options: FileStoreOptions) {
    this.options = options;
    for (const dir of layoutDirectories(options.dataDir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A temporary file is a replace that never reached its rename: the old file is the truth.
    for (const dir of layoutDirectories(options.dataDir)) {
      for (const entry of readdirSync(dir)) if (entry.endsWith('.tmp')) rmSync(`${dir}/${entry}`, { force: true });
    }
    const logs = [...segmentedFiles(options.dataDir)].map(([name, naming]) => {
      const io = {
        timedSync: (handle: FileHandle) => this.timedSync(handle, name),
        durableWrite: (seconds: number) => {
          this.stats.fsyncRounds++;
          this.options.onFsync?.(name, seconds);
        },
        syncDirectory: (directory: string) => this.syncDirectory(directory),
        log: options.log,
      };
      return [name, new SegmentedLog(naming, options.segmentSizes ?? defaultSegmentSizes, io)] as const;
    });
    this.segmented = new Map(logs);
  }

  read(): DurableState {
    const found = new Map<string, readonly DurableRecord[]>();
    const listDir = (dir: string): string[] => readdirSync(dir).sort();
    for (const [name, path] of knownFiles(this.options.dataDir, listDir)) {
      const scanned = scanFrames(readFileSync(path));
      const damage = scanned.damage === null ? null : { where: this.relative(path), tail: scanned.damage, segmentsUnused: 0 };
      found.set(name, this.recover(name, scanned.payloads, () => this.relative(path), damage));
    }
    for (const [name, log] of this.segmented) {
      const scanned = log.read();
      if (!log.exists) continue;
      const directory = this.relative(log.directory);
      const damage = scanned.damage === null ? null : { ...scanned.damage, where: `${directory}/${scanned.damage.segment}` };
      const segmentOf = (index: number) => `${directory}/${[...scanned.sources].reverse().find((source) => source.firstPayload <= index)!.segment}`;
      found.set(name, this.recover(name, scanned.payloads, segmentOf, damage));
    }
    const received = this.readReceived(listDir);
    if (received.length > 0) found.set(receivedBackendFile, received);
    const files = new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { files };
  }

  /**
   * The received snapshot images set aside (`receivedDbPath`), lowest index first: the node uses
   * the one its WAL's snapshot needs, if any. One with damage was never renamed to its name before
   * it was synced, so it cannot be the one needed: it is reported and left out.
   */
  private readReceived(listDir: (dir: string) => string[]): DurableRecord[] {
    const records: DurableRecord[] = [];
    for (const { path } of receivedDbFiles(this.options.dataDir, listDir)) {
      const scanned = scanFrames(readFileSync(path), { zeroTail: true });
      if (scanned.damage !== null || scanned.payloads.length !== 1) {
        this.options.log(`${this.relative(path)}: ${scanned.damage?.reason ?? `${scanned.payloads.length} records`}; not used`);
        continue;
      }
      records.push(...this.recover(receivedBackendFile, scanned.payloads, () => this.relative(path), null));
    }
    return records;
  }

  /** Decodes a file's good frames; after damage, reports it and hands the node `tornRecord`. */
  private recover(name: string, payloads: readonly Uint8Array[], fileOf: (index: number) => string, damage: { where: string; tail: DamagedTail; segmentsUnused: number } | null): DurableRecord[] {
    const records: DurableRecord[] = payloads.map((payload, index) => {
      try {
        return this.options.codec.decode(payload);
      } catch (error) {
        // The checksum matched, so these are the bytes that were written: a format this build
        // does not read. Never guess: stop.
        throw new Error(`${fileOf(index)}: record ${index} passed its checksum but does not decode (${error instanceof Error ? error.message : String(error)})`);
      }
    });
    if (damage !== null) {
      const { offset, reason, bytes } = damage.tail;
      const later = damage.segmentsUnused > 0 ? `, nor the ${damage.segmentsUnused} later segments` : '';
      this.options.log(`${damage.where}: ${reason} at byte ${offset} (${bytes} bytes after it are not used${later}); recovering the ${records.length} records before it`);
      records.push(tornRecord);
      this.tornFiles.add(name);
    }
    return records;
  }

  write(writes: readonly DurableWrite[]): void {
    // After close the process is stopping: what arrives now is as if the process had died before
    // writing it (nothing was sent or answered for it yet).
    if (this.closed) return;
    const account = this.account;
    const startedMs = performance.now();
    account.wholeRecords = account.wholeBytes = account.wholeMs = account.inTurns = account.firstTurnsMs = account.held = 0;
    this.writeAll(writes);
    account.ms = performance.now() - startedMs;
  }

  /**
   * What the last `write` call spent its time on, in a few words (a slow write's log line): the
   * records encoded whole, the first turns of records framed in turns, those held behind a
   * deferred one, and what none of that accounts for (the call is synchronous: a GC inside it, or
   * the process waiting for a CPU).
   */
  describeLastWrite(): string {
    const { wholeRecords, wholeBytes, wholeMs, inTurns, firstTurnsMs, held, ms } = this.account;
    const parts: string[] = [];
    if (wholeRecords > 0) parts.push(`${wholeRecords} record${wholeRecords === 1 ? '' : 's'} encoded whole (${formatBytes(wholeBytes)}) in ${formatMs(wholeMs)}`);
    if (inTurns > 0) parts.push(`${inTurns} begun in turns (first turn${inTurns === 1 ? '' : 's'} ${formatMs(firstTurnsMs)})`);
    if (held > 0) parts.push(`${held} held behind the ${this.deferred?.append === true ? 'large append' : 'rewrite'} being made`);
    const rest = ms - wholeMs - firstTurnsMs;
    parts.push(`${formatMs(rest)} outside the encoding`);
    return parts.join(', ');
  }

  private writeAll(writes: readonly DurableWrite[]): void {
    const account = this.account;
    for (const write of this.options.arrange?.(writes, { rewriting: this.deferred !== null || this.background !== null }) ?? writes) {
      if (write === durableBarrier) {
        this.enqueue({ kind: 'barrier' });
        continue;
      }
      if (write.kind === 'adoptAside') {
        this.enqueue({ kind: 'adoptAside', file: write.file, index: write.index });
        continue;
      }
      if (write.kind === 'setAside') {
        assert(this.segmented.has(write.file), () => `a record set aside for ${write.file}, which is not a segmented log`);
        // Behind a deferred replace of its file (the backend's own rewrite): held as it is, and set
        // aside once that is in (`release`), in turns as here. Encoded whole meanwhile, a 200 MiB
        // image held the loop as the rewrite would have.
        if (this.deferred?.file === write.file) {
          this.enqueue({ kind: 'setAsideLater', file: write.file, index: write.index, record: write.record });
          account.held++;
        } else this.inTurnsOrWhole(() => this.setAside(write.file, write.index, write.record));
        continue;
      }
      if (write.kind === 'append' && this.segmented.has(write.file) && write.records.length === 1) {
        const deferred = this.deferred;
        const beganMs = performance.now();
        if (this.appendInTurns(write.file, write.records[0]!)) {
          if (deferred !== null) account.held++;
          else {
            account.inTurns++;
            account.firstTurnsMs += performance.now() - beganMs;
          }
          continue;
        }
      }
      const slices = write.kind === 'replace' && this.deferred === null && this.segmented.has(write.file) && write.records.length === 1 ? (this.options.codec.encodeInSlices?.(write.records[0]!, true) ?? null) : null;
      if (slices !== null) {
        this.tornFiles.delete(write.file);
        this.inTurnsOrWhole(() => this.deferReplace(write.file, slices));
        continue;
      }
      // Frames as header and payload, written with one gathering write: never copied here.
      const encodingMs = performance.now();
      const parts = write.records.flatMap((record) => frameParts(this.options.codec.encode(record), this.options.framePartBytes));
      account.wholeMs += performance.now() - encodingMs;
      account.wholeRecords += write.records.length;
      account.wholeBytes += byteLength(parts);
      // An empty payload's frame is eight zero bytes: in a preallocated segment, the end of the log.
      if (this.segmented.has(write.file)) assert(parts.every((part) => part.byteLength > 0), () => `an empty record for ${write.file}`);
      if (write.kind === 'append') {
        assert(!this.tornFiles.has(write.file), () => `an append to ${write.file}, whose torn tail was not cut off first`);
      } else this.tornFiles.delete(write.file);
      this.enqueue({ kind: write.kind, file: write.file, parts });
    }
    // Started once the caller's turn is done, or by its `sync` in that turn: a Ready's writes and
    // its sync then reach the worker in one batch, and its WAL append can be the flush as well
    // (`lastWriteBeforeSync`); started here, the worker took the append alone and the sync after
    // it, one more trip through libuv's pool and one more wake of the loop.
    if (!this.kickQueued) {
      this.kickQueued = true;
      queueMicrotask(this.queuedKick);
    }
  }

  /** Runs `begin` (a record begun in turns, or framed whole when the codec does not slice it) and counts its time as a first turn. */
  private inTurnsOrWhole(begin: () => void): void {
    const beganMs = performance.now();
    begin();
    this.account.inTurns++;
    this.account.firstTurnsMs += performance.now() - beganMs;
  }

  /** A received image set aside (walSnapshotWrites.ts `SetAside`): encoded in turns as a deferred replace when the codec slices it, else framed whole. */
  private setAside(file: string, index: number, record: DurableRecord): void {
    const aside = this.deferred === null ? (this.options.codec.encodeInSlices?.(record, true) ?? null) : null;
    if (aside !== null) this.deferReplace(file, aside, index);
    else this.enqueue({ kind: 'setAside', file, index, parts: frameParts(this.options.codec.encode(record), this.options.framePartBytes) });
  }

  /**
   * A large append the codec slices (`deferAppend`), or false. Behind a deferred replace or append
   * (the rewrite in flight, or another large append) it is held unencoded (`appendLater`) and
   * framed in turns once that is in (`release`): encoded whole meanwhile, a huge delete's commit
   * held the loop as before committurns.
   */
  private appendInTurns(file: string, record: DurableRecord): boolean {
    const slices = this.options.codec.encodeInSlices?.(record, true) ?? null;
    if (slices === null) return false;
    assert(!this.tornFiles.has(file), () => `an append to ${file}, whose torn tail was not cut off first`);
    const deferred = this.deferred;
    if (deferred === null) this.deferAppend(file, slices);
    // Its slices not taken: the codec makes them as they are asked for. Held only where its file's
    // later writes are held too (else they would pass it): another file's is framed whole, as before.
    else if (deferred.file === file || deferred.holdAll) this.hold({ kind: 'appendLater', file, record });
    else return false;
    return true;
  }

  /**
   * Queues what was held behind a deferred replace now in, in order, as if written now: an image
   * to set aside starts a deferred replace of its own, a large append a deferred append, and what
   * follows either is held behind it.
   */
  private release(held: readonly Operation[]): void {
    for (const operation of held) {
      if (operation.kind === 'setAsideLater') this.setAside(operation.file, operation.index, operation.record);
      else if (operation.kind === 'appendLater') {
        if (!this.appendInTurns(operation.file, operation.record)) throw new AssertionError(`a large append to ${operation.file} the codec no longer slices`);
      } else this.enqueue(operation);
    }
  }

  private kickQueued = false;
  private readonly queuedKick = () => {
    this.kickQueued = false;
    this.kick();
  };

  /**
   * A sync covers what was queued before it, except writes held behind a deferred replace or
   * append of the backend when no barrier was held with them: the backend may lag the WAL
   * (etcd's bbolt commits on its own schedule too, every 100 ms or 10k changes, unsynced with its
   * WAL; recovery replays the WAL from the db's consistent index), and wherever the files' order
   * matters the node's writes carry a barrier, which waits. (A sync that waited for a huge
   * delete's commit record held every Ready syncing meanwhile: 56-644 ms in process for 8-40 MiB
   * against 7-252 ms; storeturns.)
   */
  sync(done: () => void): void {
    if (this.closed) return;
    this.stats.syncRequests++;
    this.enqueue({ kind: 'sync', done });
    this.kick();
  }

  /**
   * Calls `done` once every write queued before the syncs completed so far is durable
   * (DurableStore.caughtUp): when a deferred replace or append is in the making (a sync does not
   * wait for it, nor for the writes held behind it; see `sync`), once it is in and a sync queued
   * after what it held is done — behind a rewrite of 130 MiB its encoding, sync and rename (1-3 s
   * under check perf); only the answer waits, not the loop. Otherwise after a sync queued now: a
   * large append framed since the last sync was asked for may still be queued behind it (nothing
   * dirty, that round costs no fsync).
   */
  caughtUp(done: () => void): void {
    if (this.closed || this.failed !== null) return;
    const deferred = this.deferred;
    if (deferred !== null) deferred.caughtUp.push(done);
    else {
      this.queue.push({ kind: 'sync', done });
      this.kick();
    }
  }

  /**
   * What waited for a deferred replace or append now in (`caughtUp`): what was held behind it is
   * queued now, so a sync queued after it covers it, unless it is held again behind the next
   * deferred one (a large append released) — then that one's.
   */
  private afterCaughtUp(waiters: readonly (() => void)[]): void {
    for (const done of waiters) {
      if (this.deferred !== null) this.deferred.caughtUp.push(done);
      else this.queue.push({ kind: 'sync', done });
    }
  }

  /** Holds an operation behind the deferred replace or append, whatever its file: it never reaches the queue before that is in. */
  private hold(operation: Operation): void {
    const deferred = this.deferred;
    assert(deferred !== null, () => `${operation.kind} held with nothing deferred`);
    deferred.held.push(operation);
  }

  private enqueue(operation: Operation): void {
    const deferred = this.deferred;
    // Every operation queued here that names a file (streamed replaces are queued by `deferReplace` itself).
    const holdsAll = operation.kind === 'barrier';
    const held = deferred !== null && (deferred.holdAll || holdsAll || ('file' in operation && operation.file === deferred.file));
    if (!held) {
      this.queue.push(operation);
      return;
    }
    if (holdsAll) deferred.holdAll = true;
    deferred.held.push(operation);
  }

  /**
   * Encodes a large replace (`Codec.encodeInSlices`) a slice per turn of the event loop, writing
   * it as it goes into a segment not yet part of the log (`encodeInTurns`), then queues its sync
   * and rename, and what waited for it. Encoding the backend's rewrite at once held a member's loop
   * for 1-1.8 s at 80-90k revisions under check perf: heartbeats stopped and the leader was lost.
   */
  private deferReplace(file: string, slices: Iterable<Uint8Array>, aside: number | null = null): void {
    const deferred: DeferredReplace = { file, aside, held: [], holdAll: false, caughtUp: [] };
    this.deferred = deferred;
    const startedMs = performance.now();
    this.encodeInTurns(slices, this.segmented.get(file)!, () => deferred.holdAll).then(
      (streamed) => {
        if (this.failed !== null) return;
        const queuedMs = performance.now();
        const report = this.options.onDeferredReplace;
        const done = report === undefined ? undefined : () => report({ file, bytes: streamed.bytes, turns: streamed.turns, encodeMs: queuedMs - startedMs, writeMs: performance.now() - queuedMs, ...(aside === null ? {} : { received: aside }) });
        // What waits for it stays held until it is synced and renamed in (`commitInBackground`).
        this.queue.push({ kind: 'streamedReplace', file, streamed, aside, ...(done === undefined ? {} : { done }) });
        this.kick();
      },
      (error: unknown) => {
        this.deferred = null;
        this.fail(error);
      },
    );
  }

  /**
   * Encodes a large append (`Codec.encodeInSlices`: a backend commit's delta of a huge
   * DeleteRange, ~15.9 MB for check perf's 55k-key cleanup, which took 200+ ms in one turn of the
   * loop) a slice per turn, framed in memory (`frameInTurns`), then queues it as the append it is,
   * and what was held behind it after it, in order. Meanwhile its file's later writes wait, and a
   * barrier holds everything after it (the append is in the queue before it when it reaches the
   * worker), and the encoding then runs flat out; a sync does not wait for it, as for a rewrite
   * (see `sync`): the db lags the WAL until it is written.
   */
  private deferAppend(file: string, slices: Iterable<Uint8Array>): void {
    const deferred: DeferredReplace = { file, aside: null, held: [], holdAll: false, append: true, caughtUp: [] };
    this.deferred = deferred;
    const startedMs = performance.now();
    this.frameInTurns(slices, () => deferred.holdAll).then(
      ({ parts, turns }) => {
        if (this.failed !== null) return;
        this.deferred = null;
        this.options.onDeferredAppend?.({ file, bytes: byteLength(parts), turns, encodeMs: performance.now() - startedMs, waited: deferred.holdAll });
        this.queue.push({ kind: 'append', file, parts });
        this.release(deferred.held);
        this.afterCaughtUp(deferred.caughtUp);
        this.kick();
      },
      (error: unknown) => {
        this.deferred = null;
        this.fail(error);
      },
    );
  }

  /** The store stops for good: every later call rejects with this error, and the host is told. */
  private fail(error: unknown): void {
    this.failed = error instanceof Error ? error : new Error(String(error));
    this.options.onFatal(this.failed);
  }

  /**
   * A payload's slices framed as one record, a turn of the loop at a time: the same bytes
   * `frameParts` makes of the whole encoding (`PartsInMemory`: parts of at most `framePartBytes`,
   * each part's CRC carried across turns), the payload copied into chunks of `turnBufferBytes`
   * (the codec reuses its slice).
   */
  private async frameInTurns(slices: Iterable<Uint8Array>, urgent: () => boolean): Promise<{ readonly parts: Buffer[]; readonly turns: number }> {
    const partBytes = this.options.framePartBytes ?? framePartBytes;
    const parts = new PartsInMemory(() => partBytes, () => turnBufferBytes);
    // Not a turn inside the caller's `write` (its first ran there, ~5 ms of a Ready's write): the
    // Ready's other work (sends, the sync) goes first. A replace's first turn waits for its segment.
    await setImmediate();
    let turns = 1;
    let turnStartedMs = performance.now();
    for (const slice of slices) {
      parts.add(slice);
      const turnMs = performance.now() - turnStartedMs;
      if (turnMs < encodeTurnMs) continue;
      this.options.onEncodeTurn?.(turnStartedMs, turnMs);
      await (urgent() ? setImmediate() : setTimeout(encodePauseMs));
      turns++;
      turnStartedMs = performance.now();
    }
    return { parts: parts.end(), turns };
  }

  /**
   * Writes a payload's slices as one record into a segment prepared for `log`'s replace: each
   * turn's slices at their offsets after a reserved header as soon as they are made, a part's
   * header (length and CRC of its slices) once the part is full or the record ends. The same bytes
   * as the record framed whole (`frameParts`), but only one turn's slices are alive at a time:
   * holding the whole 136 MiB rewrite until the end made V8 mark-compact every second or so under
   * its external-memory pressure, stalling the loop. Parts of at most `framePartBytes`: a keyspace
   * larger than one frame (256 MiB) is written, and read back, as one image.
   */
  private async encodeInTurns(slices: Iterable<Uint8Array>, log: SegmentedLog, urgent: () => boolean): Promise<StreamedFrame> {
    const partBytes = this.options.framePartBytes ?? framePartBytes;
    const prepared = await log.prepareReplace();
    // The codec writes each slice over the one before: a turn's slices are copied into one buffer,
    // written, and the buffer reused; nothing of the rewrite's size is allocated (see Codec).
    const turnBytes = Buffer.allocUnsafe(turnBufferBytes);
    let used = 0;
    // Where the turn buffer's bytes go in the segment (one part's payload, contiguous).
    let usedAt = 0;
    const builder = new PartBuilder(() => partBytes);
    let turns = 1;
    let turnStartedMs = performance.now();
    // The wait for each turn's write is the turn's yield to the event loop; a pause after it
    // leaves the loop to the member's own work (see encodePauseMs).
    const writeBatch = async () => {
      if (used === 0) return;
      const bytes = used;
      await writeAll(prepared.handle, [turnBytes.subarray(0, bytes)], usedAt);
      used = 0;
    };
    // A part's header goes before its payload, written once the part has ended (its buffered bytes first).
    const place = async (piece: FramedPiece) => {
      if (piece.header) {
        await writeBatch();
        await writeAll(prepared.handle, [piece.bytes], piece.at);
        return;
      }
      if (piece.bytes.byteLength > turnBytes.byteLength - used) await writeBatch();
      if (piece.bytes.byteLength > turnBytes.byteLength) {
        // Larger than the buffer (one change of megabytes): written as it is before the next is taken.
        await writeAll(prepared.handle, [asBuffer(piece.bytes)], piece.at);
        return;
      }
      if (used === 0) usedAt = piece.at;
      turnBytes.set(piece.bytes, used);
      used += piece.bytes.byteLength;
    };
    try {
      for (const slice of slices) {
        for (const piece of builder.add(slice)) await place(piece);
        const turnMs = performance.now() - turnStartedMs;
        if (turnMs < encodeTurnMs) continue;
        this.options.onEncodeTurn?.(turnStartedMs, turnMs);
        await writeBatch();
        turns++;
        if (!urgent()) await setTimeout(encodePauseMs);
        turnStartedMs = performance.now();
      }
      await place(builder.end());
    } catch (error) {
      // The store has failed (onFatal): the segment is never renamed in; close its handle.
      await prepared.handle.close().catch(() => {});
      throw error;
    }
    return { prepared, bytes: builder.framedBytes, turns };
  }

  /** The bytes a segmented file's live segments take on disk (zero tails included, as bbolt's file size counts its free pages): etcd_mvcc_db_total_size_in_bytes. */
  segmentedBytes(file: string): number {
    return this.segmented.get(file)?.bytes ?? 0;
  }

  /** Resolves when every queued write and sync is done (graceful stop). Rejects after a failure. */
  flush(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.held !== null) {
      this.heldDue = true;
      this.kick();
    }
    if (!this.running && this.queue.length === 0 && this.deferred === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Flushes, then closes every file. The store takes no writes afterwards. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const handle of this.handles.values()) await handle.close();
    this.handles.clear();
    for (const log of this.segmented.values()) await log.close();
  }

  private kick(): void {
    if (this.failed !== null) return;
    if (this.running) {
      this.wakeWorker?.();
      return;
    }
    this.running = true;
    this.drain().then(
      () => {
        this.running = false;
        // Work queued by a microtask after the worker's last look (a sync's `done` resolving a
        // promise whose continuation writes again) found it still running: start it again.
        if (this.queue.length > 0) return this.kick();
        // A deferred replace still encoding queues itself and kicks again when done.
        if (this.deferred !== null) return;
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      },
      (error: unknown) => {
        this.running = false;
        this.fail(error);
      },
    );
  }

  /**
   * Performs the queue in order, except a deferred replace (the backend's rewrite: ~100 MB
   * written and synced took 0.4-0.7 s under check perf, while every WAL append and sync queued
   * behind it waited): it is written in the background, and only what must follow it waits for
   * it — its own file's later writes, and a barrier (which makes every file durable). A sync does
   * not cover it (see `sync`), nor a large append still being framed.
   */
  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.background !== null || (this.held !== null && this.heldDue)) {
      if (this.queue.length === 0 && this.held !== null && this.heldDue) {
        await this.writeHeld();
        continue;
      }
      if (this.queue.length === 0) {
        // Until the background replace is in, or something is queued: waiting for the replace
        // alone left every WAL append and sync queued meanwhile behind its sync and rename
        // (0.2-0.4 s for check perf's 130 MiB rewrite: puts of 0.45-0.87 s on every member).
        await Promise.race([this.backgroundWritten(), new Promise<void>((resolve) => (this.wakeWorker = resolve))]);
        this.wakeWorker = null;
        continue;
      }
      const batch = this.queue;
      this.queue = [];
      const synced: (() => void)[] = [];
      for (let i = 0; i < batch.length; i++) {
        const operation = batch[i]!;
        // What was held goes down before anything else, or in front of the WAL's next append.
        if (this.held !== null && !(operation.kind === 'append' && operation.file === walFile)) await this.writeHeld();
        if (operation.kind === 'sync') synced.push(operation.done);
        else if (operation.kind === 'barrier') {
          await this.backgroundWritten();
          await this.fsyncDirty();
        } else if (operation.kind === 'replace') {
          await this.backgroundWritten(operation.file);
          await this.replace(operation.file, operation.parts);
        } else if (operation.kind === 'streamedReplace') {
          await this.backgroundWritten(operation.file);
          this.commitInBackground(operation.file, operation.streamed, operation.done, operation.aside);
        } else if (operation.kind === 'setAside') {
          await this.backgroundWritten(operation.file);
          const log = this.segmented.get(operation.file)!;
          const prepared = await log.prepareReplace();
          await writeAll(prepared.handle, operation.parts, 0);
          this.removeReceived();
          this.stats.bytesWritten += await log.setAside(prepared, byteLength(operation.parts), receivedDbPath(this.options.dataDir, operation.index));
        } else if (operation.kind === 'setAsideLater' || operation.kind === 'appendLater') {
          throw new AssertionError(`${operation.kind} for ${operation.file} reached the queue: it is only ever held behind a deferred replace`);
        } else if (operation.kind === 'adoptAside') {
          await this.backgroundWritten(operation.file);
          await this.segmented.get(operation.file)!.adoptAside(receivedDbPath(this.options.dataDir, operation.index));
          // The log is the adopted segment, synced: earlier appends to it are superseded.
          this.dirtyFiles.delete(operation.file);
          this.removeReceived();
        } else {
          // Not an await when there is nothing to wait for: the append's write is then issued in
          // the turn that queued it (the host's sync), ahead of that turn's peer flushes.
          if (this.background?.file === operation.file) await this.backgroundWritten(operation.file);
          // Consecutive appends to one file go down in one write.
          const parts = [...operation.parts];
          while (batch[i + 1]?.kind === 'append' && (batch[i + 1] as { file: string }).file === operation.file) parts.push(...(batch[++i] as { parts: readonly Buffer[] }).parts);
          const held = operation.file === walFile ? this.takeHeld() : null;
          if (held !== null) parts.unshift(...held);
          if (this.holds(batch, i, operation.file, parts, synced.length > 0)) continue;
          const durable = this.lastWriteBeforeSync(batch, i, operation.file, synced.length > 0);
          if (durable && this.appendsOnLoop(operation.file, parts)) {
            // One microtask later: the messages the Ready handed over before its sync (the
            // leader's MsgApps) were queued for their flush first, and leave before the loop blocks.
            await Promise.resolve();
            this.appendOnLoop(operation.file, parts);
            continue;
          }
          await this.append(operation.file, parts, durable);
        }
      }
      if (synced.length > 0) {
        await this.fsyncDirty();
        for (const done of synced) done();
      }
    }
  }

  /**
   * Holds a small WAL append that nothing in its batch syncs, instead of writing it: a Ready that
   * only moved the commit index (every round's second Ready on every member at check perf's pace,
   * one put per round). Written at once, it cost a trip through libuv's pool and a wake of the
   * loop per round on each member, and the next durable append wrote its bytes again anyway
   * (SegmentedLog's `unsynced`). Held, it is written in front of the next WAL append, before any
   * other operation (so the files' page cache still holds a prefix of what was issued), or after
   * `heldAppendMs`. etcd's WAL does the same: a Save that need not sync stays in its page writer's
   * buffer until the next sync. Nothing waits on such a record: a process that dies meanwhile
   * loses a suffix of unsynced writes, as one that died a moment earlier would have.
   */
  private holds(batch: readonly Operation[], i: number, file: string, parts: Buffer[], syncedBefore: boolean): boolean {
    // Not while a flush waits (a graceful stop): it would find the store idle with the append unwritten.
    if (file !== walFile || syncedBefore || i + 1 !== batch.length || !this.segmented.has(file) || this.idleWaiters.length > 0) return false;
    const bytes = byteLength(parts);
    if (bytes > heldBytesMax) return false;
    this.held = { parts, bytes };
    if (this.heldTimer === null) {
      this.heldTimer = timer(() => {
        this.heldTimer = null;
        this.heldDue = true;
        this.kick();
      }, this.options.heldAppendMs ?? heldAppendMs);
      this.heldTimer.unref();
    }
    return true;
  }

  private takeHeld(): Buffer[] | null {
    const held = this.held;
    if (held === null) return null;
    this.held = null;
    this.heldDue = false;
    if (this.heldTimer !== null) clearTimeout(this.heldTimer);
    this.heldTimer = null;
    return held.parts;
  }

  private async writeHeld(): Promise<void> {
    const parts = this.takeHeld();
    if (parts !== null) await this.append(walFile, parts, false);
  }

  /**
   * Whether the append ending at `batch[i]` may be made durable by its own write (a segmented
   * log's O_DSYNC append): a round follows at the batch's end (a sync came before it in the batch,
   * `syncedBefore`, or one comes after), nothing but syncs come after it, and no other file or
   * directory waits for that round. Then the round has nothing left to flush: a put's WAL append
   * and fdatasync are one call, not two.
   */
  private lastWriteBeforeSync(batch: readonly Operation[], i: number, file: string, syncedBefore: boolean): boolean {
    if (!syncedBefore && i + 1 === batch.length) return false;
    if (!this.segmented.has(file) || this.dirtyDirectories.size > 0) return false;
    for (const dirty of this.dirtyFiles) if (dirty !== file) return false;
    for (let k = i + 1; k < batch.length; k++) if (batch[k]!.kind !== 'sync') return false;
    return true;
  }

  /**
   * Whether a lone durable WAL append (`lastWriteBeforeSync` said so) is written on the event loop:
   * `writevSync` on the segment's O_DSYNC descriptor (`SegmentedLog.appendOnLoop`), instead of a
   * `writev` in libuv's pool. The pool's write costs two thread hand-offs around the syscall (the
   * pool thread woken, then the loop), ~0.7 ms of the WAL's 1.2-1.4 ms "fsync" on two shared
   * cores, where a bare O_DSYNC write is 0.08 ms p50; etcd writes and syncs on its goroutine. The
   * loop is blocked for the write and its flush meanwhile, so not: for more than
   * `walWriteOnLoopBytes` (a snapshot's record, a large txn: a long write would hold the loop;
   * 16 puts in flight make ~5 KiB and do go on the loop), before a segment cut (its truncate, sync,
   * rename and directory sync), while the db is rewritten or a large append is framed
   * (`deferred`, `background`: their writes and flushes share the disk, and the write would wait
   * behind them), nor while a segment's zeros are being prepared (flushes of up to 8 MiB), nor
   * while peer messages of this turn wait for their flush (`peerFlushPending`: a leader's MsgApps;
   * its write issued to the pool at once overlaps the flush), nor for `onLoopPauseMs` after one
   * that took over `onLoopSlowMs`.
   */
  private appendsOnLoop(file: string, parts: readonly Buffer[]): boolean {
    const most = this.options.walWriteOnLoopBytes ?? walWriteOnLoopBytes;
    if (most === 0 || file !== walFile || this.deferred !== null || this.background !== null || this.options.peerFlushPending?.() === true) return false;
    if (this.onLoopPausedUntilMs > 0 && performance.now() < this.onLoopPausedUntilMs) return false;
    for (const log of this.segmented.values()) if (log.preparing) return false;
    return this.segmented.get(file)!.canAppendOnLoop(byteLength(parts), most);
  }

  /** The append `appendsOnLoop` chose, durable when this returns; a failed write throws (drain's caller makes it fatal). */
  private appendOnLoop(file: string, parts: readonly Buffer[]): void {
    if (trace.enabled) trace.mark(`append.start ${file} dsync loop`);
    const startedMs = performance.now();
    this.stats.bytesWritten += this.segmented.get(file)!.appendOnLoop(parts, this.options.walWriteOnLoopBytes ?? walWriteOnLoopBytes);
    const endedMs = performance.now();
    if (endedMs - startedMs > onLoopSlowMs) this.onLoopPausedUntilMs = endedMs + onLoopPauseMs;
    this.dirtyFiles.delete(file);
    if (trace.enabled) trace.mark('append.end');
  }

  /**
   * Starts syncing and renaming a streamed replace into its log without waiting for it, then
   * queues what was held behind it (its file's later writes; after a barrier, everything). Its
   * file's earlier writes need no sync of their own: the replace supersedes them. Held, not queued:
   * a backend commit in the queue would have stopped the worker there, and every WAL append and
   * sync queued after it with it, for the whole sync and rename (0.2-0.4 s at 130 MiB).
   */
  private commitInBackground(file: string, streamed: StreamedFrame, done: (() => void) | undefined, aside: number | null): void {
    const log = this.segmented.get(file)!;
    let commit: Promise<number>;
    if (aside === null) {
      this.dirtyFiles.delete(file);
      commit = log.commitReplace(streamed.prepared, streamed.bytes).then((bytes) => {
        if (file === backendFile) this.removeReceived();
        return bytes;
      });
    } else {
      // Set aside, not renamed in: the log's own writes before it are not superseded yet (`adoptAside` does that).
      this.removeReceived();
      commit = log.setAside(streamed.prepared, streamed.bytes, receivedDbPath(this.options.dataDir, aside));
    }
    const written = commit.then((bytes) => {
      this.stats.bytesWritten += bytes;
      this.background = null;
      const deferred = this.deferred;
      this.deferred = null;
      if (deferred !== null) {
        this.release(deferred.held);
        this.afterCaughtUp(deferred.caughtUp);
      }
      done?.();
      this.kick();
    });
    // Handled where drain waits for it (or at its end); until then a failure must not count as unhandled.
    written.catch(() => {});
    this.background = { file, written };
  }

  /** Waits for the background replace, if any (of `file`, when given). Its failure is the store's (drain's caller reports it). */
  private async backgroundWritten(file?: string): Promise<void> {
    const background = this.background;
    if (background === null || (file !== undefined && background.file !== file)) return;
    await background.written;
  }

  private async append(file: string, parts: readonly Buffer[], durable: boolean): Promise<void> {
    const log = this.segmented.get(file);
    if (log !== undefined) {
      if (trace.enabled) trace.mark(`append.start ${file}${durable ? ' dsync' : ''}`);
      const appended = await log.append(parts, durable);
      this.stats.bytesWritten += appended.bytes;
      if (appended.durable) this.dirtyFiles.delete(file);
      else this.dirtyFiles.add(file);
      if (trace.enabled) trace.mark('append.end');
      return;
    }
    let handle = this.handles.get(file);
    if (handle === undefined) {
      const path = filePath(this.options.dataDir, file);
      handle = await open(path, 'a', 0o600);
      this.handles.set(file, handle);
      // A file the directory did not list before needs the directory synced too.
      this.dirtyDirectories.add(dirname(path));
    }
    if (trace.enabled) trace.mark(`append.start ${file}`);
    await writeAll(handle, parts, null);
    this.stats.bytesWritten += byteLength(parts);
    this.dirtyFiles.add(file);
    if (trace.enabled) trace.mark('append.end');
  }

  private async replace(file: string, parts: readonly Buffer[]): Promise<void> {
    const log = this.segmented.get(file);
    if (log !== undefined) {
      this.stats.bytesWritten += await log.replace(parts);
      this.dirtyFiles.delete(file);
      if (file === backendFile) this.removeReceived();
      return;
    }
    const path = filePath(this.options.dataDir, file);
    const temporary = `${path}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await writeAll(handle, parts, null);
      this.stats.bytesWritten += byteLength(parts);
      await this.timedSync(handle, file);
    } finally {
      await handle.close();
    }
    // The append handle points at the old inode: close it before the rename replaces the name.
    const old = this.handles.get(file);
    if (old !== undefined) {
      this.handles.delete(file);
      await old.close();
    }
    this.dirtyFiles.delete(file);
    await rename(temporary, path);
    await this.syncDirectory(dirname(path));
  }

  /**
   * Removes the received snapshot images set aside (`receivedDbPath`) but never adopted: once the
   * db log has been replaced (its rewrite, a recovery's replace with the image, an adoption), none
   * can be the one a restart needs, and before a new one is set aside an older one never became
   * the WAL's snapshot (its adoption follows its WAL append in the queue). A crash before the
   * removal is durable leaves one that the next start lists and the node ignores.
   */
  private removeReceived(): void {
    for (const { path } of receivedDbFiles(this.options.dataDir, (dir) => readdirSync(dir))) rmSync(path, { force: true });
  }

  private async fsyncDirty(): Promise<void> {
    // Nothing written since the last round, or made durable by its own write (`lastWriteBeforeSync`).
    if (this.dirtyFiles.size === 0 && this.dirtyDirectories.size === 0) return;
    this.stats.fsyncRounds++;
    const files = [...this.dirtyFiles];
    this.dirtyFiles.clear();
    const directories = [...this.dirtyDirectories];
    this.dirtyDirectories.clear();
    if (trace.enabled) trace.mark(`fsync.start ${files.join('+')}`);
    await Promise.all(files.map((file) => this.segmented.get(file)?.sync() ?? this.timedSync(this.handles.get(file)!, file)));
    for (const directory of directories) await this.syncDirectory(directory);
    if (trace.enabled) trace.mark('fsync.end');
  }

  private async timedSync(handle: FileHandle, file: string): Promise<void> {
    const started = process.hrtime.bigint();
    await fdatasyncFd(handle.fd);
    this.options.onFsync?.(file, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async syncDirectory(directory: string): Promise<void> {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private relative(path: string): string {
    return relative(this.options.dataDir, path) || path;
  }
}

function formatMs(ms: number): string {
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

function byteLength(parts: readonly Buffer[]): number {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  return total;
}
