import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Message } from '../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../core/replica/logReplica.ts';
import { ClientServer, type HttpHandler } from './client/clientServer.ts';
import { etcdGrpcServer } from './client/grpcServices.ts';
import { ServerMetrics } from './client/metrics.ts';
import { hexId, memberId } from './config/memberIds.ts';
import type { ServerConfig, TlsFiles } from './config/serverConfig.ts';
import { listenOn } from './listen.ts';
import { NodeHost } from './nodeHost.ts';
import { PeerTransport } from './peer/peerTransport.ts';
import { logApiHandler } from './protocols/logApi.ts';
import { replicatedLogNode } from './protocols/replicatedLog.ts';
import { FileStore } from './storage/fileStore.ts';
import { systemRandom } from './systemRandom.ts';
import { SystemTicker } from './ticker.ts';
import { etcdClusterVersion, etcdVersion } from './version.ts';

export interface RunningServer {
  readonly config: ServerConfig;
  /** Graceful stop: no new requests, the node stops, queued writes are flushed and fsynced, files and sockets closed. */
  stop(): Promise<void>;
}

export interface ServerIo {
  readonly log: (line: string) => void;
  /** The storage failed: the process must end (after the log line). */
  readonly fatal: (error: Error) => void;
}

function tlsOptions(files: TlsFiles): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  return {
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ...(files.trustedCaFile === '' ? {} : { ca: readFileSync(files.trustedCaFile) }),
    requestCert: files.clientCertAuth,
    rejectUnauthorized: files.clientCertAuth,
  };
}

/**
 * The cluster id: etcd keeps it in the WAL's metadata; detcd in `member/cluster.id`. A member of a
 * new cluster computes it from --initial-cluster; one joining an existing cluster takes it from
 * the first peer that dials it and keeps it from then on.
 */
function clusterIdFile(dataDir: string): string {
  return join(dataDir, 'member', 'cluster.id');
}

function storedClusterId(config: ServerConfig): string | null {
  const path = clusterIdFile(config.dataDir);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  return config.clusterState === 'new' ? hexId(config.clusterId) : null;
}

function storeClusterId(dataDir: string, id: string): void {
  const path = clusterIdFile(dataDir);
  if (existsSync(path)) return;
  mkdirSync(join(dataDir, 'member'), { recursive: true });
  writeFileSync(`${path}.tmp`, `${id}\n`);
  renameSync(`${path}.tmp`, path);
}

/**
 * Starts a detcd member: its durable store, its node on the one host loop, the peer transport,
 * the client port (gRPC + HTTP on one listener) and the metrics listeners.
 */
export async function startServer(config: ServerConfig, io: ServerIo): Promise<RunningServer> {
  const self = config.memberId;
  const metrics = new ServerMetrics(hexId(self));
  const adapter = replicatedLogNode(config);
  const codec = adapter.protocol.codec!;
  const store = new FileStore({ dataDir: config.dataDir, codec: codec.record, log: io.log, onFsync: (file, seconds) => metrics.fsync(file, seconds), onFatal: io.fatal });
  let clusterId = storedClusterId(config);
  if (clusterId !== null) storeClusterId(config.dataDir, clusterId);
  let host: NodeHost<Message, LogRequest, LogReply, LogReplica> | null = null;
  const strayLogged = new LogLimiter(10_000);
  const peerTls = config.peerTls === null ? undefined : (() => {
    const options = tlsOptions(config.peerTls);
    return { server: options, client: { ...options, rejectUnauthorized: config.peerTls.trustedCaFile !== '' } };
  })();
  const transport = new PeerTransport<Message>({
    self,
    clusterId: () => clusterId,
    adoptClusterId: (id) => {
      clusterId = id;
      storeClusterId(config.dataDir, id);
      io.log(`joined cluster ${id}`);
    },
    advertisedPeerUrls: config.initialAdvertisePeerUrls.map((url) => url.toString().replace(/\/$/, '')),
    listenUrls: config.listenPeerUrls,
    peers: new Map(config.initialCluster.map((member) => [member.id, member.peerUrls] as const)),
    codec: codec.message,
    carriesSnapshot: codec.carriesSnapshot,
    onMessage: (from, message) => {
      const refusal = adapter.refuse(message, from, self);
      if (refusal === null) host?.receive(from, message);
      else if (strayLogged.ready(from)) io.log(`dropped a message from peer ${hexId(from)}: ${refusal}`);
    },
    onUnreachable: (to) => {
      metrics.peerSendFailed(hexId(to));
      host?.poke((node) => adapter.reportUnreachable(node, to));
    },
    onSnapshotStatus: (to, status) => host?.poke((node) => adapter.reportSnapshot(node, to, status)),
    onSent: (to, bytes) => metrics.peerBytesSent(hexId(to), bytes),
    onReceived: (from, bytes) => metrics.peerBytesReceived(hexId(from), bytes),
    log: io.log,
    ...(peerTls === undefined ? {} : { tls: peerTls }),
  });
  host = new NodeHost({
    protocol: adapter.protocol,
    id: self,
    members: config.initialCluster.map((member) => member.id).sort((a, b) => a - b),
    random: systemRandom,
    store,
    transport,
    timer: new SystemTicker(config.heartbeatMs),
    // Unique among the members (with overwhelming probability) and across restarts: a client id
    // names whose proposal an applied entry answers.
    client: 1 + systemRandom.below(0xf_ffff),
    pendingRequestsMax: 4_096,
    afterPump: (node) => metrics.observeNode(adapter.status(node), self, host?.countPending(adapter.isProposal) ?? 0),
    // etcd counts a proposal failed when it errs or times out (v3_server.go).
    onReply: (request, reply) => {
      if (adapter.isProposal(request) && adapter.isFailure(reply)) metrics.proposalFailed();
    },
    onTimeout: (request) => {
      if (adapter.isProposal(request)) metrics.proposalFailed();
    },
  });
  const running = host;

  const logApi = config.logApi ? logApiHandler(() => host, (peerUrls) => memberId(peerUrls.map((url) => url.replace(/\/$/, '')), config.clusterToken)) : null;
  const httpHandler: HttpHandler = (request, response) => {
    if (logApi?.(request, response)) return;
    void serveHttp(request, response, { metrics, health: () => health(running, adapter.status(running.node).leader) });
  };
  const grpcServer = etcdGrpcServer(
    {
      'Maintenance.Status': ((_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        const status = adapter.status(running.node);
        callback(null, {
          header: { clusterId: Number.parseInt(clusterId ?? '0', 16), memberId: self, revision: 0, raftTerm: status.term },
          version: etcdVersion,
          dbSize: 0,
          leader: status.leader,
          raftIndex: status.commitIndex,
          raftTerm: status.term,
          raftAppliedIndex: status.appliedIndex,
          errors: [],
          dbSizeInUse: 0,
          isLearner: false,
        });
      }) as grpc.UntypedHandleCall,
    },
    { 'grpc.max_receive_message_length': config.maxRequestBytes + 512 * 1024 },
  );
  const clientServer = new ClientServer(grpcServer, httpHandler);
  const clientTls = config.clientTls === null ? null : tlsOptions(config.clientTls);
  const metricsServers: HttpServer[] = [];
  try {
    await transport.start();
    running.start();
    for (const url of config.listenClientUrls) await clientServer.listen(url, clientTls);
    for (const url of config.listenMetricsUrls) {
      const server = url.protocol === 'https:' ? createHttpsServer(clientTls ?? {}, httpHandler) : createHttpServer(httpHandler);
      await listenOn(server, url);
      metricsServers.push(server);
    }
  } catch (error) {
    running.stop();
    await Promise.allSettled([transport.stop(), clientServer.close(), store.close()]);
    throw error;
  }
  io.log(`member ${hexId(self)} (${config.name}) of cluster ${clusterId ?? '(joining)'} serving clients on ${config.listenClientUrls.map(String).join(', ')}, peers on ${config.listenPeerUrls.map(String).join(', ')}`);
  io.log(`running the replicated log (detcd's Raft test application): etcd's KV, Watch, Lease and Auth calls answer Unimplemented until the etcd node is plugged in${config.logApi ? '; the log API is on /detcd/log/' : ''}`);
  return {
    config,
    async stop() {
      await clientServer.close();
      for (const server of metricsServers) server.closeAllConnections();
      await Promise.all(metricsServers.map((server) => new Promise((resolve) => server.close(resolve))));
      running.stop();
      host = null;
      await transport.stop();
      await store.close();
    },
  };
}

/** etcd's /health: healthy when there is a leader and a linearizable read goes through (a quorum GET in etcd). */
async function health(host: NodeHost<Message, LogRequest, LogReply, LogReplica>, leader: number): Promise<boolean> {
  if (leader === 0) return false;
  const outcome = await host.submit({ kind: 'read' }, 1_000);
  return outcome.outcome === 'ok' && outcome.reply.kind === 'read';
}

async function serveHttp(request: IncomingMessage, response: ServerResponse, parts: { metrics: ServerMetrics; health: () => Promise<boolean> }): Promise<void> {
  const path = (request.url ?? '').split('?')[0];
  if (path === '/version') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ etcdserver: etcdVersion, etcdcluster: etcdClusterVersion }));
  } else if (path === '/health') {
    const healthy = await parts.health();
    response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ health: healthy ? 'true' : 'false' }));
  } else if (path === '/metrics') {
    response.writeHead(200, { 'content-type': parts.metrics.registry.contentType });
    response.end(await parts.metrics.registry.metrics());
  } else {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('404 page not found\n');
  }
}

/** At most one log line per key per interval: a stray peer sends a heartbeat every tick. */
class LogLimiter {
  private readonly lastMs = new Map<number, number>();

  constructor(private readonly intervalMs: number) {}

  ready(key: number): boolean {
    const now = performance.now();
    const last = this.lastMs.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.lastMs.set(key, now);
    return true;
  }
}
