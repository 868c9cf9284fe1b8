import { AssertionError } from '../../core/base/assert.ts';
import type { ClientId, DurableRecord, NodeId } from '../../core/host/node.ts';
import { backendFile } from '../../core/mvcc/index.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { SimDisk } from '../../sim/disk.ts';
import { lastDurableImage } from './durableOrder.ts';

/**
 * The answers that promise a member's own writes durable, checked as they leave it (etcd fsyncs
 * both before it answers), whatever the host loop and the store did to get there:
 *
 * - a Defragment: the backend file the member holds durably has been replaced since the call
 *   arrived (its first record is another one: a replace leaves a single image);
 * - a physical Compact to revision R: the durable backend has finished compacting at R or later
 *   (etcd's ForceCommit after the compaction, so that a crash does not resume it).
 *
 * A store that lets db writes lag its syncs (DiskOptions.lag, the runtime's FileStore behind a
 * rewrite) answered both before their write was durable until the host loop waited for it
 * (DurableStore.caughtUp).
 */
export class PromisedWrites {
  /** By member and client: a Defragment or physical Compact that reached the member, and the durable backend's first record then. */
  private readonly calls = new Map<number, { readonly requestId: number; readonly request: ServerRequest; readonly first: DurableRecord | undefined }>();

  onRequest(client: ClientId, member: NodeId, requestId: number, request: ServerRequest, disk: SimDisk): void {
    if (request.method === 'Defragment' || (request.method === 'Compact' && request.request.physical === true)) {
      this.calls.set(pairKey(member, client), { requestId, request, first: disk.durableRecords(backendFile)[0] });
    }
  }

  onReply(member: NodeId, client: ClientId, requestId: number, reply: ServerReply, disk: SimDisk): void {
    const key = pairKey(member, client);
    const call = this.calls.get(key);
    if (call === undefined || call.requestId !== requestId) return;
    this.calls.delete(key);
    if (isErrorReply(reply)) return;
    const { request } = call;
    if (request.method === 'Defragment') {
      if (disk.durableRecords(backendFile)[0] === call.first) {
        throw new AssertionError(`member ${member} answered a Defragment (client ${client}, request ${requestId}) before its rewritten backend file was durable: the durable file is still the one from before the call`);
      }
      return;
    }
    if (request.method !== 'Compact') return;
    const finished = lastDurableImage(disk)?.meta.finishedCompactRevision ?? 0;
    if (finished < request.request.revision) {
      throw new AssertionError(
        `member ${member} answered a physical Compact to revision ${request.request.revision} (client ${client}, request ${requestId}) while its durable backend has finished compacting at ${finished}: answered before the compaction's commit was durable`,
      );
    }
  }
}

function pairKey(member: NodeId, client: ClientId): number {
  return client * 1024 + member;
}
