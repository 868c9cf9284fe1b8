import type { ClientId, RequestId } from '../host/node.ts';

/**
 * The calls a member received lately, by client and request id, so that a call delivered twice is
 * handled once (a gRPC server never sees one call twice; the simulator's network may deliver a
 * request twice). Bounded: the last `perClient` ids of the last `clients` clients heard from.
 */
export class RecentCalls {
  private readonly byClient = new Map<ClientId, RequestId[]>();

  constructor(
    private readonly perClient = 16,
    private readonly clients = 4096,
  ) {}

  /** Whether the call was seen before; if not, it is remembered. */
  seen(client: ClientId, id: RequestId): boolean {
    let ids = this.byClient.get(client);
    if (ids !== undefined && ids.includes(id)) return true;
    if (ids === undefined) {
      if (this.byClient.size >= this.clients) this.byClient.delete(this.byClient.keys().next().value as ClientId);
      ids = [];
      this.byClient.set(client, ids);
    }
    ids.push(id);
    if (ids.length > this.perClient) ids.shift();
    return false;
  }
}
