import type { LeaseCheckpoint } from '../lease/index.ts';
import type { AlarmRequest, CompactionRequest, DeleteRangeRequest, Member, PutRequest, TxnRequest } from '../api/index.ts';
import { assert } from '../base/assert.ts';
import { decodeUtf8, encodeUtf8 } from '../base/utf8.ts';
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
 * Entries are bytes (they go to the WAL and over the wire): the request as JSON, after a format
 * byte — 0: one byte per character (every character below 256, as keys and values always are),
 * 1: UTF-8 (a member name or URL beyond Latin-1). In the
 * simulator an entry's bytes are one object shared by every member and the disk, so decoding is
 * memoized per byte array, and the proposer seeds the memo: a request is encoded once and, in the
 * simulator, practically never decoded. Decoded requests are deeply immutable by contract: the
 * store never changes a request it applies.
 */
const decoded = new WeakMap<Uint8Array, unknown>();

export function encodeInternalRequest(request: InternalRaftRequest): Uint8Array {
  return encodeMemoized(request);
}

export function decodeInternalRequest(data: Uint8Array): InternalRaftRequest {
  const request = decodeMemoized(data) as InternalRaftRequest;
  assert(typeof request === 'object' && request !== null && typeof request.header?.member === 'number' && typeof request.op?.kind === 'string', 'an entry that is not an internal request');
  return request;
}

export function encodeConfChangeContext(context: ConfChangeContext): Uint8Array {
  return encodeMemoized(context);
}

export function decodeConfChangeContext(data: Uint8Array): ConfChangeContext | null {
  if (data.byteLength === 0) return null;
  const context = decodeMemoized(data) as ConfChangeContext;
  assert(typeof context === 'object' && context !== null && Array.isArray(context.added), 'a conf change context that is not one');
  return context;
}

function encodeMemoized(value: unknown): Uint8Array {
  const bytes = encodeText(JSON.stringify(value));
  decoded.set(bytes, value);
  return bytes;
}

function decodeMemoized(data: Uint8Array): unknown {
  let value = decoded.get(data);
  if (value === undefined) {
    value = JSON.parse(decodeText(data)) as unknown;
    decoded.set(data, value);
  }
  return value;
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

const latin1Format = 0;
const utf8Format = 1;

function encodeText(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length + 1);
  bytes[0] = latin1Format;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      const utf8 = encodeUtf8(text);
      const tagged = new Uint8Array(utf8.length + 1);
      tagged[0] = utf8Format;
      tagged.set(utf8, 1);
      return tagged;
    }
    bytes[i + 1] = code;
  }
  return bytes;
}

function decodeText(data: Uint8Array): string {
  assert(data.length > 0 && (data[0] === latin1Format || data[0] === utf8Format), 'an entry in an unknown format');
  const body = data.subarray(1);
  if (data[0] === utf8Format) return decodeUtf8(body);
  return decodeLatin1(body);
}

const latin1Chunk = 8192;
const chunkCodes: number[] = [];

/**
 * One character per byte, a chunk at a time through one reused plain array: fromCharCode.apply
 * on a plain array is about ten times faster than spreading a typed array into it, which cost
 * 1.2 ms per 7.7 kB entry (etcdctl check perf's 256-byte keys and 1 kB values, escaped in JSON)
 * and held a leader's event loop busy for most of each second under 1,000 puts/s.
 */
function decodeLatin1(body: Uint8Array): string {
  let text = '';
  for (let at = 0; at < body.length; at += latin1Chunk) {
    const end = Math.min(at + latin1Chunk, body.length);
    // Resized only for a ragged chunk: the array stays packed and is reused, not regrown.
    if (chunkCodes.length !== end - at) chunkCodes.length = end - at;
    for (let i = at; i < end; i++) chunkCodes[i - at] = body[i]!;
    text += String.fromCharCode.apply(null, chunkCodes);
  }
  return text;
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
