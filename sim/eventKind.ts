/** Event kinds. Small integers: they are switched on and hashed into the trace. */
export const EventKind = {
  tick: 0,
  deliver: 1,
  request: 2,
  reply: 3,
  sync: 4,
  fault: 5,
  client: 6,
  probe: 7,
  /** A peer's answer that it refused a message because the sender was removed (etcd's rafthttp 403/410). */
  refusal: 8,
  /** The sender's transport reports a snapshot's fate to its node (SimParts.snapshotReports). */
  snapshotReport: 9,
  /** A node's deferred work goes on (HostedNode.hasDeferredWork): a later turn of its loop. */
  work: 10,
  /** The sender's transport could not hand a message on and reports its peer unreachable (SimParts.unreachableReports). */
  unreachableReport: 11,
  /** A disk's lag ends (DiskOptions.lag): what it held is written, and whoever waited for it goes on. */
  diskLag: 12,
} as const;
export const eventKindNames = ['tick', 'deliver', 'request', 'reply', 'sync', 'fault', 'client', 'probe', 'refusal', 'snapshot-report', 'work', 'unreachable-report', 'disk-lag'] as const;

/** A digest no event produces: marks an event that was cancelled and is not part of the trace. */
export const skipped = 0.5;
