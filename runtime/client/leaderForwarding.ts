import * as grpc from '@grpc/grpc-js';
import { loadEtcdApi } from './grpcServices.ts';

type Wire = Record<string, unknown>;

/**
 * Membership calls that only the leader can decide. With --strict-reconfig-check the member must
 * know which members are up, and a deterministic member knows that only as the leader (see
 * core/server's clusterApi), so a follower answers "not leader". etcd forwards such a call to the
 * leader itself (its PromoteMember goes to the leader over the peer URLs), and clients — etcdctl
 * sends `member add` to whichever endpoint it picked — count on that: the follower passes the call
 * on to the leader's client URL and relays the answer.
 */
export class LeaderForwarding {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly credentials: grpc.ChannelCredentials;

  constructor(tls: { readonly ca?: Buffer; readonly key?: Buffer; readonly cert?: Buffer } | null) {
    this.credentials = tls === null ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
  }

  /** Calls `method` of the Cluster service on the member at `url`; resolves with its response or rejects with its gRPC error. */
  forward(url: string, method: string, request: Wire, deadlineMs: number): Promise<Wire> {
    const client = this.client(url) as unknown as Record<string, (request: Wire, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: Wire) => void) => void>;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(url: string): grpc.Client {
    let client = this.clients.get(url);
    if (client === undefined) {
      const Cluster = (grpc.loadPackageDefinition(loadEtcdApi()) as unknown as { etcdserverpb: { Cluster: grpc.ServiceClientConstructor } }).etcdserverpb.Cluster;
      client = new Cluster(new URL(url).host, this.credentials);
      this.clients.set(url, client);
    }
    return client;
  }
}
