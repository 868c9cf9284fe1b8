import { assert } from '../core/base/assert.ts';
import type { Random } from '../core/base/random.ts';
import { never, type Ratio } from '../core/base/ratio.ts';
import { tornRecord, type DurableRecord, type DurableState, type DurableWrite } from '../core/host/node.ts';
import { RecordFreezer } from './recordFreezer.ts';

export interface DiskOptions {
  readonly syncLatencyUsMin: number;
  readonly syncLatencyUsMax: number;
  /** On a crash, how often the first unsynced append is left behind torn instead of vanishing. */
  readonly tornWrite: Ratio;
  /** The most records one file may hold: a protocol that never compacts fails loudly. */
  readonly recordsPerFileMax: number;
  /** Writes to one file that may lag behind the syncs (see `DiskLag`); absent, every sync covers every write. */
  readonly lag?: DiskLag;
}

/**
 * How the runtime's FileStore treats its db: a rewrite (a defragment's or the periodic one) or a
 * large append is made in turns, and until it is in, it and every later write to its file are
 * held, and syncs asked for meanwhile do not wait for them (the db lags the WAL). Here a write to
 * `file` that finds no lag under way starts one with chance `chance`, lasting `usMin`..`usMax`:
 * until it ends, that write and every later write to `file` are set aside from the syncs. At its
 * end, those that a completed sync was asked to cover become durable, the rest wait for the next
 * sync as if written then. `caughtUp` waits for it (DurableStore.caughtUp).
 */
export interface DiskLag {
  readonly file: string;
  readonly chance: Ratio;
  readonly usMin: number;
  readonly usMax: number;
}

export const calmDisk: DiskOptions = {
  syncLatencyUsMin: 100,
  syncLatencyUsMax: 1_000,
  tornWrite: never,
  recordsPerFileMax: 1_000_000,
};

export interface DiskStats {
  writes: number;
  syncs: number;
  writesLost: number;
  tornWrites: number;
  /** Lags begun (`DiskLag`). */
  lags: number;
}

/**
 * A node's disk. Writes go to a page cache first; `sync` makes everything written so far durable
 * after a latency. A crash keeps exactly the synced writes: every unsynced write is lost, except
 * that the first unsynced append may be left behind torn (a record only partly on the platter,
 * which recovery must detect and discard, as etcd's WAL does with its CRC).
 *
 * The simulator drives the latency: `beginSync()` returns the latency and a mark; when the
 * latency has passed, `completeSync(mark)` makes the writes up to the mark durable.
 *
 * Records are kept by reference, as the objects a write handed over, and frozen then
 * (`RecordFreezer`): a node that edits a record after writing it fails at the edit (a byte array,
 * which cannot be frozen, soon after it: see `checkEdits`), instead of the disk silently holding
 * the edit (a real disk holds the bytes of the write).
 */
export class SimDisk {
  readonly stats: DiskStats = { writes: 0, syncs: 0, writesLost: 0, tornWrites: 0, lags: 0 };
  /** Bumped whenever the durable contents change (a sync completed, a crash tore a write). */
  durableVersion = 0;
  private readonly durable = new Map<string, DurableRecord[]>();
  /** Unsynced writes with their sequence numbers, in the order they reach the page cache (a lag's come when it ends). */
  private pending: { readonly write: DurableWrite; readonly seq: number }[] = [];
  /** Writes handed over so far (a write's sequence number is the count with it). */
  private written = 0;
  /** Writes up to this sequence number were asked to be covered by a sync that completed. */
  private coveredThrough = 0;
  /** While a lag is under way (`DiskLag`): the writes set aside from the syncs, with their sequence numbers. */
  private lagging: { readonly write: DurableWrite; readonly seq: number }[] | null = null;
  /** Who waits for the lagging writes a completed sync covered (`caughtUp`). */
  private lagWaiters: (() => void)[] = [];
  private readonly random: Random;
  private readonly options: DiskOptions;
  private readonly freezer: RecordFreezer;
  /** How a violation names this disk (`node 3`), if it is one of several. */
  private readonly name: string | undefined;

  /**
   * `freezer` may be shared by a simulation's disks (it checks their byte arrays after every
   * event: `RecordFreezer.checkEdits`); by default the disk has its own, checked at reads only.
   */
  constructor(options: DiskOptions, random: Random, freezer = new RecordFreezer(), name?: string) {
    assert(options.syncLatencyUsMax >= options.syncLatencyUsMin && options.syncLatencyUsMin >= 0, 'bad sync latency range');
    this.options = options;
    this.random = random;
    this.freezer = freezer;
    this.name = name;
  }

  /** Buffers the writes; returns how long a lag they started lasts (µs, see `DiskLag`), or null when none started. */
  write(writes: readonly DurableWrite[]): number | null {
    let lagUs: number | null = null;
    const lag = this.options.lag;
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i]!;
      this.freezer.freezeWrite(write, this.fileName(write.file));
      const seq = ++this.written;
      if (lag !== undefined && write.file === lag.file) {
        // Coins tossed only on a disk that lags, so a disk without it draws as before.
        if (this.lagging === null && this.random.chance(lag.chance)) {
          this.lagging = [];
          lagUs = lag.usMin === lag.usMax ? lag.usMin : this.random.between(lag.usMin, lag.usMax);
          this.stats.lags++;
        }
        if (this.lagging !== null) {
          this.lagging.push({ write, seq });
          continue;
        }
      }
      this.pending.push({ write, seq });
    }
    this.stats.writes += writes.length;
    return lagUs;
  }

  /**
   * Calls `done` once every write a completed sync was asked to cover is durable: at once, unless
   * some of them lag (then when the lag ends, `endLag`).
   */
  caughtUp(done: () => void): void {
    if (this.lagsCovered()) this.lagWaiters.push(done);
    else done();
  }

  /** Whether a write that a completed sync was asked to cover is still set aside by a lag. */
  private lagsCovered(): boolean {
    return this.lagging !== null && this.lagging.length > 0 && this.lagging[0]!.seq <= this.coveredThrough;
  }

  /**
   * The lag is over: the lagging writes a completed sync covered are durable, the others wait for
   * the next sync. Returns who waited (`caughtUp`), to be called by the process.
   */
  endLag(): (() => void)[] {
    const lagging = this.lagging;
    assert(lagging !== null, 'a lag ended that never began');
    this.lagging = null;
    let applied = 0;
    for (const { write, seq } of lagging) {
      if (seq <= this.coveredThrough) {
        this.apply(write);
        applied++;
      } else this.pending.push({ write, seq });
    }
    if (applied > 0) this.durableVersion++;
    const waiters = this.lagWaiters;
    this.lagWaiters = [];
    return waiters;
  }

  get unsyncedWrites(): number {
    return this.pending.length + (this.lagging?.length ?? 0);
  }

  /** Starts a sync of everything written so far; returns [latencyUs, mark] (the mark: the last write's sequence number). */
  beginSync(): { latencyUs: number; mark: number } {
    const { syncLatencyUsMin, syncLatencyUsMax } = this.options;
    const latencyUs = syncLatencyUsMin === syncLatencyUsMax ? syncLatencyUsMin : this.random.between(syncLatencyUsMin, syncLatencyUsMax);
    return { latencyUs, mark: this.written };
  }

  /**
   * The sync that began at `mark` has finished: the pending writes up to it are durable, except
   * those a lag still sets aside (they are not pending; see `DiskLag`).
   */
  completeSync(mark: number): void {
    assert(mark <= this.written, 'sync mark beyond the written data');
    const pending = this.pending;
    let applied = 0;
    let kept = 0;
    for (let i = 0; i < pending.length; i++) {
      const entry = pending[i]!;
      if (entry.seq <= mark) {
        this.apply(entry.write);
        applied++;
      } else pending[kept++] = entry;
    }
    pending.length = kept;
    if (mark > this.coveredThrough) this.coveredThrough = mark;
    this.stats.syncs++;
    if (applied > 0) this.durableVersion++;
  }

  /** The process died: unsynced writes are lost, and the first unsynced append may tear. */
  crash(): void {
    const first = this.pending[0]?.write;
    if (first !== undefined && first.kind === 'append' && first.records.length > 0 && this.random.chance(this.options.tornWrite)) {
      this.fileFor(first.file).push(tornRecord);
      this.stats.tornWrites++;
      this.durableVersion++;
    }
    this.stats.writesLost += this.pending.length + (this.lagging?.length ?? 0);
    this.pending = [];
    // The lag's writes die with the process, and so does whoever waited for them.
    this.lagging = null;
    this.lagWaiters = [];
  }

  /**
   * What a restarting process finds. The arrays are copies: the next incarnation owns them; the
   * records are the frozen ones written (their byte arrays checked against the write's).
   */
  read(): DurableState {
    const files = new Map<string, readonly DurableRecord[]>();
    for (const name of [...this.durable.keys()].sort()) {
      const records = this.durable.get(name)!;
      this.freezer.verify(records, this.fileName(name));
      files.set(name, [...records]);
    }
    return { files };
  }

  /** The durable records of one file (for tests and checkers; not a process's view). */
  durableRecords(file: string): readonly DurableRecord[] {
    return this.durable.get(file) ?? [];
  }

  private apply(write: DurableWrite): void {
    switch (write.kind) {
      case 'append': {
        const records = this.fileFor(write.file);
        for (const record of write.records) records.push(record);
        break;
      }
      case 'replace':
        this.durable.set(write.file, [...write.records]);
        break;
    }
    const length = this.durable.get(write.file)?.length ?? 0;
    assert(length <= this.options.recordsPerFileMax, () => `file ${write.file} holds ${length} records, over the limit of ${this.options.recordsPerFileMax}`);
  }

  private fileName(file: string): string {
    return this.name === undefined ? `file ${file}` : `${this.name} file ${file}`;
  }

  private fileFor(name: string): DurableRecord[] {
    let records = this.durable.get(name);
    if (records === undefined) {
      records = [];
      this.durable.set(name, records);
    }
    return records;
  }
}
