import test from 'ava';
import type { Event } from '../../core/api/index.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { HistoryEntry } from '../../sim/client.ts';
import type { LogicalWatchSpec, WatchSegment } from '../../sim/watchLog.ts';
import { ObservedWrites } from './watchGuidedHistory.ts';

const everyKey: LogicalWatchSpec = { key: '\0', rangeEnd: '\0', prevKv: false, filters: [], progressNotify: false };
const segment: WatchSegment = { client: 20, watch: 1, node: 1, stream: 1, watchId: 0, spec: everyKey, startRevision: 0, createdRevision: 1 };

function put(key: string, value: string, revision: number): Event {
  return { type: 'PUT', kv: { key, value, createRevision: revision, modRevision: revision, version: 1, lease: 0 } };
}

let nextId = 0;
function call(request: ServerRequest, invokeUs: number, outcome: 'ok' | 'unknown' = 'unknown', revision = 0): HistoryEntry<ServerRequest, ServerReply> {
  const reply: ServerReply | null = outcome === 'ok' ? ({ method: request.method, response: { header: { clusterId: 0, memberId: 0, revision, raftTerm: 0 } } } as ServerReply) : null;
  return { client: 10, id: nextId++, to: 1, invokeUs, completeUs: outcome === 'ok' ? invokeUs + 10 : null, attempts: 1, lastTo: 1, request, reply, outcome };
}

/** A watch on every key created at revision 1, shown `events` at 100 µs apart, then a bookmark at `upTo`. */
function watched(events: Event[], upTo: number, compactedAt?: number): ObservedWrites {
  const observed = new ObservedWrites();
  observed.record({ kind: 'created', segment }, 0);
  events.forEach((event, i) => observed.record({ kind: 'events', segment, events: [event], revision: event.kv.modRevision }, 100 * (i + 1)));
  if (compactedAt !== undefined) observed.record({ kind: 'compacted', segment, compactRevision: compactedAt }, 5_000);
  observed.record({ kind: 'progress', segment, revision: upTo, requested: true }, 10_000);
  return observed;
}

test('an unknown put a watch showed took effect at its revision, by the time it was shown', (t) => {
  const observed = watched([put('a', 'x', 2)], 2);
  const [settled] = observed.patch([call({ method: 'Put', request: { key: 'a', value: 'x' } }, 50)]);
  t.is(settled!.outcome, 'ok');
  t.is(settled!.completeUs, 100);
  t.is((settled!.reply as { response: { header: { revision: number } } }).response.header.revision, 2);
});

test('an unknown put an unbroken every-key watch never showed, up to the highest revision shown, never took effect', (t) => {
  const observed = watched([put('a', 'x', 2)], 3);
  const guidance = { tookEffect: 0, neverTookEffect: 0 };
  const [, unseen] = observed.patch([call({ method: 'Put', request: { key: 'a', value: 'x' } }, 50), call({ method: 'Put', request: { key: 'b', value: 'y' } }, 60)], guidance);
  t.is(unseen!.outcome, 'fail');
  t.deepEqual(guidance, { tookEffect: 1, neverTookEffect: 1 });
});

test('a compaction gap after what clients had seen leaves an unseen put open; one before it does not', (t) => {
  const late = watched([put('a', 'x', 2)], 9, 6);
  t.is(late.patch([call({ method: 'Put', request: { key: 'b', value: 'y' } }, 50)])[0]!.outcome, 'unknown');
  // A client saw revision 7 before the put was invoked: it lands after 7, past the gap [3, 5].
  const early = watched([put('a', 'x', 2)], 9, 6);
  const seen = call({ method: 'Range', request: { key: 'a' } }, 5_100, 'ok', 7);
  t.is(early.patch([seen, call({ method: 'Put', request: { key: 'b', value: 'y' } }, 6_000)])[1]!.outcome, 'fail');
});

test('a value written by several calls settles none of them', (t) => {
  const observed = watched([put('h', 'head', 2)], 2);
  const calls = [call({ method: 'Put', request: { key: 'h', value: 'head' } }, 50), call({ method: 'Put', request: { key: 'h', value: 'head' } }, 60)];
  t.deepEqual(observed.patch(calls).map((one) => one.outcome), ['unknown', 'unknown']);
});

test("a guarded txn whose success puts were shown at one revision succeeded there; one whose failure branch writes stays open", (t) => {
  const observed = watched([put('p', 'v1', 2)], 4);
  const guarded = call({ method: 'Txn', request: { compare: [{ key: 'p', target: 'VERSION', result: 'EQUAL', version: 0 }], success: [{ requestPut: { key: 'p', value: 'v1' } }], failure: [{ requestRange: { key: 'p' } }] } } as ServerRequest, 50);
  const writesOnFailure = call({ method: 'Txn', request: { compare: [], success: [{ requestPut: { key: 'q', value: 'w' } }], failure: [{ requestDeleteRange: { key: 'q' } }] } } as ServerRequest, 50);
  const unseenGuarded = call({ method: 'Txn', request: { compare: [], success: [{ requestPut: { key: 'r', value: 'z' } }], failure: [{ requestRange: { key: 'r' } }] } } as ServerRequest, 50);
  const [succeeded, open, dropped] = observed.patch([guarded, writesOnFailure, unseenGuarded]);
  t.is(succeeded!.outcome, 'ok');
  t.true((succeeded!.reply as { response: { succeeded: boolean } }).response.succeeded);
  t.is(open!.outcome, 'unknown');
  t.is(dropped!.outcome, 'fail');
});
