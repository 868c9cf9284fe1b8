import { AssertionError, assert, assertNever } from '../core/base/assert.ts';
import { hashString32 } from '../core/base/hash.ts';
import { never } from '../core/base/ratio.ts';
import { HostLoop } from '../core/host/hostLoop.ts';
import { tornRecord, type ClientId, type DurableState, type HostedNode, type NodeId, type StreamFrame } from '../core/host/node.ts';
import type { HostPorts } from '../core/host/ports.ts';
import type { HistoryEntry } from './client.ts';
import { ClientPool, type ClientWake, type ReplyEnvelope, type RequestEnvelope } from './clientPool.ts';
import { SimClock } from './clock.ts';
import { SimDisk } from './disk.ts';
import { EventKind, skipped } from './eventKind.ts';
import { connected, describeFault, type FaultAction, type PartitionShape } from './faults.ts';
import { Network } from './network.ts';
import { explainFrozenEdit, RecordFreezer } from './recordFreezer.ts';
import type { RunResult, SimObserver, SimParts, SnapshotReports, SnapshotStatus, StopReason, UnreachableReports, Violation } from './observer.ts';
import type { SimOptions } from './options.ts';
import { SimProcess, type DiskLagPayload, type ProcessState, type SyncPayload, type WorkPayload } from './process.ts';
import { StreamClients, type StreamEnvelope, type StreamWake } from './streamClients.ts';
import { RandomStreams } from './rng.ts';
import { Scheduler } from './scheduler.ts';
import { Trace } from './trace.ts';

/** The trace digest of a sync a disk stall holds: its event comes again when the stall ends. */
const syncHeld = 3;

/**
 * The simulated world: nodes on simulated machines, a network, clients and a nemesis, all driven
 * by one scheduler in virtual time and one run seed. Every node is driven through the same
 * HostLoop as in production; nothing here knows what the node computes.
 */
export class Simulation<M, Q, R, N extends HostedNode<M, Q, R> = HostedNode<M, Q, R>> {
  readonly options: SimOptions;
  readonly members: readonly NodeId[];
  readonly network: Network;
  readonly trace: Trace;
  readonly stats = { crashes: 0, restarts: 0, pauses: 0, resumes: 0, partitions: 0, partitionsHealed: 0, clockJumps: 0, diskStalls: 0, inboxDropped: 0, faults: 0, tornWritesRecovered: 0, snapshotsReportedFinished: 0, snapshotsReportedFailed: 0, unreachableReported: 0 };
  private readonly parts: SimParts<M, Q, R, N>;
  private readonly scheduler: Scheduler;
  private readonly streams: RandomStreams;
  private readonly processes: SimProcess<M, Q, R, N>[] = [];
  /** Freezes what every disk is handed, and checks their byte arrays after every event. */
  private readonly freezer = new RecordFreezer();
  private readonly clients: ClientPool<Q, R>;
  private readonly streamClients: StreamClients<Q, R>;
  /** Per link, when the last stream frame or message arrives: a stream's traffic keeps its order. */
  private readonly streamArrivals = new Map<number, number>();
  private readonly observers: readonly SimObserver<M, Q, R, N>[];
  private readonly afterEventObservers: readonly SimObserver<M, Q, R, N>[];
  private readonly sendObservers: readonly SimObserver<M, Q, R, N>[];
  private readonly deliverObservers: readonly SimObserver<M, Q, R, N>[];
  private readonly requestObservers: readonly SimObserver<M, Q, R, N>[];
  private readonly replyObservers: readonly SimObserver<M, Q, R, N>[];
  private readonly firstClient: number;
  private readonly digestMessage: (message: M) => number;
  /** What a message is, for keyed network draws (0 when the protocol does not say). */
  private readonly keyMessage: (message: M) => number;
  /** Clients talk over connections (see Workload.connections). */
  private readonly clientConnections: boolean;
  /** How snapshots' fates are reported to their senders (SimParts.snapshotReports), or null: never. */
  private readonly snapshotReports: SnapshotReports<M, N> | null;
  /** How messages the network could not hand on are reported to their senders (SimParts.unreachableReports), or null: never. */
  private readonly unreachableReports: UnreachableReports<N> | null;
  /**
   * Snapshots sent and not yet reported, by message and receiver (a host may send one message
   * object to several peers), each with its sender's incarnation: a snapshot's fate is reported
   * once, for the first copy whose fate is known (the etcd family duplicates nothing).
   */
  private readonly snapshotsInFlight = new Map<M, Map<NodeId, number>>();
  private quietAtUs: number | null = null;
  /** Whether some partition has cut links since the last heal (for counting heals that healed). */
  private partitioned = false;
  private convergedAtUs: number | null = null;
  private ran = false;

  constructor(options: SimOptions, parts: SimParts<M, Q, R, N>) {
    assert(options.nodeCount >= 1 && options.nodeCount <= 64, 'nodeCount must be in [1, 64]');
    this.options = options;
    this.parts = parts;
    this.scheduler = new Scheduler({ queuedEventsMax: options.queuedEventsMax });
    this.streams = new RandomStreams(options.seed);
    this.trace = new Trace(parts.keepTrail ?? false);
    this.observers = parts.observers ?? [];
    this.afterEventObservers = this.observers.filter((o) => o.afterEvent !== undefined);
    this.sendObservers = this.observers.filter((o) => o.onSend !== undefined);
    this.deliverObservers = this.observers.filter((o) => o.onDeliver !== undefined);
    this.requestObservers = this.observers.filter((o) => o.onRequest !== undefined);
    this.replyObservers = this.observers.filter((o) => o.onReply !== undefined);
    this.members = Array.from({ length: options.nodeCount }, (_, i) => i + 1);
    const clientCount = (parts.workload?.clientCount ?? 0) + (parts.workload?.streams?.clientCount ?? 0);
    this.firstClient = options.nodeCount + 1;
    this.digestMessage = parts.protocol.digestMessage;
    this.keyMessage = parts.protocol.keyMessage ?? (() => 0);
    this.clientConnections = parts.workload?.connections === true;
    this.snapshotReports = parts.snapshotReports ?? null;
    this.unreachableReports = parts.unreachableReports ?? null;
    this.network = new Network(options.nodeCount + clientCount + 1, options.network, this.streams.stream('network'), () => this.streams.stream('network/keyed'));
    if (parts.recordFates === true) this.network.recordFates();
    for (const id of this.members) {
      const clockRandom = this.streams.stream(`clock/${id}`);
      const clock = new SimClock({
        tickIntervalUs: options.tickIntervalUs,
        offsetUs: options.clock.offsetUsMax === 0 ? 0 : clockRandom.between(-options.clock.offsetUsMax, options.clock.offsetUsMax),
        driftPpm: options.clock.driftPpmMax === 0 ? 0 : clockRandom.between(-options.clock.driftPpmMax, options.clock.driftPpmMax),
        tickBurstMax: options.clock.tickBurstMax,
      });
      // The first tick comes at a random phase, as real processes do not start in lockstep.
      clock.restartTicker(-clockRandom.below(options.tickIntervalUs));
      const disk = new SimDisk(options.disk, this.streams.stream(`disk/${id}`), this.freezer, `node ${id}`);
      this.processes.push(new SimProcess(id, disk, clock, this.streams.stream(`node/${id}`)));
    }
    this.clients = new ClientPool({
      workload: parts.workload,
      firstClient: this.firstClient,
      streams: this.streams,
      scheduler: this.scheduler,
      route: (from, to, kind, payload) => void this.route(from, to, kind, payload),
      digestRequest: parts.protocol.digestRequest,
      digestReply: parts.protocol.digestReply,
    });
    this.streamClients = new StreamClients({
      workload: parts.workload?.streams,
      firstClient: this.firstClient + (parts.workload?.clientCount ?? 0),
      streams: this.streams,
      scheduler: this.scheduler,
      route: (from, to, kind, payload) => this.route(from, to, kind, payload),
    });
  }

  /** Frames delivered to stream clients and streams broken, for a run's summary. */
  get streamStats(): { readonly framesDelivered: number; readonly streamsBroken: number } {
    return { framesDelivered: this.streamClients.framesDelivered, streamsBroken: this.streamClients.streamsBroken };
  }

  get nowUs(): number {
    return this.scheduler.nowUs;
  }

  /** Every client operation so far, in invocation order. */
  get history(): readonly HistoryEntry<Q, R>[] {
    return this.clients.history;
  }

  /**
   * The node the last event was delivered to, or 0 when it touched the world as a whole (a fault,
   * a probe) or a client. Checkers that run after every event need only look at this node then.
   */
  get lastEventNode(): NodeId {
    const target = this.scheduler.target;
    const kind = this.scheduler.kind;
    return kind === EventKind.fault || kind === EventKind.probe || target >= this.firstClient ? 0 : target;
  }

  /**
   * The event just delivered, for observers that describe or record it (never read on the hot
   * path): its index in the trace, time, kind (EventKind), target, source and payload.
   */
  get lastEvent(): DeliveredEvent {
    const scheduler = this.scheduler;
    return { index: this.trace.events - 1, timeUs: scheduler.nowUs, kind: scheduler.kind, target: scheduler.target, source: scheduler.source, payload: scheduler.payload };
  }

  /** The first client's id: nodes are 1..nodeCount, clients follow, the world is 0. */
  get firstClientId(): ClientId {
    return this.firstClient;
  }

  /** The running node `id`, or null when its process is down. A paused node is returned. */
  node(id: NodeId): N | null {
    return this.process(id).node;
  }

  processState(id: NodeId): ProcessState {
    return this.process(id).state;
  }

  disk(id: NodeId): SimDisk {
    return this.process(id).disk;
  }

  clock(id: NodeId): SimClock {
    return this.process(id).clock;
  }

  incarnation(id: NodeId): number {
    return this.process(id).incarnation;
  }

  /** Whether `id`'s disk is stalled now (a 'disk-stall' fault): no sync completes before the stall's end. */
  diskStalled(id: NodeId): boolean {
    return this.process(id).diskStalledUntilUs > this.nowUs;
  }


  /** Runs to completion. A simulation runs once. */
  run(): RunResult {
    assert(!this.ran, 'a simulation runs once');
    this.ran = true;
    let violation: Violation | null = null;
    let stopReason: StopReason = 'idle';
    try {
      this.start();
      stopReason = this.loop();
      if (stopReason === 'event-limit') this.fail(`event limit of ${this.options.eventLimit} reached at ${this.nowUs}us`);
      if (this.parts.liveness !== undefined && this.quietAtUs !== null && this.convergedAtUs === null) {
        this.fail(`liveness: "${this.parts.liveness.description}" did not hold within ${this.parts.liveness.boundUs}us after the faults stopped (run ended: ${stopReason})`);
      }
      for (const observer of this.observers) observer.finish?.(this);
    } catch (error) {
      stopReason = 'violation';
      const frozenEdit = explainFrozenEdit(error);
      const message = frozenEdit ?? (error instanceof Error ? `${error instanceof AssertionError ? '' : `${error.name}: `}${error.message}` : String(error));
      const causeUs = error instanceof AssertionError ? error.causeUs : undefined;
      violation = { message, timeUs: this.nowUs, event: this.trace.events, ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}), ...(causeUs === undefined ? {} : { causeUs }) };
    }
    return {
      ok: violation === null,
      stopReason,
      traceHash: this.trace.hashHex(),
      events: this.trace.events,
      simulatedUs: this.nowUs,
      violation,
      convergedAfterUs: this.convergedAtUs === null || this.quietAtUs === null ? null : this.convergedAtUs - this.quietAtUs,
    };
  }

  /** Ends the run as a violation. For observers and the world's own checks. */
  fail(message: string): never {
    throw new AssertionError(message);
  }

  private start(): void {
    for (const process of this.processes) this.boot(process);
    for (const fault of this.options.faults) {
      assert(fault.atUs >= 0, 'fault times are not negative');
      this.scheduler.schedule(fault.atUs, EventKind.fault, 0, 0, fault.action);
    }
    this.clients.start();
    this.streamClients.start();
  }

  private loop(): StopReason {
    const scheduler = this.scheduler;
    const { timeLimitUs, eventLimit } = this.options;
    const trace = this.trace;
    for (;;) {
      if (this.convergedAtUs !== null) return 'live';
      if (scheduler.peekTimeUs() > timeLimitUs) return scheduler.size === 0 ? 'idle' : 'time-limit';
      if (trace.events >= eventLimit) return 'event-limit';
      this.step();
    }
  }

  /**
   * Delivers the next event. Kept apart from `loop`: a run enters `loop` once and stays in it, so
   * V8 could only optimize it by on-stack replacement, which it did in some runs and not in
   * others (a 30% spread in speed). A function called per event is optimized like any other.
   */
  private step(): void {
    const scheduler = this.scheduler;
    scheduler.pop();
    const kind = scheduler.kind;
    const target = scheduler.target;
    const digest = this.dispatch(kind, target, scheduler.source, scheduler.payload);
    if (digest === skipped) return;
    // Before the event is recorded: a byte array edited by it fails the run at this event.
    this.freezer.checkEdits(this.trace.events);
    this.trace.record(scheduler.nowUs, target, kind, digest);
    const afterEvent = this.afterEventObservers;
    for (let i = 0; i < afterEvent.length; i++) afterEvent[i]!.afterEvent!(this);
  }

  /** Handles one event; returns its digest for the trace, or `skipped` for a cancelled one. */
  private dispatch(kind: number, target: number, source: number, payload: unknown): number {
    switch (kind) {
      case EventKind.tick:
        return this.onTick(this.process(target), payload as number);
      case EventKind.deliver:
        return this.onDeliver(this.process(target), source, payload as M);
      case EventKind.request:
        return this.onRequest(this.process(target), source, payload as RequestEnvelope<Q>);
      case EventKind.reply:
        return this.onReply(target, source, payload as ReplyEnvelope<R>);
      case EventKind.sync:
        return this.onSync(this.process(target), payload as SyncPayload);
      case EventKind.fault:
        return this.onFault(payload as FaultAction);
      case EventKind.client:
        return this.streamClients.owns(target) ? this.streamClients.wake(target, payload as StreamWake) : this.clients.wake(target, payload as ClientWake);
      case EventKind.probe:
        return this.onProbe();
      case EventKind.refusal:
        return this.onRefusal(this.process(target), source);
      case EventKind.snapshotReport:
        return this.onSnapshotReport(this.process(target), source, payload as SnapshotReport);
      case EventKind.unreachableReport:
        return this.onUnreachableReport(this.process(target), source, payload as number);
      case EventKind.work:
        return this.onWork(this.process(target), payload as WorkPayload);
      case EventKind.diskLag:
        return this.onDiskLag(this.process(target), payload as DiskLagPayload);
      default:
        throw new AssertionError(`unknown event kind ${kind}`);
    }
  }

  // --- processes ---------------------------------------------------------------------------

  private boot(process: SimProcess<M, Q, R, N>): void {
    const durable = process.disk.read();
    if (hasTornRecord(durable)) this.stats.tornWritesRecovered++;
    const node = this.parts.protocol.start({ id: process.id, members: this.members, random: process.random, durable });
    assert(node.id === process.id, 'a protocol started a node with the wrong id');
    process.node = node;
    process.loop = new HostLoop(node, this.portsFor(process), { sendBeforeSync: this.options.pipelinedHost === true });
    process.state = 'up';
    this.scheduleTick(process);
    // A node may have work on boot (a restarted Raft node re-sends nothing, but some protocols do).
    process.loop.pump();
  }

  private portsFor(process: SimProcess<M, Q, R, N>): HostPorts<M, R> {
    const incarnation = process.incarnation;
    return {
      transport: { send: (to, message) => this.send(process.id, to, message) },
      replies: { reply: (client, id, reply, stream) => this.sendReply(process.id, client, id, reply, stream) },
      store: {
        write: (writes) => {
          const lagUs = process.disk.write(writes);
          if (lagUs !== null) this.scheduler.schedule(this.nowUs + lagUs, EventKind.diskLag, process.id, 0, { incarnation, waiters: [] } satisfies DiskLagPayload);
        },
        sync: (done) => {
          const { latencyUs, mark } = process.disk.beginSync();
          const payload: SyncPayload = { incarnation, mark, done };
          // A stalled disk holds the sync until the stall ends (the latency drawn all the same: draws stay put).
          this.scheduler.schedule(Math.max(this.nowUs + latencyUs, process.diskStalledUntilUs), EventKind.sync, process.id, 0, payload);
        },
        read: () => process.disk.read(),
        // At once unless the disk lags (DiskOptions.lag): then when the lag ends (onDiskLag).
        caughtUp: (done) => process.disk.caughtUp(done),
      },
      // A node's deferred work goes on after what is due meanwhile (its slice takes CPU time).
      later: (run) => {
        const payload: WorkPayload = { incarnation, run };
        this.scheduler.schedule(this.nowUs + (this.options.deferredWorkUs ?? 1_000), EventKind.work, process.id, 0, payload);
      },
    };
  }

  private scheduleTick(process: SimProcess<M, Q, R, N>): void {
    this.scheduler.schedule(process.clock.nextTickRealUs(this.nowUs), EventKind.tick, process.id, 0, process.tickGeneration);
  }

  private onTick(process: SimProcess<M, Q, R, N>, generation: number): number {
    if (generation !== process.tickGeneration || process.state === 'down') return skipped;
    process.clock.tickFired(this.nowUs);
    this.scheduleTick(process);
    if (process.state === 'paused') {
      // A stalled process's ticker keeps running; one tick waits for it, the rest are lost.
      if (!process.tickQueued) {
        process.tickQueued = true;
        this.enqueue(process, EventKind.tick, 0, undefined);
      }
      return 1;
    }
    process.node!.tick();
    process.loop!.pump();
    return 0;
  }

  private onDeliver(process: SimProcess<M, Q, R, N>, from: NodeId, message: M): number {
    if (!this.network.arrive(from, process.id)) {
      this.snapshotFate(message, from, process.id, 'failed');
      return skipped;
    }
    if (process.state === 'down') {
      this.network.stats.droppedDown++;
      this.snapshotFate(message, from, process.id, 'failed');
      return skipped;
    }
    const digest = (from * 0x01000193) ^ this.digestMessage(message);
    for (let i = 0; i < this.deliverObservers.length; i++) this.deliverObservers[i]!.onDeliver!(from, process.id, message, this);
    if (process.state === 'paused') {
      if (!this.enqueue(process, EventKind.deliver, from, message)) this.snapshotFate(message, from, process.id, 'failed');
      return digest ^ 1;
    }
    if (this.refused(process, from)) {
      this.snapshotFate(message, from, process.id, 'failed');
      return digest ^ 2;
    }
    process.node!.receive(from, message);
    this.snapshotFate(message, from, process.id, 'finished');
    process.loop!.pump();
    return digest;
  }

  /**
   * A message's fate is known: if it is a snapshot not reported yet, its sender's transport reports
   * it (SimParts.snapshotReports), as the runtime's does — finished once handed to the receiving
   * node (its answer's way back is not modelled), failed when lost — at once, to the incarnation
   * that sent it.
   */
  private snapshotFate(message: M, from: NodeId, to: NodeId, status: SnapshotStatus): void {
    // Every delivered message passes here: most runs have no snapshot in flight most of the time.
    if (this.snapshotsInFlight.size === 0) return;
    const receivers = this.snapshotsInFlight.get(message);
    const incarnation = receivers?.get(to);
    if (incarnation === undefined) return;
    receivers!.delete(to);
    if (receivers!.size === 0) this.snapshotsInFlight.delete(message);
    this.scheduler.schedule(this.nowUs, EventKind.snapshotReport, from, to, { incarnation, status } satisfies SnapshotReport);
  }

  /**
   * Whether a process takes no message now, so that its peers' transports cannot hand one to
   * its connection: it is down (the connection is refused), or paused with its inbox full (its
   * socket's buffers are full, and the sender's queue overflows).
   */
  private takesNothing(process: SimProcess<M, Q, R, N>): boolean {
    return process.state === 'down' || (process.state === 'paused' && process.inbox.length >= this.options.inboxMax);
  }

  /** The sender's transport reports `to` unreachable to the incarnation that sent, once the sending event is done. */
  private reportUnreachable(from: NodeId, to: NodeId): void {
    this.scheduler.schedule(this.nowUs, EventKind.unreachableReport, from, to, this.process(from).incarnation);
  }

  /** An unreachable report reaches its sender's node (skipped when that incarnation crashed; waits while it is paused). */
  private onUnreachableReport(process: SimProcess<M, Q, R, N>, to: NodeId, incarnation: number): number {
    if (incarnation !== process.incarnation || process.state === 'down') return skipped;
    this.stats.unreachableReported++;
    const digest = (to * 0x01000193) ^ 0xae1;
    if (process.state === 'paused') {
      this.enqueue(process, EventKind.unreachableReport, to, incarnation);
      return digest ^ 1;
    }
    this.unreachableReports!.reportUnreachable(process.node!, to);
    process.loop!.pump();
    return digest;
  }

  /** A snapshot's fate reaches its sender's node (skipped when that incarnation crashed; waits while it is paused). */
  private onSnapshotReport(process: SimProcess<M, Q, R, N>, to: NodeId, report: SnapshotReport): number {
    if (report.incarnation !== process.incarnation || process.state === 'down') return skipped;
    const digest = (to * 0x01000193) ^ (report.status === 'finished' ? 0x5a9 : 0x5af);
    if (process.state === 'paused') {
      this.enqueue(process, EventKind.snapshotReport, to, report);
      return digest ^ 1;
    }
    this.reportSnapshot(process, to, report.status);
    process.loop!.pump();
    return digest;
  }

  /** As etcd's snapshotSender: a failed snapshot is reported unreachable, then failed. */
  private reportSnapshot(process: SimProcess<M, Q, R, N>, to: NodeId, status: SnapshotStatus): void {
    const node = process.node!;
    if (status === 'finished') this.stats.snapshotsReportedFinished++;
    else this.stats.snapshotsReportedFailed++;
    if (status === 'failed') this.snapshotReports!.reportUnreachable(node, to);
    this.snapshotReports!.reportSnapshot(node, to, status);
  }

  /**
   * The transport's check before a message reaches the node (etcd's EtcdServer.Process): a node
   * that refuses the sender (removed from the cluster) does not see the message, and the sender's
   * host hears so — etcd's rafthttp answers 403/410 on the same connection — over the network.
   */
  private refused(process: SimProcess<M, Q, R, N>, from: NodeId): boolean {
    if (process.node!.refuses?.(from) !== true) return false;
    this.route(process.id, from, EventKind.refusal, undefined);
    return true;
  }

  /** A peer refused this node's message because it was removed: the node is told (etcd: errMemberRemoved). */
  private onRefusal(process: SimProcess<M, Q, R, N>, by: NodeId): number {
    if (!this.network.arrive(by, process.id) || process.state === 'down') return skipped;
    const digest = (by * 0x01000193) ^ 0x7e5;
    if (process.state === 'paused') {
      this.enqueue(process, EventKind.refusal, by, undefined);
      return digest ^ 1;
    }
    process.node!.removedBy?.(by);
    process.loop!.pump();
    return digest;
  }

  private onRequest(process: SimProcess<M, Q, R, N>, client: ClientId, envelope: RequestEnvelope<Q> & StreamEnvelope<Q>): number {
    if (!this.network.arrive(client, process.id)) {
      if (envelope.stream !== undefined || this.streamClients.owns(client)) this.streamClients.lost(client, envelope.stream ?? envelope.id);
      return skipped;
    }
    if (envelope.close === true) return this.onStreamClose(process, client, envelope.stream!);
    if (process.state === 'down') {
      this.network.stats.droppedDown++;
      if (!this.clients.connections && !this.streamClients.owns(client)) return skipped;
      // The machine is up but no process listens: the connection is refused (a TCP reset).
      this.route(process.id, client, EventKind.reply, { id: envelope.id, reply: undefined as R, refused: true } satisfies ReplyEnvelope<R>);
      return (envelope.id * 0x01000193) ^ 6;
    }
    const digest = (envelope.id * 0x01000193) ^ this.parts.protocol.digestRequest(envelope.request);
    if (process.state === 'paused') {
      this.enqueue(process, EventKind.request, client, envelope);
      return digest ^ 1;
    }
    this.submit(process, client, envelope);
    process.loop!.pump();
    return digest;
  }

  /** The client left a stream: a running node forgets it (a down one has already). */
  private onStreamClose(process: SimProcess<M, Q, R, N>, client: ClientId, stream: number): number {
    if (process.state === 'down') return skipped;
    if (process.state === 'paused') {
      this.enqueue(process, EventKind.request, client, { id: stream, request: undefined as Q, stream, close: true } satisfies StreamEnvelope<Q>);
      return (stream * 0x01000193) ^ 11;
    }
    process.node!.closeStream?.(client, stream);
    process.loop!.pump();
    return (stream * 0x01000193) ^ 10;
  }

  /** Hands a client's request to a running node (observers see it first). */
  private submit(process: SimProcess<M, Q, R, N>, client: ClientId, envelope: RequestEnvelope<Q> & StreamEnvelope<Q>): void {
    if (envelope.close === true) {
      process.node!.closeStream?.(client, envelope.stream!);
      return;
    }
    const observers = this.requestObservers;
    for (let i = 0; i < observers.length; i++) observers[i]!.onRequest!(client, process.id, envelope.id, envelope.request, this);
    process.node!.submit(client, envelope.id, envelope.request, envelope.stream);
  }

  private onSync(process: SimProcess<M, Q, R, N>, sync: SyncPayload): number {
    if (sync.incarnation !== process.incarnation) return skipped;
    if (process.diskStalledUntilUs > this.nowUs) {
      // A stall that began while this sync was in flight holds it too (a hung fsync holds the call
      // already inside it): it completes when the stall ends, or later if a stall extends it.
      this.scheduler.schedule(process.diskStalledUntilUs, EventKind.sync, process.id, 0, sync);
      return syncHeld;
    }
    process.disk.completeSync(sync.mark);
    if (process.state === 'paused') {
      // The device finished; the process that waits for it is stalled.
      this.enqueue(process, EventKind.sync, 0, sync);
      return 1;
    }
    sync.done();
    return 0;
  }

  /** A disk's lag ends (a crash ended it already: its writes and waiters died with the process). */
  private onDiskLag(process: SimProcess<M, Q, R, N>, lag: DiskLagPayload): number {
    if (lag.incarnation !== process.incarnation) return skipped;
    const waiters = process.disk.endLag();
    if (waiters.length === 0) return 0;
    if (process.state === 'paused') {
      // The device finished; the process that waits for it is stalled.
      this.enqueue(process, EventKind.diskLag, 0, { incarnation: lag.incarnation, waiters } satisfies DiskLagPayload);
      return 1;
    }
    for (const done of waiters) done();
    return 2;
  }

  private onWork(process: SimProcess<M, Q, R, N>, work: WorkPayload): number {
    if (work.incarnation !== process.incarnation) return skipped;
    if (process.state === 'paused') {
      this.enqueue(process, EventKind.work, 0, work);
      return 1;
    }
    work.run();
    return 0;
  }

  /** Holds an input for a paused process; false when its full inbox dropped it. */
  private enqueue(process: SimProcess<M, Q, R, N>, kind: number, source: number, payload: unknown): boolean {
    if (kind === EventKind.deliver || kind === EventKind.request) {
      if (process.inbox.length >= this.options.inboxMax) {
        this.stats.inboxDropped++;
        if (kind === EventKind.request && this.streamClients.owns(source)) {
          const envelope = payload as StreamEnvelope<Q>;
          this.streamClients.lost(source, envelope.stream ?? envelope.id);
        }
        return false;
      }
    }
    process.inbox.push({ kind, source, payload });
    return true;
  }

  /** Hands a resumed process what arrived while it was paused, in arrival order. */
  private drainInbox(process: SimProcess<M, Q, R, N>): void {
    const inbox = process.inbox;
    process.inbox = [];
    process.tickQueued = false;
    for (const input of inbox) {
      if (process.state !== 'up') break;
      switch (input.kind) {
        case EventKind.tick:
          process.node!.tick();
          break;
        case EventKind.deliver:
          if (this.refused(process, input.source)) this.snapshotFate(input.payload as M, input.source, process.id, 'failed');
          else {
            process.node!.receive(input.source, input.payload as M);
            this.snapshotFate(input.payload as M, input.source, process.id, 'finished');
          }
          break;
        case EventKind.refusal:
          process.node!.removedBy?.(input.source);
          break;
        case EventKind.snapshotReport:
          this.reportSnapshot(process, input.source, (input.payload as SnapshotReport).status);
          break;
        case EventKind.unreachableReport:
          this.unreachableReports!.reportUnreachable(process.node!, input.source);
          break;
        case EventKind.request:
          this.submit(process, input.source, input.payload as RequestEnvelope<Q> & StreamEnvelope<Q>);
          break;
        case EventKind.sync:
          (input.payload as SyncPayload).done();
          break;
        case EventKind.work:
          (input.payload as WorkPayload).run();
          break;
        case EventKind.diskLag:
          for (const done of (input.payload as DiskLagPayload).waiters) done();
          break;
        default:
          throw new AssertionError(`unexpected queued input ${input.kind}`);
      }
      process.loop!.pump();
    }
  }

  private crash(process: SimProcess<M, Q, R, N>): void {
    if (process.state === 'down') return;
    process.state = 'down';
    process.incarnation++;
    process.tickGeneration++;
    process.node = null;
    process.loop = null;
    // What waited in its inbox is lost with it: a snapshot among it fails (its connection broke).
    for (const input of process.inbox) if (input.kind === EventKind.deliver) this.snapshotFate(input.payload as M, input.source, process.id, 'failed');
    process.inbox = [];
    process.tickQueued = false;
    process.disk.crash();
    this.stats.crashes++;
    this.streamClients.nodeCrashed(process.id);
    for (const observer of this.observers) observer.onCrash?.(process.id, this);
  }

  private restart(process: SimProcess<M, Q, R, N>): void {
    if (process.state !== 'down') return;
    process.clock.restartTicker(this.nowUs);
    this.stats.restarts++;
    this.boot(process);
    for (const observer of this.observers) observer.onRestart?.(process.id, this);
  }

  private process(id: NodeId): SimProcess<M, Q, R, N> {
    const process = this.processes[id - 1];
    if (process === undefined) throw new AssertionError(`no node ${id}`);
    return process;
  }

  // --- network -----------------------------------------------------------------------------

  private send(from: NodeId, to: NodeId, message: M): void {
    if (to === from) throw new AssertionError(`node ${from} sent a message to itself`);
    for (let i = 0; i < this.sendObservers.length; i++) this.sendObservers[i]!.onSend!(from, to, message, this);
    if (this.snapshotReports === null || !this.snapshotReports.carriesSnapshot(message)) {
      if (this.unreachableReports === null) {
        this.route(from, to, EventKind.deliver, message);
        return;
      }
      // Whether the sender's transport could hand it on is known now (UnreachableReports); the
      // message is routed as ever, so what it draws and where it goes stay the same.
      const refused = this.network.isCut(from, to) || this.takesNothing(this.process(to));
      const full = this.network.stats.droppedFull;
      this.route(from, to, EventKind.deliver, message);
      if (refused || this.network.stats.droppedFull !== full) this.reportUnreachable(from, to);
      return;
    }
    let receivers = this.snapshotsInFlight.get(message);
    if (receivers === undefined) this.snapshotsInFlight.set(message, (receivers = new Map()));
    assert(!receivers.has(to), `node ${from} sent node ${to} a snapshot message still in flight`);
    receivers.set(to, this.process(from).incarnation);
    if (!this.route(from, to, EventKind.deliver, message, this.snapshotReports.transferUs ?? 0)) this.snapshotFate(message, from, to, 'failed');
  }

  private sendReply(from: NodeId, client: ClientId, id: number, reply: R, stream: StreamFrame | undefined): void {
    const observers = this.replyObservers;
    for (let i = 0; i < observers.length; i++) observers[i]!.onReply!(from, client, id, reply, this);
    if (stream === undefined) {
      this.route(from, client, EventKind.reply, { id, reply } satisfies ReplyEnvelope<R>);
      return;
    }
    if (!this.route(from, client, EventKind.reply, { id, reply, stream } satisfies ReplyEnvelope<R>)) this.streamClients.lost(client, id);
  }

  /**
   * Sends over the network, `extraUs` on top of the link's delay (a snapshot's transfer); false when
   * the network dropped it. Stream traffic (clients' streams) keeps its order per link.
   */
  private route(from: number, to: number, kind: number, payload: unknown, extraUs = 0): boolean {
    const network = this.network;
    const isStream = kind !== EventKind.deliver && (this.streamClients.owns(from) || this.streamClients.owns(to));
    const onConnection = kind !== EventKind.deliver && (this.clientConnections || isStream);
    // Keyed draws: a node's message by what it is, other traffic by its kind and place on the link.
    const key = !network.wantsKeys ? 0 : kind === EventKind.deliver ? this.keyMessage(payload as M) : kind;
    let arrival = onConnection ? network.routeOnConnection(from, to, this.nowUs, key) : network.route(from, to, this.nowUs, key);
    if (arrival < 0) return false;
    arrival += extraUs;
    if (isStream) {
      const link = from * 65_536 + to;
      arrival = Math.max(arrival, this.streamArrivals.get(link) ?? 0);
      this.streamArrivals.set(link, arrival);
    }
    const duplicateAt = network.duplicateAtUs < 0 ? -1 : network.duplicateAtUs + extraUs;
    this.scheduler.schedule(arrival, kind, to, from, payload);
    if (duplicateAt >= 0) this.scheduler.schedule(duplicateAt, kind, to, from, payload);
    return true;
  }

  private onReply(client: ClientId, node: NodeId, envelope: ReplyEnvelope<R>): number {
    if (!this.network.arrive(node, client)) {
      if (envelope.stream !== undefined) this.streamClients.lost(client, envelope.id);
      return skipped;
    }
    if (this.streamClients.owns(client)) return this.streamClients.reply(client, node, envelope);
    return this.clients.reply(client, node, envelope);
  }

  // --- faults ------------------------------------------------------------------------------

  private onFault(action: FaultAction): number {
    this.stats.faults++;
    this.applyFault(action);
    for (const observer of this.observers) observer.onFault?.(action, this);
    return hashString32(describeFault(action));
  }

  private applyFault(action: FaultAction): void {
    switch (action.kind) {
      case 'crash':
        this.crash(this.process(action.node));
        return;
      case 'restart':
        this.restart(this.process(action.node));
        return;
      case 'crash-leader': {
        const leader = this.parts.leader?.(this) ?? null;
        if (leader === null) return;
        this.crash(this.process(leader));
        this.scheduler.schedule(this.nowUs + action.restartAfterUs, EventKind.fault, 0, 0, { kind: 'restart', node: leader } satisfies FaultAction);
        return;
      }
      case 'pause-leader': {
        const leader = this.parts.leader?.(this) ?? null;
        if (leader === null || this.process(leader).state !== 'up') return;
        this.applyFault({ kind: 'pause', node: leader });
        this.scheduler.schedule(this.nowUs + action.resumeAfterUs, EventKind.fault, 0, 0, { kind: 'resume', node: leader } satisfies FaultAction);
        return;
      }
      case 'pause': {
        const process = this.process(action.node);
        if (process.state !== 'up') return;
        process.state = 'paused';
        this.stats.pauses++;
        for (const observer of this.observers) observer.onPause?.(process.id, this);
        return;
      }
      case 'resume': {
        const process = this.process(action.node);
        if (process.state !== 'paused') return;
        process.state = 'up';
        this.stats.resumes++;
        for (const observer of this.observers) observer.onResume?.(process.id, this);
        this.drainInbox(process);
        return;
      }
      case 'partition':
        this.partition(action.shape);
        return;
      case 'heal':
        this.heal();
        return;
      case 'clock-jump': {
        const process = this.process(action.node);
        process.clock.jump(this.nowUs, action.deltaUs);
        this.rescheduleTick(process);
        this.stats.clockJumps++;
        for (const observer of this.observers) observer.onClockJump?.(process.id, action.deltaUs, this);
        return;
      }
      case 'clock-jump-leader': {
        const leader = this.parts.leader?.(this) ?? null;
        if (leader !== null) this.applyFault({ kind: 'clock-jump', node: leader, deltaUs: action.deltaUs });
        return;
      }
      case 'clock-drift': {
        const process = this.process(action.node);
        process.clock.setDrift(this.nowUs, action.driftPpm);
        this.rescheduleTick(process);
        return;
      }
      case 'network': {
        const tail = action.tail === undefined ? {} : { tail: action.tail, tailUsMax: action.tailUsMax ?? 0 };
        this.network.setOptions({ ...this.network.currentOptions, loss: action.loss, duplicate: action.duplicate, ...tail });
        return;
      }
      case 'stall':
        for (const other of this.members) {
          if (other === action.node) continue;
          this.network.stall(action.node, other, this.nowUs + action.durationUs);
          this.network.stall(other, action.node, this.nowUs + action.durationUs);
        }
        return;
      case 'disk-stall-leader': {
        // The stall itself is a fault event of its own, naming the node (observers see a 'disk-stall').
        const leader = this.parts.leader?.(this) ?? null;
        if (leader !== null) this.scheduler.schedule(this.nowUs, EventKind.fault, 0, 0, { kind: 'disk-stall', node: leader, durationUs: action.durationUs } satisfies FaultAction);
        return;
      }
      case 'disk-stall': {
        const process = this.process(action.node);
        process.diskStalledUntilUs = Math.max(process.diskStalledUntilUs, this.nowUs + action.durationUs);
        this.stats.diskStalls++;
        return;
      }
      case 'quiet':
        this.goQuiet();
        return;
      default:
        assertNever(action, 'fault');
    }
  }

  private rescheduleTick(process: SimProcess<M, Q, R, N>): void {
    if (process.state === 'down') return;
    process.tickGeneration++;
    this.scheduleTick(process);
  }

  private partition(shape: PartitionShape): void {
    this.stats.partitions++;
    this.partitioned = true;
    if (shape.kind === 'one-way') {
      this.network.setCut(shape.from, shape.to, true);
      return;
    }
    const leader = shape.kind === 'isolate-leader' ? (this.parts.leader?.(this) ?? null) : null;
    for (const a of this.members) {
      for (const b of this.members) if (a !== b) this.network.setCut(a, b, !connected(shape, a, b, this.members, leader));
    }
  }

  private heal(): void {
    if (this.partitioned) this.stats.partitionsHealed++;
    this.partitioned = false;
    this.network.healAll();
  }

  private goQuiet(): void {
    this.heal();
    this.network.setOptions({ ...this.network.currentOptions, loss: never, duplicate: never });
    for (const process of this.processes) {
      // A sync already held by a disk stall completes when the stall ends; any other, in flight or later, does not wait.
      process.diskStalledUntilUs = 0;
      if (process.state === 'paused') this.applyFault({ kind: 'resume', node: process.id });
      if (process.state === 'down') this.restart(process);
    }
    if (this.quietAtUs !== null) return;
    this.quietAtUs = this.nowUs;
    if (this.parts.liveness !== undefined) this.scheduler.schedule(this.nowUs, EventKind.probe, 0, 0, undefined);
  }

  private onProbe(): number {
    const liveness = this.parts.liveness!;
    if (liveness.holds(this)) {
      this.convergedAtUs = this.nowUs;
      return 1;
    }
    const boundAtUs = this.quietAtUs! + liveness.boundUs;
    const own = liveness.deadline?.(this);
    if (own === undefined ? this.nowUs >= boundAtUs : this.nowUs >= own.atUs) {
      this.fail(`liveness: "${liveness.description}" did not hold ${own === undefined ? `within ${liveness.boundUs}us after the faults stopped` : `by ${own.atUs}us: ${own.why}`}`);
    }
    // Probed as with the fixed bound until it passes (the same probe events), then every probe interval.
    const nextUs = this.nowUs + this.options.livenessProbeUs;
    this.scheduler.schedule(this.nowUs < boundAtUs ? Math.min(boundAtUs, nextUs) : nextUs, EventKind.probe, 0, 0, undefined);
    return 0;
  }
}


/** A snapshot's fate, for the incarnation of its sender that sent it (SimParts.snapshotReports). */
export interface SnapshotReport {
  readonly incarnation: number;
  readonly status: SnapshotStatus;
}

/** One delivered event, as `Simulation.lastEvent` shows it. */
export interface DeliveredEvent {
  readonly index: number;
  readonly timeUs: number;
  readonly kind: number;
  readonly target: number;
  readonly source: number;
  readonly payload: unknown;
}

/** Whether a disk holds a torn record: the process crashed in the middle of a write. */
function hasTornRecord(durable: DurableState): boolean {
  for (const records of durable.files.values()) if (records.includes(tornRecord)) return true;
  return false;
}
