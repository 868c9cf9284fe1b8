import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { DecodeError } from '../base/byteCodec.ts';
import type { DurableRecord } from '../host/node.ts';
import { makeMessage, type Message, messageTypes } from '../raft/message.ts';
import type { Snapshot } from '../raft/state.ts';
import { Simulation } from '../../sim/simulation.ts';
import { defaultSimOptions } from '../../sim/options.ts';
import { logCodec } from './codec.ts';
import type { LogReply, LogReplica, LogRequest, LogSnapshotData } from './logReplica.ts';
import { defaultLogReplicaConfig, logProtocol } from './logProtocol.ts';
import type { WalRecord } from './wal.ts';

/** Snapshot data shares the replica's growing arrays: only the first `count` values belong to it. */
function normalizeSnapshot(snapshot: Snapshot | null): unknown {
  if (snapshot === null) return null;
  const data = snapshot.data as LogSnapshotData;
  return { metadata: snapshot.metadata, data: { values: data.values.slice(0, data.count), valueIndexes: data.valueIndexes.slice(0, data.count), count: data.count, digest: data.digest, removed: [...data.removed] } };
}

function normalizeMessage(message: Message): unknown {
  return { ...message, entries: [...message.entries], snapshot: normalizeSnapshot(message.snapshot) };
}

function normalizeRecord(record: DurableRecord): unknown {
  const wal = record as WalRecord;
  if (wal.type === 'snapshot') return { type: wal.type, snapshot: normalizeSnapshot(wal.snapshot) };
  if (wal.type === 'entries') return { type: wal.type, entries: [...wal.entries] };
  return wal;
}

test('every message and WAL record of a simulated run with snapshots and a restart survives the codec unchanged', (t) => {
  const config = { ...defaultLogReplicaConfig, snapshotEveryEntries: 8, catchUpEntries: 2, initialVoters: [1, 2, 3] };
  let value = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const sim = new Simulation<Message, LogRequest, LogReply, LogReplica>(
    { ...defaultSimOptions, seed: 8, timeLimitUs: 12_000_000, faults: [{ atUs: 2_000_000, action: { kind: 'crash', node: 3 } }, { atUs: 6_000_000, action: { kind: 'restart', node: 3 } }] },
    {
      protocol: logProtocol(config),
      workload: {
        name: 'appends',
        clientCount: 3,
        operationsPerClientMax: 2_000,
        timeoutUs: 1_000_000,
        thinkUsMin: 0,
        thinkUsMax: 20_000,
        next: (client, random) => ({ to: 1 + random.below(3), request: random.below(4) === 0 ? { kind: 'read' } : { kind: 'append', value: client * 1000 + value++ } }),
        outcome: (reply) => (reply.kind === 'error' ? 'fail' : 'ok'),
      },
      observers: [
        {
          onSend(_from, _to, message) {
            seen.add(message.type + (message.snapshot === null ? '' : '+snapshot'));
            const decoded = logCodec.message.decode(logCodec.message.encode(message));
            if (!isDeepStrictEqual(normalizeMessage(decoded), normalizeMessage(message))) failures.push(`${message.type} ${message.from}→${message.to}`);
          },
        },
      ],
    },
  );
  const result = sim.run();
  t.true(result.ok, result.violation?.message);
  const records = sim.members.flatMap((id) => sim.disk(id).durableRecords('wal'));
  for (const record of records) {
    const decoded = logCodec.record.decode(logCodec.record.encode(record));
    if (!isDeepStrictEqual(normalizeRecord(decoded), normalizeRecord(record))) failures.push(`WAL record ${(record as WalRecord).type}`);
  }
  t.deepEqual(failures, []);
  t.true(seen.has('MsgSnap+snapshot'), `a snapshot went over the wire (seen: ${[...seen].sort().join(', ')})`);
  t.true(records.length > 10);
});

const safeInteger = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

test('arbitrary messages round-trip: every field, ids and indexes up to 2^53, any context string', (t) => {
  const entry = fc.oneof(
    fc.record({ type: fc.constant('normal' as const), term: safeInteger, index: safeInteger, data: fc.uint8Array({ maxLength: 20 }) }, { noNullPrototype: true }),
    fc.record({
      type: fc.constant('confChange' as const),
      term: safeInteger,
      index: safeInteger,
      change: fc.record({
        transition: fc.constantFrom('auto' as const, 'implicit' as const, 'explicit' as const),
        changes: fc.array(fc.record({ type: fc.constantFrom('addNode' as const, 'addLearner' as const, 'removeNode' as const), nodeId: safeInteger }, { noNullPrototype: true }), { maxLength: 3 }),
        context: fc.uint8Array({ maxLength: 8 }),
      }, { noNullPrototype: true }),
    }, { noNullPrototype: true }),
  );
  const message = fc.record({
    type: fc.constantFrom(...messageTypes),
    from: safeInteger,
    to: safeInteger,
    term: safeInteger,
    logTerm: safeInteger,
    index: safeInteger,
    commit: safeInteger,
    reject: fc.boolean(),
    rejectHint: safeInteger,
    context: fc.string({ unit: 'binary' }),
    entries: fc.array(entry, { maxLength: 4 }),
  });
  fc.assert(
    fc.property(message, (fields) => {
      const original = makeMessage(fields, fields.from, fields.term);
      const decoded = logCodec.message.decode(logCodec.message.encode(original));
      return isDeepStrictEqual(normalizeMessage(decoded), normalizeMessage(original));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('bytes the codec did not write are refused with a DecodeError, never decoded into something', (t) => {
  const bytes = logCodec.message.encode(makeMessage({ type: 'MsgHeartbeat', to: 2, from: 1, term: 3, context: 'read/1' }));
  t.throws(() => logCodec.message.decode(bytes.slice(0, bytes.length - 1)), { instanceOf: DecodeError });
  t.throws(() => logCodec.message.decode(new Uint8Array([...bytes, 0])), { instanceOf: DecodeError, message: /trailing/ });
  t.throws(() => logCodec.message.decode(new Uint8Array([200, ...bytes.slice(1)])), { instanceOf: DecodeError, message: /unknown message type/ });
  t.throws(() => logCodec.record.decode(new Uint8Array([9])), { instanceOf: DecodeError });
});
