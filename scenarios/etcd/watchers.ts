import { prefixEnd } from '../../core/api/index.ts';
import type { NodeId } from '../../core/host/node.ts';
import { ObservedWrites } from '../../properties/etcd/watchGuidedHistory.ts';
import { EventLedger } from '../../properties/watch/eventLedger.ts';
import { WatchChecks } from '../../properties/watch/watchChecks.ts';
import { etcdWatchers } from '../../sim/etcdWatchClient.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { StreamWorkload } from '../../sim/streamClients.ts';
import { WatchLog, type LogicalWatchSpec } from '../../sim/watchLog.ts';

/** How many watch clients a scenario runs (each with the watches below, starting on different members). */
export interface WatchShape {
  readonly clients: number;
}

/**
 * What the watch clients watch, over the key spaces the key-value traffic writes (scenarios/etcd/
 * workloads.ts): one key, prefixes with and without prev_kv, a delete-only and a put-only filter,
 * progress notifications, and every key (the compactor's and operators' writes included).
 */
const watchSets: readonly (readonly LogicalWatchSpec[])[] = [
  [watchOf('k/a'), watchOf('k/', { prefix: true, prevKv: true }), watchOf('d/', { prefix: true, filters: ['NOPUT'] })],
  [watchOf('/registry/pods/', { prefix: true, progressNotify: true }), watchOf('t/', { prefix: true, prevKv: true, filters: ['NODELETE'] })],
  [watchOf('\0', { rangeEnd: '\0', prevKv: true }), watchOf('r/a', { progressNotify: true })],
];

function watchOf(key: string, options: { prefix?: boolean; rangeEnd?: string; prevKv?: boolean; filters?: LogicalWatchSpec['filters']; progressNotify?: boolean } = {}): LogicalWatchSpec {
  const rangeEnd = options.rangeEnd ?? (options.prefix === true ? prefixEnd(key) : undefined);
  return { key, ...(rangeEnd === undefined ? {} : { rangeEnd }), prevKv: options.prevKv ?? false, filters: options.filters ?? [], progressNotify: options.progressNotify ?? false };
}

/** A run's watch parts: the ledger the members' applies feed, the clients, their log, the checks, and their counts. */
export interface WatchRun {
  readonly ledger: EventLedger;
  readonly streams: StreamWorkload<ServerRequest, ServerReply>;
  readonly checks: WatchChecks;
  readonly log: WatchLog;
  readonly observed: ObservedWrites;
  stats(): Record<string, number>;
}

export function watchParts(shape: WatchShape, run: { readonly initialMembers: readonly NodeId[]; readonly firstClient: number; readonly stopAtUs: number }): WatchRun {
  const ledger = new EventLedger();
  const log = new WatchLog();
  const checks = new WatchChecks(ledger);
  const observed = new ObservedWrites();
  log.listen(checks);
  log.listen(observed);
  const watchers = Array.from({ length: shape.clients }, (_, i) => ({ endpoints: run.initialMembers, watches: watchSets[i % watchSets.length]!, fragment: i % 2 === 1 }));
  const streams = etcdWatchers({ watchers, log, stopAtUs: run.stopAtUs, actionEveryUsMin: 100_000, actionEveryUsMax: 900_000 }, run.firstClient);
  return {
    ledger,
    streams,
    checks,
    log,
    observed,
    stats: () => ({
      watchSegments: log.counts.segments,
      watchResponses: log.counts.responses,
      watchEvents: log.counts.events,
      watchProgress: log.counts.progress,
      watchCompacted: log.counts.compacted,
      watchRevisionsScanned: checks.stats.revisionsScanned,
    }),
  };
}
