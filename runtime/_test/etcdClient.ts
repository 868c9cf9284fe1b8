import * as grpc from '@grpc/grpc-js';
import { loadEtcdApi } from '../client/grpcServices.ts';

/**
 * A small etcd v3 client over @grpc/grpc-js for tests and benchmarks: one channel to one endpoint,
 * unary calls with a deadline, requests and responses as proto-loader's objects (camelCase,
 * bytes as Buffers). It speaks etcd's wire protocol, so it drives real etcd as well as detcd.
 */
export type Message = Record<string, unknown>;

type Unary = (request: Message, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: Message) => void) => grpc.ClientUnaryCall;

interface Stubs {
  readonly kv: grpc.Client;
  readonly cluster: grpc.Client;
  readonly maintenance: grpc.Client;
}

let api: grpc.GrpcObject | null = null;

function services(): { KV: grpc.ServiceClientConstructor; Cluster: grpc.ServiceClientConstructor; Maintenance: grpc.ServiceClientConstructor } {
  api ??= grpc.loadPackageDefinition(loadEtcdApi());
  return (api as unknown as { etcdserverpb: { KV: grpc.ServiceClientConstructor; Cluster: grpc.ServiceClientConstructor; Maintenance: grpc.ServiceClientConstructor } }).etcdserverpb;
}

/** A gRPC error as etcd sends it: its status code and etcd's message. */
export class EtcdCallError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${grpc.status[code]}: ${details}`);
  }
}

export class EtcdClient {
  private readonly stubs: Stubs;

  constructor(
    readonly endpoint: string,
    private readonly deadlineMs = 5_000,
  ) {
    const { KV, Cluster, Maintenance } = services();
    const credentials = grpc.credentials.createInsecure();
    // Its own subchannel pool: grpc-js otherwise shares one connection between every channel to
    // the same target, so a client made to read "over a fresh connection" after a member restarted
    // inherited the old one's reconnect backoff and failed its first call at once ("No connection
    // established. Last error: null": the cluster test's flake, 2 in 8 runs).
    const channel = { 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.use_local_subchannel_pool': 1 };
    const kv = new KV(endpoint, credentials, channel);
    // One HTTP/2 connection for every service, as etcd's clients share one.
    const shared = { channelOverride: kv.getChannel() };
    this.stubs = { kv, cluster: new Cluster(endpoint, credentials, shared), maintenance: new Maintenance(endpoint, credentials, shared) };
  }

  range(request: Message): Promise<Message> {
    return this.call('kv', 'range', request);
  }

  put(request: Message): Promise<Message> {
    return this.call('kv', 'put', request);
  }

  deleteRange(request: Message): Promise<Message> {
    return this.call('kv', 'deleteRange', request);
  }

  txn(request: Message): Promise<Message> {
    return this.call('kv', 'txn', request);
  }

  compact(request: Message): Promise<Message> {
    return this.call('kv', 'compact', request);
  }

  memberAdd(request: Message): Promise<Message> {
    return this.call('cluster', 'memberAdd', request);
  }

  memberList(): Promise<Message> {
    return this.call('cluster', 'memberList', {});
  }

  status(): Promise<Message> {
    return this.call('maintenance', 'status', {});
  }

  close(): void {
    this.stubs.kv.close();
  }

  private call(service: keyof Stubs, method: string, request: Message): Promise<Message> {
    const stub = this.stubs[service] as unknown as Record<string, Unary>;
    return new Promise((resolve, reject) => {
      stub[method]!.call(this.stubs[service], request, new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs }, (error, response) => {
        if (error !== null) reject(new EtcdCallError(error.code, error.details));
        else resolve(response);
      });
    });
  }
}
