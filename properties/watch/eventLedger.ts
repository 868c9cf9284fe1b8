import type { Event, KeyValue } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { NodeProtocol } from '../../core/host/node.ts';
import type { ApplyListener } from '../../core/server/applyListener.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import { listeningProtocol } from '../etcd/listeningProtocol.ts';
import { partialEvent } from '../etcd/wholeKeyValue.ts';

/**
 * The revision history the members agreed on: every revision's events as the members applied
 * them (a read-only apply listener on every incarnation of every member), each revision kept once
 * and compared whenever another member applies it, every KeyValue of its events (kv, prev_kv)
 * whole (../etcd/wholeKeyValue.ts). Watch checks judge every event against it.
 */
export class EventLedger {
  private readonly revisions = new Map<number, readonly Event[]>();
  /** The highest compaction revision any member has applied (a catch-up's prev_kv may be gone below it). */
  compactRevision = -1;
  /** The highest revision any member reached. */
  highest = 1;
  comparisons = 0;

  events(revision: number): readonly Event[] | undefined {
    return this.revisions.get(revision);
  }

  /** Every member's apply is recorded: the protocol's nodes are started with the ledger listening. */
  watching(protocol: NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer>): NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
    return listeningProtocol(protocol, () => this.listener());
  }

  private listener(): ApplyListener {
    return {
      // Members are compared on prevKv too, and watch checks take the expected prev_kv from here.
      wantsPrevKv: () => true,
      onEvents: (server, events, revision) => this.applied(server.id, revision, events),
      onApplied: (server) => {
        if (server.state.kv.compactRevision > this.compactRevision) this.compactRevision = server.state.kv.compactRevision;
      },
      onRestored: (server) => {
        if (server.state.kv.compactRevision > this.compactRevision) this.compactRevision = server.state.kv.compactRevision;
      },
    };
  }

  private applied(member: number, revision: number, events: readonly Event[]): void {
    // The ledger is what watches are judged against: a partial KeyValue here would pass a watch
    // sent the same partial one (made by the same code), so it fails where it is made.
    const partial = partialEvent(events);
    if (partial !== null) throw new AssertionError(`member ${member} applied revision ${revision}: its ${partial}`);
    if (revision > this.highest) this.highest = revision;
    const known = this.revisions.get(revision);
    if (known === undefined) {
      this.revisions.set(revision, events);
      return;
    }
    this.comparisons++;
    const difference = differ(known, events);
    if (difference !== null) throw new AssertionError(`member ${member} applied revision ${revision} differently from another member: ${difference}`);
  }
}

/** Where two revisions' events differ, or null when they are the same changes. */
export function differ(expected: readonly Event[], actual: readonly Event[], withPrevKv = true): string | null {
  if (expected.length !== actual.length) return `${actual.length} events instead of ${expected.length} (${describeEvents(actual)} vs ${describeEvents(expected)})`;
  for (let i = 0; i < expected.length; i++) {
    const a = expected[i]!;
    const b = actual[i]!;
    if (a.type !== b.type || !sameKeyValue(a.kv, b.kv)) return `event ${i}: ${describeEvent(b)} instead of ${describeEvent(a)}`;
    if (withPrevKv && !samePrevKv(a.prevKv, b.prevKv)) return `event ${i} (${describeEvent(b)}): prev_kv ${describeKv(b.prevKv)} instead of ${describeKv(a.prevKv)}`;
  }
  return null;
}

export function sameKeyValue(a: KeyValue, b: KeyValue): boolean {
  return a.key === b.key && a.value === b.value && a.modRevision === b.modRevision && a.createRevision === b.createRevision && a.version === b.version && a.lease === b.lease;
}

function samePrevKv(a: KeyValue | undefined, b: KeyValue | undefined): boolean {
  return a === undefined || b === undefined ? a === b : sameKeyValue(a, b);
}

export function describeEvent(event: Event): string {
  return `${event.type} ${JSON.stringify(event.kv.key)}@${event.kv.modRevision}${event.type === 'PUT' ? `=${JSON.stringify(event.kv.value.slice(0, 16))} (create ${event.kv.createRevision}, version ${event.kv.version}, lease ${event.kv.lease})` : ''}`;
}

function describeEvents(events: readonly Event[]): string {
  return `[${events.map(describeEvent).join(', ')}]`;
}

/** A KeyValue with every field two can differ in (a difference only in version or lease must not read "X instead of X"). */
function describeKv(kv: KeyValue | undefined): string {
  return kv === undefined ? 'none' : `${JSON.stringify(kv.key)}@${kv.modRevision}=${JSON.stringify(kv.value.slice(0, 16))} (create ${kv.createRevision}, version ${kv.version}, lease ${kv.lease})`;
}
