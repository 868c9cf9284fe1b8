import type { NodeId } from './state.ts';

/**
 * One change to the membership. `addNode` adds a voter or promotes a learner; `addLearner` adds a
 * learner or (inside a joint config) demotes a voter; `removeNode` removes a voter or learner.
 */
export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * How a conf change moves between configurations (etcd's ConfChangeTransition):
 * - `auto`: a single voter change is applied directly ("simple"); several changes enter a joint
 *   configuration that the leader leaves on its own once the change is applied.
 * - `implicit`: always enter a joint configuration, left automatically.
 * - `explicit`: always enter a joint configuration; the application must propose the (empty)
 *   change that leaves it.
 */
export type ConfChangeTransition = 'auto' | 'implicit' | 'explicit';

/**
 * A membership change, carried in the log as a typed entry (etcd's ConfChangeV2). A change with
 * no single changes and the `auto` transition means "leave the joint configuration".
 * `context` is opaque to Raft (the etcd server puts the member's attributes there).
 */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

const emptyBytes = new Uint8Array(0);

export function confChange(
  changes: readonly ConfChangeSingle[],
  transition: ConfChangeTransition = 'auto',
  context: Uint8Array = emptyBytes,
): ConfChange {
  return { transition, changes, context };
}

/** The change that leaves a joint configuration. */
/**
 * The empty entry list, shared: a Ready without entries hands this out rather than a new array.
 * Not frozen: a frozen array has other elements kinds than the plain ones beside it, and loops
 * over both were measured to allocate iterators again. The type keeps it empty.
 */
export const noEntries: readonly Entry[] = [];

export const leaveJointChange: ConfChange = Object.freeze({ transition: 'auto', changes: Object.freeze([]), context: emptyBytes });

export function isLeaveJoint(change: ConfChange): boolean {
  return change.transition === 'auto' && change.changes.length === 0;
}

/**
 * Whether applying `change` enters a joint configuration, and if so whether the leader leaves it
 * on its own afterwards. A single change with the `auto` transition is a simple change.
 */
export function enterJoint(change: ConfChange): { readonly enter: boolean; readonly autoLeave: boolean } {
  if (change.transition === 'auto' && change.changes.length <= 1) return { enter: false, autoLeave: false };
  return { enter: true, autoLeave: change.transition !== 'explicit' };
}

/** An entry the application proposed: `data` is opaque to Raft. The new leader's empty entry has no data. */
export interface NormalEntry {
  readonly type: 'normal';
  readonly term: number;
  readonly index: number;
  readonly data: Uint8Array;
}

/** A membership change. The application calls `RawNode.applyConfChange` when it applies one. */
export interface ConfChangeEntry {
  readonly type: 'confChange';
  readonly term: number;
  readonly index: number;
  readonly change: ConfChange;
}

/**
 * A log entry. Entries are immutable: a leader sends the very objects in its log, and the
 * simulated network may hand one object to several nodes, or to one node twice.
 */
export type Entry = NormalEntry | ConfChangeEntry;

/** A proposal before the leader has placed it: term and index are 0 until appended. */
export function normalEntry(data: Uint8Array, term = 0, index = 0): NormalEntry {
  return { type: 'normal', term, index, data };
}

export function confChangeEntry(change: ConfChange, term = 0, index = 0): ConfChangeEntry {
  return { type: 'confChange', term, index, change };
}

/** The same entry placed at (term, index). A new object: entries are never mutated. */
export function placeEntry(entry: Entry, term: number, index: number): Entry {
  return entry.type === 'normal' ? normalEntry(entry.data, term, index) : confChangeEntry(entry.change, term, index);
}

/**
 * The bytes an entry stands for in flow control (`maxSizePerMsg`, inflight bytes,
 * `maxCommittedSizePerReady`, `maxUncommittedEntriesSize`). Only the payload counts, as with
 * etcd-io/raft's payloadSize: an empty entry (a new leader's, or the change that leaves a joint
 * config) is free, so it can never be refused for its size.
 */
export function payloadSize(entry: Entry): number {
  if (entry.type === 'normal') return entry.data.byteLength;
  return entry.change.context.byteLength + 8 * entry.change.changes.length;
}

export function payloadsSize(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += payloadSize(entry);
  return total;
}

/**
 * Keeps the longest prefix of `entries` whose total payload fits `maxSize`, but always at least
 * one entry, so that an oversized entry still makes progress (etcd's limitSize).
 */
export function limitSize(entries: readonly Entry[], maxSize: number): readonly Entry[] {
  if (entries.length === 0) return entries;
  let size = payloadSize(entries[0]!);
  let count = 1;
  for (; count < entries.length; count++) {
    size += payloadSize(entries[count]!);
    if (size > maxSize) break;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}
