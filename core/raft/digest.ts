import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { Entry } from './entry.ts';
import { type Message, type MessageType, messageTypes } from './message.ts';

const typeNumbers = new Map<MessageType, number>(messageTypes.map((type, i) => [type, i + 1]));

/**
 * A 32-bit summary of an entry: its place, kind and payload size (the payload's bytes are not
 * read, to keep digests cheap).
 */
export function digestEntry(entry: Entry, state = 0): number {
  let h = mixNumber(state, entry.term);
  h = mixNumber(h, entry.index);
  if (entry.type === 'normal') {
    h = mix32(h, 1);
    h = mix32(h, entry.data.byteLength);
  } else {
    h = mix32(h, 2);
    for (const change of entry.change.changes) h = mix32(mix32(h, change.type.length), change.nodeId);
  }
  return h;
}

/**
 * What a message is for the simulator's keyed network draws (NodeProtocol.keyMessage): its type
 * and term, and whether it carries entries or a read-index context. Its log position, commit and
 * payload are left out: one client write more or less moves them in every later message of the
 * term, and the point of keyed draws is that it should not move their fates. Entries and contexts
 * split a type's traffic in two: what the timers send (heartbeats, empty appends) keeps its own
 * count on the link, so a client operation removed does not move those fates either.
 */
export function keyMessage(m: Message): number {
  const h = mixNumber(mix32(0x6be7, typeNumbers.get(m.type)!), m.term);
  return finalize32(mix32(h, (m.entries.length > 0 ? 1 : 0) | (m.context.length > 0 ? 2 : 0)));
}

/**
 * A cheap 32-bit summary of a message for the simulator's trace hash: type, endpoints, term, log
 * position, commit, reject and hint, entry places, snapshot position and context. Two runs that
 * send different messages almost surely digest differently.
 */
export function digestMessage(m: Message): number {
  let h = mix32(0x5eed, typeNumbers.get(m.type)!);
  h = mixNumber(h, m.from);
  h = mixNumber(h, m.to);
  h = mixNumber(h, m.term);
  h = mixNumber(h, m.logTerm);
  h = mixNumber(h, m.index);
  h = mixNumber(h, m.commit);
  h = mix32(h, m.reject ? 1 : 0);
  h = mixNumber(h, m.rejectHint);
  h = mix32(h, m.entries.length);
  // Indexed: a message's entries are either the shared frozen empty array or a plain one, and an
  // iterator over the two shapes was not optimized away (one allocated per digested message).
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) h = digestEntry(entries[i]!, h);
  if (m.snapshot !== null) {
    h = mixNumber(h, m.snapshot.metadata.index);
    h = mixNumber(h, m.snapshot.metadata.term);
  }
  for (let i = 0; i < m.context.length; i++) h = mix32(h, m.context.charCodeAt(i));
  return finalize32(h);
}
