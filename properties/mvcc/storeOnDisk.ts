import { deepStrictEqual, fail, strictEqual } from 'node:assert/strict';
import { tornRecord, type DurableRecord } from '../../core/base/durable.ts';
import { always, never, type Ratio } from '../../core/base/ratio.ts';
import { SimDisk, calmDisk } from '../../sim/disk.ts';
import { SeededRandom } from '../../sim/rng.ts';
import { Backend, backendFile, defaultBackendOptions, type BackendOptions, type OpenedBackend } from '../../core/mvcc/backend.ts';
import { decodeBackendRecord, encodeBackendRecord } from '../../core/mvcc/backendCodec.ts';
import { changeAt, changeCount, type BackendImage, type StoredChange } from '../../core/mvcc/backendImage.ts';
import { KvStore, defaultKvStoreOptions, type KvStoreOptions } from '../../core/mvcc/kvStore.ts';
import { plainKeyValue, SlabKeyValue, ValueSlabs } from '../../core/mvcc/valueSlabs.ts';

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

/**
 * The database a backend opened from bytes holds equals the one opened from the simulator's
 * objects: the same commits and torn tail, meta and sizes, revisions, and changes in the same
 * shape (a lone change or an array, holes where they were, a tombstone kept as its key alone)
 * with the same fields. A value in a slab is compared by its bytes and length: where it sits (its
 * slab, its offset) is where each reader's allocator put it, and the rest of its slab is other
 * values. deepStrictEqual compared whole slabs per KeyValue (4 MiB each) and their offsets, so it
 * was slow and failed a database whose values went through another allocator.
 */
export function checkSameDatabase(fromBytes: OpenedBackend, fromObjects: OpenedBackend): void {
  deepStrictEqual([fromBytes.commits, fromBytes.torn], [fromObjects.commits, fromObjects.torn], 'commits and torn tail');
  const read = fromBytes.backend.snapshot();
  const expected = fromObjects.backend.snapshot();
  const view = (image: BackendImage) => ({ meta: image.meta, sizeInUse: image.sizeInUse, size: image.size, revisions: image.keys.size });
  deepStrictEqual(view(read), view(expected), 'the database read from bytes: meta, sizes and revisions');
  const expectedRevisions = expected.keys.entries();
  for (const [main, changes] of read.keys.entries()) {
    const [expectedMain, expectedChanges] = expectedRevisions.next().value!;
    strictEqual(main, expectedMain, 'the database read from bytes: the next revision');
    strictEqual(Array.isArray(changes), Array.isArray(expectedChanges), `the database read from bytes: revision ${main}'s changes as a lone change or an array`);
    strictEqual(changeCount(changes), changeCount(expectedChanges), `the database read from bytes: revision ${main}'s changes`);
    for (let sub = 0; sub < changeCount(changes); sub++) sameChange(changeAt(changes, sub), changeAt(expectedChanges, sub), `the database read from bytes: the change at ${main}.${sub}`);
  }
}

function sameChange(read: StoredChange | undefined, expected: StoredChange | undefined, what: string): void {
  if (typeof read !== 'object' || typeof expected !== 'object') strictEqual(read, expected, what);
  else if (read instanceof SlabKeyValue && expected instanceof SlabKeyValue) {
    if (!sameFields(read, expected, slabFields) || !sameBytes(read.slab, read.offset, expected.slab, expected.offset, read.length)) {
      const view = (kv: SlabKeyValue) => ({ ...plainKeyValue(kv), length: kv.length });
      deepStrictEqual(view(read), view(expected), what);
      fail(`${what}: the same fields, not the same value bytes`);
    }
  } else if (Object.getPrototypeOf(read) !== Object.getPrototypeOf(expected) || !sameFields(read, expected, Object.keys(read)) || Object.keys(read).length !== Object.keys(expected).length) {
    // A string-valued KeyValue (or an older record's tombstone), or one in a slab where the other is not: nothing holds a slab to walk.
    deepStrictEqual(read, expected, what);
    fail(`${what}: not the same KeyValue`);
  }
}

/** What a SlabKeyValue holds but its slab and offset (where its allocator put the value). */
const slabFields = ['key', 'createRevision', 'modRevision', 'version', 'lease', 'length'];

function sameFields(read: object, expected: object, fields: readonly string[]): boolean {
  for (const field of fields) if ((read as Record<string, unknown>)[field] !== (expected as Record<string, unknown>)[field]) return false;
  return true;
}

function sameBytes(slab: Uint8Array, offset: number, other: Uint8Array, otherOffset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (slab[offset + i] !== other[otherOffset + i]) return false;
  return true;
}
