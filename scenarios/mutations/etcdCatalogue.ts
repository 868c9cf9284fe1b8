import type { Mutation } from './catalogue.ts';

/**
 * Deliberate etcd server and store bugs (issue 8): each a one-place patch of core/server or
 * core/mvcc, each the kind a real etcd has shipped or nearly shipped, and each caught by the etcd
 * family — most of them by a check at the first wrong step, on the first seeds. `caughtAt` is the
 * run `detcd-sim mutants` found first (seed 0: one seed to catch); the comment after it says how many
 * of seeds 0-9 of that scenario catch it (measured when the entry was written; the seven issue-8
 * entries re-measured at main a9a3ba5 by the audit of issues 7 and 8).
 */
export const etcdFamily: readonly string[] = [
  'etcd-swarm',
  'etcd-standard',
  'etcd-crashes',
  'etcd-partitions',
  'etcd-pauses',
  'etcd-register',
  'etcd-kubernetes',
  'etcd-compaction',
  'etcd-lossy',
  'etcd-leader-churn',
  'etcd-clocks',
  'etcd-snapshot-catchup',
  // Issue 10 (simsnap/simnet): faults every 0.8 s meet snapshots in flight (lost, reported failed, sent again).
  'etcd-snapshot-loss',
  'etcd-membership',
  'etcd-joint',
  'etcd-quota',
  'etcd-calm',
];

/** The lease scenarios (issue 9) that must pass. */
export const leaseFamily: readonly string[] = ['etcd-lease', 'etcd-lease-swarm', 'etcd-lock-fenced'];

export const etcdMutations: readonly Mutation[] = [
  {
    name: 'etcd-read-from-local-state',
    bug: 'a linearizable range is served from the member\'s own state without a read index (as if serializable): a lagging member answers stale',
    file: 'core/server/requestHandling.ts',
    find: 'return request.request.serializable === true ? serveRead(server, waiter) : readLinearizably(server, waiter);',
    replace: 'return serveRead(server, waiter);',
    scenarios: ['etcd-partitions', ...etcdFamily],
    caughtAt: { scenario: 'etcd-partitions', seed: 0, violation: 'a stale read' }, // caught on 10 of seeds 0-9 of etcd-partitions
  },
  {
    name: 'etcd-put-acknowledged-before-applied',
    bug: 'a put is answered as soon as it is proposed, with the revision it expects, before its entry is committed and applied',
    file: 'core/server/requestHandling.ts',
    find: '  server.waiters.proposals.register(header.id, waiter);\n}',
    replace: "  if (waiter.request.method === 'Put') answer(server, waiter, { header: bareHeader(server.state.kv.revision + 1) });\n  else server.waiters.proposals.register(header.id, waiter);\n}",
    scenarios: etcdFamily,
    caughtAt: { scenario: 'etcd-swarm', seed: 0, violation: 'answered before it was applied' }, // caught on 10 of seeds 0-9 of etcd-swarm
  },
  {
    name: 'etcd-consistent-index-not-saved',
    bug: 'the consistent index is not saved with the batch that holds the apply (etcd #13766): a restart applies entries again',
    file: 'core/server/applyEntries.ts',
    find: '  else server.state.backend.setConsistentIndex(entry.index, entry.term);\n',
    replace: '',
    scenarios: ['etcd-crashes', ...etcdFamily],
    caughtAt: { scenario: 'etcd-crashes', seed: 0, violation: 'not recorded with its consistent index' }, // caught on 10 of seeds 0-9 of etcd-crashes
  },
  {
    name: 'etcd-txn-bumps-revision-twice',
    bug: 'a txn that changed something moves the store\'s revision by two',
    file: 'core/mvcc/applyTxn.ts',
    find: '  txn.end();\n',
    replace: '  txn.end();\n  if (txn.events.length > 0) state.currentRevision++;\n',
    scenarios: etcdFamily,
    caughtAt: { scenario: 'etcd-swarm', seed: 0, violation: 'moved the revision' }, // caught on 10 of seeds 0-9 of etcd-swarm
  },
  {
    name: 'etcd-compaction-drops-latest-revision',
    bug: "compaction drops the revision it should keep of each key (the latest at or before the compaction revision): a key's current value vanishes from the index",
    file: 'core/mvcc/keyIndex.ts',
    find: '    const dropped = revisionIndex === -1 ? 0 : revisionIndex;',
    replace: '    const dropped = revisionIndex === -1 ? 0 : revisionIndex + 1;',
    scenarios: ['etcd-kubernetes', 'etcd-compaction', ...etcdFamily],
    // Session 19 (heap): the patch moved to the flat key index (`dropped`: the revisions cut from the generation's
    // front); still caught on seed 0 of etcd-kubernetes by the same assertion.
    // Since the live keys' index (issue 10, cleanup) a read at the latest revision takes a live key's
    // last revision from its key index, so the lost revision shows at once: caught on 8 of seeds 0-9
    // of etcd-kubernetes, by that assertion on 3 (by 'applied the same entries to different effect' before).
    // Session 20 (shadow): the apply check fires first at seed 0 (a txn's range answers without the key).
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: 'the first to apply index 127 (a txn), answered' },
  },
  {
    name: 'etcd-txn-ops-reordered-on-some-members',
    bug: "members with an even id apply a txn's success ops in reverse order: same revisions, different sub-revisions (a HashKV divergence)",
    file: 'core/server/applyEntries.ts',
    find: '  applied(server, entry.index, header, op, server.state.apply(op));',
    replace: "  applied(server, entry.index, header, op, server.state.apply(server.id % 2 === 0 && op.kind === 'txn' ? { ...op, request: { ...op.request, success: [...(op.request.success ?? [])].reverse() } } : op));",
    scenarios: ['etcd-kubernetes', ...etcdFamily],
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: 'the first to apply index 13 (a txn), answered' }, // caught on 9 of seeds 0-9 of etcd-kubernetes (7 when written) by HashKV; the apply check (session 20, shadow) now fires first
  },
  {
    name: 'etcd-future-revision-answered',
    bug: 'a range at a revision the store has not reached is answered from the current state instead of refused with ErrFutureRev',
    file: 'core/mvcc/mvccState.ts',
    find: '    if (atRevision > viewRevision) return ErrFutureRev;',
    replace: '    if (atRevision > viewRevision) atRevision = viewRevision;',
    scenarios: etcdFamily,
    caughtAt: { scenario: 'etcd-swarm', seed: 0, violation: 'above its own revision' }, // caught on 10 of seeds 0-9 of etcd-swarm (9 when written); the apply check (session 21, leasettl) now fires first, as the member serves it
  },
  // Issue 9: a lease bug of etcd's history, and two of the bug table's (etcd-reference.md §7.2).
  // Each needed its conditions made likely: late keep-alives that race expiries (lease clients),
  // compactions at the head with nothing written since (etcd-compaction-head).
  {
    name: 'etcd-lease-renewed-while-expiring',
    bug: "the primary renews a lease it already saw expire, whose revoke is on its way through Raft: the client is told the lease lives another TTL, then its keys vanish (etcd #20616 / PR #20813, 'etcd may return success for leaseRenew request even when the lease is revoked')",
    file: 'core/lease/lessor.ts',
    find: '    if (lease === undefined || lease.expired(now)) return null;',
    replace: '    if (lease === undefined) return null;',
    scenarios: ['etcd-lease-expiry-race', ...leaseFamily],
    // a late keep-alive must land in the Raft round trip of an expiry: the 5th seed of etcd-lease (17 runs of the lease family)
    // until the network reported unreachable peers (simnet), which moved seed 4's run; then the 2nd (1 of seeds 0-9); since
    // read rounds start at the Ready (issue 10, cpu18), the 4th (10 runs). Session 22 (task leasebound2): leaseChecks judges
    // the renewal itself (after the primary's expiry proposal, before its revoke applies there), and etcd-lease-expiry-race
    // aims late keep-alives at that window: caught on 20 of its seeds 0-19 (etcd-lease: 5 of 0-19, where 5 reach the window).
    caughtAt: { scenario: 'etcd-lease-expiry-race', seed: 0, violation: 'renewed after its expiry' },
  },
  {
    name: 'etcd-15247-stale-primary-revokes',
    bug: "etcd #15247 (fixed after 3.4.23 by #16822's ensureLeadership): a deposed leader whose Ready waits for a stalled sync keeps its last soft state, so its lessor stays primary and its clock expires leases; their revokes go to the new leader through its Raft's proposal forwarding, and apply after the new primary renewed them",
    file: 'core/server/leaseApi.ts',
    find: '  if (!raftLeadsNow(server)) return;\n',
    replace: '',
    scenarios: ['etcd-disk-stalls'],
    // session 22 (etcdstall): caught on 7 of seeds 0-59 of etcd-disk-stalls before the fix (35, 36, 41, 44, 52, 55, 56), all "expired early";
    // with the renewal fix (etcd-15247-stale-primary-renews) in, 1 of seeds 0-19 (5)
    caughtAt: { scenario: 'etcd-disk-stalls', seed: 35, violation: 'expired early' },
    realistic: true,
  },
  {
    name: 'etcd-15247-stale-primary-renews',
    bug: "etcd #15247's other half (etcd after 3.4.23 asks ensureLeadership in LeaseRenew): a deposed leader whose Ready waits for a stalled sync renews, as the primary its soft state still says it is, a keep-alive of a client connected to it; the new primary never hears of the renewal and lets the lease expire on its own clock",
    file: 'core/server/leaseApi.ts',
    find: "  return server.softState.role === 'leader' && (request.method !== 'LeaseKeepAlive' || raftLeadsNow(server));",
    replace: "  return server.softState.role === 'leader';",
    scenarios: ['etcd-disk-stalls'],
    // session 22 (etcdstall): 1 of seeds 0-999 of etcd-disk-stalls before the fix (559), "expired early", 39 ms before the TTL; stale primaries answered keep-alives in about half of seeds 0-39 without a violation
    caughtAt: { scenario: 'etcd-disk-stalls', seed: 559, violation: 'expired early' },
    realistic: true,
  },
  {
    name: 'etcd-17780-revision-back-after-compaction-crash',
    bug: "etcd #17780: compaction removes the tombstone at the compaction revision (etcd before #18089) and a restart takes its revision from the key bucket alone, not the scheduled compaction mark: after a crash mid-compaction of a head delete the store's revision goes back",
    file: 'core/mvcc/restore.ts',
    find: '  if (current < scheduled) current = scheduled;',
    replace: '',
    also: [{ file: 'core/mvcc/keyIndex.ts', find: '      if (tombstone >= atRev) break;', replace: '      if (tombstone > atRev) break;' }],
    scenarios: ['etcd-compaction-head', 'etcd-compaction', 'etcd-crashes'],
    // caught on 5 of seeds 0-9 of etcd-compaction-head (2, 4, 6, 7, 8; since a physical compaction's answer syncs its
    // Ready, session 18 durable; 3, 4, 5, 6, 8 since the network reports unreachable peers, simnet;
    // 2, 3, 4, 6, 8, 9 before; before the members coalesced appends, 4 of seeds 0-4, seed 0 first); 0 of 50 seeds of
    // etcd-compaction and etcd-crashes then (other writers keep the head past the compaction)
    caughtAt: { scenario: 'etcd-compaction-head', seed: 2, violation: 'answered the put at index 89 with' }, // the apply check (session 20, shadow) fires first: members answer a later put at different revisions
  },
  {
    name: 'etcd-20418-read-index-answer-reused',
    bug: "etcd #20418 (fixed by #21375/#21399): the read loop takes any read index Raft answers, not only its own round's: an answer to an earlier request, delayed by a pause or a leader change, serves a later round a stale index",
    file: 'core/server/linearizableReads.ts',
    find: '    if (round === null || round.confirmedIndex >= 0 || !round.contexts.includes(state.requestContext)) return;',
    replace: '    if (round === null || round.confirmedIndex >= 0) return;',
    scenarios: ['etcd-pauses', 'etcd-leader-churn', 'etcd-standard'],
    // after 6 seeds (18 runs) of these three scenarios (11 seeds before the members coalesced appends, at etcd-standard seed 10);
    // since read rounds start at the Ready (issue 10, cpu18), after 10 seeds (30 runs), by the linearizability check; with
    // durable's synced compaction answers too, after 20 seeds (60 runs), by the read-index check; with etcd-standard's
    // 16 clients (session 20, shrink), after 1 seed (3 runs)
    caughtAt: { scenario: 'etcd-standard', seed: 0, violation: 'a stale read' },
  },
  // Issue 10 (simsnap): the simulated network reports snapshots as the runtime's transport does, and
  // the members wait for those reports (snapshotStatusReported). A transport that loses a snapshot
  // unreported leaves its leader waiting in StateSnapshot for good.
  {
    name: 'sim-snapshot-failure-never-reported',
    bug: 'the simulated transport reports a snapshot finished once handed on, but never one it lost (cut, lost, the receiver down or its paused inbox full): the leader waits in StateSnapshot for a report that never comes',
    file: 'sim/simulation.ts',
    find: '    if (incarnation === undefined) return;',
    replace: "    if (incarnation === undefined || status === 'failed') return;",
    scenarios: ['etcd-snapshot-loss', 'etcd-snapshot-catchup', 'etcd-crashes', 'etcd-partitions'],
    // caught on 3 of seeds 0-9 of etcd-snapshot-loss: 1 and 3 by the snapshot wait check, 4 by liveness (a
    // stuck leader that still leads when the faults stop); 0 of 105 runs of seven older etcd scenarios
    // (seeds 0-14) before etcd-snapshot-loss, whose faults come every 0.8 s and meet snapshots in flight
    caughtAt: { scenario: 'etcd-snapshot-loss', seed: 1, violation: 'snapshot wait' },
  },
  // Issue 10 (simnet): the simulated network reports ordinary messages it could not hand on
  // unreachable, as the runtime's transport does, and Raft moves that follower to StateProbe.
  // Before, nothing was reported and both mutants survived: nothing ever exercised the path.
  {
    name: 'sim-unreachable-never-reported',
    bug: 'the simulated transport never reports an ordinary message it could not hand on (link cut, receiver down or its inbox full, link full): the leader streams appends to a follower it cannot reach',
    file: 'sim/simulation.ts',
    find: '      if (refused || this.network.stats.droppedFull !== full) this.reportUnreachable(from, to);',
    replace: '      if (refused || this.network.stats.droppedFull !== full) return;',
    scenarios: ['etcd-partitions', ...etcdFamily],
    // caught on 10 of seeds 0-9 of etcd-partitions by the unreachable check (properties/raft/unreachableProbed.ts)
    caughtAt: { scenario: 'etcd-partitions', seed: 0, violation: 'unreachable not probed' },
  },
  {
    name: 'raft-unreachable-ignored',
    bug: "Raft ignores ReportUnreachable (etcd-io/raft's MsgUnreachable): a follower in StateReplicate stays there, its appends streamed optimistically into a cut link",
    file: 'core/raft/stepLeader.ts',
    find: "  if (progress.state === 'replicate') progress.becomeProbe();\n  raft.logger?.debug(`${raft.id} failed to send message to ${id} because it is unreachable",
    replace: '  raft.logger?.debug(`${raft.id} failed to send message to ${id} because it is unreachable',
    scenarios: ['etcd-partitions', ...etcdFamily],
    // caught on 10 of seeds 0-9 of etcd-partitions; before simnet no run could tell it (reportUnreachable came only after a
    // failed snapshot, its follower in StateSnapshot): main's etcd-partitions 0, etcd-snapshot-loss 1, etcd-crashes 0 kept their traces
    caughtAt: { scenario: 'etcd-partitions', seed: 0, violation: 'unreachable not probed' },
  },
  // Session 19 (simslice): a compaction's index compacted in slices; the key bucket's removals must
  // wait for the whole keep set.
  {
    name: 'etcd-compaction-removes-before-index-whole',
    bug: "the index compaction's first slice is taken for the whole: the key bucket's removals start with a keep set that lacks every key after that slice, and remove revisions the index still points at",
    file: 'core/mvcc/compaction.ts',
    find: '    job.indexFrom = this.state.index.compactKeys(job.revision, job.indexFrom!, this.indexSliceKeys, job.keep);',
    replace: '    this.state.index.compactKeys(job.revision, job.indexFrom!, this.indexSliceKeys, job.keep);\n    job.indexFrom = null;',
    scenarios: ['etcd-compaction-slices'],
    // caught on each of seeds 0-5 of etcd-compaction-slices (session 19), by the index pointing at a removed revision; the
    // other scenarios never slice (10,000 keys a slice, more than any simulated store)
    caughtAt: { scenario: 'etcd-compaction-slices', seed: 0, violation: 'which the key bucket lacks' },
  },
  // Issue 10 (simcheck): a range delete applied in slices keeps its write transaction open across
  // turns; what it has written so far must reach neither a read at the current revision nor the disk.
  {
    name: 'etcd-read-sees-open-delete',
    bug: "a read at the current revision sees the open range delete's slices so far, under the header of the revision before the delete (a half-applied delete served as the keyspace at that revision)",
    file: 'core/mvcc/kvStore.ts',
    find: 'private readonly readView: ReadView = { range: (key, end, options) => this.state.rangeKeys(key, end, this.state.currentRevision, options) };',
    replace:
      'private readonly readView: ReadView = { range: (key, end, options) => { const read = this.state.rangeKeys(key, end, this.state.currentRevision + (options.revision <= 0 && this.state.backend.writeTxnOpen ? 1 : 0), options); return isEtcdError(read) ? read : { ...read, revision: this.state.currentRevision }; } };',
    scenarios: ['etcd-delete-turns'],
    // caught on 10 of seeds 0-9 by checkBetweenSlices; with that check off, by the history check on 10 of
    // seeds 0-9 since the scenario's serializable readers of the deleted keys (2 of 10 before them: 6 and 7).
    // Session 18: 10 of 10 still with their serializable txns (the history check alone not measured again)
    caughtAt: { scenario: 'etcd-delete-turns', seed: 0, violation: 'a read sees a half-applied delete' },
  },
  {
    name: 'etcd-commit-inside-open-delete',
    bug: "the periodic backend commit runs between the slices of a range delete, inside its open write transaction (the backend's assertion against it removed): the commit's image holds the open revision's array, which the later slices complete in place",
    file: 'core/server/etcdServer.ts',
    find: '    if (this.ticks % this.config.backendBatchIntervalTicks !== 0 || this.slicedApply !== null) return;',
    replace: '    if (this.ticks % this.config.backendBatchIntervalTicks !== 0) return;',
    also: [{ file: 'core/mvcc/backend.ts', find: "    assert(!this.inWriteTxn, 'a commit inside a write transaction would hold part of it');\n", replace: '' }],
    scenarios: ['etcd-delete-turns'],
    // caught at the edit on 6 of seeds 0-9 (0, 2, 4, 6, 7, 9; the others commit nothing between slices); 0 of 10
    // before the simulated disk froze what it holds (the durable image ended whole, as no real disk's would).
    // Session 18 (simfix): the delete-readers' serializable txns changed the runs: 7 of 10 (0, 2, 4-8), the same
    // with the freezer walking a leaf's values once (every trace hash of seeds 0-9 identical with and without)
    // Session 19 (heap): a revision's lone change is kept without an array, and a second change makes a new
    // array: only a commit between a delete's second and third slices leaves an array the next slice edits.
    // Caught on 3 of seeds 0-19 (7, 12, 16) that way. WholeRevisions (properties/etcd) now checks the consequence
    // itself: a durable backend commit holding fewer changes of its highest revision than the apply made there.
    // Caught on 11 of seeds 0-19 (0, 2, 5-7, 12, 13, 15, 16, 18, 19).
    caughtAt: { scenario: 'etcd-delete-turns', seed: 0, violation: "a commit made inside that revision's apply" },
  },
  {
    name: 'host-answers-before-db-caught-up',
    bug: "the host loop delivers an answer that promises the member's own writes (a Defragment, a physical Compact) once its Ready is synced, without waiting for db writes the store let lag that sync (a rewrite in the making): the answer comes before the defragmented file is durable",
    file: 'core/host/hostLoop.ts',
    find: 'if (reply.promisesWrites === true && this.ports.store.caughtUp !== undefined) {',
    replace: 'if (false && reply.promisesWrites === true && this.ports.store.caughtUp !== undefined) {',
    scenarios: ['etcd-db-lag'],
    // caught on each of seeds 0-5 (session 18, task durable); the etcd runs without a lagging disk never see it
    caughtAt: { scenario: 'etcd-db-lag', seed: 0, violation: 'before its rewritten backend file was durable' },
  },
  {
    // What main did until session 18 (task durable): the answer's Ready synced only when Raft had
    // something to sync, and a physical compaction is answered from a tick's Ready.
    name: 'etcd-physical-compact-answered-unsynced',
    bug: "a physical Compact's answer does not ask its Ready to sync (etcd's ForceCommit is an fsync): it leaves before the commit that finishes the compaction is durable, and a crash would resume the compaction",
    file: 'core/server/etcdServer.ts',
    find: '    this.syncNextReady();\n    this.replies.push({ client: waiter.client, id: waiter.id, reply, beforeSync: false, promisesWrites: true });',
    replace: "    if (waiter.request.method === 'Defragment') this.syncNextReady();\n    this.replies.push({ client: waiter.client, id: waiter.id, reply, beforeSync: false, promisesWrites: true });",
    scenarios: ['etcd-calm', ...etcdFamily],
    // caught on etcd-calm seed 0 at 3.35 s, its first physical compaction's answer
    caughtAt: { scenario: 'etcd-calm', seed: 0, violation: "answered before the compaction's commit was durable" },
  },
  // Session 18 (simfix): a byte array cannot be frozen; the simulation checks those written lately after every event.
  {
    name: 'etcd-entry-bytes-shared-scratch',
    bug: "an entry's bytes are a view of the encoder's shared scratch buffer, not a copy: the next request encoded overwrites the bytes of entries already written to the WAL",
    file: 'core/server/internalRequest.ts',
    find: '  return writer.copy();\n',
    replace: '  return writer.written();\n',
    scenarios: ['etcd-calm', ...etcdFamily],
    // caught on 10 of seeds 0-9 of etcd-calm: 7 at the event that edits (the array's ends changed), seeds 5 and 9 when
    // the array is read whole at 16 events of age, seed 6 within 32 events of the edit; 0 of 10 before the byte arrays
    // were checked after every event (etcd-calm never restarts: no read checked them). Since session 18 (memo: each
    // member decodes with its own memo) a follower decoding the overwritten bytes fails first at seed 0 (a DecodeError
    // of trailing bytes), before the freezer sees the edit: seeds 0-5 all caught so, at 1.0-1.5 simulated s.
    caughtAt: { scenario: 'etcd-calm', seed: 0, violation: 'trailing bytes' },
  },
  {
    name: 'etcd-entry-decoded-wrong',
    bug: "a decoded put's value gains a byte: every member that decodes an entry (a follower, a restarted member replaying its WAL) applies another value than its proposer, which applies its own request from its memo",
    file: 'core/server/internalRequest.ts',
    find: '  if (data[0] === binaryFormat) return decodeValue(body);\n',
    replace: "  if (data[0] === binaryFormat) { const v = decodeValue(body) as { op?: { kind?: string; request?: { value?: string } } }; if (v.op?.kind === 'put' && typeof v.op.request?.value === 'string') v.op.request.value += 'x'; return v; }\n",
    scenarios: ['etcd-crashes', ...etcdFamily],
    // Session 18 (memo): survived every run while the decode memo was module-level (in the simulator an entry's bytes are
    // one object shared by every member and the disk: nothing was ever decoded); caught on seeds 0 and 3 of etcd-crashes since.
    caughtAt: { scenario: 'etcd-crashes', seed: 0, violation: 'answered the put at index 7 with' }, // the apply check (session 20, shadow) fires first: the decoding member's change differs from the proposer's
  },
  // Session 18 (slab2): values of 64 bytes or more live in slabs; only etcd-large-values writes them (and relocates them).
  {
    name: 'etcd-slab-relocation-short-copy',
    bug: "compaction's relocation of a sparse slab's survivors copies one byte short of each value (the region's end taken as offset + length - 1): the relocated KeyValue serves its value truncated",
    file: 'core/mvcc/valueSlabs.ts',
    find: 'kv.slab.subarray(kv.offset, kv.offset + kv.length));',
    replace: 'kv.slab.subarray(kv.offset, kv.offset + kv.length - 1));',
    scenarios: ['etcd-large-values', ...etcdFamily],
    // caught on 8 of seeds 0-9 of etcd-large-values, every seed that relocates (0 and 9 relocate nothing): members
    // disagree on HashKV (the periodic check), or one applies a compare-on-value txn to a different effect (seeds 1, 2, 8);
    // no other etcd scenario writes a value of 64 bytes or more. Session 19 (slabs: an allocator per member): 10 of 10
    // (every seed relocates now), seed 1 the same violation
    caughtAt: { scenario: 'etcd-large-values', seed: 1, violation: "which the model's keyspace there does not give" }, // the apply check (session 20, shadow) fires first: a range served the truncated value
  },
  {
    name: 'etcd-put-prevkv-spread-copy',
    bug: "a put's prevKv is a spread copy (`{ ...previous }`) of the stored KeyValue: one whose value is in a slab has it as a prototype getter, which a spread does not copy, so the answer's previous value is missing",
    file: 'core/mvcc/applyWrite.ts',
    find: '{ header, prevKv: previous } : { header };',
    replace: '{ header, prevKv: { ...previous } } : { header };',
    scenarios: ['etcd-large-values', ...etcdFamily],
    // caught on 9 of seeds 0-9 of etcd-large-values (seed 9 makes 92 calls) by ReplyChecks at the answer; 0 of seeds 0-2
    // before that check: the history check reads a KeyValue without a value as one whose value was not shown
    caughtAt: { scenario: 'etcd-large-values', seed: 0, violation: "that has no value: a copy that lost a slab value's getter" },
  },
  // Session 19 (simslice): the history check reads any missing KeyValue field as one not shown.
  {
    name: 'etcd-put-prevkv-without-version',
    bug: "a put's prevKv is a hand-made copy of the stored KeyValue that forgets its version: the answer's previous key has no version",
    file: 'core/mvcc/applyWrite.ts',
    find: '{ header, prevKv: previous } : { header };',
    replace: '{ header, prevKv: { key: previous.key, createRevision: previous.createRevision, modRevision: previous.modRevision, value: previous.value, lease: previous.lease } } : { header };',
    scenarios: ['etcd-standard', ...etcdFamily],
    // caught on etcd-standard seed 0 by ReplyChecks at the answer; before that check it survived seeds 0-2 of
    // etcd-standard, etcd-calm and etcd-swarm (the history check reads a KeyValue without a version as one whose version was not shown)
    caughtAt: { scenario: 'etcd-standard', seed: 0, violation: 'that has no version' },
  },
  // Session 19 (watchwhole): watch events are judged against the members' own events (the event ledger), which the same
  // code makes, so a field both lack compared equal. A put's prev_kv made without its version is caught on main too, at
  // etcd-watch seed 0 by a catch-up's prev_kv read whole from the store (at 8.6 s, as "prev_kv "k/d"@60="c1.28" instead of
  // "k/d"@60="c1.28""; by the ledger at 1.17 s now); a DELETE's kv, the stored tombstone itself, reads the same both ways.
  {
    name: 'etcd-watch-delete-event-without-lease',
    bug: "a delete's tombstone is made by hand without its lease (etcd's KeyValue{Key, ModRevision}, whose zeros proto3 leaves off the wire): every DELETE event a watcher is sent carries a KeyValue without a lease",
    file: 'core/mvcc/writeTxn.ts',
    find: "    const tombstone: KeyValue = { key, createRevision: 0, modRevision: main, version: 0, value: '', lease: 0 };",
    replace: "    const tombstone = { key, createRevision: 0, modRevision: main, version: 0, value: '' } as KeyValue;",
    scenarios: ['etcd-watch', 'etcd-watch-catchup', 'etcd-delete-turns'],
    // survives main (112f94e) on seed 0 of etcd-watch and etcd-delete-turns; caught on etcd-watch seed 0
    // by the event ledger at the first delete applied (revision 6, 1.04 s)
    caughtAt: { scenario: 'etcd-watch', seed: 0, violation: 'carries a KeyValue of "h/head" (mod revision 6) that has no lease' },
  },
  // Session 19 (sweep): ids are reserved in blocks of 65,536, so only the first ids of an incarnation can leave
  // before their block is durable; nothing judged it until RequestIdsDurable (survived 5 seeds of etcd-pipelined,
  // etcd-crashes and etcd-swarm without it). Caught since at seed 0 of etcd-swarm (the plain host loop) and of etcd-pipelined.
  {
    name: 'etcd-request-id-unsynced',
    bug: 'a Ready that hands out a request id of a reservation not yet durable is not made to sync: the id leaves the member (in a proposal, a ReadIndex context) before its reservation, and a crash then hands it out again',
    file: 'core/server/requestIds.ts',
    find: '    return this.syncDue;\n',
    replace: '    return false;\n',
    scenarios: ['etcd-swarm', 'etcd-pipelined', ...etcdFamily],
    caughtAt: { scenario: 'etcd-swarm', seed: 0, violation: 'while its durable reservation covers ids below' },
  },
  // Session 19 (heap): a key's generations are one flat list of numbers and the key index keeps where the last one starts.
  {
    name: 'etcd-key-index-last-generation-misplaced',
    bug: "compaction that trims the front of a key's last generation moves where the key index thinks that generation starts by what it cut (the bookkeeping for a generation after the trimmed one): the key's last revision and liveness are read from the wrong numbers",
    file: 'core/mvcc/keyIndex.ts',
    find: '    this.last = this.last === at ? 0 : this.last - (list.length - kept.length);',
    replace: '    this.last -= list.length - kept.length;',
    scenarios: ['etcd-kubernetes', 'etcd-compaction', ...etcdFamily],
    // caught on 4 of seeds 0-4 of etcd-kubernetes (all but 3) by the range's assertion at the first read of such a key
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: 'which the key bucket lacks' },
  },
];
