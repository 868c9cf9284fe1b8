import type { Member } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import type { DurableWrite, NodeId, NodeStart } from '../host/node.ts';
import { Backend, backendFile, isBackendImage, receivedBackendFile, type BackendImage } from '../mvcc/index.ts';
import { emptyConfState, isEmptySnapshot, MemoryStorage, type ConfState, type HardState, type Snapshot } from '../raft/index.ts';
import { compactedWal, recoverWal, walFile, type WalRecord } from '../replica/wal.ts';
import type { EtcdServerConfig } from './config.ts';
import { Membership } from './membership.ts';
import { StateMachine, type StateMachineOptions } from './stateMachine.ts';

/**
 * What a starting member finds, rebuilt as etcd rebuilds it: the Raft log from the WAL (its
 * snapshot, entries and hard state), the state machine from the backend file, and — where the
 * backend is older than the WAL's snapshot — from the snapshot's backend image instead (etcd opens
 * the snapshot's db file then).
 */
export interface RecoveredMember {
  readonly storage: MemoryStorage;
  readonly hardState: HardState;
  readonly state: StateMachine;
  /**
   * The membership as of the WAL's snapshot. Entries after the snapshot up to the backend's
   * consistent index are replayed without touching the backend; their conf changes are decided
   * against this, as they were the first time (the backend's membership is already ahead).
   */
  readonly snapshotMembership: Membership;
  /** Writes due before anything else: a first boot's WAL, or the repair of a torn WAL tail. */
  readonly writes: readonly DurableWrite[];
  /** Whether those writes must be synced before anything leaves (a first boot's). */
  readonly mustSync: boolean;
}

export function recoverMember(start: NodeStart, config: EtcdServerConfig, options: StateMachineOptions): RecoveredMember {
  const wal = recoverWal(start.durable);
  if (wal.records === 0 && config.initialCluster.includes(start.id)) return bootstrap(start, wal.storage, config, options);
  const writes: DurableWrite[] = [];
  // A torn tail is cut off before anything is appended after it (etcd's WAL repair).
  if (wal.torn) writes.push(compactedWal(wal.storage, wal.hardState));
  const opened = Backend.open(start.durable.files.get(backendFile) ?? [], options.backend);
  const snapshot = wal.storage.snapshot();
  const snapshotIndex = snapshot.metadata.index;
  const behind = snapshotIndex > opened.backend.consistentIndex;
  // A metadata-only WAL snapshot was written only after the db held its index, or (a snapshot
  // installed from the leader) after its image was set aside, durable, to become the db
  // (runtime/storage/walSnapshotWrites.ts): a crash before that rename leaves the db behind.
  const received = behind && isMetadataOnly(snapshot) ? receivedImage(start, snapshotIndex) : null;
  assert(!behind || !isMetadataOnly(snapshot) || received !== null, () => `node ${start.id}'s WAL snapshot at index ${snapshotIndex} leaves the state to the db file, which holds only index ${opened.backend.consistentIndex}, and no received image at that index was set aside`);
  // From an image, the backend's file is replaced with it (the first Ready's writes).
  const state = behind ? StateMachine.fromSnapshot(received ?? snapshotImage(snapshot), options) : StateMachine.open(opened.backend, options);
  // The backend never runs ahead of the durable WAL: every entry it holds is in the log (or under its snapshot).
  const walLast = Math.max(wal.storage.lastIndex(), snapshotIndex);
  assert(state.consistentIndex <= walLast, () => `node ${start.id}'s backend holds index ${state.consistentIndex}, beyond its WAL (last index ${walLast})`);
  const snapshotMembership = isEmptySnapshot(snapshot) ? Membership.empty : Membership.fromImage(snapshotImage(snapshot));
  const storage = isMetadataOnly(snapshot) && state.consistentIndex === snapshotIndex ? withWholeSnapshot(wal.storage, state.backend.snapshot()) : wal.storage;
  return { storage, hardState: wal.hardState, state, snapshotMembership, writes, mustSync: false };
}

/** The received image set aside at the snapshot's index (`receivedBackendFile`), if the disk holds it. */
function receivedImage(start: NodeStart, index: number): BackendImage | null {
  for (const record of start.durable.files.get(receivedBackendFile) ?? []) {
    if (isBackendImage(record) && record.metadataOnly !== true && record.meta.consistentIndex === index) return record;
  }
  return null;
}

function isMetadataOnly(snapshot: Snapshot): boolean {
  return !isEmptySnapshot(snapshot) && (snapshot.data as BackendImage).metadataOnly === true;
}

/**
 * The recovered log with its snapshot's data made whole from the db, which stands exactly at the
 * snapshot's index: Raft may hand this snapshot to a follower before this member applies past it.
 * (Past it, snapshots are made afresh from the applied state; etcd sends its current db file.)
 */
function withWholeSnapshot(recovered: MemoryStorage, image: BackendImage): MemoryStorage {
  const snapshot = recovered.snapshot();
  assert(image.meta.consistentIndex === snapshot.metadata.index, 'a whole snapshot image from a db at another index');
  const storage = new MemoryStorage();
  storage.applySnapshot({ metadata: snapshot.metadata, data: image });
  const first = recovered.firstIndex();
  const last = recovered.lastIndex();
  const entries = last >= first ? recovered.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
  assert(Array.isArray(entries), 'the recovered log lost entries it just listed');
  if (entries.length > 0) storage.append(entries);
  storage.setHardState(recovered.initialState().hardState);
  return storage;
}

/**
 * A first boot of an initial member: the initial configuration becomes a snapshot at index 1,
 * term 1 (where etcd appends one conf change per member), whose backend image holds the initial
 * members — every initial member builds the very same one. A machine added later starts empty
 * and learns all of it from a snapshot.
 */
function bootstrap(start: NodeStart, storage: MemoryStorage, config: EtcdServerConfig, options: StateMachineOptions): RecoveredMember {
  // An earlier first boot may have died before its writes were durable, leaving a torn record in
  // either file: both are replaced, not appended to (a torn record would hide what follows it).
  const opened = Backend.open(start.durable.files.get(backendFile) ?? [], options.backend);
  assert(opened.backend.consistentIndex === 0 && opened.backend.lastMain === 0, () => `node ${start.id} has no WAL but a backend at index ${opened.backend.consistentIndex}`);
  const state = StateMachine.open(opened.backend, options);
  const members = Membership.of(config.initialCluster.map((id) => initialMember(config, id)));
  state.bootstrap(members, 1, 1);
  const confState: ConfState = { ...emptyConfState, voters: [...config.initialCluster].sort((a, b) => a - b) };
  const snapshot: Snapshot = { metadata: { index: 1, term: 1, confState }, data: state.backend.snapshot() };
  const hardState: HardState = { term: 1, vote: 0, commit: 1 };
  storage.applySnapshot(snapshot);
  storage.setHardState(hardState);
  const records: WalRecord[] = [
    { type: 'snapshot', snapshot },
    { type: 'hardState', hardState },
  ];
  return { storage, hardState, state, snapshotMembership: members, writes: [{ kind: 'replace', file: walFile, records }], mustSync: true };
}

/** An initial member as etcd's --initial-cluster knows it: name and peer URLs; client URLs come when it publishes. */
function initialMember(config: EtcdServerConfig, id: NodeId): Member {
  const attributes = config.attributesOf(id);
  return { ID: id, name: attributes.name, peerURLs: [...attributes.peerURLs], clientURLs: [], isLearner: false };
}

/** The backend image a Raft snapshot carries. */
export function snapshotImage(snapshot: Snapshot): BackendImage {
  const image = snapshot.data as BackendImage;
  assert(image !== null && image.type === 'backend-image', 'a snapshot without a backend image');
  assert(image.metadataOnly !== true || image.keys.size === 0, 'a metadata-only image that holds keys');
  assert(image.meta.consistentIndex === snapshot.metadata.index, () => `a snapshot at index ${snapshot.metadata.index} carries a backend at ${image.meta.consistentIndex}`);
  return image;
}
