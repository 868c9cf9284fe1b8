import type { Event, WatchCreateRequest, WatchResponse } from '../core/api/index.ts';
import { progressWatchId } from '../core/api/index.ts';
import type { Random } from '../core/base/random.ts';
import type { ClientId, NodeId, StreamFrame } from '../core/host/node.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../core/server/index.ts';
import type { StreamStep, StreamWorkload } from './streamClients.ts';
import type { LogicalWatchSpec, WatchLog, WatchSegment } from './watchLog.ts';

/**
 * Simulated etcd watchers, as etcd's Go client (clientv3's watcher, v3.4) behaves: every watch of
 * a client shares one Watch stream on one member; when the stream breaks (the member crashed, a
 * message could not be carried) or the member ends it, the client opens a stream on its next
 * endpoint and resumes each watch from the revision after the last it was sent — the last event's,
 * or a progress notification's (a bookmark: everything up to it was sent). A watch cancelled
 * because its next revision was compacted is started again from the compaction's revision, as an
 * application (Kubernetes' reflector) re-lists and watches on.
 *
 * Beyond clientv3, to reach every path of the server: a client asks for progress every so often,
 * cancels a watch and watches again from where it was, and moves to another member now and then
 * (a lagging member then serves a watch whose start it has not reached: etcd #20221).
 */
export interface EtcdWatcherSpec {
  readonly endpoints: readonly NodeId[];
  readonly watches: readonly LogicalWatchSpec[];
  /** Fragment large responses (etcd's WithFragment). */
  readonly fragment?: boolean;
}

export interface EtcdWatchersOptions {
  readonly watchers: readonly EtcdWatcherSpec[];
  readonly log: WatchLog;
  /** The clients stop their timers after this (the run's quiet time plus some). */
  readonly stopAtUs: number;
  /** Between a client's actions (progress request, cancel, moving member). */
  readonly actionEveryUsMin: number;
  readonly actionEveryUsMax: number;
}

interface LogicalWatch {
  readonly id: number;
  readonly spec: LogicalWatchSpec;
  /** The revision to resume from: after the last event or bookmark; 0 before anything. */
  nextRevision: number;
  segment: WatchSegment | null;
  /** A create sent on the current stream and not yet answered. */
  creating: boolean;
  /** Fragments of one response gathered until the last. */
  fragments: Event[];
}

interface WatcherState {
  readonly spec: EtcdWatcherSpec;
  readonly watches: LogicalWatch[];
  cursor: number;
  node: NodeId | null;
  /** Creates sent on the stream in order, answered in that order (clientv3 matches them so). */
  pendingCreates: LogicalWatch[];
  stream: number;
}

export function etcdWatchers(options: EtcdWatchersOptions, firstClient: ClientId): StreamWorkload<ServerRequest, ServerReply> {
  let nextLogicalWatch = 1;
  const states: WatcherState[] = options.watchers.map((spec, index) => ({
    spec,
    watches: spec.watches.map((watch) => ({ id: nextLogicalWatch++, spec: watch, nextRevision: 0, segment: null, creating: false, fragments: [] })),
    cursor: index,
    node: null,
    pendingCreates: [],
    stream: 0,
  }));
  const log = options.log;
  const state = (client: ClientId): WatcherState => states[client - firstClient]!;

  const createFor = (watcher: WatcherState, watch: LogicalWatch): ServerRequest => {
    const create: WatchCreateRequest = {
      key: watch.spec.key,
      ...(watch.spec.rangeEnd !== undefined ? { rangeEnd: watch.spec.rangeEnd } : {}),
      startRevision: watch.nextRevision,
      prevKv: watch.spec.prevKv,
      filters: watch.spec.filters,
      progressNotify: watch.spec.progressNotify,
      ...(watcher.spec.fragment === true ? { fragment: true } : {}),
    };
    watch.creating = true;
    watcher.pendingCreates.push(watch);
    return { method: 'Watch', request: { createRequest: create } };
  };

  /** Opens a stream on the next endpoint with every watch created on it, resuming each. */
  const openStream = (watcher: WatcherState, nowUs: number): StreamStep<ServerRequest> => {
    const endpoints = watcher.spec.endpoints;
    const to = endpoints[watcher.cursor++ % endpoints.length]!;
    watcher.node = to;
    watcher.stream++;
    watcher.pendingCreates = [];
    for (const watch of watcher.watches) endSegment(watch, nowUs);
    const [first, ...rest] = watcher.watches.map((watch) => createFor(watcher, watch));
    return { open: { to, request: first! }, send: rest };
  };

  const endSegment = (watch: LogicalWatch, nowUs: number): void => {
    if (watch.segment !== null) log.record({ kind: 'ended', segment: watch.segment }, nowUs);
    watch.segment = null;
    watch.creating = false;
    watch.fragments = [];
  };

  const wakeAfter = (random: Random): number => random.between(options.actionEveryUsMin, options.actionEveryUsMax);

  return {
    clientCount: options.watchers.length,
    wake(client, random, nowUs) {
      const watcher = state(client);
      if (nowUs >= options.stopAtUs) return {};
      if (watcher.node === null) return { ...openStream(watcher, nowUs), wakeAfterUs: wakeAfter(random) };
      const roll = random.below(10);
      if (roll < 6) return { send: [{ method: 'Watch', request: { progressRequest: {} } }], wakeAfterUs: wakeAfter(random) };
      if (roll < 8) {
        // Cancel one watch and watch again from where it was (on the same stream).
        const watch = watcher.watches[random.below(watcher.watches.length)]!;
        if (watch.segment === null || watch.creating) return { wakeAfterUs: wakeAfter(random) };
        const cancel: ServerRequest = { method: 'Watch', request: { cancelRequest: { watchId: watch.segment.watchId } } };
        endSegment(watch, nowUs);
        return { send: [cancel, createFor(watcher, watch)], wakeAfterUs: wakeAfter(random) };
      }
      // Move to another member: close this stream, resume everything there.
      return { close: true, ...openStream(watcher, nowUs), wakeAfterUs: wakeAfter(random) };
    },
    onReply(client, node, reply, _frame: StreamFrame, nowUs) {
      const watcher = state(client);
      if (isErrorReply(reply) || reply.method !== 'Watch') return {};
      const again = onResponse(client, watcher, node, reply.response, nowUs);
      return again === null ? {} : { send: [createFor(watcher, again)] };
    },
    onBroken(client, _node, nowUs) {
      const watcher = state(client);
      watcher.node = null;
      for (const watch of watcher.watches) endSegment(watch, nowUs);
      watcher.pendingCreates = [];
      // Reconnect after a short backoff (the wake opens the next stream).
      return nowUs >= options.stopAtUs ? {} : { wakeAfterUs: 50_000 };
    },
  };

  /** Takes one response; returns a watch to create again (after a compaction cancel), or null. */
  function onResponse(client: ClientId, watcher: WatcherState, node: NodeId, response: WatchResponse, nowUs: number): LogicalWatch | null {
    if (response.created === true) {
      const watch = watcher.pendingCreates.shift();
      if (watch === undefined) return null;
      watch.creating = false;
      if (response.canceled === true) return null;
      watch.segment = { client, watch: watch.id, node, stream: watcher.stream, watchId: response.watchId, spec: watch.spec, startRevision: watch.nextRevision, createdRevision: response.header.revision };
      if (watch.nextRevision === 0) watch.nextRevision = response.header.revision + 1;
      log.record({ kind: 'created', segment: watch.segment }, nowUs);
      return null;
    }
    if (response.watchId === progressWatchId && response.events.length === 0) {
      for (const watch of watcher.watches) {
        if (watch.segment === null) continue;
        log.record({ kind: 'progress', segment: watch.segment, revision: response.header.revision, requested: true }, nowUs);
        watch.nextRevision = Math.max(watch.nextRevision, response.header.revision + 1);
      }
      return null;
    }
    const watch = watcher.watches.find((candidate) => candidate.segment?.watchId === response.watchId);
    if (watch === undefined) return null; // a watch this client cancelled
    const segment = watch.segment!;
    if (response.canceled === true) {
      if (response.compactRevision !== undefined && response.compactRevision > 0) {
        log.record({ kind: 'compacted', segment, compactRevision: response.compactRevision }, nowUs);
        endSegment(watch, nowUs);
        watch.nextRevision = Math.max(watch.nextRevision, response.compactRevision);
        // Watch again from the compaction's revision, on the same stream.
        return watch;
      }
      endSegment(watch, nowUs);
      return null;
    }
    if (response.events.length === 0) {
      log.record({ kind: 'progress', segment, revision: response.header.revision, requested: false }, nowUs);
      watch.nextRevision = Math.max(watch.nextRevision, response.header.revision + 1);
      return null;
    }
    watch.fragments.push(...response.events);
    if (response.fragment === true) return null;
    const events = watch.fragments;
    watch.fragments = [];
    log.record({ kind: 'events', segment, events, revision: response.header.revision }, nowUs);
    watch.nextRevision = Math.max(watch.nextRevision, events[events.length - 1]!.kv.modRevision + 1);
    return null;
  }
}
