import type { Bytes } from '../../core/api/bytes.ts';
import { ErrCompacted, ErrFutureRev, type EtcdError } from '../../core/api/errors.ts';
import type { KeyValue } from '../../core/api/kv.ts';
import type { RangeRequest, SortTarget } from '../../core/api/rpc.ts';
import { ByteWriter, crc32cOfBytes, crc32cUpdate, writeBucketEntry } from '../../core/mvcc/kvCodec.ts';

/** One change, as the reference remembers it: never compacted away. */
interface Change {
  readonly main: number;
  readonly sub: number;
  readonly kv: KeyValue;
  readonly tombstone: boolean;
}

/** What survives a crash: the reference as of the last synced commit. */
export interface Durable {
  readonly revision: number;
  readonly compactRevision: number;
}

/**
 * The dumb, obviously right reference for the store: the full key-value state of every revision
 * (`states[r]`, r >= 1), every change ever made, and the compaction revision. Nothing is shared
 * or indexed; each operation is written straight from etcd's documented semantics.
 */
export class ReferenceModel {
  states: Map<Bytes, KeyValue>[] = [new Map(), new Map()];
  changes: Change[] = [];
  compactRevision = -1;
  durable: Durable = { revision: 1, compactRevision: -1 };

  get revision(): number {
    return this.states.length - 1;
  }

  get latest(): ReadonlyMap<Bytes, KeyValue> {
    return this.states[this.revision]!;
  }

  /** A write transaction: `write` edits a copy of the latest state; a new revision only if it changed something. */
  write(write: (state: Map<Bytes, KeyValue>, revision: number, record: (kv: KeyValue, tombstone: boolean) => void) => void): void {
    const state = new Map(this.latest);
    const revision = this.revision + 1;
    const made: Change[] = [];
    write(state, revision, (kv, tombstone) => made.push({ main: revision, sub: made.length, kv, tombstone }));
    if (made.length === 0) return;
    this.states.push(state);
    this.changes.push(...made);
  }

  static put(state: Map<Bytes, KeyValue>, revision: number, key: Bytes, value: Bytes, lease: number): KeyValue {
    const previous = state.get(key);
    const kv = { key, createRevision: previous?.createRevision ?? revision, modRevision: revision, version: (previous?.version ?? 0) + 1, value, lease };
    state.set(key, kv);
    return kv;
  }

  static inRange(key: Bytes, rangeKey: Bytes, rangeEnd: Bytes | undefined): boolean {
    if (rangeEnd === undefined || rangeEnd === '') return key === rangeKey;
    if (rangeEnd === '\0') return key >= rangeKey;
    return key >= rangeKey && key < rangeEnd;
  }

  static keysInRange(state: ReadonlyMap<Bytes, KeyValue>, key: Bytes, rangeEnd: Bytes | undefined): Bytes[] {
    return [...state.keys()].filter((k) => ReferenceModel.inRange(k, key, rangeEnd)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The revision a read at `revision` sees, or its error (etcd's boundaries). */
  readRevision(revision: number): number | EtcdError {
    if (revision > this.revision) return ErrFutureRev;
    const at = revision <= 0 ? this.revision : revision;
    if (at < this.compactRevision) return ErrCompacted;
    return at;
  }

  range(request: RangeRequest): { kvs: KeyValue[]; count: number; more: boolean } | EtcdError {
    const at = this.readRevision(request.revision ?? 0);
    if (typeof at !== 'number') return at;
    const state = this.states[at]!;
    const all = ReferenceModel.keysInRange(state, request.key, request.rangeEnd).map((k) => state.get(k)!);
    if (request.countOnly === true) return { kvs: [], count: all.length, more: false };
    let kvs = all.filter(
      (kv) =>
        (!request.minModRevision || kv.modRevision >= request.minModRevision) &&
        (!request.maxModRevision || kv.modRevision <= request.maxModRevision) &&
        (!request.minCreateRevision || kv.createRevision >= request.minCreateRevision) &&
        (!request.maxCreateRevision || kv.createRevision <= request.maxCreateRevision),
    );
    const target: SortTarget = request.sortTarget ?? 'KEY';
    const order = request.sortOrder ?? 'NONE';
    if (order !== 'NONE' || target !== 'KEY') {
      const field = (kv: KeyValue): number | string =>
        target === 'KEY' ? kv.key : target === 'VALUE' ? kv.value : target === 'VERSION' ? kv.version : target === 'CREATE' ? kv.createRevision : kv.modRevision;
      const sign = order === 'DESCEND' ? -1 : 1;
      kvs = kvs.slice().sort((a, b) => (field(a) < field(b) ? -sign : field(a) > field(b) ? sign : 0));
    }
    const limit = request.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { kvs, count: all.length, more };
  }

  compact(revision: number): EtcdError | null {
    if (revision <= this.compactRevision) return ErrCompacted;
    if (revision > this.revision) return ErrFutureRev;
    this.compactRevision = revision;
    return null;
  }

  /**
   * HashKV by its definition: CRC-32C over "key" and every change up to `revision`, in revision
   * order, skipping at or below the compaction revision every change that is not the key's last
   * put as of `revision`.
   */
  hash(revision: number): number | EtcdError {
    if (revision > 0 && revision < this.compactRevision) return ErrCompacted;
    if (revision > this.revision) return ErrFutureRev;
    const at = revision === 0 ? this.revision : revision;
    const lastChange = new Map<Bytes, Change>();
    for (const change of this.changes) if (change.main <= at) lastChange.set(change.kv.key, change);
    const writer = new ByteWriter();
    let crc = crc32cOfBytes('key');
    for (const change of this.changes) {
      if (change.main > at) continue;
      if (change.main <= this.compactRevision && (lastChange.get(change.kv.key) !== change || change.tombstone)) continue;
      writer.reset();
      writeBucketEntry(writer, change.main, change.sub, change.kv);
      crc = crc32cUpdate(crc, writer);
    }
    return crc >>> 0;
  }

  /** The state a crash leaves: the last synced commit's. */
  crash(): void {
    const { revision, compactRevision } = this.durable;
    this.states.length = revision + 1;
    this.changes = this.changes.filter((change) => change.main <= revision);
    this.compactRevision = compactRevision;
  }
}
