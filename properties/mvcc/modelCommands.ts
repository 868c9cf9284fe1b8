import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { isEtcdError, ErrKeyNotFound, ErrLeaseNotFound, type EtcdError } from '../../core/api/errors.ts';
import type { KeyValue } from '../../core/api/kv.ts';
import type { Compare, RangeRequest, RequestOp, TxnRequest } from '../../core/api/rpc.ts';
import { validateTxn } from '../../core/api/validate.ts';
import { Backend } from '../../core/mvcc/backend.ts';
import { KvStore, type KvStoreOptions } from '../../core/mvcc/kvStore.ts';
import { ReferenceModel } from './referenceModel.ts';
import { StoreOnDisk } from './storeOnDisk.ts';

/** The system under test: a store on a simulated disk, and what the model looked like when the disk last got writes. */
export class Real {
  readonly member: StoreOnDisk;
  private lastWritten: { revision: number; compactRevision: number } | null = null;

  constructor(seed: number) {
    this.member = new StoreOnDisk({ store: storeOptions(seed), backend: { batchLimit: 4 }, tornWrite: { numerator: 1, denominator: 2 }, seed: `model/${seed}`, throughBytes: true });
  }

  get store(): KvStore {
    return this.member.store;
  }

  /** Hands the backend's writes to the disk, remembering the model state they hold. */
  persist(model: ReferenceModel): void {
    const writes = this.store.backend.takeWrites();
    if (writes.length === 0) return;
    this.member.disk.write(writes);
    this.lastWritten = { revision: model.revision, compactRevision: model.compactRevision };
  }

  sync(model: ReferenceModel): void {
    this.persist(model);
    this.member.sync();
    if (this.lastWritten !== null) model.durable = this.lastWritten;
  }

  crash(model: ReferenceModel): void {
    this.member.crashAndRestart();
    model.crash();
    this.lastWritten = null;
    this.persist(model);
  }
}

const leases = [5, 6];

/**
 * The store's options for a run: four runs in five compact the index in slices of 1-4 keys (of
 * six), so reads, writes, hashes, crashes and snapshots land between slices; the fifth at once.
 */
function storeOptions(seed: number): KvStoreOptions {
  const slice = seed % 5;
  return { compactionBatchLimit: 3, ...(slice === 4 ? {} : { compactionIndexSliceKeys: slice + 1 }), leases: { exists: (lease) => leases.includes(lease) } };
}
const keys = ['a', 'ab', 'b', 'c', '\xff', '\x00z'];
const key = fc.constantFrom(...keys);
const value = fc.constantFrom('', 'x', 'y', 'zz');
const rangeEnd = fc.option(fc.constantFrom('\0', 'b', 'c', 'zz', '\xff\xff', 'a\0'), { nil: undefined });

/**
 * After every command: the same revision and compaction revision as the model, and the same
 * state at every revision still readable, so a wrong step shows at once, not when a later read
 * happens to look.
 */
function checkSame(model: ReferenceModel, real: Real): void {
  strictEqual(real.store.revision, model.revision, 'revision');
  strictEqual(real.store.compactRevision, model.compactRevision, 'compaction revision');
  strictEqual(real.store.keyCount, model.latest.size, 'live keys (the live keys index)');
  for (let revision = Math.max(1, model.compactRevision); revision <= model.revision; revision++) {
    const all = real.store.range({ key: '\0', rangeEnd: '\0', revision });
    if (isEtcdError(all)) throw new Error(`reading everything at ${revision}: ${all.message}`);
    const state = model.states[revision]!;
    deepStrictEqual(all.kvs, ReferenceModel.keysInRange(state, '\0', '\0').map((k) => state.get(k)!), `state at revision ${revision}`);
  }
}

function same<T>(actual: T | EtcdError, expected: T | EtcdError, what: string): void {
  if (isEtcdError(expected) || isEtcdError(actual)) strictEqual(actual, expected, what);
  else deepStrictEqual(actual, expected, what);
}

abstract class ModelCommand implements fc.Command<ReferenceModel, Real> {
  check(_model: Readonly<ReferenceModel>): boolean {
    return true;
  }
  run(model: ReferenceModel, real: Real): void {
    this.apply(model, real);
    real.persist(model);
    checkSame(model, real);
  }
  abstract apply(model: ReferenceModel, real: Real): void;
  abstract toString(): string;
}

class Put extends ModelCommand {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly lease: number,
    readonly flags: { prevKv: boolean; ignoreValue: boolean; ignoreLease: boolean },
  ) {
    super();
  }
  apply(model: ReferenceModel, real: Real): void {
    const request = { key: this.key, value: this.flags.ignoreValue ? '' : this.value, lease: this.flags.ignoreLease ? 0 : this.lease, ...this.flags };
    const result = real.store.put(request);
    const previous = model.latest.get(this.key);
    let expected: EtcdError | { revision: number; prevKv: KeyValue | undefined; kv: KeyValue };
    if (request.lease !== 0 && !leases.includes(request.lease)) expected = ErrLeaseNotFound;
    else if ((this.flags.ignoreValue || this.flags.ignoreLease) && previous === undefined) expected = ErrKeyNotFound;
    else {
      let kv: KeyValue | undefined;
      model.write((state, revision, record) => {
        kv = ReferenceModel.put(state, revision, this.key, this.flags.ignoreValue ? previous!.value : this.value, this.flags.ignoreLease ? previous!.lease : this.lease);
        record(kv, false);
      });
      expected = { revision: model.revision, prevKv: this.flags.prevKv ? previous : undefined, kv: kv! };
    }
    const actual = isEtcdError(result) ? result : { revision: result.response.header.revision, prevKv: result.response.prevKv, kv: result.events[0]!.kv };
    same(actual, expected, this.toString());
    if (!isEtcdError(result)) same(result.events[0]!.prevKv, previous, 'the event carries the previous value');
  }
  toString(): string {
    return `put(${JSON.stringify(this.key)}, ${JSON.stringify(this.value)}, lease ${this.lease}, ${JSON.stringify(this.flags)})`;
  }
}

class Delete extends ModelCommand {
  constructor(
    readonly key: string,
    readonly rangeEnd: string | undefined,
  ) {
    super();
  }
  apply(model: ReferenceModel, real: Real): void {
    const result = real.store.deleteRange({ key: this.key, ...(this.rangeEnd === undefined ? {} : { rangeEnd: this.rangeEnd }), prevKv: true });
    const victims = ReferenceModel.keysInRange(model.latest, this.key, this.rangeEnd).map((k) => model.latest.get(k)!);
    model.write((state, revision, record) => {
      for (const kv of victims) {
        state.delete(kv.key);
        record({ key: kv.key, createRevision: 0, modRevision: revision, version: 0, value: '', lease: 0 }, true);
      }
    });
    deepStrictEqual([result.response.deleted, result.response.prevKvs, result.response.header.revision], [victims.length, victims, model.revision], this.toString());
    deepStrictEqual(result.events.map((event) => [event.type, event.kv.key, event.kv.modRevision]), victims.map((kv) => ['DELETE', kv.key, model.revision]));
  }
  toString(): string {
    return `delete(${JSON.stringify(this.key)}, ${JSON.stringify(this.rangeEnd)})`;
  }
}

class Range extends ModelCommand {
  /** `back` reads at the model's revision minus it (so mostly valid revisions); null keeps the request's. */
  constructor(
    readonly request: RangeRequest,
    readonly back: number | null,
  ) {
    super();
  }
  apply(model: ReferenceModel, real: Real): void {
    const request = this.back === null ? this.request : { ...this.request, revision: model.revision - this.back };
    const result = real.store.range(request);
    const expected = model.range(request);
    same(isEtcdError(result) ? result : { kvs: result.kvs, count: result.count, more: result.more }, expected, this.toString());
    if (!isEtcdError(result)) strictEqual(result.header.revision, model.revision);
  }
  toString(): string {
    return `range(${JSON.stringify(this.request)}${this.back === null ? '' : `, at revision - ${this.back}`})`;
  }
}

/** A txn of compares and flat put/delete/range ops; the model runs it op by op on one new revision. */
class Txn extends ModelCommand {
  constructor(readonly request: TxnRequest) {
    super();
  }
  override check(): boolean {
    return validateTxn(this.request) === null;
  }
  apply(model: ReferenceModel, real: Real): void {
    const result = real.store.txn(this.request);
    const latest = model.latest;
    const succeeded = (this.request.compare ?? []).every((compare) => holds(latest, compare));
    const ops = (succeeded ? this.request.success : this.request.failure) ?? [];
    const refusal = ops.some((op) => op.requestPut !== undefined && (op.requestPut.lease ?? 0) !== 0 && !leases.includes(op.requestPut.lease!));
    if (refusal) {
      strictEqual(result, ErrLeaseNotFound, this.toString());
      return;
    }
    const reads: KeyValue[][] = [];
    model.write((state, revision, record) => {
      for (const op of ops) {
        if (op.requestPut !== undefined) record(ReferenceModel.put(state, revision, op.requestPut.key, op.requestPut.value ?? '', op.requestPut.lease ?? 0), false);
        if (op.requestDeleteRange !== undefined) {
          for (const k of ReferenceModel.keysInRange(state, op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd)) {
            state.delete(k);
            record({ key: k, createRevision: 0, modRevision: revision, version: 0, value: '', lease: 0 }, true);
          }
        }
        if (op.requestRange !== undefined) reads.push(ReferenceModel.keysInRange(state, op.requestRange.key, op.requestRange.rangeEnd).map((k) => state.get(k)!));
      }
    });
    if (isEtcdError(result)) throw new Error(`${this.toString()}: ${result.message}`);
    deepStrictEqual([result.response.succeeded, result.response.header.revision], [succeeded, model.revision], this.toString());
    deepStrictEqual(result.response.responses.filter((r) => r.responseRange !== undefined).map((r) => r.responseRange!.kvs), reads, 'reads inside the txn');
  }
  toString(): string {
    return `txn(${JSON.stringify(this.request)})`;
  }
}

function holds(state: ReadonlyMap<string, KeyValue>, compare: Compare): boolean {
  const kvs = ReferenceModel.keysInRange(state, compare.key, compare.rangeEnd).map((k) => state.get(k)!);
  if (kvs.length === 0 && compare.target === 'VALUE') return false;
  const subjects = kvs.length === 0 ? [{ key: '', createRevision: 0, modRevision: 0, version: 0, value: '', lease: 0 }] : kvs;
  return subjects.every((kv) => {
    const [mine, theirs]: [number | string, number | string] =
      compare.target === 'VALUE' ? [kv.value, compare.value ?? ''] : compare.target === 'VERSION' ? [kv.version, compare.version ?? 0] : compare.target === 'CREATE' ? [kv.createRevision, compare.createRevision ?? 0] : compare.target === 'MOD' ? [kv.modRevision, compare.modRevision ?? 0] : [kv.lease, compare.lease ?? 0];
    const order = mine < theirs ? -1 : mine > theirs ? 1 : 0;
    return compare.result === 'EQUAL' ? order === 0 : compare.result === 'NOT_EQUAL' ? order !== 0 : compare.result === 'GREATER' ? order > 0 : order < 0;
  });
}

class Compact extends ModelCommand {
  constructor(readonly back: number) {
    super();
  }
  apply(model: ReferenceModel, real: Real): void {
    const revision = model.revision - this.back;
    const result = real.store.compact({ revision });
    const expected = model.compact(revision);
    strictEqual(isEtcdError(result) ? result : null, expected, this.toString());
  }
  toString(): string {
    return `compact(revision - ${this.back})`;
  }
}

class Hash extends ModelCommand {
  constructor(readonly back: number | null) {
    super();
  }
  apply(model: ReferenceModel, real: Real): void {
    const revision = this.back === null ? 0 : model.revision - this.back;
    const result = real.store.hashKV({ revision });
    same(isEtcdError(result) ? result : result.hash, model.hash(revision), this.toString());
  }
  toString(): string {
    return `hashKV(${this.back === null ? 'current' : `revision - ${this.back}`})`;
  }
}

/** Backend and process events: the model changes only through a crash. */
class Lifecycle extends ModelCommand {
  constructor(readonly event: 'commit' | 'sync' | 'step compaction' | 'crash' | 'clean restart' | 'defrag' | 'install own snapshot') {
    super();
  }
  apply(model: ReferenceModel, real: Real): void {
    const { member } = real;
    switch (this.event) {
      case 'commit':
        member.store.backend.commit();
        break;
      case 'sync':
        real.sync(model);
        break;
      case 'step compaction':
        member.store.stepCompaction();
        break;
      case 'crash':
        real.crash(model);
        break;
      case 'clean restart':
        member.store.backend.commit();
        real.sync(model);
        real.crash(model);
        break;
      case 'defrag':
        member.store.backend.defrag();
        break;
      case 'install own snapshot': {
        const snapshot = member.store.backend.snapshot();
        real.persist(model);
        member.store = KvStore.open(Backend.fromSnapshot(snapshot, { batchLimit: 4 }), member.storeOptions);
        break;
      }
    }
  }
  toString(): string {
    return this.event;
  }
}

const compare: fc.Arbitrary<Compare> = fc
  .record({
    key,
    rangeEnd,
    target: fc.constantFrom('VALUE', 'VERSION', 'CREATE', 'MOD', 'LEASE' as const),
    result: fc.constantFrom('EQUAL', 'NOT_EQUAL', 'LESS', 'GREATER' as const),
    operand: fc.nat(8),
    value,
  })
  .map(({ key, rangeEnd, target, result, operand, value }) => {
    const base = { key, target, result, ...(rangeEnd === undefined ? {} : { rangeEnd }) };
    if (target === 'VALUE') return { ...base, value };
    if (target === 'VERSION') return { ...base, version: operand % 3 };
    if (target === 'CREATE') return { ...base, createRevision: operand };
    if (target === 'MOD') return { ...base, modRevision: operand };
    return { ...base, lease: operand % 2 === 0 ? 0 : 5 };
  });

const requestOp: fc.Arbitrary<RequestOp> = fc.oneof(
  fc.record({ key, value, lease: fc.constantFrom(0, 0, 5, 9) }).map(({ key, value, lease }) => ({ requestPut: { key, value, lease } })),
  fc.record({ key, rangeEnd }).map(({ key, rangeEnd }) => ({ requestDeleteRange: { key, ...(rangeEnd === undefined ? {} : { rangeEnd }) } })),
  fc.record({ key, rangeEnd }).map(({ key, rangeEnd }) => ({ requestRange: { key, ...(rangeEnd === undefined ? {} : { rangeEnd }) } })),
);

const rangeRequest: fc.Arbitrary<RangeRequest> = fc
  .record(
    {
      key,
      rangeEnd,
      revision: fc.integer({ min: -2, max: 30 }),
      limit: fc.nat(4),
      sortOrder: fc.constantFrom('NONE', 'ASCEND', 'DESCEND' as const),
      sortTarget: fc.constantFrom('KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE' as const),
      keysOnly: fc.boolean(),
      countOnly: fc.boolean(),
      minModRevision: fc.nat(12),
      maxModRevision: fc.nat(12),
      minCreateRevision: fc.nat(12),
      maxCreateRevision: fc.nat(12),
    },
    { requiredKeys: ['key'] },
  )
  .map((request) => Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as unknown as RangeRequest);

const put = fc
  .record({ key, value, lease: fc.constantFrom(0, 0, 5, 6, 9), prevKv: fc.boolean(), ignoreValue: fc.boolean(), ignoreLease: fc.boolean() })
  .map(({ key, value, lease, ...flags }) => new Put(key, value, lease, { prevKv: flags.prevKv, ignoreValue: flags.ignoreValue && flags.prevKv, ignoreLease: flags.ignoreLease && !flags.prevKv }));
const lifecycle = (event: Lifecycle['event']) => fc.constant(new Lifecycle(event));

/**
 * The command arbitraries of the model-based test (fast-check picks among them evenly, so a
 * command listed twice is drawn twice as often): writes on a handful of keys, so revisions pile
 * up on the same keys; compaction, its batches, syncs and crashes often enough that a crash lands
 * between any two of them.
 */
export const mvccCommands: fc.Arbitrary<fc.Command<ReferenceModel, Real>>[] = [
  put,
  put,
  fc.record({ key, rangeEnd }).map(({ key, rangeEnd }) => new Delete(key, rangeEnd)),
  fc
    .record({ compare: fc.array(compare, { maxLength: 2 }), success: fc.array(requestOp, { maxLength: 4 }), failure: fc.array(requestOp, { maxLength: 3 }) })
    .map((request) => new Txn(request)),
  fc.tuple(rangeRequest, fc.option(fc.integer({ min: -1, max: 10 }), { nil: null })).map(([request, back]) => new Range(request, back)),
  fc.option(fc.integer({ min: -1, max: 8 }), { nil: null }).map((back) => new Hash(back)),
  fc.integer({ min: -1, max: 6 }).map((back) => new Compact(back)),
  lifecycle('step compaction'),
  lifecycle('commit'),
  lifecycle('sync'),
  lifecycle('crash'),
  fc.constantFrom('clean restart', 'defrag', 'install own snapshot' as const).map((event) => new Lifecycle(event)),
];

/** The property: any sequence of commands keeps the store equal to the reference. */
export function mvccModelProperty(maxCommands: number): fc.IPropertyWithHooks<[number, Iterable<fc.Command<ReferenceModel, Real>>]> {
  return fc.property(fc.nat(1_000_000), fc.commands(mvccCommands, { maxCommands, size: 'max' }), (seed, commands) => {
    fc.modelRun(() => ({ model: new ReferenceModel(), real: new Real(seed) }), commands);
  });
}
