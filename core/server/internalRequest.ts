import type { LeaseCheckpoint } from '../lease/index.ts';
import type { AlarmRequest, CompactionRequest, DeleteRangeRequest, Member, PutRequest, TxnRequest } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import { ByteWriter, latin1Text } from '../base/byteCodec.ts';
import { decodeUtf8 } from '../base/utf8.ts';
import { decodeValue, writeJsonValue } from '../base/valueCodec.ts';
import type { NodeId } from '../host/node.ts';

/**
 * Who proposed a request, so that the member that proposed it (and only that one) answers its
 * client once the entry is applied. etcd puts one 64-bit id there whose high bits are the member
 * id; here they are two fields, so ids never need 64-bit arithmetic.
 */
export interface RequestHeader {
  readonly member: NodeId;
  /** Unique per member, across restarts (see RequestIds). */
  readonly id: number;
}

/** What a write entry asks the state machine to do (etcd's InternalRaftRequest's oneof). */
export type InternalOp =
  | { readonly kind: 'put'; readonly request: PutRequest }
  | { readonly kind: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly request: TxnRequest }
  | { readonly kind: 'compaction'; readonly request: CompactionRequest }
  | { readonly kind: 'alarm'; readonly request: AlarmRequest }
  /** etcd's LeaseGrant, its id chosen by the proposing member when the client left it 0. */
  | { readonly kind: 'leaseGrant'; readonly ID: number; readonly TTL: number }
  /** etcd's LeaseRevoke; `expired` marks the primary's revoke of a lease it saw expire (etcd proposes the same request; the mark is for checkers). */
  | { readonly kind: 'leaseRevoke'; readonly ID: number; readonly expired?: boolean }
  /** etcd's LeaseCheckpoint: remaining TTLs, so that a new primary does not restart them. */
  | { readonly kind: 'leaseCheckpoint'; readonly checkpoints: readonly LeaseCheckpoint[] }
  /** A member's new peer URLs (etcd proposes a ConfChangeUpdateNode; Raft's configuration does not change). */
  | { readonly kind: 'memberUpdate'; readonly id: NodeId; readonly peerURLs: readonly string[] }
  /** A started member publishes its name and client URLs (etcd's ClusterMemberAttrSetRequest). */
  | { readonly kind: 'memberAttributes'; readonly id: NodeId; readonly name: string; readonly clientURLs: readonly string[] };

export type InternalOpKind = InternalOp['kind'];

/** etcd's InternalRaftRequest: one op and the header that routes its result. */
export interface InternalRaftRequest {
  readonly header: RequestHeader;
  readonly op: InternalOp;
}

/**
 * What a conf change entry carries besides the Raft change (etcd's ConfigChangeContext, JSON in
 * the entry): the members it adds (with their attributes) and the learners it promotes (etcd's
 * IsPromote, per member here, as one joint change may add some members and promote others).
 */
export interface ConfChangeContext {
  readonly header: RequestHeader;
  readonly added: readonly Member[];
  readonly promoted: readonly NodeId[];
}

/*
 * Entries are bytes (they go to the WAL and over the wire): the request after a format byte.
 * 2 (written now): core/base/valueCodec's tagged binary, keys and values as their raw bytes.
 * 0 and 1 (read, for data dirs and peers from before): JSON, one byte per character or UTF-8 — a
 * control character in a key or value took six bytes there.
 */

/** Bytes of a request, unmemoized (tests, benchmarks, tools); a member encodes with its RequestCodec. */
export function encodeInternalRequest(request: InternalRaftRequest): Uint8Array {
  return encodeWith(new ByteWriter(256), request);
}

/** A request decoded from its bytes, unmemoized; a member decodes with its RequestCodec. */
export function decodeInternalRequest(data: Uint8Array): InternalRaftRequest {
  return checkedRequest(decodeEntry(data));
}

/**
 * One member incarnation's entry codec (EtcdServer owns one; a restart makes a new one). Decoding
 * is memoized per byte array and the proposer seeds the memo, so a member applying its own
 * proposals practically never decodes them. Nothing here is shared between members or across a
 * restart: in the simulator an entry's bytes are one object held by every member and the disk,
 * and a module-level memo let a restarted member find its WAL's requests already decoded (a
 * decode bug on recovery went unseen by every crash scenario), let other members apply the
 * proposer's very objects, and followers never decoded at all. Decoded requests are deeply
 * immutable by contract: the store never changes a request it applies.
 */
export class RequestCodec {
  private readonly decoded = new WeakMap<Uint8Array, unknown>();
  /** Requests are encoded here and copied out: one exactly sized allocation per proposal. */
  private scratch = new ByteWriter(4096);
  /** Entries and contexts decoded from their bytes (not found in the memo): how tests see recovery decode. */
  decodes = 0;

  encodeRequest(request: InternalRaftRequest): Uint8Array {
    return this.encodeMemoized(request);
  }

  decodeRequest(data: Uint8Array): InternalRaftRequest {
    return checkedRequest(this.decodeMemoized(data));
  }

  /**
   * The request of an entry being applied, its memo entry dropped: an incarnation applies an entry
   * once, and the Raft log keeps the entry's bytes until its next compaction. Kept, the decoded
   * requests (check perf's 1 kB value strings) lived that long too: 7.7-11.2 MB on a follower
   * (issue 10, gcheap; task heap). The bytes are what the log holds.
   */
  takeRequest(data: Uint8Array): InternalRaftRequest {
    const request = checkedRequest(this.decodeMemoized(data));
    this.decoded.delete(data);
    return request;
  }

  encodeContext(context: ConfChangeContext): Uint8Array {
    return this.encodeMemoized(context);
  }

  decodeContext(data: Uint8Array): ConfChangeContext | null {
    if (data.byteLength === 0) return null;
    return checkedContext(this.decodeMemoized(data));
  }

  private encodeMemoized(value: unknown): Uint8Array {
    const bytes = encodeWith(this.scratch, value);
    if (this.scratch.capacity > scratchKeptMax) this.scratch = new ByteWriter(4096);
    this.decoded.set(bytes, value);
    return bytes;
  }

  private decodeMemoized(data: Uint8Array): unknown {
    let value = this.decoded.get(data);
    if (value === undefined) {
      value = decodeEntry(data);
      this.decodes++;
      this.decoded.set(data, value);
    }
    return value;
  }
}

/** A scratch writer grown past this (a request near --max-request-bytes) is not kept. */
const scratchKeptMax = 64 * 1024;

/** The bytes of `value` written into `writer` (reset first) and copied out, exactly sized: never the writer's own buffer. */
function encodeWith(writer: ByteWriter, value: unknown): Uint8Array {
  writer.reset().uint8(binaryFormat);
  writeJsonValue(writer, value);
  return writer.copy();
}

function checkedRequest(value: unknown): InternalRaftRequest {
  const request = value as InternalRaftRequest;
  assert(typeof request === 'object' && request !== null && typeof request.header?.member === 'number' && typeof request.op?.kind === 'string', 'an entry that is not an internal request');
  return request;
}

function checkedContext(value: unknown): ConfChangeContext {
  const context = value as ConfChangeContext;
  assert(typeof context === 'object' && context !== null && Array.isArray(context.added), 'a conf change context that is not one');
  return context;
}

/**
 * About what etcd's InternalRaftRequest marshals to (protobuf): the size etcd compares with
 * --max-request-bytes. A string is its bytes plus a tag and a length, a number a tag and a
 * varint (at most 10 bytes), a nested message its fields plus a tag and a length. The entry's own
 * bytes will not do: they are JSON, where a control character takes six bytes, so a 1 MB value of
 * zero bytes (which etcd takes) would count as 6 MB and be refused.
 */
export function requestWireBytes(value: unknown): number {
  if (typeof value === 'string') return 1 + varintBytes(value.length) + value.length;
  if (typeof value === 'number') return 11;
  if (typeof value === 'boolean') return 2;
  if (Array.isArray(value)) {
    let sum = 0;
    for (const item of value) sum += requestWireBytes(item);
    return sum;
  }
  if (typeof value !== 'object' || value === null) return 0;
  let fields = 0;
  for (const field of Object.values(value)) fields += requestWireBytes(field);
  return 1 + varintBytes(fields) + fields;
}

function varintBytes(n: number): number {
  let bytes = 1;
  for (let rest = n; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

/** Before format 2: JSON, one byte per character (format 0) or UTF-8 (format 1). */
const utf8JsonFormat = 1;
const binaryFormat = 2;

function decodeEntry(data: Uint8Array): unknown {
  assert(data.length > 0 && data[0]! <= binaryFormat, () => `an entry in an unknown format (${data[0]})`);
  const body = data.subarray(1);
  if (data[0] === binaryFormat) return decodeValue(body);
  return JSON.parse(data[0] === utf8JsonFormat ? decodeUtf8(body) : latin1Text(body, 0, body.length)) as unknown;
}

/** etcd's IsTxnReadonly: every op of both branches is a Range (a nested txn makes it a write). */
export function isReadOnlyTxn(request: TxnRequest): boolean {
  return (request.success ?? []).every((op) => op.requestRange !== undefined) && (request.failure ?? []).every((op) => op.requestRange !== undefined);
}

/** etcd's IsTxnSerializable: every op is a Range that asks to be serializable. */
export function isSerializableTxn(request: TxnRequest): boolean {
  const serializable = (op: NonNullable<TxnRequest['success']>[number]) => op.requestRange?.serializable === true;
  return (request.success ?? []).every(serializable) && (request.failure ?? []).every(serializable);
}
