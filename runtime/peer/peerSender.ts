import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { NodeId } from '../../core/host/node.ts';
import { hostOf } from '../listen.ts';
import { frame, frameHeaderBytes, frameInto, frameParts, framePartBytes } from '../storage/frame.ts';
import { trace } from '../latencyTrace.ts';

/** What a sender tells its transport. */
export interface SenderEvents {
  /** A message could not be handed to the connection (queue full, peer down): Raft should probe. */
  unreachable(to: NodeId): void;
  snapshotStatus(to: NodeId, status: 'finished' | 'failed'): void;
  sent(to: NodeId, bytes: number): void;
  log(line: string): void;
}

export interface SenderOptions {
  readonly self: NodeId;
  readonly to: NodeId;
  /** The first frame of each connection, made when it opens (the cluster id may be learned meanwhile). */
  readonly hello: () => Uint8Array;
  readonly queueMessagesMax: number;
  readonly backoffMsMin: number;
  readonly backoffMsMax: number;
  /** TLS options when the peer URLs are https. */
  readonly tls: ConnectionOptions | null;
  /** A message larger than this goes as several frames of at most this many bytes (frame.ts's framePartBytes). */
  readonly framePartBytes?: number;
  /** True while the transport holds back what may wait (`PeerTransport.afterClientWrites`): a flush of only such messages waits for `release`. */
  readonly held?: () => boolean;
  /**
   * The peer answers each message on this connection with one byte once it handed it on (a
   * connection of snapshots, `PeerTransport`'s second one per peer): a snapshot is reported
   * finished then, not once written, and failed if the connection fails before its answer.
   */
  readonly acknowledged?: boolean;
}

interface Queued {
  /**
   * An ordinary message (at most `inlineBytes`, not a snapshot): its payload, framed when flushed,
   * into the flush's one buffer. Null for the others, which come as `parts`.
   */
  readonly payload: Uint8Array | null;
  /** The message's frames as headers and payload pieces (not copied together: a snapshot is the whole backend, framed as parts). */
  readonly parts: readonly Buffer[] | null;
  readonly snapshot: boolean;
  /** It may wait while the transport holds writes back. */
  readonly mayWait: boolean;
}

/**
 * A message of at most this many bytes, not a snapshot, is framed at flush straight into one
 * buffer with the rest of the flush's such messages (a copy of a few kilobytes), so a Ready's
 * messages to a peer are one chunk of one write: before, each was a header buffer and a payload
 * view, two chunks of the socket's writev, each with its Writable entry and its callback. Larger
 * ones (a snapshot's parts) are written as their pieces, uncopied.
 */
const inlineBytes = 64 * 1024;

/** A run framed into one buffer stops before this many bytes (a backlog after a stall goes as several writes, each checked for back-pressure). */
const runBytesMax = 1024 * 1024;

/**
 * The outgoing half of one peer link: one TCP (or TLS) connection to the peer, opened on demand,
 * re-dialled with exponential backoff after a failure. Messages wait in a bounded queue while
 * the connection opens or the socket's buffer is full (back-pressure); when the queue is full, or
 * the peer is known to be down, a message is dropped and reported unreachable, as etcd's rafthttp
 * does (`peer.send`: "dropped internal raft message since sending buffer is full"). A dropped
 * snapshot is reported failed; a written one finished (on an `acknowledged` connection: once
 * answered, or failed with the connection).
 */
export class PeerSender {
  private urls: readonly URL[];
  private urlIndex = 0;
  private socket: Socket | null = null;
  private state: 'idle' | 'connecting' | 'open' | 'backoff' | 'stopped' = 'idle';
  private queue: Queued[] = [];
  private writable = true;
  private backoffMs: number;
  private retry: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  /** On an acknowledged connection: whether each message written and not yet answered is a snapshot, oldest first. */
  private unanswered: boolean[] = [];
  /** Messages dropped (queue full or peer down), for metrics and tests. */
  dropped = 0;

  constructor(
    private readonly options: SenderOptions,
    urls: readonly URL[],
    private readonly events: SenderEvents,
  ) {
    this.urls = urls;
    this.backoffMs = options.backoffMsMin;
  }

  setUrls(urls: readonly URL[]): void {
    this.urls = urls;
  }

  /** Opens the connection now, before there is anything to send (a member announcing itself). */
  connect(): void {
    if (this.state === 'idle') this.dial();
  }

  send(payload: Uint8Array, snapshot: boolean, mayWait = false): void {
    // An acknowledged connection counts its messages one by one in `flush`: none goes in a run.
    if (!snapshot && this.options.acknowledged !== true && payload.byteLength <= Math.min(inlineBytes, this.options.framePartBytes ?? framePartBytes)) this.enqueue(payload, null, false, mayWait);
    else this.enqueue(null, () => frameParts(payload, this.options.framePartBytes), snapshot, mayWait);
  }

  /** Sends a message already framed (headers and payload pieces in order: a snapshot encoded in turns, see slicedFrames.ts). */
  sendFrames(frames: readonly Buffer[], snapshot: boolean): void {
    this.enqueue(null, () => frames, snapshot, false);
  }

  private enqueue(payload: Uint8Array | null, parts: (() => readonly Buffer[]) | null, snapshot: boolean, mayWait: boolean): void {
    if (this.state === 'stopped') return;
    if (this.state === 'backoff' || this.queue.length >= this.options.queueMessagesMax) {
      this.drop(snapshot);
      return;
    }
    this.queue.push({ payload, parts: parts === null ? null : parts(), snapshot, mayWait });
    if (this.state === 'idle') this.dial();
    else if (this.state === 'open') this.scheduleFlush();
  }

  /**
   * Flushes once the current task is done: a Ready's messages to this peer (appends, heartbeats,
   * a commit index) are sent one after another, and go to the kernel in one write.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (this.options.held?.() !== true || this.queue.some((queued) => !queued.mayWait)) this.flush();
    });
  }

  /** Messages queued this turn wait for their flush (a microtask). */
  get flushPending(): boolean {
    return this.flushScheduled;
  }

  /** The transport stopped holding writes back: what queued meanwhile goes now. */
  release(): void {
    if (this.queue.length > 0) this.flush();
  }

  stop(): void {
    this.state = 'stopped';
    if (this.retry !== null) clearTimeout(this.retry);
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
    this.unanswered = [];
  }

  private drop(snapshot: boolean): void {
    this.dropped++;
    this.events.unreachable(this.options.to);
    if (snapshot) this.events.snapshotStatus(this.options.to, 'failed');
  }

  private dial(): void {
    this.state = 'connecting';
    if (this.urls.length === 0) {
      // Not yet known (a member added after this one started): it will say hello.
      this.failed('no peer URL known');
      return;
    }
    const url = this.urls[this.urlIndex % this.urls.length]!;
    this.urlIndex++;
    const port = Number(url.port);
    const host = hostOf(url);
    const socket =
      url.protocol === 'https:'
        ? tlsConnect({ ...(this.options.tls ?? {}), host, port, ...(isIP(host) === 0 ? { servername: host } : {}) }, () => this.opened())
        : netConnect({ host, port }, () => this.opened());
    socket.setNoDelay(true);
    // Only the current connection's events count: one closed after use (`answered`) is done with.
    socket.on('drain', () => {
      if (this.socket !== socket) return;
      this.writable = true;
      this.flush();
    });
    socket.on('error', (error) => this.socket === socket && this.failed(error.message));
    socket.on('close', () => this.socket === socket && this.failed('connection closed'));
    // The peer writes on this connection only if it is acknowledged: a byte per message handed on.
    socket.on('data', (chunk: Buffer) => this.socket === socket && this.answered(chunk.byteLength));
    this.socket = socket;
  }

  private opened(): void {
    if (this.state !== 'connecting' || this.socket === null) return;
    this.state = 'open';
    this.writable = true;
    this.backoffMs = this.options.backoffMsMin;
    this.socket.write(frame(this.options.hello()));
    this.flush();
  }

  private flush(): void {
    const socket = this.socket;
    if (this.state !== 'open' || socket === null) return;
    if (trace.enabled) trace.mark(`peer.flush ${this.options.to.toString(16)} ${this.queue.length}`);
    socket.cork();
    const to = this.options.to;
    while (this.state === 'open' && this.writable && this.queue.length > 0) {
      if (this.queue[0]!.payload !== null) {
        // The run of ordinary messages at the head of the queue: framed into one buffer, one write.
        this.writable = socket.write(this.frameRun());
        continue;
      }
      const next = this.queue.shift()!;
      const parts = next.parts!;
      // A header and its payload, or (a snapshot over a part) a header before each part.
      const last = parts.length - 1;
      let bytes = parts[last]!.byteLength;
      for (let i = 0; i < last; i++) {
        socket.write(parts[i]!);
        bytes += parts[i]!.byteLength;
      }
      if (this.options.acknowledged === true) {
        // Reported when answered, or failed with the connection (`failed`).
        this.unanswered.push(next.snapshot);
        this.writable = socket.write(parts[last]!);
      } else {
        this.writable = socket.write(parts[last]!, next.snapshot ? (error) => this.events.snapshotStatus(to, error ? 'failed' : 'finished') : undefined);
      }
      this.events.sent(to, bytes);
    }
    socket.uncork();
  }

  /** Takes the ordinary messages at the head of the queue (up to `runBytesMax`) and frames them into one buffer (frame.ts's format, one frame each). */
  private frameRun(): Buffer {
    let count = 0;
    let total = 0;
    for (const queued of this.queue) {
      if (queued.payload === null || (count > 0 && total + frameHeaderBytes + queued.payload.byteLength > runBytesMax)) break;
      count++;
      total += frameHeaderBytes + queued.payload.byteLength;
    }
    const framed = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const start = at;
      at = frameInto(framed, at, this.queue[i]!.payload!);
      this.events.sent(this.options.to, at - start);
    }
    this.queue.splice(0, count);
    return framed;
  }

  /**
   * The peer handed on `count` more of the messages written on this (acknowledged) connection.
   * Once all are and nothing waits, the connection is closed, as etcd's snapshotSender's POST
   * ends with its answer: the next snapshot dials again. Left open, the receiver's socket and the
   * sender's sat idle between snapshots (minutes or never).
   */
  private answered(count: number): void {
    if (this.options.acknowledged !== true) return;
    for (let i = 0; i < count && this.unanswered.length > 0; i++) {
      if (this.unanswered.shift()!) this.events.snapshotStatus(this.options.to, 'finished');
    }
    if (this.unanswered.length > 0 || this.queue.length > 0 || this.state !== 'open') return;
    const socket = this.socket;
    this.socket = null;
    this.state = 'idle';
    socket?.end();
  }

  private failed(reason: string): void {
    if (this.state === 'stopped' || this.state === 'backoff') return;
    const wasOpen = this.state === 'open';
    this.socket?.destroy();
    this.socket = null;
    this.state = 'backoff';
    const lost = this.queue;
    this.queue = [];
    // Written but not answered: perhaps not received whole (a snapshot's status is failed, as a
    // failed POST's in etcd's rafthttp; Raft probes again).
    const unanswered = this.unanswered;
    this.unanswered = [];
    for (const snapshot of unanswered) if (snapshot) this.events.snapshotStatus(this.options.to, 'failed');
    for (const message of lost) this.drop(message.snapshot);
    if (wasOpen || this.backoffMs === this.options.backoffMsMin) this.events.log(`peer ${this.options.to.toString(16)}: ${reason}; re-dialling in ${this.backoffMs} ms`);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.state === 'backoff') this.dial();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMsMax);
  }
}
