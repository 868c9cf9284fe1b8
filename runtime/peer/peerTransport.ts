import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type ConnectionOptions, type TlsOptions } from 'node:tls';
import type { Codec, SlicedMessage } from '../../core/host/codec.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { Transport } from '../../core/host/ports.ts';
import { listenOn } from '../listen.ts';
import { FrameReader, frameHeaderBytes, framePartBytes, PartedRecord } from '../storage/frame.ts';
import { PeerSender } from './peerSender.ts';
import { frameInTurns } from './slicedFrames.ts';
import { runInTurns, type RunInTurns } from './stepsInTurns.ts';
import type { Steps } from '../../core/base/steps.ts';
import { trace } from '../latencyTrace.ts';

export interface PeerTransportOptions<Message> {
  readonly self: NodeId;
  /**
   * The cluster id (hex). Connections from another cluster are refused (etcd: "request cluster ID
   * mismatch"). Null while joining an existing cluster: the first peer's id is adopted.
   */
  readonly clusterId: () => string | null;
  readonly adoptClusterId?: (id: string) => void;
  /** Sent in the hello, so that members learn the URLs of a member added after they started. */
  readonly advertisedPeerUrls: readonly string[];
  readonly listenUrls: readonly URL[];
  readonly peers: ReadonlyMap<NodeId, readonly URL[]>;
  readonly codec: Codec<Message>;
  readonly carriesSnapshot: (message: Message) => boolean;
  /**
   * A message too large to encode in one go (a snapshot: core's NodeCodec.encodeMessageInSlices),
   * or null: such a message is encoded a turn of the event loop at a time and sent once framed.
   */
  readonly encodeInSlices?: (message: Message) => SlicedMessage | null;
  /**
   * Bytes too large to decode in one go (a snapshot: core's NodeCodec.decodeMessageInSteps), as
   * steps, or null: such a message is decoded a turn of the event loop at a time before it is
   * handed on; its connection's later messages wait for it.
   */
  readonly decodeInSteps?: (bytes: Uint8Array) => Steps<Message> | null;
  /**
   * What a message decoded in steps needs before it is handed on, as steps (a snapshot's key
   * index: core's NodeCodec.prepareMessageInSteps), or null: run in turns after the decode, the
   * connection still paused.
   */
  readonly prepareInSteps?: (message: Message) => Steps<Message> | null;
  /** Whether a message may wait while writes are held back (`afterClientWrites`): it carries nothing a peer waits on (a commit index alone). Default: none. */
  readonly mayWait?: (message: Message) => boolean;
  readonly onMessage: (from: NodeId, message: Message) => void;
  readonly onUnreachable: (to: NodeId) => void;
  readonly onSnapshotStatus: (to: NodeId, status: 'finished' | 'failed') => void;
  readonly log: (line: string) => void;
  readonly onSent?: (to: NodeId, bytes: number) => void;
  readonly onReceived?: (from: NodeId, bytes: number) => void;
  /** TLS for https peer URLs: the server side (certificate, and client certificates when required) and the dialling side. */
  readonly tls?: { readonly server: TlsOptions; readonly client: ConnectionOptions };
  readonly queueMessagesMax?: number;
  /**
   * How messages are framed (default frame.ts's): a message over `partBytes` (a snapshot) is sent
   * as parts of at most that size; a frame received over `frameBytesMax`, or a message over
   * `recordBytesMax` once its parts are joined, closes the connection. Tests make them small.
   */
  readonly frameLimits?: { readonly partBytes: number; readonly frameBytesMax: number; readonly recordBytesMax: number };
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
}

/**
 * The peer protocol's version, in every hello. 2: entries are binary (core/server/internalRequest's
 * format 2), which a member of version 1 cannot read. 3: a message over 16 MiB (a snapshot) comes
 * as parts (frame.ts), which a member of version 2 takes for a frame over its limit. 4: a
 * snapshot's backend image writes a tombstone as its key and revision (change kind 2,
 * core/mvcc/backendCodec.ts), which a member of version 3 cannot decode; and a large snapshot
 * comes on a connection of its own (its hello says `snapshots`), whose every message the receiver
 * answers with a byte once handed on: a member of version 3 would never answer, and its peer would
 * wait for good. Members of different versions refuse each other with one line rather than fail on
 * a message (upgrade every member together).
 */
const peerProtocolVersion = 4;

/** A receiver's answer, on a connection of snapshots, to each message it handed on. */
const handedOn = Buffer.from([0x06]);

/** Messages encoded in turns (snapshots) waiting or under way at once; one more is dropped (reported unreachable and failed). */
const encodingsMax = 8;

interface Hello {
  readonly detcd: number;
  readonly from: string;
  readonly to: string;
  readonly clusterId: string;
  readonly peerUrls: readonly string[];
  /** A connection of snapshots: answer each message once handed on (`handedOn`). */
  readonly snapshots?: boolean;
}

/**
 * Peer messages over TCP between members: the runtime's counterpart of the simulated network.
 * One connection per peer and direction: each member dials every peer for what it sends and
 * reads what others dialled it with; plus, once a large snapshot goes to a peer, a second one for
 * those (`encodeInTurns`), whose receiver answers each message. A connection starts with a hello
 * frame (sender, receiver, cluster id, the sender's peer URLs), then carries one framed message
 * per frame. Nothing is retried at this level: Raft retries (a dropped message is reported
 * unreachable).
 */
export class PeerTransport<Message> implements Transport<Message> {
  private readonly options: PeerTransportOptions<Message>;
  private readonly senders = new Map<NodeId, PeerSender>();
  /** Per peer, the connection of large snapshots (`encodeInTurns`), dialled when the first is sent. */
  private readonly snapshotSenders = new Map<NodeId, PeerSender>();
  /** Inbound connections of snapshots: each message handed on is answered. */
  private readonly answering = new WeakSet<Socket>();
  private readonly peerUrls = new Map<NodeId, readonly URL[]>();
  private readonly servers: Server[] = [];
  private readonly inbound = new Set<Socket>();
  private stopped = false;
  private holding = false;
  /** The messages being encoded in turns, one after another in the order sent (see `encodeInTurns`). */
  private encoding: Promise<void> = Promise.resolve();
  private encodings = 0;

  constructor(options: PeerTransportOptions<Message>) {
    this.options = options;
    for (const [id, urls] of options.peers) if (id !== options.self) this.peerUrls.set(id, urls);
  }

  /** Whether messages sent this turn still wait for their flush (a microtask; the leader's MsgApps, sent before its sync). */
  get flushPending(): boolean {
    for (const sender of this.senders.values()) if (sender.flushPending) return true;
    return false;
  }

  /** Listens on every listen URL; resolves when all are bound (or rejects with the first error). */
  async start(): Promise<void> {
    for (const url of this.options.listenUrls) {
      const onConnection = (socket: Socket): void => this.accept(socket);
      const server =
        url.protocol === 'https:'
          ? createTlsServer({ ...(this.options.tls?.server ?? {}) }, onConnection)
          : createNetServer(onConnection);
      server.on('tlsClientError', (error: Error) => this.options.log(`peer TLS handshake refused: ${error.message}`));
      await listenOn(server, url);
      this.servers.push(server);
    }
    // Dial every known peer at once, as etcd opens its streams at start: the hello tells the
    // others this member's URLs, which a member joining an existing cluster needs before anyone
    // has a message for it.
    for (const id of this.peerUrls.keys()) this.sender(id).connect();
  }

  send(to: NodeId, message: Message): void {
    if (this.stopped) return;
    const sliced = this.options.encodeInSlices?.(message) ?? null;
    if (sliced !== null) {
      this.encodeInTurns(to, sliced, this.options.carriesSnapshot(message));
      return;
    }
    this.sender(to).send(this.options.codec.encode(message), this.options.carriesSnapshot(message), this.options.mayWait?.(message) ?? false);
  }

  /**
   * Holds back this turn's peer writes that may wait (`mayWait`: a commit index alone) until the
   * client connections have written theirs. Called when a Ready answers a client. Node's HTTP/2
   * session writes a stream's frames from a native immediate: a unary answer's HEADERS and DATA in
   * the next check phase, its trailers (the gRPC status, which ends the call) one loop iteration
   * later, in a write of their own (strace of a bare node:http2 server). Peer writes went out in a
   * microtask, before both — and on a busy 2-core machine each woke a follower that took the
   * leader's core before the answer was written (0.7-1.1 ms of a sequential put at load 9-22). What
   * may wait now leaves from an immediate two check phases on, right after the trailers; a
   * message that may not (an append with entries, an acknowledgement, a vote) takes everything
   * queued for its peer with it at once, as before.
   */
  afterClientWrites(): void {
    if (this.holding || this.stopped) return;
    this.holding = true;
    setImmediate(() =>
      setImmediate(() => {
        this.holding = false;
        for (const sender of this.senders.values()) sender.release();
      }),
    );
  }

  /**
   * Encodes a large message (a snapshot carrying the whole backend) a turn of the event loop at a
   * time (slicedFrames.ts), then hands its frames to the peer's connection of snapshots; the loop
   * serves heartbeats, appends and clients meanwhile. Encoded whole at send, a 400 MiB snapshot
   * held the leader's loop 3.6-5.1 s and cost the cluster three elections. One at a time, in
   * order: two images encoded side by side would only hold twice the bytes for longer.
   * On a connection of its own (as etcd's rafthttp POSTs a snapshot), so the heartbeats and
   * appends sent after it do not wait behind its 200 MiB (the follower lost its leader meanwhile)
   * nor behind its decoding; the peer answers once it handed the snapshot to its node, and only
   * then is it reported finished (failed if dropped or its connection fails first), as etcd's
   * snapshotSender reports when its POST is answered: Raft's next probe, on the other connection,
   * must find the snapshot there, or it is refused and a new snapshot sent.
   */
  private encodeInTurns(to: NodeId, sliced: SlicedMessage, snapshot: boolean): void {
    if (this.encodings >= encodingsMax) {
      this.options.log(`peer ${to.toString(16)}: dropped a snapshot message: ${encodingsMax} are being encoded already`);
      this.options.onUnreachable(to);
      if (snapshot) this.options.onSnapshotStatus(to, 'failed');
      return;
    }
    this.encodings++;
    const queuedMs = performance.now();
    const partBytes = this.options.frameLimits?.partBytes;
    // An exception (an assertion) rejects the chain unhandled: the member stops, as it did when it came out of `send`.
    this.encoding = this.encoding.then(async () => {
      try {
        if (this.stopped) return;
        const startedMs = performance.now();
        const framed = await frameInTurns(sliced, { ...(partBytes === undefined ? {} : { partBytes }), abandoned: () => this.stopped });
        if (framed === null || this.stopped) return;
        const doneMs = performance.now();
        this.options.log(
          `peer ${to.toString(16)}: encoded a ${(framed.bytes / 2 ** 20).toFixed(1)} MiB snapshot message over ${framed.turns} turns (the longest ${framed.longestTurnMs.toFixed(1)} ms) in ${Math.round(doneMs - startedMs)} ms` +
            `${startedMs - queuedMs >= 1 ? ` (after ${Math.round(startedMs - queuedMs)} ms waiting for another)` : ''}; sending it`,
        );
        this.sender(to, true).sendFrames(framed.frames, snapshot);
      } finally {
        this.encodings--;
      }
    });
  }

  /** A member's peer URLs (learned from its hello or from a membership change). */
  setPeerUrls(id: NodeId, urls: readonly URL[]): void {
    if (id === this.options.self || urls.length === 0) return;
    this.peerUrls.set(id, urls);
    this.senders.get(id)?.setUrls(urls);
    this.snapshotSenders.get(id)?.setUrls(urls);
  }

  knownPeers(): ReadonlyMap<NodeId, readonly URL[]> {
    return this.peerUrls;
  }

  /** Closes listeners and every connection; messages still queued are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const sender of this.senders.values()) sender.stop();
    for (const sender of this.snapshotSenders.values()) sender.stop();
    for (const socket of this.inbound) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }

  /** The peer's connection: of ordinary messages, or (`snapshots`) of large snapshots, answered. */
  private sender(to: NodeId, snapshots = false): PeerSender {
    const senders = snapshots ? this.snapshotSenders : this.senders;
    let sender = senders.get(to);
    if (sender === undefined) {
      sender = new PeerSender(
        {
          self: this.options.self,
          to,
          hello: () => Buffer.from(JSON.stringify({ detcd: peerProtocolVersion, from: this.options.self.toString(16), to: to.toString(16), clusterId: this.options.clusterId() ?? '', peerUrls: this.options.advertisedPeerUrls, ...(snapshots ? { snapshots } : {}) } satisfies Hello)),
          queueMessagesMax: snapshots ? encodingsMax : (this.options.queueMessagesMax ?? 4096),
          backoffMsMin: this.options.backoffMsMin ?? 50,
          backoffMsMax: this.options.backoffMsMax ?? 2_000,
          tls: this.options.tls?.client ?? null,
          ...(snapshots ? { acknowledged: true } : { held: () => this.holding }),
          ...(this.options.frameLimits === undefined ? {} : { framePartBytes: this.options.frameLimits.partBytes }),
        },
        this.peerUrls.get(to) ?? [],
        {
          unreachable: (id) => this.options.onUnreachable(id),
          snapshotStatus: (id, status) => this.options.onSnapshotStatus(id, status),
          sent: (id, bytes) => this.options.onSent?.(id, bytes),
          log: this.options.log,
        },
      );
      senders.set(to, sender);
    }
    return sender;
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.on('close', () => this.inbound.delete(socket));
    socket.on('error', () => socket.destroy());
    const reader = new FrameReader(this.options.frameLimits?.frameBytesMax, this.options.frameLimits?.recordBytesMax);
    const partBytes = this.options.frameLimits?.partBytes ?? framePartBytes;
    let from: NodeId | null = null;
    // Records read but not handed on yet: they wait while a large one is joined and decoded in turns.
    const inbox: (Uint8Array | PartedRecord)[] = [];
    let decoding = false;
    const refuseUndecodable = (peer: NodeId, error: unknown) =>
      this.refuse(socket, `peer ${peer.toString(16)} sent a message that does not decode: ${error instanceof Error ? error.message : String(error)}`);
    const deliver = (peer: NodeId, bytes: number, message: Message) => {
      // A header per part (a message over a part came as several frames).
      this.options.onReceived?.(peer, bytes + frameHeaderBytes * Math.max(1, Math.ceil(bytes / partBytes)));
      this.options.onMessage(peer, message);
      if (this.answering.has(socket) && !socket.destroyed) socket.write(handedOn);
    };
    const drain = (): void => {
      while (inbox.length > 0 && !this.stopped && !socket.destroyed) {
        const record = inbox.shift()!;
        if (from === null) {
          from = this.greet(socket, record instanceof PartedRecord ? record.join() : record);
          if (from === null) return;
          continue;
        }
        const peer = from;
        let steps: Steps<Message> | null;
        if (record instanceof PartedRecord) steps = this.joinedAndDecoded(record);
        else {
          let message: Message | null = null;
          try {
            steps = this.options.decodeInSteps?.(record) ?? null;
            if (steps === null) message = this.options.codec.decode(record);
          } catch (error) {
            refuseUndecodable(peer, error);
            return;
          }
          if (message !== null) {
            deliver(peer, record.byteLength, message);
            continue;
          }
        }
        // A failure to decode refuses the connection (inside); anything else thrown (the node's
        // assertion, in `onMessage`) rejects unhandled and stops the member, as it would have in
        // the 'data' handler.
        void this.decodeInTurns(socket, peer, record, steps!, deliver, refuseUndecodable).then(() => {
          decoding = false;
          if (!socket.destroyed) socket.resume();
          drain();
        });
        decoding = true;
        socket.pause();
        return;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (trace.enabled) trace.mark('peer.data');
      const records = reader.pushRecords(chunk);
      if (typeof records === 'string') {
        this.refuse(socket, `peer connection from ${socket.remoteAddress}: ${records}`);
        return;
      }
      for (const record of records) inbox.push(record);
      if (!decoding) drain();
    });
  }

  /**
   * Decodes a large message (a snapshot carrying the whole backend) a turn of the event loop at a
   * time (`runInTurns`), then hands it on: decoded in one go, a 200 MiB snapshot held the
   * follower's loop about half a second (1 GiB: over ten), past the election timeout. The
   * connection is paused meanwhile and its later messages wait, so they arrive in order.
   */
  private async decodeInTurns(socket: Socket, from: NodeId, payload: { readonly byteLength: number }, steps: Steps<Message>, deliver: (from: NodeId, bytes: number, message: Message) => void, refuse: (from: NodeId, error: unknown) => void): Promise<void> {
    const startedMs = performance.now();
    let decoded: RunInTurns<Message> | null;
    try {
      decoded = await runInTurns(steps, { abandoned: () => this.stopped || socket.destroyed });
    } catch (error) {
      refuse(from, error);
      return;
    }
    if (decoded === null) return;
    this.options.log(`peer ${from.toString(16)}: decoded a ${(payload.byteLength / 2 ** 20).toFixed(1)} MiB message over ${decoded.turns} turns (the longest ${decoded.longestTurnMs.toFixed(1)} ms) in ${Math.round(performance.now() - startedMs)} ms`);
    let message = decoded.value;
    const preparing = this.options.prepareInSteps?.(message) ?? null;
    if (preparing !== null) {
      // Not a decode failure: what throws here (the node's assertion) would have thrown in its
      // step, so it rejects unhandled and stops the member, as there.
      const preparedStartedMs = performance.now();
      const prepared = await runInTurns(preparing, { abandoned: () => this.stopped || socket.destroyed });
      if (prepared === null) return;
      this.options.log(`peer ${from.toString(16)}: prepared its install over ${prepared.turns} turns (the longest ${prepared.longestTurnMs.toFixed(1)} ms) in ${Math.round(performance.now() - preparedStartedMs)} ms`);
      message = prepared.value;
    }
    deliver(from, payload.byteLength, message);
  }

  /**
   * A record of several parts (a message over a frame part: a snapshot) joined a part per step,
   * then decoded in the codec's steps (or, if it has none for it, in one): joining a 200 MiB
   * snapshot's parts in one copy held the follower's loop 0.2-0.4 s.
   */
  private *joinedAndDecoded(record: PartedRecord): Steps<Message> {
    const joined = Buffer.allocUnsafe(record.byteLength);
    let at = 0;
    for (const part of record.parts) {
      at += part.copy(joined, at);
      yield;
    }
    const steps = this.options.decodeInSteps?.(joined) ?? null;
    if (steps === null) return this.options.codec.decode(joined);
    return yield* steps;
  }

  /** Checks a hello; returns the sender's id, or null after refusing the connection. */
  private greet(socket: Socket, payload: Uint8Array): NodeId | null {
    let hello: Hello;
    try {
      hello = JSON.parse(Buffer.from(payload).toString('utf8')) as Hello;
    } catch {
      this.refuse(socket, `peer connection from ${socket.remoteAddress}: not a detcd peer (bad hello)`);
      return null;
    }
    if (typeof hello.detcd === 'number' && hello.detcd !== peerProtocolVersion) {
      this.refuse(socket, `peer connection from ${socket.remoteAddress}: it speaks detcd peer protocol ${hello.detcd}, this member ${peerProtocolVersion} (upgrade every member together)`);
      return null;
    }
    if (typeof hello.detcd !== 'number' || typeof hello.from !== 'string' || typeof hello.to !== 'string') {
      this.refuse(socket, `peer connection from ${socket.remoteAddress}: not a detcd peer (bad hello)`);
      return null;
    }
    const clusterId = this.options.clusterId();
    if (clusterId === null && hello.clusterId !== '') this.options.adoptClusterId?.(hello.clusterId);
    // A member joining an existing cluster does not know the cluster's id until a member of it
    // dials it: it says so with an empty id, and is let in (Raft ignores a stranger's messages).
    else if (hello.clusterId !== clusterId && hello.clusterId !== '') {
      this.refuse(socket, `request cluster ID mismatch (got ${hello.clusterId || 'none'} want ${clusterId ?? 'none'}) from peer ${hello.from}`);
      return null;
    }
    const from = Number.parseInt(hello.from, 16);
    if (Number.parseInt(hello.to, 16) !== this.options.self) {
      this.refuse(socket, `peer ${hello.from} dialled member ${hello.to}, but this is member ${this.options.self.toString(16)}`);
      return null;
    }
    if (hello.snapshots === true) this.answering.add(socket);
    if (!this.peerUrls.has(from) && Array.isArray(hello.peerUrls)) {
      try {
        this.setPeerUrls(from, hello.peerUrls.map((url) => new URL(url)));
      } catch {
        // A bad URL in a hello only means we cannot dial back yet.
      }
    }
    return from;
  }

  private refuse(socket: Socket, reason: string): void {
    this.options.log(reason);
    socket.destroy();
  }
}
