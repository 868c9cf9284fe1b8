import type { Event, KeyValue } from '../../core/api/index.ts';
import { SlabKeyValue } from '../../core/mvcc/valueSlabs.ts';

/**
 * Whether a KeyValue a member hands out is whole: its key and value (a string, or a slab's:
 * core/mvcc/valueSlabs.ts), create and mod revision, version and lease (numbers; etcd's
 * mvccpb.KeyValue always has them, proto3 only leaves zeros off the wire). Comparing two
 * KeyValues field by field passes one that lacks a field when the other lacks it too (a watch's
 * event and the members' applied event made by the same code), and the history check reads a
 * missing field as one not shown: a spread copy of a SlabKeyValue (`{ ...kv }`) loses its
 * `value`, a prototype getter; a hand-made copy may forget any field.
 */

/** The fields of a KeyValue that hold numbers, as a message names them. */
const numberFields: readonly (readonly [keyof KeyValue, string])[] = [
  ['createRevision', 'create revision'],
  ['modRevision', 'mod revision'],
  ['version', 'version'],
  ['lease', 'lease'],
];

/** The first field `kv` lacks, or null. A slab's value is whole (its getter not run: it would make the string). */
export function missingField(kv: KeyValue): string | null {
  if (typeof kv.key !== 'string') return 'key';
  if (!(kv instanceof SlabKeyValue) && typeof kv.value !== 'string') return 'value';
  for (const [field, name] of numberFields) if (typeof kv[field] !== 'number') return name;
  return null;
}

/** What a message says of a KeyValue that lacks `field`: which key, and a hint for a lost slab value. */
export function describePartial(kv: KeyValue, field: string): string {
  const lost = field === 'value' ? ": a copy that lost a slab value's getter?" : '';
  return `a KeyValue of ${JSON.stringify(kv.key)} (mod revision ${kv.modRevision}) that has no ${field}${lost}`;
}

/** The first of `events` whose kv or prev_kv lacks a field, as a message's words ("event 0's prev_kv is …"), or null. */
export function partialEvent(events: readonly Event[]): string | null {
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const field = missingField(event.kv);
    if (field !== null) return `event ${i} (${event.type}) carries ${describePartial(event.kv, field)}`;
    if (event.prevKv === undefined) continue;
    const prevField = missingField(event.prevKv);
    if (prevField !== null) return `event ${i} (${event.type} ${JSON.stringify(event.kv.key)}@${event.kv.modRevision}) carries as prev_kv ${describePartial(event.prevKv, prevField)}`;
  }
  return null;
}
