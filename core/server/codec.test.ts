import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import { isEtcdError } from '../api/errors.ts';
import type { KeyValue } from '../api/kv.ts';
import { DecodeError } from '../base/byteCodec.ts';
import { tornRecord, type DurableRecord, type DurableState, type NodeId } from '../host/node.ts';
import { runToEnd } from '../base/steps.ts';
import { Backend, backendFile, isBackendImage, plainKeyValue, PreparedIndex, SlabKeyValue, useSlabSize, ValueSlabs, type BackendImage } from '../mvcc/index.ts';
import { wholeImage } from '../mvcc/backendDelta.ts';
import { keyValuesOf } from '../mvcc/backendImage.ts';
import { TestRandom } from '../raft/_test/testRandom.ts';
import type { Message, Snapshot } from '../raft/index.ts';
import { makeMessage } from '../raft/message.ts';
import { walRecordCodec } from '../replica/codec.ts';
import { walFile, type WalRecord } from '../replica/wal.ts';
import { Simulation } from '../../sim/simulation.ts';
import { defaultSimOptions } from '../../sim/options.ts';
import { SeededRandom } from '../../sim/rng.ts';
import { raftSafety } from '../../properties/raft/raftSafety.ts';
import { raftTrafficOnly, type RaftHost } from '../../properties/raft/raftHost.ts';
import { isRaftMessage, type PeerMessage } from './peerMessage.ts';
import { hashesAgree, kvWorkload } from './_test/simulatedCluster.ts';
import { etcdCodec } from './codec.ts';
import { EtcdServer } from './etcdServer.ts';
import { etcdProtocol, etcdServerConfig } from './protocol.ts';
import { StateMachine } from './stateMachine.ts';
import type { ServerReply, ServerRequest } from './serverRequest.ts';

/** An image as its contents (its tree is a class the deep comparison would not look into; a slab value as its string). */
function imageView(image: BackendImage): unknown {
  const keys = [...image.keys.entries()].map(([main, changes]) => [main, keyValuesOf(changes, main).map((kv) => (kv === undefined ? kv : plainKeyValue(kv)))]);
  return { keys, meta: image.meta, sizeInUse: image.sizeInUse, size: image.size };
}

function snapshotView(snapshot: Snapshot | null): unknown {
  return snapshot === null ? null : { metadata: snapshot.metadata, data: imageView(snapshot.data as BackendImage) };
}

function messageView(message: Message): unknown {
  return { ...message, entries: [...message.entries], snapshot: snapshotView(message.snapshot) };
}

function recordView(record: DurableRecord): unknown {
  if (isBackendImage(record)) return imageView(record);
  const wal = record as WalRecord;
  if (wal.type === 'snapshot') return { type: wal.type, snapshot: snapshotView(wal.snapshot) };
  if (wal.type === 'entries') return { type: wal.type, entries: [...wal.entries] };
  return record;
}

function throughBytes(durable: DurableState): DurableState {
  const files = new Map<string, DurableRecord[]>();
  for (const [file, records] of durable.files) files.set(file, records.map((record) => (record === tornRecord ? record : etcdCodec.record.decode(etcdCodec.record.encode(record)))));
  return { files };
}

/** What a member restarted from a disk holds: Raft's log and state, the store, the membership. */
function restartedView(id: NodeId, members: readonly NodeId[], durable: DurableState): unknown {
  const config = etcdServerConfig(members, { snapshotCount: 20, snapshotCatchUpEntries: 5 });
  const server = new EtcdServer({ id, members, random: new SeededRandom('restart'), durable }, config);
  const kv = server.state.kv;
  const hash = kv.hashKV({ revision: 0 });
  return {
    hardState: server.hardState,
    applied: server.appliedIndex,
    consistentIndex: server.consistentIndex,
    revision: kv.revision,
    compactRevision: kv.compactRevision,
    hash,
    lastIndex: server.storage.lastIndex(),
    members: server.state.membership.members,
  };
}

test('every message, every durable record and every restart of a simulated cluster with crashes and snapshots comes out of the codec unchanged', (t) => {
  const members = [1, 2, 3];
  const failures: string[] = [];
  const seen = new Set<string>();
  const sim = new Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>(
    {
      ...defaultSimOptions,
      seed: 3,
      timeLimitUs: 16_000_000,
      faults: [
        // Down long enough that the others compact their logs past it: it is caught up by a snapshot.
        { atUs: 1_500_000, action: { kind: 'crash', node: 3 } },
        { atUs: 9_000_000, action: { kind: 'restart', node: 3 } },
        { atUs: 11_000_000, action: { kind: 'crash', node: 1 } },
        { atUs: 12_000_000, action: { kind: 'restart', node: 1 } },
      ],
    },
    {
      protocol: etcdProtocol(etcdServerConfig(members, { snapshotCount: 20, snapshotCatchUpEntries: 5 })),
      workload: kvWorkload(3, 4),
      observers: [
        raftTrafficOnly<PeerMessage, ServerRequest, ServerReply, EtcdServer>(raftSafety<ServerRequest, ServerReply, RaftHost<ServerRequest, ServerReply>>(), isRaftMessage),
        hashesAgree(),
        {
          onSend(_from, _to, message) {
            if (!isRaftMessage(message)) {
              if (!isDeepStrictEqual(etcdCodec.message.decode(etcdCodec.message.encode(message)), message)) failures.push(`${message.type} ${message.from}→${message.to}`);
              return;
            }
            seen.add(message.type + (message.snapshot === null ? '' : '+snapshot'));
            const decoded = etcdCodec.message.decode(etcdCodec.message.encode(message));
            if (!isDeepStrictEqual(messageView(decoded as Message), messageView(message))) failures.push(`${message.type} ${message.from}→${message.to}`);
          },
        },
      ],
    },
  );
  const result = sim.run();
  t.true(result.ok, result.violation?.message);
  t.deepEqual(failures, []);
  t.true(seen.has('MsgApp') && seen.has('MsgSnap+snapshot'), [...seen].join());
  for (const id of members) {
    const durable = sim.disk(id).read();
    const decoded = throughBytes(durable);
    for (const file of [walFile, backendFile]) {
      const records = durable.files.get(file) ?? [];
      t.true(records.length > 0, `member ${id} wrote its ${file}`);
      // The backend's appended commits come back as deltas: compare what they open to.
      if (file === backendFile) {
        const open = (from: readonly DurableRecord[]) => imageView(Backend.open(from).backend.snapshot());
        t.deepEqual(open(decoded.files.get(file)!), open(records), `member ${id}'s backend`);
      } else t.deepEqual(decoded.files.get(file)!.map(recordView), records.map(recordView), `member ${id}'s ${file}`);
    }
    t.deepEqual(restartedView(id, members, decoded), restartedView(id, members, durable), `member ${id} restarted from bytes`);
  }
});

test('the backend file stores whole images only at its start; appended commits store what changed', (t) => {
  const backend = Backend.create();
  backend.setConsistentIndex(1, 1);
  backend.beginWriteTxn();
  backend.append(2, 0, { key: 'big', createRevision: 2, modRevision: 2, version: 1, value: 'x'.repeat(100_000), lease: 0 });
  backend.endWriteTxn();
  backend.commit();
  backend.setConsistentIndex(2, 1);
  backend.beginWriteTxn();
  backend.append(3, 0, { key: 'small', createRevision: 3, modRevision: 3, version: 1, value: 'y', lease: 0 });
  backend.endWriteTxn();
  backend.commit();
  backend.defrag();
  const writes = backend.takeWrites();
  const sizes = writes.map((write) => `${write.kind}:${write.records.map((record) => (etcdCodec.record.encode(record).byteLength > 100_000 ? 'big' : 'small')).join()}`);
  t.deepEqual(sizes, ['append:big', 'append:small', 'replace:big']);
});

test('bytes the codec did not write are refused with a DecodeError', (t) => {
  for (const bytes of [new Uint8Array([]), new Uint8Array([0x99, 1, 2]), new Uint8Array([0x42, 7]), new Uint8Array([0x52, 0, 0])]) {
    t.throws(() => etcdCodec.record.decode(bytes), { instanceOf: DecodeError });
  }
  t.throws(() => etcdCodec.message.decode(new Uint8Array([200])), { instanceOf: DecodeError });
});

test("the server's own peer messages (lease calls forwarded to the leader, and their answers) come out of the codec unchanged; garbage is a DecodeError", (t) => {
  const forward: PeerMessage = { type: 'LeaseForward', from: 2, to: 1, forwardId: 7, request: { method: 'LeaseKeepAlive', request: { ID: 2 ** 52 - 1 } } };
  const reply: PeerMessage = { type: 'LeaseForwardReply', from: 1, to: 2, forwardId: 7, reply: { method: 'LeaseKeepAlive', response: { header: { clusterId: 1, memberId: 1, revision: 9, raftTerm: 2 }, ID: 5, TTL: 10 } } };
  const notPrimary: PeerMessage = { type: 'LeaseForwardReply', from: 1, to: 2, forwardId: 8, reply: 'not-primary' };
  for (const message of [forward, reply, notPrimary]) t.deepEqual(etcdCodec.message.decode(etcdCodec.message.encode(message)), message);
  t.throws(() => etcdCodec.message.decode(Uint8Array.of(0xf0, 0x7b)), { instanceOf: DecodeError });
  t.throws(() => etcdCodec.message.decode(Uint8Array.of(0xf0, ...new TextEncoder().encode('{"type":"Other"}'))), { instanceOf: DecodeError });
});

test('a WAL record is its family byte and then the WAL codec\'s bytes, written in one go as before in two', (t) => {
  const records: WalRecord[] = [
    { type: 'entries', entries: [{ type: 'normal', term: 2, index: 7, data: new Uint8Array(3000).fill(9) }, { type: 'normal', term: 2, index: 8, data: new Uint8Array(0) }] },
    { type: 'hardState', hardState: { term: 2, vote: 1, commit: 8 } },
  ];
  const plain = walRecordCodec({ encode: () => new Uint8Array(0), decode: () => null });
  for (const record of records) t.deepEqual(etcdCodec.record.encode(record), Uint8Array.of(0x57, ...plain.encode(record)));
});

/** A backend of 2,500 revisions (commits every 100), defragmented: its last write is a whole image of them. */
function backendOfManyRevisions(): Backend {
  const backend = Backend.create();
  for (let revision = 2; revision < 2_502; revision++) {
    backend.setConsistentIndex(revision, 1);
    backend.beginWriteTxn();
    backend.append(revision, 0, { key: `k${revision % 300}`, createRevision: revision, modRevision: revision, version: 1, value: 'v'.repeat(500 + (revision % 50)), lease: 0 });
    backend.endWriteTxn();
    if (revision % 100 === 0) backend.commit();
  }
  backend.defrag();
  return backend;
}

test('a whole backend image of many revisions is also encoded in slices whose concatenation is its encoding; small images and deltas are not sliced', (t) => {
  const backend = backendOfManyRevisions();
  const writes = backend.takeWrites();
  const whole = writes.at(-1)!.records[0]!;
  const slices = [...etcdCodec.record.encodeInSlices!(whole)!];
  t.true(slices.length > 4, `${slices.length} slices`);
  t.deepEqual(Buffer.concat(slices), Buffer.from(etcdCodec.record.encode(whole)));
  t.is(etcdCodec.record.encodeInSlices!(writes[0]!.records[0]!), null, 'a delta');
  const small = Backend.create();
  small.setConsistentIndex(1, 1);
  small.defrag();
  t.is(etcdCodec.record.encodeInSlices!(small.takeWrites().at(-1)!.records[0]!), null, 'a small image');
  t.is(etcdCodec.record.encodeInSlices!({ type: 'hardState', state: { term: 1, vote: 0, commit: 0 } } as unknown as DurableRecord), null, 'a WAL record');
});

/** Revision `revision`'s `count` changes as one write transaction, at the same consistent index (term 1). */
function writeRevision(backend: Backend, revision: number, count: number, change: (sub: number) => KeyValue): void {
  backend.setConsistentIndex(revision, 1);
  backend.beginWriteTxn();
  for (let sub = 0; sub < count; sub++) backend.append(revision, sub, change(sub));
  backend.endWriteTxn();
}

test("a backend commit's delta of many changes (a huge DeleteRange's) is encoded in slices whose concatenation is its encoding; a delta of fewer is not", (t) => {
  const backend = Backend.create();
  writeRevision(backend, 2, 100, (sub) => ({ key: `k${sub}`, createRevision: 2, modRevision: 2, version: 1, value: 'v', lease: 0 }));
  backend.commit();
  // 5,000 tombstones of 276-byte keys at one revision, as check perf's cleanup writes 55k.
  writeRevision(backend, 3, 5_000, (sub) => ({ key: `k${sub}`.padEnd(276, 'x'), createRevision: 0, modRevision: 3, version: 0, value: '', lease: 0 }));
  backend.commit();
  const [small, large] = backend.takeWrites().filter((write) => write.kind === 'append').map((write) => write.records[0]!);
  t.is(etcdCodec.record.encodeInSlices!(small!), null, 'a delta of 100 changes');
  const copies: Uint8Array[] = [];
  for (const slice of etcdCodec.record.encodeInSlices!(large!, true)!) copies.push(slice.slice());
  t.true(copies.length > 4, `${copies.length} slices`);
  t.true(Math.max(...copies.map((slice) => slice.byteLength)) < 300 * 1024);
  t.deepEqual(Buffer.concat(copies), Buffer.from(etcdCodec.record.encode(large!)));
});

test('a slice of a whole image may end inside a revision: one that holds a whole keyspace of changes is cut up too', (t) => {
  const backend = Backend.create();
  for (let revision = 2; revision < 1_100; revision++) writeRevision(backend, revision, 1, () => ({ key: `k${revision}`, createRevision: revision, modRevision: revision, version: 1, value: 'v', lease: 0 }));
  // One revision of 3,000 changes of ~1 kB (a DeleteRange of a large prefix writes one like it).
  writeRevision(backend, 1_100, 3_000, (sub) => ({ key: `big${sub}`.padEnd(1_000, 'k'), createRevision: 1_100, modRevision: 1_100, version: 1, value: 'v', lease: 0 }));
  backend.defrag();
  const whole = backend.takeWrites().at(-1)!.records[0]!;
  const slices = [...etcdCodec.record.encodeInSlices!(whole)!];
  t.deepEqual(Buffer.concat(slices), Buffer.from(etcdCodec.record.encode(whole)));
  const largest = Math.max(...slices.map((slice) => slice.byteLength));
  t.true(largest < 300 * 1024, `largest slice ${largest} bytes of ${Buffer.concat(slices).byteLength}`);
  t.true(slices.length >= 10, `${slices.length} slices`);
  // Reused: each slice copied as it is taken gives the same bytes, and the slices after the head share one buffer.
  const copies: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for (const slice of etcdCodec.record.encodeInSlices!(whole, true)!) {
    copies.push(slice.slice());
    buffers.add(slice.buffer);
  }
  t.deepEqual(Buffer.concat(copies), Buffer.concat(slices));
  t.true(buffers.size <= 3, `${buffers.size} buffers for ${copies.length} slices (the family byte, the head, one for the rest)`);
});

test('a Raft message carrying a snapshot of many revisions is also a head and its image in slices, together its encoding; other messages are not sliced', (t) => {
  const backend = backendOfManyRevisions();
  const image = backend.takeWrites().at(-1)!.records[0] as BackendImage;
  const snapshot: Snapshot = { metadata: { index: 2_501, term: 3, confState: { voters: [1, 2, 3], learners: [4], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: image };
  const message = makeMessage({ type: 'MsgSnap', to: 2, snapshot, context: 'ctx' }, 1, 3);
  const sliced = etcdCodec.encodeMessageInSlices!(message)!;
  // Each slice copied as it is taken (they are written over each other).
  const copies: Uint8Array[] = [];
  for (const slice of sliced.body) copies.push(slice.slice());
  const body = Buffer.concat(copies);
  t.true(copies.length > 4, `${copies.length} slices`);
  const bytes = Buffer.concat([sliced.head(body.byteLength), body]);
  t.deepEqual(bytes, Buffer.from(etcdCodec.message.encode(message)));
  t.deepEqual(messageView(etcdCodec.message.decode(bytes) as Message), messageView(message));
  t.is(etcdCodec.encodeMessageInSlices!(makeMessage({ type: 'MsgApp', to: 2 }, 1, 3)), null, 'no snapshot');
  const small = Backend.create();
  small.setConsistentIndex(1, 1);
  small.defrag();
  const smallImage = small.takeWrites().at(-1)!.records[0] as BackendImage;
  t.is(etcdCodec.encodeMessageInSlices!(makeMessage({ type: 'MsgSnap', to: 2, snapshot: { ...snapshot, data: smallImage } }, 1, 3)), null, 'a small image');
  t.is(etcdCodec.encodeMessageInSlices!({ type: 'LeaseForward' } as unknown as PeerMessage), null, 'a server message');
});

test('a Raft message of a snapshot of many revisions is also decoded in steps, 256 KiB of revisions each, into the message the whole decode makes; other messages are not; bad bytes are a DecodeError', (t) => {
  const backend = backendOfManyRevisions();
  const image = backend.takeWrites().at(-1)!.records[0] as BackendImage;
  const snapshot: Snapshot = { metadata: { index: 2_501, term: 3, confState: { voters: [1, 2, 3], learners: [4], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: image };
  const message = makeMessage({ type: 'MsgSnap', to: 2, snapshot, context: 'ctx' }, 1, 3);
  const bytes = etcdCodec.message.encode(message);
  t.true(bytes.byteLength >= 1024 * 1024, `${bytes.byteLength} bytes`);
  const steps = etcdCodec.decodeMessageInSteps!(bytes)!;
  let count = 0;
  let step = steps.next();
  for (; step.done !== true; step = steps.next()) count++;
  // 256 KiB of whole revisions a step.
  t.is(count, Math.floor(bytes.byteLength / (256 * 1024)), `${count} steps for ${bytes.byteLength} bytes`);
  const stepped = step.value as Message;
  t.deepEqual(messageView(stepped), messageView(etcdCodec.message.decode(bytes) as Message));
  t.deepEqual(Buffer.from(etcdCodec.message.encode(stepped)), Buffer.from(bytes), 'byte for byte the message sent');
  t.is(etcdCodec.decodeMessageInSteps!(etcdCodec.message.encode(makeMessage({ type: 'MsgApp', to: 2 }, 1, 3))), null, 'a small message');
  const lease = etcdCodec.message.encode({ type: 'LeaseForward', from: 1, to: 2, id: 7, request: { method: 'LeaseGrant', request: { TTL: 5, ID: 0 } } } as unknown as PeerMessage);
  const padded = new Uint8Array(2 * 1024 * 1024);
  padded.set(lease);
  t.is(etcdCodec.decodeMessageInSteps!(padded), null, "the server's own messages are decoded whole");
  const damaged = bytes.subarray(0, bytes.byteLength - 100);
  const run = () => {
    for (const _ of etcdCodec.decodeMessageInSteps!(damaged)!);
  };
  t.throws(run, { instanceOf: DecodeError });
  t.throws(() => etcdCodec.message.decode(damaged), { instanceOf: DecodeError }, 'as the whole decode');
});

test('a snapshot of many revisions decoded in steps gets its key index prepared in steps, which its install adopts; other messages are not prepared, and a foreign index is not adopted', (t) => {
  const backend = backendOfManyRevisions();
  const image = backend.takeWrites().at(-1)!.records[0] as BackendImage;
  const snapshot: Snapshot = { metadata: { index: 2_501, term: 3, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: image };
  const bytes = etcdCodec.message.encode(makeMessage({ type: 'MsgSnap', to: 2, snapshot }, 1, 3));
  const decoded = runToEnd(etcdCodec.decodeMessageInSteps!(bytes)!) as Message;
  const decodedImage = decoded.snapshot!.data as BackendImage;
  const steps = etcdCodec.prepareMessageInSteps!(decoded)!;
  let count = 0;
  let step = steps.next();
  for (; step.done !== true; step = steps.next()) count++;
  t.true(count >= 2_500 / 256, `${count} steps for 2,500 revisions`);
  const prepared = step.value as Message;
  t.deepEqual(messageView(prepared), messageView(decoded), 'the same message');
  t.deepEqual(Buffer.from(etcdCodec.message.encode(prepared)), Buffer.from(bytes), 'the prepared index is never encoded');
  const preparedImage = prepared.snapshot!.data as BackendImage;
  t.is(preparedImage.keys, decodedImage.keys);
  t.true(preparedImage.prepared instanceof PreparedIndex);

  const stateOptions = etcdProtocol(etcdServerConfig([1])).start({ id: 1, members: [1], random: new TestRandom(1), durable: { files: new Map() } }).stateOptions;
  const stateView = (state: StateMachine) => {
    const keys = state.kv.range({ key: '\0', rangeEnd: '\0' });
    return { revision: state.kv.revision, hash: state.kv.hashKV(), keys: isEtcdError(keys) ? keys : { ...keys, kvs: keys.kvs.map(plainKeyValue) }, leased: [...state.kv.leasedKeys()] };
  };
  const installed = StateMachine.fromSnapshot(preparedImage, stateOptions);
  t.is(preparedImage.prepared!.take(preparedImage.keys), null, 'adopted by the install');
  t.deepEqual(stateView(installed), stateView(StateMachine.fromSnapshot(decodedImage, stateOptions)), 'the state the one-step install builds');

  const foreignIndex = runToEnd(PreparedIndex.inSteps(decodedImage.keys));
  const other = backendOfManyRevisions();
  other.beginWriteTxn();
  other.append(2_502, 0, { key: 'other', createRevision: 2_502, modRevision: 2_502, version: 1, value: 'x', lease: 0 });
  other.endWriteTxn();
  const otherImage = other.snapshot();
  const withForeign = StateMachine.fromSnapshot({ ...otherImage, prepared: foreignIndex }, stateOptions);
  t.not(foreignIndex.take(decodedImage.keys), null, 'not adopted: built from another bucket');
  t.deepEqual(stateView(withForeign), stateView(StateMachine.fromSnapshot(otherImage, stateOptions)));
  t.like(withForeign.kv.range({ key: 'other' }), { count: 1 });

  t.is(etcdCodec.prepareMessageInSteps!(makeMessage({ type: 'MsgApp', to: 2 }, 1, 3)), null, 'no snapshot');
  const small = Backend.create();
  small.setConsistentIndex(1, 1);
  const smallImage = small.snapshot();
  t.is(etcdCodec.prepareMessageInSteps!(makeMessage({ type: 'MsgSnap', to: 2, snapshot: { ...snapshot, data: smallImage } }, 1, 3)), null, 'a small image: the install builds its index');
  t.is(etcdCodec.prepareMessageInSteps!({ type: 'LeaseForward' } as unknown as PeerMessage), null, 'a server message');
});

test("the runtime's member (given one allocator) decodes a snapshot's long values into it and installs a backend that fills the same slab: one part-filled slab, not two; the simulator's members each have their own", (t) => {
  const previous = useSlabSize(64 * 1024);
  try {
    const source = Backend.create();
    source.beginWriteTxn();
    for (let main = 2; main < 40; main++) source.append(main, 0, source.values.keyValue(`k${main}`, main, main, 1, 'v'.repeat(100 + main), 0));
    source.endWriteTxn();
    source.setConsistentIndex(40, 2);
    const snapshot: Snapshot = { metadata: { index: 40, term: 2, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: wholeImage(source.snapshot()) };
    const member = (values?: ValueSlabs) => {
      const protocol = etcdProtocol(etcdServerConfig([1]), values);
      const server = protocol.start({ id: 1, members: [1], random: new TestRandom(1), durable: { files: new Map() } });
      const decoded = protocol.codec!.message.decode(etcdCodec.message.encode(makeMessage({ type: 'MsgSnap', to: 1, snapshot }, 2, 2))) as Message;
      const installed = StateMachine.fromSnapshot(decoded.snapshot!.data as BackendImage, server.stateOptions);
      installed.backend.beginWriteTxn();
      const put = installed.backend.values.keyValue('after', 41, 41, 1, 'w'.repeat(200), 0) as SlabKeyValue;
      installed.backend.endWriteTxn();
      return { server, installed, decodedSlab: (installed.backend.get(39, 0) as SlabKeyValue).slab, putSlab: put.slab };
    };
    const values = new ValueSlabs();
    const runtime = member(values);
    t.is(runtime.server.state.backend.values, values, 'the member started on its allocator');
    t.is(runtime.installed.backend.values, values, 'and so did the backend its snapshot installed');
    t.is(runtime.putSlab, runtime.decodedSlab, 'a put after the install goes on filling the slab the decoder left part full');
    t.true(values.isCurrent(runtime.decodedSlab));
    t.deepEqual([...runtime.installed.backend.sparseSlabs()], [], 'so that slab is not a relocation candidate');
    const simulated = member();
    t.not(simulated.server.state.backend.values, simulated.installed.backend.values, 'without one: each backend its own (per member and per incarnation)');
    t.not(simulated.putSlab, simulated.decodedSlab);
  } finally {
    useSlabSize(previous);
  }
});
