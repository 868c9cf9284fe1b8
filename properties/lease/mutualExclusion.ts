import { AssertionError } from '../../core/base/assert.ts';
import type { ClientId } from '../../core/host/node.ts';
import { isErrorReply, type EtcdServer, type PeerMessage, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';

export interface MutualExclusionStats {
  /** Increments of the protected counter acknowledged to their holders. */
  increments: number;
}

/**
 * Mutual exclusion of a lock that protects a counter (scenarios/etcd/lockTraffic.ts): each holder
 * reads the counter and writes it plus one. Two holders at once — one whose lease expired while it
 * still believed it held the lock, and its successor — read the same value and both write its
 * successor: a second acknowledged write of a counter value is the violation, caught as its
 * answer leaves the member.
 */
export function mutualExclusion(counterKey: string, stats?: MutualExclusionStats): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  const counts = stats ?? { increments: 0 };
  const writes = new Map<string, string>();
  const written = new Map<string, { readonly client: ClientId; readonly atUs: number }>();
  return {
    onRequest(client, _member, requestId, request) {
      const value = counterWrite(request, counterKey);
      if (value !== null) writes.set(`${client}/${requestId}`, value);
    },
    onReply(member, client, requestId, reply, sim) {
      const key = `${client}/${requestId}`;
      const value = writes.get(key);
      if (value === undefined) return;
      writes.delete(key);
      if (isErrorReply(reply) || (reply.method === 'Txn' && !reply.response.succeeded)) return;
      counts.increments++;
      const earlier = written.get(value);
      if (earlier !== undefined) {
        throw new AssertionError(
          `mutual exclusion broken: client ${client} (answered by member ${member} at ${sim.nowUs}us) and client ${earlier.client} (at ${earlier.atUs}us) both incremented ${counterKey} to ${value}: both held the lock at once`,
        );
      }
      written.set(value, { client, atUs: sim.nowUs });
    },
  };
}

/** The value a call writes to the counter (a put, or a txn's put on success), or null. */
function counterWrite(request: ServerRequest, counterKey: string): string | null {
  if (request.method === 'Put') return request.request.key === counterKey ? (request.request.value ?? '') : null;
  if (request.method !== 'Txn') return null;
  for (const op of request.request.success ?? []) if (op.requestPut?.key === counterKey) return op.requestPut.value ?? '';
  return null;
}
