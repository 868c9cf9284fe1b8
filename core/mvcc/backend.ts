import type { KeyValue } from '../api/kv.ts';
import { assert, AssertionError } from '../base/assert.ts';
import { tornRecord, type DurableRecord, type DurableWrite } from '../base/durable.ts';
import { applyDeltaRecord, deltaBetween, isBackendDeltaRecord, wholeImage } from './backendDelta.ts';
import { bytesInPages, changeAt, changeCount, emptyKeyBucket, emptyMeta, entrySize, isBackendImage, keyValueOfChange, storedChange, type BackendImage, type BackendMeta, type KeyBucket, type RevisionChanges, type StoredChange } from './backendImage.ts';
import { countSlabBytes, SlabKeyValue, ValueSlabs } from './valueSlabs.ts';

/** The backend's own file, beside the WAL. */
export const backendFile = 'db';

/**
 * A backend image received from the leader (an installed snapshot) that a real disk holds aside
 * until the WAL records the snapshot (etcd's `<index>.snap.db`; runtime/storage/walSnapshotWrites.ts).
 * Its records are whole images; at start the one at the WAL snapshot's index stands in for a db
 * file that is behind it. The simulator's disk never writes it.
 */
export const receivedBackendFile = 'snap.db';

export interface BackendOptions {
  /** A write transaction that leaves this many uncommitted changes commits at its end (etcd's batch limit). */
  readonly batchLimit: number;
  /**
   * The allocator puts and relocations append long values to. The runtime's member passes the one
   * its decoders fill (`etcdProtocol`'s `memberValues`), so a member restarted or given a snapshot
   * fills one slab at a time, not its decoders' last one and a fresh one of its own. Absent: the
   * backend makes its own (the simulator, which never decodes: per member and per incarnation).
   */
  readonly values?: ValueSlabs;
}

export const defaultBackendOptions: BackendOptions = { batchLimit: 10_000 };

/** What `Backend.open` found on the disk. */
export interface OpenedBackend {
  readonly backend: Backend;
  /** How many whole commits the file held. */
  readonly commits: number;
  /** The file ended in a torn record, which was cut off (a replace of the file is queued first). */
  readonly torn: boolean;
}

/**
 * etcd's backend (bbolt behind a batch transaction), modelled on the simulated disk. Reads and
 * writes see one live database; writes also count toward the current batch, which `commit()`
 * turns into one record appended to the backend's file: an image of the whole database that
 * shares unchanged nodes with the previous ones (see BackendImage). A commit is durable once the
 * host has synced it; a crash keeps the synced commits, and `open` restores the last whole one,
 * cutting off a torn one. The host takes the writes with `takeWrites()`.
 *
 * Invariant: no commit happens inside a write transaction, so a commit never holds part of one.
 */
export class Backend {
  private readonly options: BackendOptions;
  private keys: KeyBucket;
  /** The meta bucket as it is now; an image takes a frozen copy (so the per-entry index update is a field write). */
  private readonly meta: { -readonly [Field in keyof BackendMeta]: BackendMeta[Field] };
  /** Changes since the last commit (etcd's `pending`). */
  private pending = 0;
  private lastImage: BackendImage | null;
  private writes: DurableWrite[] = [];
  private liveBytes = 0;
  private fileSize: number;
  private inWriteTxn = false;
  /** The main revision the open write transaction is writing, and its changes once it has two or more (owned, not yet in any image). */
  private openMain = -1;
  private openChanges: StoredChange[] | null = null;
  /** Commits written since the last replace of the file. */
  private commitsInFile = 0;
  /**
   * Called before every commit that writes something (etcd's backend hooks, OnPreCommitUnsafe): the
   * server writes state it keeps in memory into its buckets, so the commit holds it as of the same
   * consistent index as the rest.
   */
  preCommit: (() => void) | null = null;
  /** The highest main revision ever written here (compaction never removes the highest). */
  private highestMain: number;
  /** Main revisions written or removed since the last commit: the next commit's delta. */
  private readonly touchedMains = new Set<number>();
  /**
   * Per slab, the bytes of its values the key bucket holds (valueSlabs.ts: what bounds
   * fragmentation). A slab is dropped at 0. Null until counted: a backend opened from an image
   * adopts the counts its store's restore made in the same pass as the index (`adoptSlabCounts`;
   * for a snapshot install in steps, ahead of the install), or counts the bucket when first asked.
   */
  private heldBySlab: Map<Uint8Array, number> | null;
  /** A change was written or removed since the backend was made (counts made from its image no longer apply). */
  private changedSinceOpen = false;
  /** This backend's slab allocator (valueSlabs.ts; `BackendOptions.values`): puts and relocations append here, never to another member's. */
  readonly values: ValueSlabs;

  private constructor(options: BackendOptions, image: BackendImage | null) {
    this.options = options;
    this.values = options.values ?? new ValueSlabs();
    this.lastImage = image;
    this.keys = image === null ? emptyKeyBucket() : image.keys.clone();
    this.meta = { ...(image === null ? emptyMeta : image.meta) };
    this.liveBytes = image === null ? 0 : image.sizeInUse - bytesInPages(0);
    this.fileSize = image === null ? bytesInPages(0) : image.size;
    this.highestMain = this.keys.maxKey() ?? 0;
    // Not counted here: a scan of every change in one step (300k revisions: ~0.2-0.8 s at load 17).
    this.heldBySlab = image === null ? new Map() : null;
  }

  /** A backend with nothing on disk yet. */
  static create(options: BackendOptions = defaultBackendOptions): Backend {
    return new Backend(options, null);
  }

  /**
   * Opens the backend from its file's durable records: the last whole commit wins. A torn record
   * ends the readable part (bbolt falls back to its other meta page); it is cut off by replacing
   * the file with the last whole commit before anything else is written. A file read from a real
   * disk holds delta records after its first image: each is replayed onto the image before it.
   */
  static open(records: readonly DurableRecord[], options: BackendOptions = defaultBackendOptions): OpenedBackend {
    let image: BackendImage | null = null;
    let commits = 0;
    let torn = false;
    for (const record of records) {
      if (record === tornRecord) {
        torn = true;
        break;
      }
      if (isBackendDeltaRecord(record)) image = applyDeltaRecord(image, record);
      else {
        assert(isBackendImage(record), 'the backend file holds a record that is not a backend image');
        image = record;
      }
      commits++;
    }
    const backend = new Backend(options, image);
    backend.commitsInFile = commits;
    if (torn) backend.replaceFile(image === null ? [] : [image]);
    return { backend, commits, torn };
  }

  /** A backend that continues from a snapshot (another member's image), replacing this member's file. */
  static fromSnapshot(snapshot: BackendImage, options: BackendOptions = defaultBackendOptions): Backend {
    const backend = new Backend(options, snapshot);
    backend.replaceFile([snapshot]);
    return backend;
  }

  // The meta bucket.

  get consistentIndex(): number {
    return this.meta.consistentIndex;
  }

  get term(): number {
    return this.meta.term;
  }

  get scheduledCompactRevision(): number {
    return this.meta.scheduledCompactRevision;
  }

  get finishedCompactRevision(): number {
    return this.meta.finishedCompactRevision;
  }

  /**
   * Records the Raft entry being applied, in the current batch. The server calls it for every
   * entry BEFORE applying it, so every commit from then on — the periodic one, the one the batch
   * limit forces at the end of a big write, a compaction's — holds the entry's index together
   * with what its apply wrote (etcd 3.5's consistentApplyingIndex; not saving it with the batch
   * is #13766). Never goes back.
   */
  setConsistentIndex(index: number, term: number): void {
    assert(index >= this.meta.consistentIndex, () => `consistent index going back from ${this.meta.consistentIndex} to ${index}`);
    this.meta.consistentIndex = index;
    this.meta.term = term;
    this.pending++;
  }

  setScheduledCompactRevision(revision: number): void {
    this.meta.scheduledCompactRevision = revision;
    this.pending++;
  }

  setFinishedCompactRevision(revision: number): void {
    this.meta.finishedCompactRevision = revision;
    this.pending++;
  }

  // The server's buckets (members, alarms, ...): opaque immutable values.

  /** The value of the server bucket `name`, or undefined when it was never written. */
  bucket(name: string): unknown {
    return this.meta.buckets[name];
  }

  /** Replaces the server bucket `name` in the current batch. `value` must be immutable. */
  setBucket(name: string, value: unknown): void {
    this.meta.buckets = Object.freeze({ ...this.meta.buckets, [name]: value });
    this.pending++;
  }

  // The key bucket.

  /** The change at (main, sub), or undefined when there is none (never written, or compacted). */
  get(main: number, sub: number): KeyValue | undefined {
    const changes = this.keys.get(main);
    const change = changes === undefined ? undefined : changeAt(changes, sub);
    return change === undefined ? undefined : keyValueOfChange(change, main);
  }

  beginWriteTxn(): void {
    assert(!this.inWriteTxn, 'a write transaction is already open');
    this.inWriteTxn = true;
  }

  /** Writes the next change of the open write transaction at (main, sub); main only grows. */
  append(main: number, sub: number, kv: KeyValue): void {
    assert(this.inWriteTxn, 'a change written outside a write transaction');
    const change = storedChange(kv, main);
    if (main !== this.openMain) {
      assert(main > this.highestMain, () => `change at main revision ${main}, not after ${this.highestMain}`);
      this.highestMain = main;
      assert(sub === 0, () => `the first change of main revision ${main} has sub ${sub}`);
      this.openMain = main;
      // Most revisions hold one change: kept alone, no array (see RevisionChanges).
      this.openChanges = null;
      this.keys.set(main, change);
      this.touchedMains.add(main);
    } else if (this.openChanges === null) {
      if (sub !== 1) throw new AssertionError(`change ${main}.${sub} out of order`);
      // An exact-size array, not one grown from empty by push (V8 gives that room for 17, kept for
      // the revision's life; see keyIndex.ts).
      this.openChanges = [this.keys.get(main) as StoredChange, change];
      this.keys.set(main, this.openChanges);
    } else {
      // Not assert(…, closure): this runs per change written (see assert's note).
      if (sub !== this.openChanges.length) throw new AssertionError(`change ${main}.${sub} out of order`);
      this.openChanges.push(change);
    }
    this.liveBytes += entrySize(change);
    if (kv instanceof SlabKeyValue) this.hold(kv, kv.length);
    this.changedSinceOpen = true;
    this.pending++;
  }

  /** Ends the write transaction; commits when the batch has reached the limit (etcd's batchTx.Unlock). */
  endWriteTxn(): void {
    assert(this.inWriteTxn, 'no write transaction is open');
    this.inWriteTxn = false;
    this.openMain = -1;
    this.openChanges = null;
    if (this.pending >= this.options.batchLimit) this.commit();
  }

  /** Removes the change at (main, sub) (compaction). Arrays may be shared with images: copied, never written. */
  remove(main: number, sub: number): void {
    assert(!this.inWriteTxn, 'compaction inside a write transaction');
    const changes = this.keys.get(main);
    const kv = changes === undefined ? undefined : changeAt(changes, sub);
    assert(kv !== undefined, () => `removing ${main}.${sub}, which is not in the key bucket`);
    this.liveBytes -= entrySize(kv);
    if (kv instanceof SlabKeyValue) this.hold(kv, -kv.length);
    this.changedSinceOpen = true;
    this.pending++;
    this.touchedMains.add(main);
    if (!Array.isArray(changes)) {
      this.keys.delete(main);
      return;
    }
    const remaining = (changes as readonly (StoredChange | undefined)[]).slice();
    remaining[sub] = undefined;
    if (remaining.every((change) => change === undefined)) this.keys.delete(main);
    else this.keys.set(main, remaining);
  }

  /**
   * The slabs whose values are worth copying out: not the one this backend appends to, and holding less
   * than a quarter of it here (a slab is freed only when no value in it is referenced any more).
   */
  sparseSlabs(): ReadonlySet<Uint8Array> {
    const sparse = new Set<Uint8Array>();
    for (const [slab, held] of this.slabCounts()) if (held < slab.length / 4 && !this.values.isCurrent(slab)) sparse.add(slab);
    return sparse;
  }

  /**
   * Copies the values the key bucket holds in `slabs` into this backend's current slab, from main revision
   * `main` on, examining at most `limit` changes; returns the main revision to continue from, or
   * -1 when the bucket's end was reached. The KeyValues are replaced by equal ones (arrays copied,
   * never written: images share them); nothing is committed, as nothing a commit writes changed.
   */
  relocateValues(slabs: ReadonlySet<Uint8Array>, main: number, limit: number): number {
    assert(!this.inWriteTxn, 'values relocated inside a write transaction');
    const replaced: [number, RevisionChanges][] = [];
    let examined = 0;
    let next = -1;
    for (const [changeMain, changes] of this.keys.entries(main)) {
      if (examined >= limit) {
        next = changeMain;
        break;
      }
      if (!Array.isArray(changes)) {
        examined++;
        if (changes instanceof SlabKeyValue && slabs.has(changes.slab)) replaced.push([changeMain, this.relocate(changes)]);
        continue;
      }
      const list = changes as readonly (StoredChange | undefined)[];
      examined += list.length;
      let copy: (StoredChange | undefined)[] | null = null;
      for (let s = 0; s < list.length; s++) {
        const kv = list[s];
        if (!(kv instanceof SlabKeyValue) || !slabs.has(kv.slab)) continue;
        copy ??= list.slice();
        copy[s] = this.relocate(kv);
      }
      if (copy !== null) replaced.push([changeMain, copy]);
    }
    for (const [changeMain, copy] of replaced) this.keys.set(changeMain, copy);
    return next;
  }

  /**
   * Adopts the per-slab counts of the bucket as this backend was opened (`slabBytesOf`, made by
   * the store's restore beside its index). Ignored once a change was written or removed, or when
   * already counted.
   */
  adoptSlabCounts(counts: Map<Uint8Array, number>): void {
    if (this.heldBySlab !== null || this.changedSinceOpen) return;
    this.heldBySlab = counts;
  }

  /** The per-slab counts, made from the bucket now if nothing counted them yet. */
  private slabCounts(): Map<Uint8Array, number> {
    if (this.heldBySlab === null) {
      const counts = new Map<Uint8Array, number>();
      for (const [, changes] of this.keys.entries()) {
        for (let sub = 0; sub < changeCount(changes); sub++) {
          const kv = changeAt(changes, sub);
          if (kv instanceof SlabKeyValue) countSlabBytes(counts, kv);
        }
      }
      this.heldBySlab = counts;
    }
    return this.heldBySlab;
  }

  /** `kv`'s value copied into the current slab, the bytes held moved with it. */
  private relocate(kv: SlabKeyValue): SlabKeyValue {
    const moved = this.values.relocated(kv);
    this.hold(kv, -kv.length);
    this.hold(moved, moved.length);
    return moved;
  }

  private hold(kv: SlabKeyValue, bytes: number): void {
    // Not counted yet: the count made from the bucket later sees this change.
    const counts = this.heldBySlab;
    if (counts === null) return;
    const held = (counts.get(kv.slab) ?? 0) + bytes;
    if (held === 0) counts.delete(kv.slab);
    else counts.set(kv.slab, held);
  }

  /**
   * Calls `visit` for each change from (main, sub) on, in revision order, while its main is at most
   * `maxMain` and `visit` returns true. Returns how many it visited.
   */
  scan(main: number, sub: number, maxMain: number, visit: (main: number, sub: number, kv: KeyValue) => boolean): number {
    let visited = 0;
    for (const [changeMain, changes] of this.keys.entries(main)) {
      if (changeMain > maxMain) break;
      if (!Array.isArray(changes)) {
        if (changeMain === main && sub > 0) continue;
        visited++;
        if (!visit(changeMain, 0, keyValueOfChange(changes as StoredChange, changeMain))) return visited;
        continue;
      }
      const list = changes as readonly (StoredChange | undefined)[];
      for (let s = changeMain === main ? sub : 0; s < list.length; s++) {
        const kv = list[s];
        if (kv === undefined) continue;
        visited++;
        if (!visit(changeMain, s, keyValueOfChange(kv, changeMain))) return visited;
      }
    }
    return visited;
  }

  /** The key bucket's changes, main revision by main revision in order (see RevisionChanges), lazily: no write may come while they are taken. */
  revisions(): IterableIterator<[number, RevisionChanges]> {
    return this.keys.entries();
  }

  /** The highest main revision in the key bucket, or 0 when it is empty. */
  get lastMain(): number {
    return this.keys.maxKey() ?? 0;
  }

  // Batches, commits and the file.

  /** Changes since the last commit. */
  get pendingChanges(): number {
    return this.pending;
  }

  /**
   * Commits the batch: one record appended to the file. A no-op when nothing changed (etcd's
   * batchTx.commit with pending 0). Returns whether it wrote.
   */
  commit(): boolean {
    assert(!this.inWriteTxn, 'a commit inside a write transaction would hold part of it');
    if (this.pending === 0) return false;
    this.preCommit?.();
    const previous = this.lastImage;
    const image = this.capture(Math.max(this.fileSize, bytesInPages(this.liveBytes)), previous);
    this.writes.push({ kind: 'append', file: backendFile, records: [image] });
    this.commitsInFile++;
    return true;
  }

  /**
   * The database at its current consistent index, for a Raft snapshot: the batch is committed
   * first (etcd commits before `Snapshot()`), then the image is shared, not copied.
   */
  snapshot(): BackendImage {
    this.commit();
    return this.lastImage ?? this.capture(this.fileSize);
  }

  /**
   * Rewrites the file with only the live data (etcd's defrag): the batch is committed, then one
   * atomic replace writes a single image whose size is what is in use. A crash before the replace
   * is durable keeps the old file, which holds the same data.
   */
  defrag(): void {
    this.commit();
    const image = this.capture(bytesInPages(this.liveBytes));
    this.replaceFile([image]);
  }

  /**
   * Replaces the file with its last commit alone. Unlike `defrag` the modelled size stays: the
   * file is as big as before, only the history of commits a crash could fall back to is gone
   * (a bbolt file keeps one state; this model appends an image per commit, so a long run would
   * otherwise grow the file without bound). The real runtime will write deltas, not images.
   */
  rewriteFile(): void {
    if (this.lastImage === null || this.commitsInFile <= 1) return;
    this.replaceFile([this.lastImage]);
  }

  /** The writes made since the last call, in order: the host persists them (append or replace of the backend file). */
  takeWrites(): DurableWrite[] {
    const writes = this.writes;
    this.writes = [];
    return writes;
  }

  /** Whether a write transaction is open (a range delete applied in slices keeps one open across turns): no commit until it ends. */
  get writeTxnOpen(): boolean {
    return this.inWriteTxn;
  }

  get hasWrites(): boolean {
    return this.writes.length > 0;
  }

  /** Commits in the file since it was last replaced (a defrag or snapshot install resets it). */
  get commitsSinceReplace(): number {
    return this.commitsInFile;
  }

  /** The modelled file size as of the last commit (etcd's dbSize: grows, shrinks only by defrag). */
  get size(): number {
    return this.fileSize;
  }

  /** The modelled bytes in use now (etcd's dbSizeInUse). */
  get sizeInUse(): number {
    return bytesInPages(this.liveBytes);
  }

  /** An image of the database now; given the record before it in the file (`previous`), one that carries its delta. */
  private capture(size: number, previous?: BackendImage | null): BackendImage {
    const keys = this.keys.clone();
    keys.freeze();
    this.fileSize = size;
    const sizeInUse = bytesInPages(this.liveBytes);
    const meta = Object.freeze({ ...this.meta });
    const image: BackendImage =
      previous === undefined
        ? { type: 'backend-image', keys, meta, sizeInUse, size }
        : { type: 'backend-image', keys, meta, sizeInUse, size, delta: deltaBetween(previous?.meta ?? null, meta, this.touchedMains) };
    this.touchedMains.clear();
    this.lastImage = image;
    this.pending = 0;
    return image;
  }

  private replaceFile(records: readonly BackendImage[]): void {
    this.writes.push({ kind: 'replace', file: backendFile, records: records.map(wholeImage) });
    this.commitsInFile = records.length;
  }
}
