import { deepStrictEqual } from 'node:assert/strict';
import { tornRecord, type DurableRecord } from '../../core/base/durable.ts';
import { always, never, type Ratio } from '../../core/base/ratio.ts';
import { SimDisk, calmDisk } from '../../sim/disk.ts';
import { SeededRandom } from '../../sim/rng.ts';
import { Backend, backendFile, defaultBackendOptions, type BackendOptions, type OpenedBackend } from '../../core/mvcc/backend.ts';
import { decodeBackendRecord, encodeBackendRecord } from '../../core/mvcc/backendCodec.ts';
import type { BackendImage } from '../../core/mvcc/backendImage.ts';
import { KvStore, defaultKvStoreOptions, type KvStoreOptions } from '../../core/mvcc/kvStore.ts';
import { ValueSlabs } from '../../core/mvcc/valueSlabs.ts';

/**
 * A store on the simulated disk, as a member runs it: the backend's writes go to the disk's page
 * cache (`persist`), `sync` makes them durable, `crash` loses what was not synced (perhaps tearing
 * the first unsynced append), and `restart` opens the backend from what the disk kept.
 */
export class StoreOnDisk {
  readonly disk: SimDisk;
  store: KvStore;
  lastOpen: OpenedBackend | null = null;
  readonly storeOptions: KvStoreOptions;
  private readonly backendOptions: BackendOptions;

  /** Every restart also reads the file as a real disk holds it (records to bytes and back) and checks it finds the same database. */
  private readonly throughBytes: boolean;

  constructor(options: { store?: Partial<KvStoreOptions>; backend?: Partial<BackendOptions>; tornWrite?: Ratio | boolean; seed?: string; throughBytes?: boolean } = {}) {
    this.throughBytes = options.throughBytes ?? false;
    const tornWrite = options.tornWrite === true ? always : options.tornWrite === false || options.tornWrite === undefined ? never : options.tornWrite;
    this.disk = new SimDisk({ ...calmDisk, tornWrite }, new SeededRandom(options.seed ?? 'store-on-disk'));
    this.storeOptions = { ...defaultKvStoreOptions, ...options.store };
    this.backendOptions = { ...defaultBackendOptions, ...options.backend };
    this.store = KvStore.open(Backend.create(this.backendOptions), this.storeOptions);
  }

  /** Hands the backend's writes to the disk (not yet durable). */
  persist(): void {
    this.disk.write(this.store.backend.takeWrites());
  }

  /** Commits nothing; makes everything handed to the disk durable. */
  sync(): void {
    this.persist();
    this.disk.completeSync(this.disk.beginSync().mark);
  }

  /** Commits the batch and syncs it. */
  commitAndSync(): void {
    this.store.backend.commit();
    this.sync();
  }

  /** The process dies (unsynced writes lost; the backend's unpersisted writes die with it) and restarts. */
  crashAndRestart(): OpenedBackend {
    this.disk.crash();
    return this.restart();
  }

  restart(): OpenedBackend {
    const records = this.disk.read().files.get(backendFile) ?? [];
    const opened = Backend.open(records, this.backendOptions);
    if (this.throughBytes) {
      // One reader's slabs for the whole file, as a runtime member's codec has.
      const values = new ValueSlabs();
      checkSameDatabase(Backend.open(records.map((record) => throughBytes(record, values)), this.backendOptions), opened);
    }
    this.lastOpen = opened;
    this.store = KvStore.open(opened.backend, this.storeOptions);
    return opened;
  }
}

function throughBytes(record: DurableRecord, values: ValueSlabs): DurableRecord {
  return record === tornRecord ? record : decodeBackendRecord(encodeBackendRecord(record as BackendImage), values);
}

/** The database a backend opened from bytes holds equals the one opened from the simulator's objects. */
function checkSameDatabase(fromBytes: OpenedBackend, fromObjects: OpenedBackend): void {
  deepStrictEqual([fromBytes.commits, fromBytes.torn], [fromObjects.commits, fromObjects.torn], 'commits and torn tail');
  const view = (image: BackendImage) => ({ keys: [...image.keys.entries()], meta: image.meta, sizeInUse: image.sizeInUse, size: image.size });
  deepStrictEqual(view(fromBytes.backend.snapshot()), view(fromObjects.backend.snapshot()), 'the database read from bytes');
}
