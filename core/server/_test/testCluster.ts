import { assert } from '../../base/assert.ts';
import { never, type Ratio } from '../../base/ratio.ts';
import { HostLoop } from '../../host/hostLoop.ts';
import type { ClientId, NodeId, StreamFrame } from '../../host/node.ts';
import type { HostPorts } from '../../host/ports.ts';
import { TestRandom } from '../../raft/_test/testRandom.ts';
import { SimDisk } from '../../../sim/disk.ts';
import type { EtcdServerConfig } from '../config.ts';
import { EtcdServer } from '../etcdServer.ts';
import type { PeerMessage } from '../peerMessage.ts';
import { etcdServerConfig } from '../protocol.ts';
import { call, isErrorReply, type ResponseOf, type ServerMethod, type RequestOf, type ServerReply, type ServerRequest } from '../serverRequest.ts';

/**
 * An untimed cluster of EtcdServers for specification tests: every member driven through the real
 * HostLoop, with in-memory ports — a message queue for the network, the simulator's disk model for
 * storage (writes lost on a crash unless synced, optionally a torn first unsynced append). No
 * clock: tests tick members, deliver messages and complete syncs explicitly, or let `settle` do
 * it until nothing is left to do.
 */
export interface TestClusterOptions {
  /** Machines 1..machines; the first `initial` are the initial members (default: all). */
  readonly machines: number;
  readonly initial?: number;
  readonly config?: Partial<EtcdServerConfig>;
  /** Syncs complete at once (default), or wait for `completeSyncs` (to crash between a write and its sync). */
  readonly syncs?: 'immediate' | 'manual';
  readonly tornWrite?: Ratio;
  readonly seed?: number;
  /**
   * A member's deferred work (a range delete applied in slices) goes on only when `runLater` says
   * (the host port `later`); absent, the host loop does it at once.
   */
  readonly laterTurns?: 'manual';
}

interface Machine {
  readonly id: NodeId;
  readonly disk: SimDisk;
  server: EtcdServer | null;
  loop: HostLoop<PeerMessage, ServerRequest, ServerReply> | null;
  incarnation: number;
  pendingSyncs: (() => void)[];
  /** Later turns asked for (laterTurns: 'manual'). */
  laterTurns: (() => void)[];
}

export interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: PeerMessage;
}

export class TestCluster {
  readonly config: EtcdServerConfig;
  readonly machines: Machine[] = [];
  network: InFlight[] = [];
  /** Replies by client and request id. */
  readonly replies = new Map<string, ServerReply>();
  /** Replies on streams, by client and stream id, in the order they left. */
  readonly streams = new Map<string, { readonly reply: ServerReply; readonly frame: StreamFrame }[]>();
  /** Links cut: `from->to`; what is sent over them is lost. */
  readonly cut = new Set<string>();
  /** Links held: `from->to`; what is sent over them waits until the link is released (a slow link, a paused receiver). */
  readonly held = new Set<string>();
  private readonly syncs: 'immediate' | 'manual';
  private nextRequestId = 1;
  /** While driving a request to its reply, manual syncs complete whenever the network is empty. */
  private autoSync = false;
  private readonly seed: number;
  private readonly laterTurns: 'manual' | undefined;

  constructor(options: TestClusterOptions) {
    const initial = Array.from({ length: options.initial ?? options.machines }, (_, i) => i + 1);
    this.config = etcdServerConfig(initial, { ...options.config });
    this.syncs = options.syncs ?? 'immediate';
    this.seed = options.seed ?? 1;
    this.laterTurns = options.laterTurns;
    for (let id = 1; id <= options.machines; id++) {
      const disk = new SimDisk({ syncLatencyUsMin: 0, syncLatencyUsMax: 0, tornWrite: options.tornWrite ?? never, recordsPerFileMax: 100_000 }, new TestRandom(this.seed * 977 + id));
      const machine: Machine = { id, disk, server: null, loop: null, incarnation: 0, pendingSyncs: [], laterTurns: [] };
      this.machines.push(machine);
      this.boot(machine);
    }
  }

  server(id: NodeId): EtcdServer {
    const server = this.machine(id).server;
    assert(server !== null, `machine ${id} is down`);
    return server;
  }

  isUp(id: NodeId): boolean {
    return this.machine(id).server !== null;
  }

  machine(id: NodeId): Machine {
    const machine = this.machines[id - 1];
    assert(machine !== undefined, `no machine ${id}`);
    return machine;
  }

  // --- faults --------------------------------------------------------------------------------

  crash(id: NodeId): void {
    const machine = this.machine(id);
    machine.server = null;
    machine.loop = null;
    machine.pendingSyncs = [];
    machine.laterTurns = [];
    machine.incarnation++;
    machine.disk.crash();
    this.network = this.network.filter((inFlight) => inFlight.to !== id);
  }

  restart(id: NodeId): EtcdServer {
    const machine = this.machine(id);
    assert(machine.server === null, `machine ${id} is up`);
    this.boot(machine);
    return machine.server!;
  }

  isolate(id: NodeId): void {
    for (const other of this.machines) if (other.id !== id) this.cut.add(`${id}->${other.id}`).add(`${other.id}->${id}`);
  }

  heal(): void {
    this.cut.clear();
    this.held.clear();
  }

  /** Gives each member (or `id`) the later turn it asked for, if any (laterTurns: 'manual'); returns how many ran. */
  runLater(id?: NodeId): number {
    let ran = 0;
    for (const machine of this.machines) {
      if (id !== undefined && machine.id !== id) continue;
      const turns = machine.laterTurns;
      machine.laterTurns = [];
      for (const turn of turns) {
        turn();
        ran++;
      }
    }
    return ran;
  }

  /** Completes every sync in flight (manual syncs). */
  completeSyncs(id?: NodeId): void {
    for (const machine of this.machines) {
      if (id !== undefined && machine.id !== id) continue;
      while (machine.pendingSyncs.length > 0) machine.pendingSyncs.shift()!();
    }
  }

  // --- driving -------------------------------------------------------------------------------

  tick(id?: NodeId): void {
    for (const machine of this.machines) {
      if (machine.server === null || (id !== undefined && machine.id !== id)) continue;
      machine.server.tick();
      machine.loop!.pump();
    }
  }

  /** Delivers the messages in flight (and those they cause) until none are left or `max` were delivered. */
  deliver(max = 100_000): number {
    let delivered = 0;
    const waiting: InFlight[] = [];
    for (;;) {
      if (this.network.length === 0 && this.syncs === 'manual' && this.autoSync) this.completeSyncs();
      if (this.network.length === 0 || delivered >= max) break;
      const inFlight = this.network.shift()!;
      const { from, to, message } = inFlight;
      const machine = this.machine(to);
      if (this.held.has(`${from}->${to}`)) {
        waiting.push(inFlight);
        continue;
      }
      if (machine.server === null || this.cut.has(`${from}->${to}`)) continue;
      machine.server.receive(from, message);
      machine.loop!.pump();
      delivered++;
    }
    this.network = [...waiting, ...this.network];
    return delivered;
  }

  /** Ticks everyone and delivers (and completes syncs), `rounds` times. */
  settle(rounds = 30): void {
    for (let i = 0; i < rounds; i++) this.round();
  }

  /** One round: complete the syncs in flight, tick everyone, deliver everything. */
  private round(): void {
    this.completeSyncs();
    this.tick();
    this.completeSyncs();
    this.deliver();
  }

  /** Runs until some member leads (and everyone up knows it), within `rounds` rounds. */
  electLeader(rounds = 100): NodeId {
    for (let i = 0; i < rounds; i++) {
      const leader = this.leader();
      if (leader !== null && this.machines.every((m) => m.server === null || m.server.stopped || !m.server.confState.voters.includes(m.id) || m.server.softState.lead === leader)) return leader;
      this.round();
    }
    throw new Error('no leader elected');
  }

  leader(): NodeId | null {
    let best: { id: NodeId; term: number } | null = null;
    for (const machine of this.machines) {
      const server = machine.server;
      if (server === null || server.stopped || server.softState.role !== 'leader') continue;
      if (best === null || server.hardState.term > best.term) best = { id: machine.id, term: server.hardState.term };
    }
    return best?.id ?? null;
  }

  /** Submits a call to member `to` (from client `client`); returns its request id. */
  submit(to: NodeId, request: ServerRequest, client: ClientId = 1000): number {
    const id = this.nextRequestId++;
    const machine = this.machine(to);
    assert(machine.server !== null, `machine ${to} is down`);
    machine.server.submit(client, id, request);
    machine.loop!.pump();
    return id;
  }

  /** Sends a message on the open stream `stream` of member `to` (a stream is opened by `submit`). */
  sendOnStream(to: NodeId, stream: number, request: ServerRequest, client: ClientId = 1000): void {
    const machine = this.machine(to);
    assert(machine.server !== null, `machine ${to} is down`);
    machine.server.submit(client, this.nextRequestId++, request, stream);
    machine.loop!.pump();
  }

  /** The replies sent so far on stream `stream`. */
  framesOf(stream: number, client: ClientId = 1000): readonly { readonly reply: ServerReply; readonly frame: StreamFrame }[] {
    return this.streams.get(`${client}/${stream}`) ?? [];
  }

  replyTo(id: number, client: ClientId = 1000): ServerReply | undefined {
    return this.replies.get(`${client}/${id}`);
  }

  /** Submits and drives the cluster until the reply arrives (at most `rounds` rounds). */
  request<M extends ServerMethod>(to: NodeId, method: M, request: RequestOf<M>, rounds = 200): ServerReply {
    const id = this.submit(to, call(method, request));
    this.autoSync = true;
    try {
      for (let i = 0; i < rounds; i++) {
        this.deliver();
        const reply = this.replyTo(id);
        if (reply !== undefined) return reply;
        this.round();
      }
    } finally {
      this.autoSync = false;
    }
    throw new Error(`no reply to ${method} on ${to} within ${rounds} rounds`);
  }

  /** Like `request`, but the reply must be a response (not an error). */
  ok<M extends ServerMethod>(to: NodeId, method: M, request: RequestOf<M>, rounds = 200): ResponseOf<M> {
    const reply = this.request(to, method, request, rounds);
    if (isErrorReply(reply)) throw new Error(`${method} on ${to} failed: ${reply.error.message}`);
    return reply.response as ResponseOf<M>;
  }

  private boot(machine: Machine): void {
    const server = new EtcdServer({ id: machine.id, members: this.machines.map((m) => m.id), random: new TestRandom(this.seed * 131 + machine.id * 7 + machine.incarnation), durable: machine.disk.read() }, this.config);
    machine.server = server;
    machine.loop = new HostLoop(server, this.portsFor(machine));
    machine.loop.pump();
  }

  private portsFor(machine: Machine): HostPorts<PeerMessage, ServerReply> {
    const incarnation = machine.incarnation;
    const later = (run: () => void): void => {
      machine.laterTurns.push(() => {
        if (machine.incarnation === incarnation) run();
      });
    };
    return {
      ...(this.laterTurns === 'manual' ? { later } : {}),
      transport: { send: (to, message) => void this.network.push({ from: machine.id, to, message }) },
      replies: {
        reply: (client, id, reply, frame) => {
          if (frame === undefined) return void this.replies.set(`${client}/${id}`, reply);
          const key = `${client}/${id}`;
          const frames = this.streams.get(key) ?? [];
          frames.push({ reply, frame });
          this.streams.set(key, frames);
        },
      },
      store: {
        write: (writes) => machine.disk.write(writes),
        sync: (done) => {
          const { mark } = machine.disk.beginSync();
          const complete = (): void => {
            if (machine.incarnation !== incarnation) return;
            machine.disk.completeSync(mark);
            done();
          };
          if (this.syncs === 'immediate') complete();
          else machine.pendingSyncs.push(complete);
        },
        read: () => machine.disk.read(),
      },
    };
  }
}
