import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { basename, join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { Member } from '../core/api/index.ts';
import { isErrorReply, isRaftMessage, type EtcdServer, type PeerMessage, type ServerReply, type ServerRequest } from '../core/server/index.ts';
import { ClientServer, type HttpHandler } from './client/clientServer.ts';
import { etcdHandlers } from './client/etcdServices.ts';
import { etcdGrpcServer } from './client/grpcServices.ts';
import { LeaderForwarding } from './client/leaderForwarding.ts';
import { ServerMetrics } from './client/metrics.ts';
import { useNativeByteStrings } from './nativeByteStrings.ts';
import { hexId } from './config/memberIds.ts';
import type { ServerConfig, TlsFiles } from './config/serverConfig.ts';
import { listenOn } from './listen.ts';
import { NodeHost } from './nodeHost.ts';
import { trace } from './latencyTrace.ts';
import type { DurableStore, Transport } from '../core/host/ports.ts';
import { PeerTransport } from './peer/peerTransport.ts';
import { PeerRoundTrips } from './peer/roundTrips.ts';
import { etcdNode, hostTimeoutMs, storageQuotaMaxBytes } from './protocols/etcd.ts';
import { FileStore } from './storage/fileStore.ts';
import { receivedDbPath } from './storage/layout.ts';
import { arrangeLocalSnapshot, arrangeWalSnapshotWrites, walSnapshotIndex } from './storage/walSnapshotWrites.ts';
import { GcPauses, gcLogMs } from './log/gcPauses.ts';
import { ThrottledCpuClock } from './log/processCpu.ts';
import { describeGc, type LoopActivity } from './log/loopActivity.ts';
import { LoopStallWatch, loopStallWatchMs } from './log/loopStallWatch.ts';
import { RaftEventLog, raftDebugLogger } from './log/raftEvents.ts';
import { goDuration, ServerLog } from './log/serverLog.ts';
import { setTimeout as timer } from 'node:timers';
import { SlowWork, slowApplyMs, slowRequestMs } from './log/slowWork.ts';
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
  /** This member applied its own removal from the cluster: it serves no more and should stop (etcd exits). */
  readonly removed?: () => void;
}

type EtcdHost = NodeHost<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

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
 * Starts a detcd member: its durable store, the etcd member (core/server) on the one host loop,
 * the peer transport, the client port (gRPC + HTTP on one listener) and the metrics listeners.
 */
export async function startServer(config: ServerConfig, io: ServerIo): Promise<RunningServer> {
  useNativeByteStrings();
  const self = config.memberId;
  const metrics = new ServerMetrics(hexId(self), () => store.segmentedBytes('db'));
  const log = new ServerLog({ sink: io.log, level: config.logLevel });
  const adapter = etcdNode(config, raftDebugLogger(process.env, log));
  const codec = adapter.protocol.codec!;
  const quotaCeiling = storageQuotaMaxBytes();
  if (config.quotaBackendBytes > quotaCeiling) log.warn('quota', 'etcdserver', `--quota-backend-bytes ${config.quotaBackendBytes} is over what this member's heap holds: the quota is ${quotaCeiling} bytes (${quotaCeiling / 1_048_576} MiB, a quarter of V8's heap limit)`);
  const slowWork = new SlowWork(log, metrics, config.heartbeatMs);
  // Diagnostics, off unless asked for: event-loop stalls with what filled them, GC pauses.
  const stallWatchMs = loopStallWatchMs(process.env);
  const stallWatch = stallWatchMs === null ? null : new LoopStallWatch(log, stallWatchMs);
  const activity = stallWatch?.activity ?? null;
  const gcThresholdMs = gcLogMs(process.env, stallWatch !== null);
  const gcPauses = gcThresholdMs === null ? null : new GcPauses(log, gcThresholdMs, activity);
  const raftEvents = new RaftEventLog(self, log, () => slowWork.leadershipChanged());
  // What the current pump persisted beyond entries (a slow pump's warning says it).
  let snapshotInPump: number | null = null;
  // The last local snapshot left the WAL uncompacted (postponeWalCompaction).
  let walCompactionPostponed = false;
  const store = new FileStore({
    dataDir: config.dataDir,
    codec: codec.record,
    log: io.log,
    onFsync: (file, seconds) => {
      metrics.fsync(file, seconds);
      slowWork.synced(file, seconds * 1_000);
    },
    onFatal: io.fatal,
    ...(config.walWriteOnLoopBytes === undefined ? {} : { walWriteOnLoopBytes: config.walWriteOnLoopBytes }),
    // A leader's append (its MsgApps waiting for their flush) goes through the pool: issued at once, its write overlaps the flush.
    peerFlushPending: () => transport.flushPending,
    ...(activity === null ? {} : { onEncodeTurn: (startedMs: number, ms: number) => activity.note('rewrite-turn', startedMs, ms) }),
    onDeferredReplace: ({ file, bytes, turns, encodeMs, writeMs, received }) => {
      const written = `${(bytes / 1_048_576).toFixed(1)} MiB encoded and written in ${turns} turns of the event loop over ${goDuration(encodeMs)}, synced and renamed in ${goDuration(writeMs)}`;
      if (received === undefined) log.info('backend', `rewrote the ${file} file whole: ${written}`);
      else log.info('backend', `saved the received snapshot's ${file} at index ${received} aside (${basename(receivedDbPath(config.dataDir, received))}): ${written}`);
    },
    onDeferredAppend: ({ file, bytes, turns, encodeMs, waited }) => {
      log.info('backend', `appended a large commit to the ${file} file: ${(bytes / 1_048_576).toFixed(1)} MiB encoded in ${turns} turns of the event loop over ${goDuration(encodeMs)}${waited ? ' (a barrier waited for it)' : ''}`);
    },
    arrange: (writes, { rewriting }) => {
      const index = walSnapshotIndex(writes);
      if (index === null) return arrangeWalSnapshotWrites(writes);
      snapshotInPump = index;
      const { arranged, postponed } = arrangeLocalSnapshot(writes, rewriting, walCompactionPostponed);
      walCompactionPostponed = postponed;
      log.info('etcdserver', `saved snapshot at index ${index}${postponed ? ' (the WAL is compacted at the next one: the db file is being rewritten)' : ''}`);
      return arranged;
    },
  });
  let clusterId = storedClusterId(config);
  if (clusterId !== null) storeClusterId(config.dataDir, clusterId);
  let host: EtcdHost | null = null;
  const roundTrips = new PeerRoundTrips((peer, seconds) => metrics.peerRoundTripTime(hexId(peer), seconds));
  const strayLogged = new LogLimiter(10_000);
  const peerTls = config.peerTls === null ? undefined : (() => {
    const options = tlsOptions(config.peerTls);
    return { server: options, client: { ...options, rejectUnauthorized: config.peerTls.trustedCaFile !== '' } };
  })();
  const transport = new PeerTransport<PeerMessage>({
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
    ...(codec.encodeMessageInSlices === undefined ? {} : { encodeInSlices: codec.encodeMessageInSlices }),
    ...(codec.decodeMessageInSteps === undefined ? {} : { decodeInSteps: codec.decodeMessageInSteps }),
    ...(codec.prepareMessageInSteps === undefined ? {} : { prepareInSteps: codec.prepareMessageInSteps }),
    // An append without entries carries only the leader's commit index: it may follow the answers.
    mayWait: (message) => isRaftMessage(message) && message.type === 'MsgApp' && message.entries.length === 0 && message.snapshot === null,
    onMessage: (from, message) => {
      if (trace.enabled) trace.mark(`recv ${message.type} ${hexId(from)}`);
      roundTrips.received(from, message.type);
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
  const peers = new PeerDirectory(transport, self);
  const sending = observedTransport(transport, roundTrips, slowWork);
  let removalReported = false;
  let lastApplied = 0;
  // One turn of the host loop took `ms`: a pump, or the work that a sync's completion let go on.
  // Runs at every pump: the warning's words are put together only for a slow turn.
  const loopTurn = (ms: number, where: string, applied: number): void => {
    activity?.note(where === '' ? 'pump' : 'after-sync', performance.now() - ms, ms, applied - lastApplied, snapshotInPump === null ? undefined : `a snapshot at index ${snapshotInPump}`);
    if (ms > slowApplyMs) slowWork.pumped(ms, applied - lastApplied, [where, snapshotInPump === null ? '' : `saved a snapshot at index ${snapshotInPump}`].filter((part) => part !== '').join('; '));
    lastApplied = applied;
    snapshotInPump = null;
  };
  // Work the node does in slices, one per turn (a huge range delete's apply): from the pump that
  // began it to the one that ended it, the pumps meanwhile (its slices and whatever came between).
  let inTurns: { readonly startedMs: number; pumps: number; pumpsMs: number; longestMs: number } | null = null;
  const workInTurns = (deferred: boolean, pumpMs: number): void => {
    if (!deferred && inTurns === null) return;
    inTurns ??= { startedMs: performance.now() - pumpMs, pumps: 0, pumpsMs: 0, longestMs: 0 };
    inTurns.pumps++;
    inTurns.pumpsMs += pumpMs;
    inTurns.longestMs = Math.max(inTurns.longestMs, pumpMs);
    if (deferred) return;
    log.info('etcdserver', `applied an entry in turns over ${goDuration(performance.now() - inTurns.startedMs)}: ${inTurns.pumps} pumps took ${goDuration(inTurns.pumpsMs)} (the longest ${goDuration(inTurns.longestMs)}, the last ${goDuration(pumpMs)})`);
    inTurns = null;
  };
  const timeoutMs = hostTimeoutMs(config);
  const pendingProposals = (): number => host?.countPending(adapter.isProposal) ?? 0;
  host = new NodeHost({
    protocol: adapter.protocol,
    id: self,
    members: config.initialCluster.map((member) => member.id).sort((a, b) => a - b),
    random: systemRandom,
    store: watchedStore(trace.enabled ? tracedStore(store) : store, () => store.describeLastWrite(), slowWork, activity, (ms) => loopTurn(ms, 'after a sync', host === null ? lastApplied : adapter.status(host.node).appliedIndex)),
    transport: sending,
    timer: new SystemTicker(config.heartbeatMs, undefined, undefined, (lateMs) => slowWork.tickLate(lateMs)),
    // Unique among the members (with overwhelming probability) and across restarts: a client id
    // names whose proposal an applied entry answers.
    client: 1 + systemRandom.below(0xf_ffff),
    pendingRequestsMax: 16_384,
    // A leader's appends leave in parallel with its own fsync, and answers to applied entries
    // while the next entries are synced, as etcd's raftNode does (proved under the simulator:
    // the raft-pipelined scenarios and the etcd runs with pipelinedHost).
    sendBeforeSync: true,
    afterPump: (node, pumpMs) => {
      const status = adapter.status(node);
      metrics.observeNode(status, self, pendingProposals);
      raftEvents.observe({ role: status.role, lead: status.leader, term: status.term });
      loopTurn(pumpMs, '', status.appliedIndex);
      workInTurns(node.hasDeferredWork?.() === true, pumpMs);
      peers.follow(node.state.membership.members);
      if (node.stopped && !removalReported) {
        removalReported = true;
        io.log('the member has been permanently removed from the cluster');
        io.removed?.();
      }
    },
    // etcd counts a proposal failed when it errs or times out (v3_server.go).
    onReply: (request, reply, elapsedMs) => {
      // The answer leaves before this turn's peer writes (PeerTransport.afterClientWrites).
      transport.afterClientWrites();
      if (adapter.isProposal(request) && adapter.isFailure(reply)) metrics.proposalFailed();
      if (elapsedMs > slowRequestMs) slowWork.answered(adapter.summarize(request), adapter.result(reply), elapsedMs);
    },
    onTimeout: (request) => {
      if (adapter.isProposal(request)) metrics.proposalFailed();
    },
  });
  const running = host;

  const httpHandler: HttpHandler = (request, response) => {
    void serveHttp(request, response, { metrics, health: () => health(running, adapter.probe, timeoutMs) });
  };
  const clientTls = config.clientTls === null ? null : tlsOptions(config.clientTls);
  const forwarding = new LeaderForwarding(clientTls === null ? null : { ...(clientTls.ca === undefined ? {} : { ca: clientTls.ca as Buffer }), key: clientTls.key as Buffer, cert: clientTls.cert as Buffer });
  const grpcServer = etcdGrpcServer(
    etcdHandlers({
      submit: (request) => running.submit(request, timeoutMs),
      openStream: (request, onReply) => running.openStream(request, onReply),
      clusterId: () => (clusterId === null ? 0 : Number.parseInt(clusterId, 16)),
      version: etcdVersion,
      leaderClientUrl: () => {
        const lead = running.node.softState.lead;
        return lead === 0 || lead === self ? null : (running.node.state.membership.member(lead)?.clientURLs[0] ?? null);
      },
      forwarding,
      timeoutMs,
    }),
    // Channelz off: detcd serves no channelz service, and its tracking (a registry entry per
    // connection, counters and timestamps per call, grpc-js's heavier per-stream handler) cost a
    // member ~0.5% of its CPU per call and ~0.2 s of its event loop when check perf's 200
    // clients connect at once.
    { 'grpc.max_receive_message_length': config.maxRequestBytes + 512 * 1024, 'grpc.enable_channelz': 0 },
    metrics,
  );
  const clientServer = new ClientServer(grpcServer, httpHandler);
  const metricsServers: HttpServer[] = [];
  try {
    stallWatch?.start();
    gcPauses?.start();
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
    stallWatch?.stop();
    gcPauses?.stop();
    await Promise.allSettled([transport.stop(), clientServer.close(), store.close()]);
    throw error;
  }
  io.log(`member ${hexId(self)} (${config.name}) of cluster ${clusterId ?? '(joining)'} serving clients on ${config.listenClientUrls.map(String).join(', ')}, peers on ${config.listenPeerUrls.map(String).join(', ')}`);
  return {
    config,
    async stop() {
      forwarding.close();
      await clientServer.close();
      for (const server of metricsServers) server.closeAllConnections();
      await Promise.all(metricsServers.map((server) => new Promise((resolve) => server.close(resolve))));
      running.stop();
      stallWatch?.stop();
      gcPauses?.stop();
      host = null;
      await transport.stop();
      await store.close();
      trace.save();
    },
  };
}

/** The store, marking each Ready's writes and its sync on the latency trace (DETCD_LATENCY_TRACE). */
function tracedStore(store: DurableStore): DurableStore {
  return {
    write: (writes) => {
      trace.mark(`store.write ${writes.map((write) => write.file).join('+')}`);
      store.write(writes);
    },
    sync: (done) => {
      trace.mark('store.sync');
      store.sync(() => {
        trace.mark('store.synced');
        done();
      });
    },
    ...passCaughtUp(store),
    read: () => store.read(),
  };
}

/** A slow write's CPU is counted from a reading at most this old when it began (ThrottledCpuClock). */
const cpuReadingMinMs = 20;

/** How long after a slow write its GC pauses are looked up: perf_hooks hands them over a turn or two after the call. */
const gcEntriesLateMs = 20;

/**
 * The store, timed: a Ready's writes that take long to hand over (encoding, CRC, write calls on the
 * loop), and the loop's work that a completed sync lets go on (the next Readies: apply, persist,
 * send), which happens outside the host's own pump.
 */
function watchedStore(store: DurableStore, describeWrite: () => string, slowWork: SlowWork, activity: LoopActivity | null, afterSync: (ms: number) => void): DurableStore {
  const cpuClock = new ThrottledCpuClock(cpuReadingMinMs);
  return {
    write: (writes) => {
      const startedMs = performance.now();
      const cpuBefore = cpuClock.reading(startedMs);
      store.write(writes);
      const ms = performance.now() - startedMs;
      activity?.note('store-write', startedMs, ms, 0, ms > 1 ? writes.map((write) => `${write.kind} ${write.file}`).join(', ') : undefined);
      if (ms <= slowApplyMs) return;
      // The call is synchronous: it waited for nothing but the CPU. What it did (the store's
      // account), the process's CPU time meanwhile (about the call's own: a GC or the encoding;
      // far less: the process waited for a CPU), and the GC pauses inside it when the loop's
      // activity is kept (perf_hooks hands GC entries over a turn or two later: looked up then).
      const cpuMs = cpuClock.since(cpuBefore) / 1_000;
      const what = writes.map((write) => `${write.kind} ${write.file} (${write.records.length} records)`).join(', ');
      const earlier = startedMs - cpuBefore.atMs >= 1 ? ` (from ${Math.round(startedMs - cpuBefore.atMs)} ms before it)` : '';
      const account = `${describeWrite()}; process CPU ${goDuration(cpuMs)}${earlier}`;
      if (activity === null) {
        slowWork.wrote(ms, what, `${account}; GC not watched (DETCD_LOOP_STALL_WATCH_MS)`);
        return;
      }
      timer(() => slowWork.wrote(ms, what, `${account}; ${describeGc(activity.within(startedMs, startedMs + ms))}`), gcEntriesLateMs).unref();
    },
    sync: (done) => {
      const requestedMs = performance.now();
      store.sync(() => {
        slowWork.readySynced(performance.now() - requestedMs);
        const startedMs = performance.now();
        done();
        afterSync(performance.now() - startedMs);
      });
    },
    ...passCaughtUp(store),
    read: () => store.read(),
  };
}

/** A wrapper's `caughtUp`: the store's own (left out, a reply that promises writes would wait only for its Ready's sync). */
function passCaughtUp(store: DurableStore): Pick<DurableStore, 'caughtUp'> {
  const caughtUp = store.caughtUp;
  return caughtUp === undefined ? {} : { caughtUp: (done) => caughtUp.call(store, done) };
}

/** The transport, timing heartbeats for the peer round-trip metric and the late-heartbeat warning (and marking sends on the latency trace). */
function observedTransport(transport: Transport<PeerMessage>, roundTrips: PeerRoundTrips, slowWork: SlowWork): Transport<PeerMessage> {
  return {
    send: (to, message) => {
      if (trace.enabled) trace.mark(`send ${message.type} ${hexId(to)}`);
      if (message.type === 'MsgHeartbeat') slowWork.heartbeatSent(to, performance.now());
      roundTrips.sent(to, message.type);
      transport.send(to, message);
    },
  };
}

/**
 * Keeps the transport's peer URLs in step with the membership the member applied: a member added
 * later, or whose URLs were updated, is dialled at the URLs the cluster agreed on.
 */
class PeerDirectory {
  private seen: readonly Member[] | null = null;

  constructor(
    private readonly transport: PeerTransport<PeerMessage>,
    private readonly self: number,
  ) {}

  follow(members: readonly Member[]): void {
    if (members === this.seen) return;
    this.seen = members;
    for (const member of members) {
      if (member.ID === this.self || member.peerURLs.length === 0) continue;
      const known = this.transport.knownPeers().get(member.ID)?.map((url) => url.toString().replace(/\/$/, ''));
      if (known !== undefined && known.join() === member.peerURLs.join()) continue;
      try {
        this.transport.setPeerUrls(member.ID, member.peerURLs.map((url) => new URL(url)));
      } catch {
        // A URL the cluster accepted but this host cannot parse: the member stays unreachable from here.
      }
    }
  }
}

/** etcd's /health: healthy when there is a leader and a linearizable read goes through (a quorum read in etcd). */
async function health(host: EtcdHost, probe: ServerRequest, timeoutMs: number): Promise<boolean> {
  if (host.node.softState.lead === 0) return false;
  const outcome = await host.submit(probe, Math.min(timeoutMs, 5_000));
  return outcome.outcome === 'ok' && !isErrorReply(outcome.reply);
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
    // As etcd answers any other path (Go's http.NotFound behind its CORS handler), v2 keys included.
    const body = '404 page not found\n';
    response.writeHead(404, {
      'Access-Control-Allow-Headers': 'accept, content-type, authorization',
      'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
      'Access-Control-Allow-Origin': '*',
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
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
