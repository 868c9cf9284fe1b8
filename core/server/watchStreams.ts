import { ErrCompacted, GrpcCode, EtcdError, progressWatchId, type WatchCreateRequest, type WatchFilter, type WatchRequest, type WatchResponse } from '../api/index.ts';
import type { ClientId, RequestId, StreamFrame } from '../host/node.ts';
import { WatchableStore, type Watcher, type WatchNotice, type WatchSink } from '../watch/index.ts';
import type { WatchConfig } from './config.ts';
import { valueLength } from '../mvcc/index.ts';
import type { ServerReply } from './serverRequest.ts';

/** A stream message on a stream this member does not hold (it restarted, or closed it): the client must open another. */
export const ErrWatchStreamUnknown = new EtcdError(GrpcCode.Unavailable, 'etcdserver: watch stream not found (the member restarted)');
/** More open streams than the member allows. */
export const ErrTooManyWatchStreams = new EtcdError(GrpcCode.ResourceExhausted, 'etcdserver: too many watch streams');

const cancelReasonDuplicateId = 'etcdserver: duplicate watch ID provided on the WatchStream';
const cancelReasonNegativeRevision = 'etcdserver: start revision must not be negative';
const cancelReasonTooManyWatches = 'etcdserver: too many watches on the stream';

/** What a stream queues: the store's notices, and its own answers to creates and cancels. */
type Queued = WatchNotice | { readonly kind: 'control'; readonly revision: number; readonly response: Omit<WatchResponse, 'header'> };

/** What the streams need of their member: the current revision and a response header at a revision. */
export interface WatchStreamHost {
  revision(): number;
  header(revision: number): WatchResponse['header'];
  /** Hands a reply on stream `stream` of `client` to the next Ready. */
  send(client: ClientId, stream: RequestId, reply: ServerReply, frame: StreamFrame): void;
}

/**
 * One Watch stream of a client (etcd's serverWatchStream, api/v3rpc/watch.go): its watches by id,
 * and its send buffer — etcd's bounded channel, which control responses (created, canceled) skip,
 * as etcd's ctrlStream does. Responses leave in the order they were queued, `sendsPerTick` per tick.
 */
class WatchStream implements WatchSink {
  readonly client: ClientId;
  readonly id: RequestId;
  readonly watches = new Map<number, Watcher>();
  /** Each watcher's watch id on this stream. */
  readonly ids = new Map<Watcher, number>();
  /** Watch id → the watch's create request (for fragmenting). */
  readonly fragmenting = new Set<number>();
  readonly queue: Queued[] = [];
  /** Notices (not control responses) in the queue: what the buffer bound counts. */
  buffered = 0;
  sendBudget: number;
  progressRequested = false;
  nextWatchId = 0;
  /** The sequence number of the next reply on the stream. */
  nextSequence = 0;
  private readonly capacity: number;

  constructor(client: ClientId, id: RequestId, capacity: number, sendBudget: number) {
    this.client = client;
    this.id = id;
    this.capacity = capacity;
    this.sendBudget = sendBudget;
  }

  offer(notice: WatchNotice): boolean {
    if (this.buffered >= this.capacity) return false;
    this.queue.push(notice);
    this.buffered++;
    return true;
  }

  /** Queues a created or canceled response, stamped with the revision it was decided at. */
  control(revision: number, response: Omit<WatchResponse, 'header'>): void {
    this.queue.push({ kind: 'control', revision, response });
  }

  /** Drops what is queued for a cancelled watch (its client no longer listens for it). */
  forget(watchId: number): void {
    const watcher = this.watches.get(watchId);
    const kept = this.queue.filter((item) => item.kind === 'control' || item.watcher !== watcher);
    this.buffered -= this.queue.length - kept.length;
    this.queue.length = 0;
    this.queue.push(...kept);
  }
}

/**
 * The member's Watch service: every open stream, on one watchable store fed by the apply loop.
 * A stream is opened by its first message (a Watch request without a stream id) and named by that
 * request's id; every response is a reply on it. A member that restarts loses its streams: a
 * message for a stream it does not hold is answered by closing that stream.
 */
export class WatchStreams {
  readonly store: WatchableStore;
  private readonly config: WatchConfig;
  private readonly maxResponseBytes: number;
  private readonly host: WatchStreamHost;
  private readonly streams = new Map<string, WatchStream>();
  private ticks = 0;

  constructor(store: WatchableStore, host: WatchStreamHost, config: WatchConfig, maxResponseBytes: number) {
    this.store = store;
    this.host = host;
    this.config = config;
    this.maxResponseBytes = maxResponseBytes;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** A message from a client: the first of a new stream (no `stream`), or one on an open stream. */
  submit(client: ClientId, id: RequestId, request: WatchRequest, stream: RequestId | undefined): void {
    const streamId = stream ?? id;
    let open = this.streams.get(key(client, streamId));
    if (open === undefined) {
      if (stream !== undefined) return this.host.send(client, streamId, { method: 'Watch', error: ErrWatchStreamUnknown }, { sequence: 0, end: true });
      if (this.streams.size >= this.config.streamsMax) return this.host.send(client, streamId, { method: 'Watch', error: ErrTooManyWatchStreams }, { sequence: 0, end: true });
      open = new WatchStream(client, streamId, this.config.streamBufferResponses, this.config.streamSendsPerTick);
      this.streams.set(key(client, streamId), open);
    }
    if (request.createRequest !== undefined) this.create(open, request.createRequest);
    else if (request.cancelRequest !== undefined) this.cancel(open, request.cancelRequest.watchId);
    else if (request.progressRequest !== undefined) {
      open.progressRequested = true;
      this.answerProgress(open);
    }
  }

  close(client: ClientId, stream: RequestId): void {
    const open = this.streams.get(key(client, stream));
    if (open === undefined) return;
    for (const watcher of open.watches.values()) this.store.cancel(watcher);
    open.watches.clear();
    this.streams.delete(key(client, stream));
  }

  /** Every tick: the send budget refills, victims and unsynced watchers catch up, progress is told. */
  tick(): void {
    this.ticks++;
    this.store.sync();
    if (this.ticks % this.config.progressNotifyTicks === 0) this.store.notifyProgress();
    for (const open of this.streams.values()) {
      open.sendBudget = this.config.streamSendsPerTick;
      if (open.progressRequested) this.answerProgress(open);
    }
  }

  /** Whether some stream has a response it may send now. */
  get hasOutput(): boolean {
    for (const open of this.streams.values()) if (open.queue.length > 0 && open.sendBudget > 0) return true;
    return false;
  }

  /** Moves what each stream may send now into replies, in queue order. */
  drain(): void {
    for (const open of this.streams.values()) {
      while (open.queue.length > 0 && open.sendBudget > 0) {
        const item = open.queue.shift()!;
        if (item.kind !== 'control') open.buffered--;
        open.sendBudget--;
        for (const response of this.responses(open, item)) this.host.send(open.client, open.id, { method: 'Watch', response }, { sequence: open.nextSequence++, end: false });
      }
    }
  }

  /**
   * A progress request is answered (watch id -1, the current revision) once every watch of the
   * stream is synced, through the stream's buffer, after whatever it holds (etcd #15220's fix:
   * an answer that overtook queued events promised revisions the client had not been sent).
   */
  private answerProgress(open: WatchStream): void {
    if (!this.store.allSynced(open.watches.values())) return;
    if (!open.offer({ kind: 'progress', watcher: null, revision: this.host.revision() })) return;
    open.progressRequested = false;
  }

  private create(open: WatchStream, request: WatchCreateRequest): void {
    const startRevision = request.startRevision ?? 0;
    let watchId = request.watchId ?? 0;
    if (watchId === 0) {
      while (open.watches.has(open.nextWatchId)) open.nextWatchId++;
      watchId = open.nextWatchId++;
    }
    const revision = this.host.revision();
    const refuse = (reason: string) => open.control(revision, { watchId, created: true, canceled: true, cancelReason: reason, events: [] });
    if (!Number.isSafeInteger(startRevision) || startRevision < 0) return refuse(cancelReasonNegativeRevision);
    if (open.watches.has(watchId)) return refuse(cancelReasonDuplicateId);
    if (open.watches.size >= this.config.watchesPerStreamMax) return refuse(cancelReasonTooManyWatches);
    open.control(revision, { watchId, created: true, events: [] });
    const filters: WatchFilter[] = (request.filters ?? []).filter((filter) => filter === 'NOPUT' || filter === 'NODELETE');
    const spec = { key: request.key.length === 0 ? '\0' : request.key, end: watchEnd(request.rangeEnd), filters, prevKv: request.prevKv === true, progressNotify: request.progressNotify === true };
    const watcher = this.store.watch(spec, startRevision, open);
    open.watches.set(watchId, watcher);
    open.ids.set(watcher, watchId);
    if (request.fragment === true) open.fragmenting.add(watchId);
  }

  private cancel(open: WatchStream, watchId: number): void {
    const watcher = open.watches.get(watchId);
    if (watcher === undefined) return;
    open.forget(watchId);
    this.store.cancel(watcher);
    open.watches.delete(watchId);
    open.ids.delete(watcher);
    open.fragmenting.delete(watchId);
    open.control(this.host.revision(), { watchId, canceled: true, events: [] });
  }

  /** The responses one queued item becomes: one, or a fragmented revision's several. */
  private responses(open: WatchStream, item: Queued): WatchResponse[] {
    if (item.kind === 'control') return [{ header: this.host.header(item.revision), ...item.response }];
    if (item.kind === 'progress') {
      const watchId = item.watcher === null ? progressWatchId : open.ids.get(item.watcher)!;
      return [{ header: this.host.header(item.revision), watchId, events: [] }];
    }
    const watchId = open.ids.get(item.watcher)!;
    if (item.kind === 'compacted') {
      open.watches.delete(watchId);
      open.ids.delete(item.watcher);
      return [{ header: this.host.header(item.revision), watchId, canceled: true, compactRevision: item.compactRevision, cancelReason: ErrCompacted.message, events: [] }];
    }
    const header = this.host.header(item.revision);
    if (!open.fragmenting.has(watchId)) return [{ header, watchId, events: item.events }];
    return fragments(item.events, this.maxResponseBytes).map((events, i, all) => ({ header, watchId, events, ...(i < all.length - 1 ? { fragment: true } : {}) }));
  }
}

/** A create's range end as the watcher takes it: null one key, '' every key from the key on ("\0"), else [key, end). */
function watchEnd(rangeEnd: string | undefined): string | null {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  return rangeEnd === '\0' ? '' : rangeEnd;
}

function key(client: ClientId, stream: RequestId): string {
  return `${client}/${stream}`;
}

/** Splits events so that each part's size stays under `limit` (etcd's sendFragments; one event per part at least). */
function fragments(events: WatchResponse['events'], limit: number): WatchResponse['events'][] {
  const parts: WatchResponse['events'][] = [];
  let part: WatchResponse['events'][number][] = [];
  let size = 0;
  for (const event of events) {
    const eventSize = 16 + event.kv.key.length + valueLength(event.kv) + (event.prevKv === undefined ? 0 : event.prevKv.key.length + valueLength(event.prevKv));
    if (part.length > 0 && size + eventSize > limit) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(event);
    size += eventSize;
  }
  parts.push(part);
  return parts;
}
