import { ErrLeaseNotFound, ErrMemberNotFound, ErrNoSpace, isEtcdError, type AlarmRequest, type AlarmResponse, type EtcdError, type Event, revisionHeader } from '../api/index.ts';
import { AssertionError, assert } from '../base/assert.ts';
import type { NodeId } from '../host/node.ts';
import { Lessor, type LessorOptions } from '../lease/index.ts';
import { Backend, KvStore, type BackendImage, type BackendOptions, type DeleteRangeJob, type RestoredIndex } from '../mvcc/index.ts';
import { Alarms, costPut, costTxn, quotaAvailable } from './alarms.ts';
import { AppliedRequests } from './appliedRequests.ts';
import type { InternalOp } from './internalRequest.ts';
import { Membership } from './membership.ts';

/** What applying one op produced: etcd's response or error, and the changes it made. */
export interface ApplyOutcome {
  readonly response: unknown;
  readonly error: EtcdError | null;
  readonly events: readonly Event[];
  /**
   * The write was applied but the backend is past its quota (etcd's quotaApplierV3: the write
   * stays, the client gets NOSPACE, and the member raises the NOSPACE alarm through Raft).
   */
  readonly overQuota: boolean;
}

export interface StateMachineOptions {
  readonly backend: BackendOptions;
  /** Request ids remembered per proposing member, to apply a duplicated entry once (see AppliedRequests). */
  readonly appliedRequestsWindow: number;
  readonly compactionBatchLimit: number;
  /** See KvStoreOptions.compactionIndexSliceKeys. */
  readonly compactionIndexSliceKeys?: number;
  readonly quotaBackendBytes: number;
  readonly lessor: LessorOptions;
  /** The member's tick count: the lessor's clock. */
  readonly now: () => number;
}

const noEvents: readonly Event[] = Object.freeze([]);

/**
 * The replicated state machine of an etcd member: the MVCC store over its backend, the cluster's
 * membership and its alarms, all in one backend so that one batch commits them with the consistent
 * index. Applying is deterministic: members that apply the same entries hold the same state. (Only
 * the quota check reads something member-specific, the backend file's size, and it changes only
 * what the proposer's client is told, as in etcd.)
 *
 * Invariant (checked on every apply): an op moves the revision by exactly what it changed — one
 * main revision if it wrote anything (a txn, however many ops, once), none otherwise — and every
 * change it made carries the new revision.
 */
export class StateMachine {
  readonly backend: Backend;
  readonly kv: KvStore;
  /** Which requests were applied (a duplicated entry applies once). */
  readonly requests: AppliedRequests;
  membership: Membership;
  alarms: Alarms;
  readonly lessor: Lessor;
  private readonly options: StateMachineOptions;

  private constructor(backend: Backend, options: StateMachineOptions, restored: RestoredIndex | null = null) {
    this.backend = backend;
    this.options = options;
    this.requests = AppliedRequests.fromBackend(backend, options.appliedRequestsWindow);
    backend.preCommit = () => {
      this.requests.save(backend);
      // Absent while the store opens (resuming a compaction commits): nothing of it changed yet.
      (this.lessor as Lessor | undefined)?.save(backend);
    };
    this.kv = KvStore.open(backend, { compactionBatchLimit: options.compactionBatchLimit, ...(options.compactionIndexSliceKeys === undefined ? {} : { compactionIndexSliceKeys: options.compactionIndexSliceKeys }), leases: { exists: (id) => this.lessor.exists(id) } }, restored);
    this.lessor = Lessor.open(backend, () => this.kv.leasedKeys(), options.lessor);
    this.membership = Membership.fromBackend(backend);
    this.alarms = Alarms.fromBackend(backend);
  }

  /** The state a backend holds (a new one, or one opened from disk). */
  static open(backend: Backend, options: StateMachineOptions): StateMachine {
    return new StateMachine(backend, options);
  }

  /**
   * The state of a snapshot's backend image; the member's backend file is replaced by it. The key
   * index a host prepared from this very image (`image.prepared`, built in turns of its loop) is
   * adopted; without one (the simulator's images, a small snapshot) it is built here, in one go.
   */
  static fromSnapshot(image: BackendImage, options: StateMachineOptions): StateMachine {
    const restored = image.prepared?.take(image.keys) ?? null;
    return new StateMachine(Backend.fromSnapshot(image, options.backend), options, restored);
  }

  get consistentIndex(): number {
    return this.backend.consistentIndex;
  }

  /** Applies a write entry's op (the consistent index is already set for its entry). */
  apply(op: InternalOp): ApplyOutcome {
    const before = this.kv.revision;
    return this.checked(op.kind, before, this.applyOp(op));
  }

  /**
   * Starts applying a DeleteRange in slices (see DeleteRangeJob): the caller steps the job, writes
   * nothing else meanwhile, and ends it with `finishDeleteRange`, which checks what `apply` checks.
   */
  beginDeleteRange(op: Extract<InternalOp, { kind: 'deleteRange' }>): { readonly job: DeleteRangeJob; readonly before: number } {
    return { job: this.kv.beginDeleteRange(op.request), before: this.kv.revision };
  }

  finishDeleteRange(job: DeleteRangeJob, before: number): ApplyOutcome {
    return this.checked('deleteRange', before, written(job.finish(), true));
  }

  private checked(kind: InternalOp['kind'], before: number, outcome: ApplyOutcome): ApplyOutcome {
    const after = this.kv.revision;
    const expected = outcome.events.length > 0 ? 1 : 0;
    if (after - before !== expected) {
      throw new AssertionError(`applying ${kind} moved the revision from ${before} to ${after}, but it made ${outcome.events.length} changes`);
    }
    for (const event of outcome.events) {
      if (event.kv.modRevision !== after) throw new AssertionError(`applying ${kind} at revision ${after} made a change at revision ${event.kv.modRevision}`);
    }
    if (outcome.events.length > 0) this.lessor.track(outcome.events);
    return outcome;
  }

  private applyOp(op: InternalOp): ApplyOutcome {
    switch (op.kind) {
      case 'put': {
        if (this.alarms.has('NOSPACE')) return refused(ErrNoSpace);
        const fits = this.fits(costPut(op.request));
        return written(this.kv.put(op.request), fits);
      }
      case 'txn': {
        const cost = costTxn(op.request);
        if (cost > 0 && this.alarms.has('NOSPACE')) return refused(ErrNoSpace);
        return written(this.kv.txn(op.request), this.fits(cost));
      }
      case 'deleteRange':
        return written(this.kv.deleteRange(op.request), true);
      case 'compaction': {
        const result = this.kv.compact(op.request);
        return isEtcdError(result) ? refused(result) : answered(result);
      }
      case 'alarm':
        return answered(this.applyAlarm(op.request));
      case 'leaseGrant': {
        const granted = this.lessor.grant(op.ID, op.TTL, this.options.now());
        if (isEtcdError(granted)) return refused(granted);
        return answered({ header: revisionHeader(this.kv.revision), ID: granted.id, TTL: granted.ttl, error: '' });
      }
      case 'leaseRevoke':
        return this.revokeLease(op.ID);
      case 'leaseCheckpoint':
        this.lessor.checkpoint(op.checkpoints, this.options.now());
        return answered({ header: revisionHeader(this.kv.revision) });
      case 'memberUpdate':
      case 'memberAttributes': {
        const changed = membershipAfter(this.membership, op);
        if ('error' in changed) return refused(changed.error);
        this.setMembership(changed.membership);
        return answered({ header: revisionHeader(this.kv.revision), members: this.membership.members });
      }
    }
  }

  /**
   * etcd's lessor.Revoke: every key attached to the lease deleted in one write transaction (one
   * revision, keys in sorted order so that every member writes the same), the lease removed from
   * the bucket in the same batch.
   */
  private revokeLease(id: number): ApplyOutcome {
    const keys = this.lessor.keysOf(id);
    if (keys === null) return refused(ErrLeaseNotFound);
    let events: readonly Event[] = noEvents;
    if (keys.length > 0) {
      const deleted = this.kv.txn({ success: keys.map((key) => ({ requestDeleteRange: { key } })) });
      assert(!isEtcdError(deleted), () => `revoking lease ${id}: deleting its keys failed`);
      events = deleted.events;
      assert(events.length === keys.length, () => `revoking lease ${id} deleted ${events.length} of its ${keys.length} keys`);
      this.lessor.track(events);
    }
    this.lessor.forget(id);
    return { response: { header: revisionHeader(this.kv.revision) }, error: null, events, overQuota: false };
  }

  /** etcd's applierV3backend.Alarm: GET lists, ACTIVATE and DEACTIVATE change the alarm bucket. */
  private applyAlarm(request: AlarmRequest): AlarmResponse {
    const type = request.alarm ?? 'NONE';
    const member = request.memberID ?? 0;
    const header = revisionHeader(this.kv.revision);
    switch (request.action) {
      case 'GET':
        return { header, alarms: this.alarms.get(type) };
      case 'ACTIVATE': {
        const { alarms, added } = this.alarms.activate(member, type);
        this.setAlarms(alarms);
        return { header, alarms: added === null ? [] : [added] };
      }
      case 'DEACTIVATE': {
        const { alarms, removed } = this.alarms.deactivate(member, type);
        this.setAlarms(alarms);
        return { header, alarms: removed === null ? [] : [removed] };
      }
    }
  }

  /** A membership change (applying a conf change or an attribute update), saved with the batch. */
  setMembership(membership: Membership): void {
    if (membership === this.membership) return;
    this.membership = membership;
    membership.save(this.backend);
  }

  private setAlarms(alarms: Alarms): void {
    if (alarms === this.alarms) return;
    this.alarms = alarms;
    alarms.save(this.backend);
  }

  /** Whether a write of `cost` bytes fits the quota (etcd reads the backend's file size). */
  fits(cost: number): boolean {
    return quotaAvailable(this.backend.size, cost, this.options.quotaBackendBytes);
  }

  /** Sets up a first boot's backend: the initial members, at the bootstrap index. */
  bootstrap(members: Membership, index: number, term: number): void {
    this.backend.setConsistentIndex(index, term);
    this.setMembership(members);
    assert(this.kv.revision === 1, 'bootstrapping a store that has data');
  }

  /** Whether a member id is in the cluster (for routing and learner checks). */
  isMember(id: NodeId): boolean {
    return this.membership.member(id) !== undefined;
  }
}

/**
 * The membership after a member update or a published attribute set, checked again as it applies
 * (the member may have been removed since it was proposed). Also what a replay after a restart
 * decides, so it must depend on nothing but the membership and the op.
 */
export function membershipAfter(membership: Membership, op: Extract<InternalOp, { kind: 'memberUpdate' | 'memberAttributes' }>): { membership: Membership } | { error: EtcdError } {
  if (op.kind === 'memberUpdate') {
    const refusal = membership.checkUpdate(op.id, op.peerURLs);
    return refusal !== null ? { error: refusal } : { membership: membership.withPeerURLs(op.id, op.peerURLs) };
  }
  if (membership.member(op.id) === undefined) return { error: ErrMemberNotFound };
  return { membership: membership.withAttributes(op.id, op.name, op.clientURLs) };
}

function refused(error: EtcdError): ApplyOutcome {
  return { response: null, error, events: noEvents, overQuota: false };
}

function answered(response: unknown): ApplyOutcome {
  return { response, error: null, events: noEvents, overQuota: false };
}

function written(result: { readonly response: unknown; readonly events: readonly Event[] } | EtcdError, fits: boolean): ApplyOutcome {
  if (isEtcdError(result)) return refused(result);
  // etcd's quotaApplierV3: the write happened; the client hears NOSPACE.
  return { response: result.response, error: fits ? null : ErrNoSpace, events: result.events, overQuota: !fits };
}
