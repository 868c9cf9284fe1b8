import type { Mutation } from './catalogue.ts';

/**
 * Session 20 (task hunt): bugs nobody planted — line-level slips a human changing the consensus,
 * MVCC, lease or watch code would plausibly write next, in classes the older catalogue left
 * uncovered (storage compaction, the quorum size, a snapshot's
 * ConfState, a range's count / more / header, a txn compare's target, a sliced delete's count,
 * lease attachment, watch filters with prev_kv). `caughtAt` is the first run `detcd-sim mutants`
 * found; the comment after it gives the catch rate over seeds 0-19 of that scenario
 * (`detcd-sim sweep --mutant M --scenario S --seeds 20`).
 *
 * Two slips of the unstable → stable handoff were tried and left out of the catalogue: the
 * simulation cannot catch them, and the unit tests beside the code do (core/raft/unstable.test.ts:
 * "stableTo ignores an entry that was replaced meanwhile (ABA guard)" and "truncating below the
 * in-progress point hands the replacement out again"). Hunted over seeds 0-7 of raft-pipelined-churn,
 * raft-pipelined-crashes, raft-pipelined and etcd-pipelined (32 runs each, with infection counts):
 *
 * - stableTo by index alone (unstable.ts, `|| found !== term` dropped): latent — executed in 32 runs,
 *   changed none. Raft.onPersisted already drops a storage ack of an earlier term, and within one
 *   term a leader never replaces what it sent; only entries of an older term handed out after the
 *   node's term moved (while another Ready synced) and then cut by the new leader reach it.
 * - the cut of an unstable tail keeping the in-progress mark (`offsetInProgress = Math.min(…)`
 *   dropped): unreached — no run cut a follower's unstable tail past its stable part.
 *
 * Session 20 (task unstable): `Unstable.counts` measure both paths (coverage counts
 * unstableCutsInFlight, unstableMidTailCuts, staleStorageAcks): cuts of a write in flight are
 * common (required in raft-pipelined-churn), but all from the stable part on; the two paths the
 * slips live on stayed at 0. raftSafety's checkAckMatchesLeader is the check that would catch
 * either once reached (a follower acknowledging an index it holds in another term than its leader).
 *
 * Session 21 (task unreached): both are reached and catalogued below. A disk that stalls past an
 * election timeout (the 'disk-stall' fault class) holds a follower's write in flight while the
 * cluster moves on: raft-disk-stalls and raft-disk-stalls-one-way cut it past its stable part (14 and
 * 19 of seeds 0-47), and the one-way variant also acks to storage entries a new leader replaced in
 * its term (3 of 48). checkAckMatchesLeader catches both slips there (the stale ack each time).
 * Session 22 (task etcdstall): a stall now holds the sync already in flight too, as a hung disk
 * does, which made both paths rarer (past the stable part 3 and 8 of 48, a stale ack 1 of 48): the
 * write held is the one begun before the stall, and what arrives meanwhile waits in the unstable
 * log instead of riding in a write that outlives the election.
 */
export const huntMutations: readonly Mutation[] = [
  // --- Raft: storage compaction, the quorum, a snapshot's ConfState --------------------------------
  {
    name: 'storage-compact-keeps-compact-index',
    bug: 'log compaction after a snapshot keeps the entry at the compaction index after the new dummy entry (slice from the index, not the index + 1): every later index is read one entry off',
    file: 'core/raft/memoryStorage.ts',
    find: '...this.log.slice(compactIndex - offset + 1)]',
    replace: '...this.log.slice(compactIndex - offset)]',
    scenarios: ['etcd-snapshot-catchup', 'etcd-crashes', 'raft-crashes', 'raft-swarm'],
    // caught on 20 of seeds 0-19 of etcd-snapshot-catchup, by the unstable log's bounds assertion at the first read past the compaction
    caughtAt: { scenario: 'etcd-snapshot-catchup', seed: 0, violation: 'out of bound' },
    realistic: true,
  },
  {
    name: 'quorum-ceil-half',
    bug: 'a majority is taken as ceil(n/2) voters, not floor(n/2)+1: with an even number of voters (a fourth member added) half of them commit an entry',
    file: 'core/raft/majorityConfig.ts',
    find: '    return sorted[n - (Math.floor(n / 2) + 1)]!;',
    replace: '    return sorted[n - Math.ceil(n / 2)]!;',
    scenarios: ['raft-membership', 'raft-membership-admins', 'raft-joint', 'etcd-membership', 'etcd-joint'],
    // caught on 20 of seeds 0-19 of raft-membership by the quorum check (a fourth voter joins in every run)
    caughtAt: { scenario: 'raft-membership', seed: 0, violation: 'it is not durable on a quorum' },
    realistic: true,
  },
  {
    name: 'etcd-snapshot-stale-conf-state',
    bug: "a conf change applied by the server switches Raft's configuration but the server keeps its ConfState from before: the snapshots it makes carry a stale ConfState (a removed member still in it, an added one missing)",
    file: 'core/server/confChangeApply.ts',
    find: '    confState = server.raft.applyConfChange(change);\n    server.confState = confState;\n',
    replace: '    server.raft.applyConfChange(change);\n',
    scenarios: ['etcd-membership', 'etcd-joint', 'etcd-snapshot-catchup'],
    // caught on 20 of seeds 0-19 of etcd-membership by assertConfStateIsRafts at the apply; before it, by liveness at the end of seed 0
    caughtAt: { scenario: 'etcd-membership', seed: 0, violation: 'its snapshots would carry a stale membership' },
    realistic: true,
  },
  // --- Raft: the unstable → stable handoff (session 21, task unreached) ---------------------------
  {
    name: 'unstable-cut-keeps-in-progress',
    bug: "a new leader's entries that cut an unstable tail past its stable part leave the in-progress mark where it was: the replacement entries below it count as handed out, are never written, and the old write's completion marks the replacement stable",
    file: 'core/raft/unstable.ts',
    find: '      this.offsetInProgress = Math.min(this.offsetInProgress, from);\n',
    replace: '',
    scenarios: ['raft-disk-stalls-one-way', 'raft-disk-stalls', 'etcd-disk-stalls'],
    // caught on 9 of seeds 0-19 of raft-disk-stalls-one-way (5 of 20 of raft-disk-stalls: log matching, the first at seed 4), mostly by checkAckMatchesLeader at the follower's ack;
    // since a stall holds the sync in flight too (session 22): every run with a mid-tail cut, 8 of seeds 0-47 of the one-way scenario (4 by checkAckMatchesLeader, the first at seed 7; seed 0 by commit safety), 3 of 48 of raft-disk-stalls
    // etcd-disk-stalls (session 22): 2 of seeds 0-19 (16, 17), the only etcd scenario that cuts a write past its stable part
    caughtAt: { scenario: 'raft-disk-stalls-one-way', seed: 7, violation: 'ack matches leader' },
    realistic: true,
  },
  {
    name: 'unstable-stable-to-by-index',
    bug: "a storage ack marks the unstable log stable up to its index without comparing the entry's term there: a write that a new leader's entries replaced while it was in flight marks the replacement stable, which is never written",
    file: 'core/raft/unstable.ts',
    find: '    if (found !== term) {\n      this.counts.staleAcks++;\n      return;\n    }\n',
    replace: '    if (found !== term) this.counts.staleAcks++;\n',
    scenarios: ['raft-disk-stalls-one-way', 'raft-disk-stalls'],
    // caught on 2 of seeds 0-19 of raft-disk-stalls-one-way: every run with a stale storage ack (seeds 14 and 17; 3 of seeds 0-47); 0 of 40 of raft-disk-stalls, which has none;
    // since a stall holds the sync in flight too (session 22): still every run with one, now 1 of seeds 0-47 (seed 41); 0 of 48 of raft-disk-stalls
    caughtAt: { scenario: 'raft-disk-stalls-one-way', seed: 41, violation: 'ack matches leader' },
    realistic: true,
  },
  // --- MVCC: a range's count / more / header, a txn compare's target, a sliced delete's count ----
  {
    name: 'etcd-range-more-at-limit',
    bug: "a range's `more` is set when the keys found equal the limit, not only when they exceed it: a page that holds the last keys says more follow",
    file: 'core/mvcc/applyRange.ts',
    find: '  if (requestLimit > 0 && kvs.length > requestLimit) {',
    replace: '  if (requestLimit > 0 && kvs.length >= requestLimit) {',
    scenarios: ['etcd-kubernetes', 'etcd-standard', 'etcd-swarm'],
    // caught on 19 of seeds 0-19 of etcd-kubernetes by ReplyChecks at the answer; before rangeShapeMismatch, by the history check after the run
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: "which the model's keyspace there does not give" }, // the apply check (session 20, shadow) fires first, as the member serves it
    realistic: true,
  },
  {
    name: 'etcd-range-count-after-limit',
    bug: "a range's `count` is the number of keys read (the limit + 1 fetched), not of every key in range: a limited range under-counts",
    file: 'core/mvcc/mvccState.ts',
    find: '    return { kvs, count, revision: viewRevision };',
    replace: '    return { kvs, count: limit, revision: viewRevision };',
    scenarios: ['etcd-kubernetes', 'etcd-standard', 'etcd-swarm'],
    // caught on 20 of seeds 0-19 of etcd-kubernetes by the apply check as the member serves the range (properties/etcd/applyReference.ts, the model's keyspace at the revision read); before, by the history check after the run
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: "which the model's keyspace there does not give" },
    realistic: true,
  },
  {
    name: 'etcd-range-header-at-read-revision',
    bug: "a range at a past revision answers with that revision in its header, not the store's current revision (etcd's header is always the current one)",
    file: 'core/mvcc/applyRange.ts',
    find: '  return { header: revisionHeader(result.revision), kvs, more, count: result.count };',
    replace: '  return { header: revisionHeader(request.revision !== undefined && request.revision > 0 ? request.revision : result.revision), kvs, more, count: result.count };',
    scenarios: ['etcd-kubernetes', 'etcd-standard', 'etcd-swarm'],
    // caught on 19 of seeds 0-19 of etcd-kubernetes (its paged lists read at a revision) by ReplyChecks at the answer; before, by the history check after the run
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: 'served a Range at header revision 10 from its store at revision 13' }, // the apply check (session 20, shadow) fires first, as the member serves it
    realistic: true,
  },
  {
    name: 'etcd-txn-compare-version-reads-mod',
    bug: "a txn compare on VERSION compares the key's mod revision (a copy-paste of the MOD case): compares of version 0 still pass (both are 0 for a missing key), any other version compare goes wrong",
    file: 'core/mvcc/applyTxn.ts',
    find: '      result = Math.sign(kv.version - (compare.version ?? 0));',
    replace: '      result = Math.sign(kv.modRevision - (compare.version ?? 0));',
    scenarios: ['etcd-kubernetes', 'etcd-standard', 'etcd-swarm'],
    // caught on 19 of seeds 0-19 of etcd-kubernetes (its updates compare a version) by the apply check at the txn's apply (applyReference.ts); before, by the history check after the run
    caughtAt: { scenario: 'etcd-kubernetes', seed: 0, violation: 'the first to apply index 79 (a txn), answered' },
    realistic: true,
  },
  {
    name: 'etcd-sliced-delete-counts-last-slice',
    bug: "a DeleteRange applied in slices answers `deleted` with the last slice's count, not the sum of its slices",
    file: 'core/mvcc/applyWrite.ts',
    find: '    this.deleted += deleted;',
    replace: '    this.deleted = deleted;',
    scenarios: ['etcd-delete-turns'],
    // caught on 20 of seeds 0-19 of etcd-delete-turns by the apply check at the delete's apply (applyReference.ts); before, by the history check after the run
    caughtAt: { scenario: 'etcd-delete-turns', seed: 0, violation: 'the first to apply index 19 (a deleteRange), answered' },
    realistic: true,
  },
  // --- Leases ----------------------------------------------------------------------------------
  {
    name: 'lease-put-without-lease-keeps-attachment',
    bug: "a put without a lease is taken as leaving the key's lease alone (as if ignore_lease): the key stays attached to its old lease, and that lease's revoke deletes a key no longer on it",
    file: 'core/lease/lessor.ts',
    find: '      if (previous === next) continue;\n      if (previous !== 0) this.detach(previous, key);',
    replace: "      if (previous === next || (event.type === 'PUT' && next === 0)) continue;\n      if (previous !== 0) this.detach(previous, key);",
    scenarios: ['etcd-lease-moves', 'etcd-lease', 'etcd-lease-swarm', 'etcd-lock-fenced'],
    // caught on 13 of seeds 0-19 of etcd-lease-moves by the lease attachment check at the apply (the others move no attached key off its lease); unreached by the other lease scenarios, whose keys never leave their lease; etcd-lock 'caught' it only by its expected violation
    caughtAt: { scenario: 'etcd-lease-moves', seed: 0, violation: 'the lessor attaches it to lease' },
    realistic: true,
  },
  // --- Lease checkpoints (etcd #9924's mechanism, #13491 / #13508's bugs; session 20, task leasecp) ---
  {
    name: 'lease-promote-ignores-checkpoint',
    bug: "a new primary runs every lease from its full TTL, not from its checkpointed remaining TTL (refresh as on a renewal): every leader change restarts every lease, as without checkpoints (etcd #9888)",
    file: 'core/lease/lessor.ts',
    find: '      lease.refresh(now, extendTicks, this.options.ticksPerSecond);\n      this.scheduleCheckpoint(lease, now);',
    replace: '      lease.refresh(now, extendTicks, this.options.ticksPerSecond, true);\n      this.scheduleCheckpoint(lease, now);',
    scenarios: ['etcd-lease-checkpoints'],
    // caught on 20 of seeds 0-19 of etcd-lease-checkpoints by LeaseExpiryBound at the promotion (expiry past the tick + an election timeout + the last checkpointed remaining TTL)
    // Session 21 (task leasettl: lease-long clients, the cover and restart checks): still 20 of seeds 0-19, all at the promotion
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 0, violation: 'the remaining TTL of the checkpoint applied at index' },
    realistic: true,
  },
  {
    name: 'lease-promote-stops-checkpoint-schedule',
    bug: 'a new primary does not schedule its leases\' checkpoints (etcd #13491, first half): checkpoints stop after the first leader change, and every later one runs leases from a stale remaining TTL',
    file: 'core/lease/lessor.ts',
    find: '      lease.refresh(now, extendTicks, this.options.ticksPerSecond);\n      this.scheduleCheckpoint(lease, now);',
    replace: '      lease.refresh(now, extendTicks, this.options.ticksPerSecond);',
    scenarios: ['etcd-lease-checkpoints'],
    // caught on 20 of seeds 0-19 of etcd-lease-checkpoints by LeaseExpiryBound's scheduling check at the promotion (session 21: still 20)
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 0, violation: 'has no checkpoint scheduled' },
    realistic: true,
  },
  {
    name: 'lease-checkpoint-not-persisted',
    bug: 'an applied checkpoint changes the lease in memory but does not mark the lessor dirty: unless the same batch changes another lease, the bucket keeps the old remaining TTL, and a restarted member that leads runs the lease from it (etcd #13491, second half)',
    file: 'core/lease/lessor.ts',
    find: '      lease.remainingTTL = remainingTTL;\n      this.dirty = true;',
    replace: '      lease.remainingTTL = remainingTTL;',
    scenarios: ['etcd-lease-checkpoints'],
    // caught on 2 of seeds 0-19 of etcd-lease-checkpoints (14, 18) by LeaseExpiryBound at a restarted member's promotion: only a batch whose one lease change is the checkpoint loses it.
    // Session 20 (task renew: keep-alives of checkpointed leases wait for their clear): 1 of seeds 0-19 (18), 3 of 0-39 (18; 24 and 32 by the scheduling check); re-pinned from 14 to 18
    // Session 21 (task leasettl): 16 of seeds 0-19, all by LeaseExpiryBound's restart check (a restarted member's remaining TTLs against the log's checkpoints at its applied index); re-pinned to seed 0
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 0, violation: 'restarted at applied index' },
    realistic: true,
  },
  {
    name: 'lease-restore-drops-checkpoint',
    bug: "a member opening its backend (a restart, a snapshot) reads each lease's id and TTL but not its checkpointed remaining TTL (etcd 3.4 did not persist it, #13491): a restarted leader runs leases from their full TTL",
    file: 'core/lease/lessor.ts',
    find: 'lessor.leases.set(id, new Lease(id, ttl, remainingTTL));',
    replace: 'lessor.leases.set(id, new Lease(id, ttl, 0));',
    scenarios: ['etcd-lease-checkpoints'],
    // caught on 7 of seeds 0-19 of etcd-lease-checkpoints by LeaseExpiryBound at a restarted member's promotion (the others restart no member that then leads while a lease is checkpointed)
    // Session 21 (task leasettl): 18 of seeds 0-19, all at the restart itself (LeaseExpiryBound's restart check), no promotion needed
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 0, violation: 'restarted at applied index' },
    realistic: true,
  },
  {
    name: 'lease-install-drops-checkpoint',
    bug: "a member installing a snapshot rebuilds its lessor without the checkpointed remaining TTLs (a restart keeps them): if it leads next, it runs those leases from their full TTL",
    file: 'core/server/applyEntries.ts',
    find: '  server.state = StateMachine.fromSnapshot(image, server.stateOptions);\n',
    replace: '  server.state = StateMachine.fromSnapshot(image, server.stateOptions);\n  for (const lease of server.state.lessor.list()) lease.remainingTTL = 0;\n',
    scenarios: ['etcd-lease-checkpoints'],
    // Session 22 (task leasebound): caught on 5 of seeds 0-19 (12 of 0-29) of etcd-lease-checkpoints by LeaseExpiryBound's restart check run at the install (the others install no snapshot while a lease is checkpointed)
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 5, violation: 'installed a snapshot at applied index' },
    realistic: true,
  },
  {
    name: 'lease-checkpoint-wrong-lease',
    bug: "an applied batch of checkpoints gives every lease in it the first one's remaining TTL (the batch's first ID looked up in the loop)",
    file: 'core/lease/lessor.ts',
    find: '    for (const { ID, remainingTTL } of checkpoints) {\n      const lease = this.leases.get(ID);',
    replace: '    for (const { remainingTTL } of checkpoints) {\n      const lease = this.leases.get(checkpoints[0]!.ID);',
    scenarios: ['etcd-lease-checkpoints'],
    // caught on 19 of seeds 0-19 of etcd-lease-checkpoints by LeaseExpiryBound: on the primary, a lease of the batch left unscheduled (15), or a promotion running a lease past its own checkpoint (4)
    // Session 21 (task leasettl): 19 of seeds 0-19 (17 unscheduled, 2 at a promotion)
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 0, violation: 'has no checkpoint scheduled' },
    realistic: true,
  },
  {
    name: 'lease-renew-keeps-checkpoint',
    bug: "a renewal of a checkpointed lease does not propose the checkpoint of 0 that clears its remaining TTL: the next primary runs the renewed lease from the stale checkpoint, and it expires before the TTL the keep-alive promised",
    file: 'core/lease/lessor.ts',
    find: 'const checkpointCleared = lease.remainingTTL > 0 || (inFlight !== undefined && now < inFlight.proposedAt + interval);',
    replace: 'const checkpointCleared = false;',
    scenarios: ['etcd-lease-checkpoints'],
    // caught on 1 of seeds 0-19 of etcd-lease-checkpoints (seed 1) by leaseChecks' true-time check (an expiry EARLIER than the keep-alive's TTL): only a renewed lease that the next leader then lets lapse shows it
    // Session 21 (task leasettl): 14 of seeds 0-19, all by leaseChecks' cover check at the acknowledged keep-alive (a primary promoted then would run the lease from the stale checkpoint); re-pinned to seed 0
    // Session 22 (task leasebound): 20 of seeds 0-19, all by LeaseExpiryBound at the renewal itself (the log's last checkpoint of the lease at the renewal's index is not 0); the 6 the cover check missed renewed over a checkpoint within an election timeout of the TTL
    caughtAt: { scenario: 'etcd-lease-checkpoints', seed: 0, violation: 'over its checkpoint' },
    realistic: true,
  },
  {
    name: 'lease-renew-ignores-inflight-checkpoint',
    bug: "a renewal clears only an applied remaining TTL (etcd 3.4.23's Renew: le.cp when l.remainingTTL > 0), not the primary's own checkpoint of the lease still on its way: that checkpoint, computed before the renewal, applies after it, and the next primary runs the renewed lease from it",
    file: 'core/lease/lessor.ts',
    find: '    const inFlight = this.checkpointsInFlight.get(id);\n    const checkpointCleared = lease.remainingTTL > 0 || (inFlight !== undefined && now < inFlight.proposedAt + interval);',
    replace: '    const checkpointCleared = lease.remainingTTL > 0;',
    scenarios: ['etcd-lease-checkpoint-race', 'etcd-lease-checkpoints'],
    // Session 23 (task leaselog): caught at the renewal by StaleCheckpoints in 6 of seeds 0-19 of etcd-lease-checkpoints (3, 4, 9, 10, 11, 15:
    // the seeds that reach the race, leaseClearsOverCheckpoints) and 19 of etcd-lease-checkpoint-race (slow disks: all but 12); 0 of
    // etcd-lease-checkpoints' before (main 47ac44f's checks saw only the consequence: 5 of seeds 20-79)
    caughtAt: { scenario: 'etcd-lease-checkpoint-race', seed: 0, violation: 'while its own checkpoint of it' },
    realistic: true,
  },
  // --- Watches ---------------------------------------------------------------------------------
  {
    name: 'watch-filters-swapped',
    bug: 'a watch filter drops the other event type (NOPUT drops DELETEs, NODELETE drops PUTs)',
    file: 'core/watch/watcher.ts',
    find: "filters.includes(event.type === 'PUT' ? 'NOPUT' : 'NODELETE')",
    replace: "filters.includes(event.type === 'PUT' ? 'NODELETE' : 'NOPUT')",
    scenarios: ['etcd-watch', 'etcd-watch-catchup'],
    // caught on 20 of seeds 0-19 of etcd-watch by the watch checks at the response
    caughtAt: { scenario: 'etcd-watch', seed: 0, violation: 'differs from what the members applied' },
    realistic: true,
  },
  {
    name: 'watch-filtered-loses-prev-kv',
    bug: 'a watch with a filter is sent its events without prev_kv even when it asked for prev_kv (the stripped copy made for every filtered watch)',
    file: 'core/watch/watcher.ts',
    find: '    if (this.spec.prevKv || event.prevKv === undefined) return event;',
    replace: '    if ((this.spec.prevKv && filters.length === 0) || event.prevKv === undefined) return event;',
    scenarios: ['etcd-watch', 'etcd-watch-catchup'],
    // caught on 19 of seeds 0-19 of etcd-watch by the watch checks at the response (its t/ watch asks prev_kv with NODELETE)
    caughtAt: { scenario: 'etcd-watch', seed: 0, violation: 'prev_kv none instead of' },
    realistic: true,
  },
];
