import { isEtcdError, type KeyValue, type RangeRequest, type RangeResponse, type ResponseOp, type TxnResponse } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { ClientId, NodeId } from '../../core/host/node.ts';
import { isErrorReply, type EtcdServer, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import { describePartial, missingField } from './wholeKeyValue.ts';

/**
 * Checks on what a member answers, at the moment the answer leaves it (a reply is sent only
 * after the Ready that made it is durable):
 *
 * - A linearizable read is served from a state that includes every entry the cluster had
 *   committed when the read reached the member: the member's applied index when it answers is at
 *   least the highest commit index any member knew at that moment. (etcd gets there with
 *   ReadIndex: the leader's commit index, confirmed by a heartbeat round, then a wait until
 *   applied. A follower answering from its own state, or a leader that lost its leadership
 *   unawares, fails this as soon as it answers behind the cluster, whatever the client sees.)
 * - A write is answered only once its entry is applied on the member that answers: the member's
 *   store is at or past the revision the answer reports, and a put's key holds, at that revision,
 *   the change it made.
 * - A range at a revision is answered only by a store that has reached it (a later one is
 *   ErrFutureRev), with nothing modified after it; any range shows nothing modified after the
 *   revision its header reports, and that header is never below the member's store revision when
 *   the range arrived (etcd's header is the current revision, a historical read's too). (The checker's model does not yet judge historical and
 *   serializable reads; these are what can be checked of them without it.)
 * - A range's kvs, count and more agree (`rangeShapeMismatch`): `more` exactly when the limit cut
 *   keys off, the keys shown the count capped at the limit.
 * - Every KeyValue an answer carries is whole (./wholeKeyValue.ts): a range's, a put's prev_kv, a
 *   delete's prev_kvs, and those of a txn's responses, nested txns' included. The history check
 *   reads a missing field as one not shown (a log's partial fields) and would pass it.
 */
export class ReplyChecks {
  /**
   * By member and client: the client's latest request handed to that member, and for a
   * linearizable read the cluster's commit index then (-1 otherwise). A client has one call in
   * flight, but after a timeout an earlier attempt may still wait in a paused member.
   */
  private readonly requests = new Map<number, { readonly requestId: number; readonly request: ServerRequest; readonly commit: number; readonly revision: number }>();

  /**
   * A request reaches a running member; `clusterCommit` is the highest commit index any member
   * knows now, `revision` the member's store revision now (0: not known).
   */
  onRequest(client: ClientId, member: NodeId, requestId: number, request: ServerRequest, clusterCommit: () => number, revision = 0): void {
    this.requests.set(pairKey(member, client), { requestId, request, commit: isLinearizableRead(request) ? clusterCommit() : -1, revision });
  }

  onReply(member: EtcdServer, client: ClientId, requestId: number, reply: ServerReply): void {
    const key = pairKey(member.id, client);
    const record = this.requests.get(key);
    if (record === undefined || record.requestId !== requestId) return;
    this.requests.delete(key);
    if (isErrorReply(reply)) return;
    if (record.commit >= 0 && member.appliedIndex < record.commit) {
      throw new AssertionError(
        `member ${member.id} answered a linearizable ${reply.method} (client ${client}, request ${requestId}) at applied index ${member.appliedIndex}, ` +
          `but the cluster had committed index ${record.commit} when the read arrived: a stale read`,
      );
    }
    const method = record.request.method;
    if (method === 'Range' || method === 'Put' || method === 'DeleteRange' || method === 'Txn') {
      const partial = partialKeyValue((reply as { response: KeyValueHolder }).response);
      if (partial !== null) {
        throw new AssertionError(`member ${member.id} answered a ${method} of client ${client} (request ${requestId}) with ${describePartial(partial.kv, partial.field)}`);
      }
    }
    if (record.request.method === 'Range') checkRangeRevisions(member, client, record.request.request, reply, record.revision);
    else checkWriteApplied(member, client, record.request, reply);
  }
}

/** What a key-value answer may hold KeyValues in (a range's, a put's, a delete's, a txn's responses). */
interface KeyValueHolder {
  readonly kvs?: readonly KeyValue[];
  readonly prevKv?: KeyValue | null;
  readonly prevKvs?: readonly KeyValue[];
  readonly responses?: readonly ResponseOp[];
}

/** The first KeyValue in `response` that lacks a field, and the field, or null. */
function partialKeyValue(response: KeyValueHolder): { readonly kv: KeyValue; readonly field: string } | null {
  const holders: (KeyValue | null | undefined)[] = [...(response.kvs ?? []), response.prevKv, ...(response.prevKvs ?? [])];
  for (const kv of holders) {
    if (kv === undefined || kv === null) continue;
    const field = missingField(kv);
    if (field !== null) return { kv, field };
  }
  for (const op of response.responses ?? []) {
    const inner: KeyValueHolder | undefined = op.responseRange ?? op.responsePut ?? op.responseDeleteRange ?? op.responseTxn;
    const partial = inner === undefined ? null : partialKeyValue(inner);
    if (partial !== null) return partial;
  }
  return null;
}

function pairKey(member: NodeId, client: ClientId): number {
  return client * 1024 + member;
}

function isLinearizableRead(request: ServerRequest): boolean {
  if (request.method === 'Range') return request.request.serializable !== true;
  if (request.method !== 'Txn') return false;
  const ops = [...(request.request.success ?? []), ...(request.request.failure ?? [])];
  return ops.every((op) => op.requestRange !== undefined) && !ops.every((op) => op.requestRange!.serializable === true);
}

function checkRangeRevisions(member: EtcdServer, client: ClientId, request: RangeRequest, reply: ServerReply, revisionAtArrival: number): void {
  const response = (reply as { response: RangeResponse }).response;
  const header = response.header.revision;
  const asked = request.revision ?? 0;
  // A store's revision never goes back within an incarnation, and a header is the store's revision when it serves.
  if (header < revisionAtArrival) {
    throw new AssertionError(`member ${member.id} answered a range${asked > 0 ? ` at revision ${asked}` : ''} (client ${client}) with header revision ${header}, below its store's revision ${revisionAtArrival} when the request arrived: a header is the store's current revision`);
  }
  if (asked > header) throw new AssertionError(`member ${member.id} answered a range at revision ${asked} (client ${client}) from a store at revision ${header}: a future revision is ErrFutureRev`);
  const upTo = asked > 0 ? asked : header;
  for (const kv of response.kvs) {
    if (kv.modRevision > upTo) throw new AssertionError(`member ${member.id} answered a range as of revision ${upTo} (client ${client}) with ${JSON.stringify(kv.key)} modified at ${kv.modRevision}`);
  }
  const shape = rangeShapeMismatch(request, response);
  if (shape !== null) throw new AssertionError(`member ${member.id} answered a range of client ${client} with ${shape}`);
}

/**
 * Whether a range's kvs, `count` and `more` disagree with each other (etcd's Range: `count` is every
 * key in range, `more` says the limit cut some off, so without min/max revision filters, which
 * apply after the count, `more` holds exactly when `count` exceeds the keys shown, and those are
 * `count` capped at the limit). Null when they agree or cannot be judged (count only, filters).
 */
export function rangeShapeMismatch(request: RangeRequest, response: RangeResponse): string | null {
  const filtered = (request.minModRevision ?? 0) !== 0 || (request.maxModRevision ?? 0) !== 0 || (request.minCreateRevision ?? 0) !== 0 || (request.maxCreateRevision ?? 0) !== 0;
  if (request.countOnly === true || filtered) return null;
  const limit = request.limit ?? 0;
  const shown = response.kvs.length;
  const expected = limit > 0 ? Math.min(response.count, limit) : response.count;
  if (shown !== expected) return `${shown} keys and count ${response.count}${limit > 0 ? ` under limit ${limit}` : ''}: ${expected} keys expected`;
  if (response.more !== response.count > shown) return `more ${response.more} while it shows ${shown} of ${response.count} keys${limit > 0 ? ` (limit ${limit})` : ''}`;
  return null;
}

function checkWriteApplied(member: EtcdServer, client: ClientId, request: ServerRequest, reply: ServerReply): void {
  if (request.method !== 'Put' && request.method !== 'Txn' && request.method !== 'DeleteRange') return;
  const revision = (reply as { response: { header: { revision: number } } }).response.header.revision;
  const kv = member.state.kv;
  if (kv.revision < revision) {
    throw new AssertionError(`member ${member.id} answered a ${request.method} of client ${client} with revision ${revision} while its store is at revision ${kv.revision}: answered before it was applied`);
  }
  const key = request.method === 'Put' ? request.request.key : request.method === 'Txn' ? putKeyOf(request.request, (reply as { response: TxnResponse }).response) : undefined;
  if (key === undefined || revision < kv.compactRevision) return;
  const range: RangeRequest = { key, revision };
  const found = kv.range(range);
  if (isEtcdError(found)) return;
  if (found.kvs[0]?.modRevision !== revision) {
    throw new AssertionError(
      `member ${member.id} answered a ${request.method} of client ${client} at revision ${revision}, but its store does not hold the write of ${JSON.stringify(key)} there ` +
        `(${found.kvs[0] === undefined ? 'absent' : `last modified at ${found.kvs[0].modRevision}`})`,
    );
  }
}

/** The key of the first put of the branch a txn ran, if any. */
function putKeyOf(txn: Extract<ServerRequest, { method: 'Txn' }>['request'], response: TxnResponse): string | undefined {
  const branch = (response.succeeded ? txn.success : txn.failure) ?? [];
  return branch.find((op) => op.requestPut !== undefined)?.requestPut!.key;
}
