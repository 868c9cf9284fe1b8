/**
 * detcd's Raft: a pure, synchronous consensus core shaped like etcd-io/raft's RawNode. See
 * RawNode for the driving loop and Ready for the host's contract.
 */
export type { RaftConfig } from './config.ts';
export {
  decodeMessage,
  decodeMessageInSteps,
  differsOnlyInRecipient,
  encodeMessage,
  encodeMessageHead,
  entriesByteSize,
  readEntries,
  readdressed,
  readHardState,
  readSnapshot,
  type SnapshotDataCodec,
  writeEntries,
  writeHardState,
  writeSnapshot,
} from './codec.ts';
export {
  type ConfChange,
  type ConfChangeEntry,
  type ConfChangeSingle,
  type ConfChangeTransition,
  type ConfChangeType,
  confChange,
  confChangeEntry,
  type Entry,
  isLeaveJoint,
  leaveJointChange,
  type NormalEntry,
  normalEntry,
  payloadSize,
} from './entry.ts';
export {
  describeConfChange,
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeSoftState,
} from './describe.ts';
export { digestEntry, digestMessage, keyMessage } from './digest.ts';
export type { RaftLogger } from './logger.ts';
export { MemoryStorage } from './memoryStorage.ts';
export { type AppliedState, snapshotOnDemand } from './snapshotOnDemand.ts';
export { type Message, type MessageType, messageTypes, waitsForDurability } from './message.ts';
export type { StepResult } from './raft.ts';
export { RawNode } from './rawNode.ts';
export type { Ready } from './ready.ts';
export type { ReadOnlyOption } from './readOnly.ts';
export {
  type ConfState,
  confStatesEqual,
  emptyConfState,
  emptyHardState,
  type HardState,
  isEmptySnapshot,
  None,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SnapshotMetadata,
  type SoftState,
  type StateRole,
} from './state.ts';
export type { ProgressStatus, Status } from './status.ts';
export { isStorageError, type Storage, type StorageError } from './storage.ts';
