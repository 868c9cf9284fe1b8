import { AssertionError } from '../../core/base/assert.ts';
import { tornRecord, type NodeId } from '../../core/host/node.ts';
import type { Entry } from '../../core/raft/entry.ts';
import { RequestCodec, type RequestHeader } from '../../core/server/internalRequest.ts';
import { isRaftMessage, type PeerMessage } from '../../core/server/peerMessage.ts';
import { isReservation, requestIdsFile } from '../../core/server/requestIds.ts';
import type { SimDisk } from '../../sim/disk.ts';

/**
 * Request ids leave a member only once their reservation is durable (core/server/requestIds.ts):
 * every id a member's own proposal, conf change or ReadIndex context carries out of it lies below
 * the reservation on its disk. An id that left before a crash lost its reservation is handed out
 * again by the next incarnation, and the entry proposed before the crash, applied after it, answers
 * the newer request. Judged on every send, at the first id out too early, as Raft's "votes durable
 * before they leave": the crash that makes it visible is not needed. Only the pipelined host loop
 * sends before a Ready's sync, so only runs with `pipelinedHost` can break it.
 */
export class RequestIdsDurable {
  /** Entry payloads already judged (an entry is sent many times; the reservation only grows). */
  private readonly judged = new WeakSet<object>();
  /** The check's own codec: decoding here shares nothing with the members'. */
  private readonly codec = new RequestCodec();
  /** The ids judged: a count for tests. */
  checked = 0;

  onSend(from: NodeId, message: PeerMessage, disk: SimDisk): void {
    if (!isRaftMessage(message)) return;
    let reserved: number | null = null;
    const judge = (header: RequestHeader, what: string): void => {
      if (header.member !== from) return;
      reserved ??= durableReservation(disk);
      this.checked++;
      if (header.id >= reserved) {
        throw new AssertionError(`member ${from} sent ${what} with request id ${header.id} (${message.type} to ${message.to}) while its durable reservation covers ids below ${reserved}: a crash now would hand the id out again`);
      }
    };
    for (const entry of message.entries) {
      const payload = payloadOf(entry);
      if (payload === null || this.judged.has(payload)) continue;
      this.judged.add(payload);
      if (entry.type === 'normal') judge(this.codec.decodeRequest(payload).header, 'a proposal');
      else judge(this.codec.decodeContext(payload)!.header, 'a conf change');
    }
    // ReadIndex contexts are "<member>/<id>" (EtcdServer.sendReadIndex).
    if (message.context !== '' && (message.type === 'MsgReadIndex' || message.type === 'MsgHeartbeat')) {
      const slash = message.context.indexOf('/');
      if (slash > 0) judge({ member: Number(message.context.slice(0, slash)), id: Number(message.context.slice(slash + 1)) } as RequestHeader, `a ReadIndex context`);
    }
  }
}

function payloadOf(entry: Entry): Uint8Array | null {
  if (entry.type === 'normal') return entry.data.byteLength === 0 ? null : entry.data;
  return entry.change.context.byteLength === 0 ? null : entry.change.context;
}

/** The highest reservation durable on the member's disk (ids start at 1: nothing reserved, none may leave). */
function durableReservation(disk: SimDisk): number {
  let reserved = 1;
  for (const record of disk.durableRecords(requestIdsFile)) {
    if (record === tornRecord) break;
    if (isReservation(record) && record.reservedBelow > reserved) reserved = record.reservedBelow;
  }
  return reserved;
}
