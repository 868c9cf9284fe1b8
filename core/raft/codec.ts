import { assert } from '../base/assert.ts';
import { ByteReader, ByteWriter, DecodeError } from '../base/byteCodec.ts';
import { runToEnd, type Steps } from '../base/steps.ts';
import type { ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, Entry } from './entry.ts';
import { type Message, type MessageType, messageTypes } from './message.ts';
import type { ConfState, HardState, Snapshot } from './state.ts';

/**
 * Raft's wire and WAL formats as bytes (the runtime's side of the simulator's JS objects). The
 * layout is detcd's own, not etcd's raftpb: peers speak only to peers of the same build. Snapshot
 * data is the application's, so its codec is a parameter.
 *
 * Each value is written field by field in declaration order; enums as their position in a fixed
 * list (a new member goes at the end, so old bytes keep their meaning).
 */
export interface SnapshotDataCodec {
  encode(data: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const entryTypes = ['normal', 'confChange'] as const;
const transitions: readonly ConfChangeTransition[] = ['auto', 'implicit', 'explicit'];
const changeTypes: readonly ConfChangeType[] = ['addNode', 'addLearner', 'removeNode'];

function enumAt<T>(list: readonly T[], position: number, what: string): T {
  const value = list[position];
  if (value === undefined) throw new DecodeError(`unknown ${what} ${position}`);
  return value;
}

export function writeHardState(writer: ByteWriter, hardState: HardState): void {
  writer.uint53(hardState.term).uint53(hardState.vote).uint53(hardState.commit);
}

export function readHardState(reader: ByteReader): HardState {
  return { term: reader.uint53(), vote: reader.uint53(), commit: reader.uint53() };
}

export function writeConfState(writer: ByteWriter, confState: ConfState): void {
  writer.uint53List(confState.voters).uint53List(confState.learners).uint53List(confState.votersOutgoing).uint53List(confState.learnersNext);
  writer.boolean(confState.autoLeave);
}

export function readConfState(reader: ByteReader): ConfState {
  return { voters: reader.uint53List(), learners: reader.uint53List(), votersOutgoing: reader.uint53List(), learnersNext: reader.uint53List(), autoLeave: reader.boolean() };
}

function writeConfChange(writer: ByteWriter, change: ConfChange): void {
  writer.uint8(transitions.indexOf(change.transition)).uint32(change.changes.length);
  for (const single of change.changes) writer.uint8(changeTypes.indexOf(single.type)).uint53(single.nodeId);
  writer.bytesField(change.context);
}

function readConfChange(reader: ByteReader): ConfChange {
  const transition = enumAt(transitions, reader.uint8(), 'conf change transition');
  const count = reader.uint32();
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < count; i++) changes.push({ type: enumAt(changeTypes, reader.uint8(), 'conf change type'), nodeId: reader.uint53() });
  return { transition, changes, context: reader.bytesField() };
}

export function writeEntry(writer: ByteWriter, entry: Entry): void {
  writer.uint8(entryTypes.indexOf(entry.type)).uint53(entry.term).uint53(entry.index);
  if (entry.type === 'normal') writer.bytesField(entry.data);
  else writeConfChange(writer, entry.change);
}

export function readEntry(reader: ByteReader): Entry {
  const type = enumAt(entryTypes, reader.uint8(), 'entry type');
  const term = reader.uint53();
  const index = reader.uint53();
  if (type === 'normal') return { type, term, index, data: reader.bytesField() };
  return { type, term, index, change: readConfChange(reader) };
}

/** About how many bytes `writeEntries` takes: a writer sized by it rarely grows (and copies). */
export function entriesByteSize(entries: readonly Entry[]): number {
  let size = 4;
  for (const entry of entries) size += 32 + (entry.type === 'normal' ? entry.data.byteLength : 64 + entry.change.context.byteLength);
  return size;
}

export function writeEntries(writer: ByteWriter, entries: readonly Entry[]): void {
  writer.uint32(entries.length);
  for (const entry of entries) writeEntry(writer, entry);
}

export function readEntries(reader: ByteReader): Entry[] {
  const count = reader.uint32();
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) entries.push(readEntry(reader));
  return entries;
}

export function writeSnapshot(writer: ByteWriter, snapshot: Snapshot, data: SnapshotDataCodec): void {
  writeSnapshotMetadata(writer, snapshot);
  writer.bytesField(data.encode(snapshot.data));
}

function writeSnapshotMetadata(writer: ByteWriter, snapshot: Snapshot): void {
  writer.uint53(snapshot.metadata.index).uint53(snapshot.metadata.term);
  writeConfState(writer, snapshot.metadata.confState);
}

export function readSnapshot(reader: ByteReader, data: SnapshotDataCodec): Snapshot {
  return runToEnd(readSnapshotInSteps(reader, wholeDecode(data)));
}

/** One message as bytes. */
export function encodeMessage(message: Message, data: SnapshotDataCodec): Uint8Array {
  const writer = messageWriter(message);
  if (message.snapshot !== null) writeSnapshot(writer, message.snapshot, data);
  return writer.finish();
}

/**
 * What `encodeMessage` writes before a snapshot's data, ending with the data's length prefix:
 * followed by the data's `dataBytes` bytes (its codec's encoding), the message's bytes. For a
 * host that encodes a large snapshot's data in slices over several turns and learns its length
 * only at the end (the runtime's peer transport).
 */
export function encodeMessageHead(message: Message, dataBytes: number): Uint8Array {
  assert(message.snapshot !== null, () => `a ${message.type} without a snapshot has no head of its own`);
  const writer = messageWriter(message);
  writeSnapshotMetadata(writer, message.snapshot);
  writer.uint32(dataBytes);
  return writer.finish();
}

/** A writer holding a message's fields up to its snapshot (and whether it has one). */
function messageWriter(message: Message): ByteWriter {
  // A message built from untyped input (JSON, a test) once carried a number here, and the
  // writer, sized by `context.length * 2` = NaN, grew from zero bytes forever.
  assert(typeof message.context === 'string', () => `a ${message.type}'s context must be a string, got ${typeof message.context} ${String(message.context)}`);
  const writer = new ByteWriter(96 + message.context.length * 2 + entriesByteSize(message.entries));
  writer.uint8(messageTypes.indexOf(message.type)).uint53(message.from).uint53(message.to);
  writer.uint53(message.term).uint53(message.logTerm).uint53(message.index).uint53(message.commit);
  writer.boolean(message.reject).uint53(message.rejectHint).string(message.context);
  writeEntries(writer, message.entries);
  writer.boolean(message.snapshot !== null);
  return writer;
}

/**
 * Whether `message` encodes to `previous`'s bytes except for its recipient: a leader's Ready
 * sends the same append (entries, commit, index) to every caught-up follower, and each copy was
 * encoded entry by entry again. Entries compare by identity (the log hands out its own objects).
 */
export function differsOnlyInRecipient(message: Message, previous: Message): boolean {
  if (
    message.type !== previous.type || message.from !== previous.from || message.term !== previous.term || message.logTerm !== previous.logTerm ||
    message.index !== previous.index || message.commit !== previous.commit || message.reject !== previous.reject ||
    message.rejectHint !== previous.rejectHint || message.context !== previous.context ||
    message.snapshot !== null || previous.snapshot !== null || message.entries.length !== previous.entries.length
  ) return false;
  for (let i = 0; i < message.entries.length; i++) if (message.entries[i] !== previous.entries[i]) return false;
  return true;
}

/** Where encodeMessage puts `to`: after the type byte and `from`. */
const recipientOffset = 1 + 8;

/** `encoded` (a message's bytes) copied, addressed to `to` instead (see differsOnlyInRecipient). */
export function readdressed(encoded: Uint8Array, to: number): Uint8Array {
  assert(Number.isSafeInteger(to) && to >= 0, () => `not a node id: ${to}`);
  const bytes = new ByteWriter(encoded.byteLength).raw(encoded).finish();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // As ByteWriter.uint53 writes it: two big-endian 32-bit halves.
  view.setUint32(recipientOffset, Math.floor(to / 0x1_0000_0000));
  view.setUint32(recipientOffset + 4, to >>> 0);
  return bytes;
}

export function decodeMessage(bytes: Uint8Array, data: SnapshotDataCodec): Message {
  return runToEnd(decodeMessageInSteps(bytes, wholeDecode(data)));
}

/** A snapshot data codec's decode as steps: one. */
function wholeDecode(data: SnapshotDataCodec): (bytes: Uint8Array) => Steps<unknown> {
  return function* (bytes) {
    return data.decode(bytes);
  };
}

/**
 * `decodeMessage` in steps: a snapshot's data is decoded by `data`, a generator that may stop any
 * number of times (a large backend image, a slice of revisions at a time); the message is the
 * one `decodeMessage` returns. For a host that decodes a large snapshot over several turns.
 */
export function* decodeMessageInSteps(bytes: Uint8Array, data: (bytes: Uint8Array) => Steps<unknown>): Steps<Message> {
  const reader = new ByteReader(bytes);
  const type: MessageType = enumAt(messageTypes, reader.uint8(), 'message type');
  const message: Message = {
    type,
    from: reader.uint53(),
    to: reader.uint53(),
    term: reader.uint53(),
    logTerm: reader.uint53(),
    index: reader.uint53(),
    commit: reader.uint53(),
    reject: reader.boolean(),
    rejectHint: reader.uint53(),
    context: reader.string(),
    entries: readEntries(reader),
    snapshot: reader.boolean() ? yield* readSnapshotInSteps(reader, data) : null,
  };
  reader.end();
  return message;
}

function* readSnapshotInSteps(reader: ByteReader, data: (bytes: Uint8Array) => Steps<unknown>): Steps<Snapshot> {
  const index = reader.uint53();
  const term = reader.uint53();
  const confState = readConfState(reader);
  return { metadata: { index, term, confState }, data: yield* data(reader.bytesField()) };
}
