import {
  ErrMemberExist,
  ErrMemberNotFound,
  ErrMemberNotLearner,
  ErrPeerURLExist,
  ErrTooManyLearners,
  type EtcdError,
  type Member,
} from '../api/index.ts';
import type { NodeId } from '../host/node.ts';
import type { Backend, BackendImage } from '../mvcc/index.ts';

/** etcd's maxLearners (membership/cluster.go): at most one learner at a time. */
export const maxLearners = 1;

const membersBucket = 'members';
const removedBucket = 'members_removed';

/**
 * The cluster's members as the server knows them (etcd's RaftCluster): who is in, with their
 * attributes, and who was removed (a removed id never returns: etcd's ErrIDRemoved). An immutable
 * value: every change makes a new one, saved into the backend's `members` and `members_removed`
 * buckets in the batch of the entry that made it, so it survives restarts and travels in snapshots.
 *
 * Raft's configuration (ConfState) says who votes; this says who the members are. They change
 * together, in the apply of one conf change entry.
 */
export class Membership {
  /** Ascending by id. */
  readonly members: readonly Member[];
  readonly removed: readonly NodeId[];
  private readonly byId: ReadonlyMap<NodeId, Member>;

  private constructor(members: readonly Member[], removed: readonly NodeId[]) {
    this.members = Object.freeze([...members].sort((a, b) => a.ID - b.ID));
    this.removed = Object.freeze([...removed].sort((a, b) => a - b));
    this.byId = new Map(this.members.map((member) => [member.ID, member]));
  }

  static of(members: readonly Member[], removed: readonly NodeId[] = []): Membership {
    return new Membership(members, removed);
  }

  static empty: Membership = new Membership([], []);

  /** The membership as of the backend's consistent index. */
  static fromBackend(backend: Backend): Membership {
    return Membership.fromBuckets((name) => backend.bucket(name));
  }

  /** The membership a backend image holds (a snapshot's). */
  static fromImage(image: BackendImage): Membership {
    return Membership.fromBuckets((name) => image.meta.buckets[name]);
  }

  private static fromBuckets(bucket: (name: string) => unknown): Membership {
    const members = (bucket(membersBucket) as readonly Member[] | undefined) ?? [];
    const removed = (bucket(removedBucket) as readonly NodeId[] | undefined) ?? [];
    return new Membership(members, removed);
  }

  /** Writes this membership into the backend's current batch. */
  save(backend: Backend): void {
    backend.setBucket(membersBucket, this.members);
    backend.setBucket(removedBucket, this.removed);
  }

  member(id: NodeId): Member | undefined {
    return this.byId.get(id);
  }

  isRemoved(id: NodeId): boolean {
    return this.removed.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.byId.get(id)?.isLearner === true;
  }

  get votingMembers(): readonly Member[] {
    return this.members.filter((member) => !member.isLearner);
  }

  get learnerCount(): number {
    return this.members.filter((member) => member.isLearner).length;
  }

  /**
   * etcd's ValidateConfigurationChange for an add: the id is new and was never removed, its peer
   * URLs are nobody's, and a learner stays within maxLearners (counting `alsoAdding` learners of
   * the same request).
   */
  checkAdd(member: Member, alsoAddingLearners = 0): EtcdError | null {
    if (this.isRemoved(member.ID)) return ErrMemberNotFound; // etcd: ErrIDRemoved, answered as member not found
    if (this.byId.has(member.ID)) return ErrMemberExist;
    if (this.peerURLsTaken(member.peerURLs, -1)) return ErrPeerURLExist;
    if (member.isLearner && this.learnerCount + alsoAddingLearners + 1 > maxLearners) return ErrTooManyLearners;
    return null;
  }

  checkRemove(id: NodeId): EtcdError | null {
    return this.byId.has(id) && !this.isRemoved(id) ? null : ErrMemberNotFound;
  }

  checkPromote(id: NodeId): EtcdError | null {
    const member = this.byId.get(id);
    if (member === undefined || this.isRemoved(id)) return ErrMemberNotFound;
    return member.isLearner ? null : ErrMemberNotLearner;
  }

  checkUpdate(id: NodeId, peerURLs: readonly string[]): EtcdError | null {
    if (!this.byId.has(id) || this.isRemoved(id)) return ErrMemberNotFound;
    return this.peerURLsTaken(peerURLs, id) ? ErrPeerURLExist : null;
  }

  withAdded(member: Member): Membership {
    return new Membership([...this.members, member], this.removed);
  }

  withRemoved(id: NodeId): Membership {
    return new Membership(
      this.members.filter((member) => member.ID !== id),
      [...this.removed, id],
    );
  }

  withPromoted(id: NodeId): Membership {
    return this.withChanged(id, (member) => ({ ...member, isLearner: false }));
  }

  withPeerURLs(id: NodeId, peerURLs: readonly string[]): Membership {
    return this.withChanged(id, (member) => ({ ...member, peerURLs: [...peerURLs] }));
  }

  withAttributes(id: NodeId, name: string, clientURLs: readonly string[]): Membership {
    return this.withChanged(id, (member) => ({ ...member, name, clientURLs: [...clientURLs] }));
  }

  private withChanged(id: NodeId, change: (member: Member) => Member): Membership {
    return new Membership(
      this.members.map((member) => (member.ID === id ? Object.freeze(change(member)) : member)),
      this.removed,
    );
  }

  private peerURLsTaken(peerURLs: readonly string[], except: NodeId): boolean {
    for (const member of this.members) {
      if (member.ID === except) continue;
      for (const url of member.peerURLs) if (peerURLs.includes(url)) return true;
    }
    return false;
  }
}
