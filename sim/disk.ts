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
  readonly stats: DiskStats = { writes: 0, syncs: 0, writesLost: 0, tornWrites: 0 };
  /** Bumped whenever the durable contents change (a sync completed, a crash tore a write). */
  durableVersion = 0;
  private readonly durable = new Map<string, DurableRecord[]>();
  private pending: DurableWrite[] = [];
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

  write(writes: readonly DurableWrite[]): void {
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i]!;
      this.freezer.freezeWrite(write, this.fileName(write.file));
      this.pending.push(write);
    }
    this.stats.writes += writes.length;
  }

  get unsyncedWrites(): number {
    return this.pending.length;
  }

  /** Starts a sync of everything written so far; returns [latencyUs, mark]. */
  beginSync(): { latencyUs: number; mark: number } {
    const { syncLatencyUsMin, syncLatencyUsMax } = this.options;
    const latencyUs = syncLatencyUsMin === syncLatencyUsMax ? syncLatencyUsMin : this.random.between(syncLatencyUsMin, syncLatencyUsMax);
    return { latencyUs, mark: this.pending.length };
  }

  /** The sync that began at `mark` has finished: the first `mark` pending writes are durable. */
  completeSync(mark: number): void {
    assert(mark <= this.pending.length, 'sync mark beyond the written data');
    for (let i = 0; i < mark; i++) this.apply(this.pending[i]!);
    this.pending = mark === this.pending.length ? [] : this.pending.slice(mark);
    this.stats.syncs++;
    if (mark > 0) this.durableVersion++;
  }

  /** The process died: unsynced writes are lost, and the first unsynced append may tear. */
  crash(): void {
    const first = this.pending[0];
    if (first !== undefined && first.kind === 'append' && first.records.length > 0 && this.random.chance(this.options.tornWrite)) {
      this.fileFor(first.file).push(tornRecord);
      this.stats.tornWrites++;
      this.durableVersion++;
    }
    this.stats.writesLost += this.pending.length;
    this.pending = [];
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
