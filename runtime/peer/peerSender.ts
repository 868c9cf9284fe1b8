import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { NodeId } from '../../core/host/node.ts';
import { hostOf } from '../listen.ts';
import { frame, frameParts } from '../storage/frame.ts';
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
}

interface Queued {
  /** The message's frames as headers and payload pieces (not copied together: a snapshot is the whole backend, framed as parts). */
  readonly parts: readonly Buffer[];
  readonly snapshot: boolean;
  /** It may wait while the transport holds writes back. */
  readonly mayWait: boolean;
}

/**
 * The outgoing half of one peer link: one TCP (or TLS) connection to the peer, opened on demand,
 * re-dialled with exponential backoff after a failure. Messages wait in a bounded queue while
 * the connection opens or the socket's buffer is full (back-pressure); when the queue is full, or
 * the peer is known to be down, a message is dropped and reported unreachable, as etcd's rafthttp
 * does (`peer.send`: "dropped internal raft message since sending buffer is full"). A dropped
 * snapshot is reported failed; a written one finished.
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
    this.enqueue(() => frameParts(payload, this.options.framePartBytes), snapshot, mayWait);
  }

  /** Sends a message already framed (headers and payload pieces in order: a snapshot encoded in turns, see slicedFrames.ts). */
  sendFrames(frames: readonly Buffer[], snapshot: boolean): void {
    this.enqueue(() => frames, snapshot, false);
  }

  private enqueue(parts: () => readonly Buffer[], snapshot: boolean, mayWait: boolean): void {
    if (this.state === 'stopped') return;
    if (this.state === 'backoff' || this.queue.length >= this.options.queueMessagesMax) {
      this.drop(snapshot);
      return;
    }
    this.queue.push({ parts: parts(), snapshot, mayWait });
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
    socket.on('drain', () => {
      this.writable = true;
      this.flush();
    });
    socket.on('error', (error) => this.failed(error.message));
    socket.on('close', () => this.failed('connection closed'));
    // The peer never writes on this connection: anything read is ignored.
    socket.on('data', () => {});
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
    while (this.state === 'open' && this.writable && this.queue.length > 0) {
      const next = this.queue.shift()!;
      const to = this.options.to;
      // A header and its payload, or (a snapshot over a part) a header before each part.
      const last = next.parts.length - 1;
      let bytes = next.parts[last]!.byteLength;
      for (let i = 0; i < last; i++) {
        socket.write(next.parts[i]!);
        bytes += next.parts[i]!.byteLength;
      }
      this.writable = socket.write(next.parts[last]!, (error) => {
        if (next.snapshot) this.events.snapshotStatus(to, error ? 'failed' : 'finished');
      });
      this.events.sent(to, bytes);
    }
    socket.uncork();
  }

  private failed(reason: string): void {
    if (this.state === 'stopped' || this.state === 'backoff') return;
    const wasOpen = this.state === 'open';
    this.socket?.destroy();
    this.socket = null;
    this.state = 'backoff';
    const lost = this.queue;
    this.queue = [];
    for (const message of lost) this.drop(message.snapshot);
    if (wasOpen || this.backoffMs === this.options.backoffMsMin) this.events.log(`peer ${this.options.to.toString(16)}: ${reason}; re-dialling in ${this.backoffMs} ms`);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.state === 'backoff') this.dial();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMsMax);
  }
}
