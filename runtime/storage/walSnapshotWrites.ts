import type { DurableRecord, DurableWrite } from '../../core/host/node.ts';
import { backendFile, isBackendImage, metadataOnlyImage, type BackendImage } from '../../core/mvcc/index.ts';
import type { Snapshot } from '../../core/raft/index.ts';
import { walFile, type WalRecord } from '../../core/replica/wal.ts';

/** In an arranged batch: make every file written so far durable before going on. */
export const durableBarrier = Symbol('durable barrier');

/**
 * In an arranged batch: `record` (a whole backend image received from the leader, at snapshot
 * index `index`) written beside `file`'s log, not into it, and made durable there under a name
 * of its own (etcd's `<index>.snap.db`); `adoptAside` later makes it the log.
 */
export interface SetAside {
  readonly kind: 'setAside';
  readonly file: string;
  readonly index: number;
  readonly record: DurableRecord;
}

/** In an arranged batch: the record set aside for `index` (`SetAside`) becomes `file`'s log, as a replace would (etcd's `openSnapshotBackend`: rename to `db`). */
export interface AdoptAside {
  readonly kind: 'adoptAside';
  readonly file: string;
  readonly index: number;
}

export type ArrangedWrite = DurableWrite | typeof durableBarrier | SetAside | AdoptAside;

/**
 * The WAL snapshot as etcd has it: metadata, with the db file as the state. When a member
 * snapshots its applied state, its Ready holds the WAL rewrite (snapshot at index N, the entries
 * kept, the hard state) and, after it, the backend commit at N (`Backend.snapshot()` commits
 * first). Written in that order the WAL record would have to embed the whole backend image
 * (check perf: ~20 MB, encoded and fsynced on every member at the same index). Instead, as etcd
 * commits its bbolt transaction (an fsync) before it saves the snapshot:
 *
 *   writes before the rewrite → barrier → the db writes → barrier → the rewrite, its snapshot
 *   carrying the image's meta bucket only (membership, consistent index), and only the entries
 *   after N (see `lighten`) → the rest.
 *
 * The first barrier makes the entries up to N durable before a db at N can be; the second makes
 * the db durable at N before a WAL that no longer holds those entries can be. A crash anywhere
 * leaves either the old WAL (its entries replay over the db, skipped up to its consistent index)
 * or the new one with a db at or beyond N. Recovery asserts the latter (core/server/serverStorage.ts).
 *
 * A snapshot installed from the leader is arranged by `arrangeInstalledSnapshot`. Anything else
 * keeps the whole image: a first boot's, or a rewrite whose batch has no db commit at N.
 */
export function arrangeWalSnapshotWrites(writes: readonly DurableWrite[], options: { readonly postponeCompaction?: boolean } = {}): readonly ArrangedWrite[] {
  const at = writes.findIndex((write) => write.kind === 'replace' && write.file === walFile && snapshotOf(write) !== null);
  if (at < 0) return arrangeInstalledSnapshot(writes);
  const rewrite = writes[at]!;
  const snapshot = snapshotOf(rewrite)!;
  const later = writes.slice(at + 1);
  const dbWrites = later.filter((write) => write.file === backendFile);
  const dbIndex = Math.max(-1, ...dbWrites.flatMap((write) => write.records.filter(isBackendImage).map((image: BackendImage) => image.meta.consistentIndex)));
  if (dbIndex < snapshot.metadata.index) return writes;
  // The WAL keeps what it holds (see `postponeWalCompaction`): the rewrite is left out, the rest goes as made.
  if (options.postponeCompaction === true) return [...writes.slice(0, at), ...later];
  const lightened: DurableWrite = { ...rewrite, records: rewrite.records.flatMap((record) => lighten(record as WalRecord, snapshot.metadata.index)) };
  return [...writes.slice(0, at), durableBarrier, ...dbWrites, durableBarrier, lightened, ...later.filter((write) => write.file !== backendFile)];
}

/**
 * Whether a local snapshot's WAL compaction waits for the next snapshot: while the db file is
 * being rewritten (its whole keyspace: 130 MiB and 1-3 s under check perf's second run), the
 * barriers above would hold every WAL append and sync behind the rewrite's encoding, sync and
 * rename (puts of 0.8-0.9 s on every member, which snapshot at the same index). Leaving the
 * rewrite out loses nothing: every record it holds (the entries the log keeps, the hard state)
 * was appended to the WAL before it in the same order, so the WAL as it is reads back to the same
 * log from an older snapshot, whose db is durable — what a crash just before the rewrite leaves.
 * At most one in a row, so the WAL stays bounded by two snapshots' entries.
 */
export function postponeWalCompaction(rewriting: boolean, postponedLast: boolean): boolean {
  return rewriting && !postponedLast;
}

/**
 * A local snapshot's writes arranged (`arrangeWalSnapshotWrites`), its WAL compaction postponed
 * when `postponeWalCompaction` says so, and whether it was: only a compaction that would have
 * waited on the db commit's barriers is postponed (a batch with no db commit at the snapshot's
 * index compacts as made), and then the arrangement is the only one shorter than the writes (the
 * WAL rewrite left out, no barrier added).
 */
export function arrangeLocalSnapshot(writes: readonly DurableWrite[], rewriting: boolean, postponedLast: boolean): { readonly arranged: readonly ArrangedWrite[]; readonly postponed: boolean } {
  const arranged = arrangeWalSnapshotWrites(writes, { postponeCompaction: postponeWalCompaction(rewriting, postponedLast) });
  return { arranged, postponed: arranged.length < writes.length };
}

/** The index of the local snapshot a Ready's writes save (its WAL rewrite), or null. */
export function walSnapshotIndex(writes: readonly DurableWrite[]): number | null {
  for (const write of writes) {
    if (write.kind !== 'replace' || write.file !== walFile) continue;
    const snapshot = snapshotOf(write);
    if (snapshot !== null) return snapshot.metadata.index;
  }
  return null;
}

function snapshotOf(write: DurableWrite): Snapshot | null {
  for (const record of write.records) if ((record as WalRecord).type === 'snapshot') return (record as Extract<WalRecord, { type: 'snapshot' }>).snapshot;
  return null;
}

/**
 * The rewrite's records as the file needs them: the snapshot without its keyspace, and of the
 * entries only those after the snapshot. The node keeps `snapshotCatchUpEntries` (5,000) entries
 * before it in memory for slow followers; written again into every rewrite they were ~7 MB on
 * every member at the same index under check perf, encoded, CRC'd and fsynced while each
 * member's loop waited. The db at N holds their effect, so recovery never replays them: etcd's
 * WAL too starts its replay after the snapshot (wal.ReadAll), and after a restart a follower that
 * far behind gets a snapshot. (The simulator's disk keeps them: its traces are not this file's.)
 */
function lighten(record: WalRecord, snapshotIndex: number): WalRecord[] {
  if (record.type === 'snapshot') return [lightenSnapshot(record)];
  if (record.type !== 'entries') return [record];
  const after = record.entries.findIndex((entry) => entry.index > snapshotIndex);
  if (after < 0) return [];
  return after === 0 ? [record] : [{ type: 'entries', entries: record.entries.slice(after) }];
}

/**
 * A snapshot installed from the leader, as etcd saves it: its Ready holds a WAL append whose
 * snapshot carries the whole received image, and the backend's replace with that image
 * (`Backend.fromSnapshot`). The WAL record embedded the image (200 MiB: encoded on the
 * follower's loop in one go, 686 ms, then fsynced), and the db file cannot simply go first: the
 * local log may not hold the snapshot's entries, so a db at N beside a WAL without the snapshot
 * is a state no recovery reads. Instead, as etcd writes `<index>.snap.db` before its WAL saves
 * the snapshot and renames it to `db` after:
 *
 *   writes before → the image set aside (written in turns, fsynced, renamed to its own name) →
 *   barrier → the WAL append, its snapshot metadata only → barrier → the aside file adopted as
 *   the db log (a rename) → the rest.
 *
 * A crash before the WAL append is durable leaves the old WAL and db (the aside file, if any, is
 * not used: the WAL never had that snapshot); after it and before the rename, a WAL snapshot at
 * N over a db behind it, and the aside file at N, which recovery loads and writes as the db
 * (core/server/serverStorage.ts); after the rename, the db at N.
 */
export function arrangeInstalledSnapshot(writes: readonly DurableWrite[]): readonly ArrangedWrite[] {
  const at = writes.findIndex((write) => write.kind === 'append' && write.file === walFile && snapshotOf(write) !== null);
  if (at < 0) return writes;
  const append = writes[at]!;
  const snapshot = snapshotOf(append)!;
  const image = snapshot.data as BackendImage;
  if (!isBackendImage(image) || image.metadataOnly === true) return writes;
  const index = snapshot.metadata.index;
  const replaceAt = writes.findIndex((write, i) => i > at && write.kind === 'replace' && write.file === backendFile && write.records.length === 1 && isBackendImage(write.records[0]) && (write.records[0] as BackendImage).meta.consistentIndex === index);
  if (replaceAt < 0) return writes;
  const lightened: DurableWrite = { ...append, records: append.records.map((record) => ((record as WalRecord).type === 'snapshot' ? lightenSnapshot(record as Extract<WalRecord, { type: 'snapshot' }>) : record)) };
  // The old backend's writes made before the replace (superseded by it) stay before it; the rest keeps its order after.
  const between = writes.slice(at + 1, replaceAt);
  const before = [...writes.slice(0, at), ...between.filter((write) => write.file === backendFile)];
  const after = [...between.filter((write) => write.file !== backendFile), ...writes.slice(replaceAt + 1)];
  return [...before, { kind: 'setAside', file: backendFile, index, record: writes[replaceAt]!.records[0]! }, durableBarrier, lightened, durableBarrier, { kind: 'adoptAside', file: backendFile, index }, ...after];
}

function lightenSnapshot(record: Extract<WalRecord, { type: 'snapshot' }>): WalRecord {
  return { type: 'snapshot', snapshot: { metadata: record.snapshot.metadata, data: metadataOnlyImage(record.snapshot.data as BackendImage) } };
}
