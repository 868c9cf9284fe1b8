import { assert } from '../../base/assert.ts';
import { ratio } from '../../base/ratio.ts';
import type { NodeId } from '../../host/node.ts';
import { TestRandom } from '../../raft/_test/testRandom.ts';
import { isEtcdError } from '../../api/index.ts';
import type { ServerRequest } from '../serverRequest.ts';
import { TestCluster } from './testCluster.ts';

/**
 * A randomized untimed cluster (core/raft's RandomCluster, for etcd members): each step is one
 * random action — tick a member, deliver any message in flight (so messages reorder), drop or
 * duplicate one, complete a member's syncs, crash and restart a member (its unsynced writes lost,
 * the first one perhaps torn), cut a member off or heal, submit a random KV call — and after every
 * step the members' states are checked against each other: every member that has applied up to an
 * index holds the same keyspace there (HashKV and revision), whichever incarnation it is in.
 * The members' own assertions (applied once and in order, revision moved by what changed, backend
 * never ahead of the WAL, …) fire inside the steps.
 */
export class RandomEtcdCluster {
  readonly cluster: TestCluster;
  private readonly random: TestRandom;
  /** By applied index: the revision and HashKV any member must have there. */
  private readonly stateAt = new Map<number, { revision: number; hash: number; compactRevision: number; by: NodeId }>();
  private readonly checkedAt = new Map<NodeId, number>();
  private nextValue = 0;
  private compactTo = 0;
  steps = 0;
  restarts = 0;

  private readonly membership: boolean;
  /** Values padded to this length (long ones are kept in slabs: core/mvcc/valueSlabs.ts). */
  private readonly valueLength: number;

  /**
   * `membership`: 5 machines, 3 initial members, and random membership changes among the calls.
   * `coalesceAppends`: the runtime's Raft setting (one MsgApp per follower per Ready).
   */
  constructor(seed: number, machines = 3, membership = false, coalesceAppends = false, valueLength = 0) {
    this.random = new TestRandom(seed);
    this.membership = membership;
    this.valueLength = valueLength;
    this.cluster = new TestCluster({
      machines: membership ? 5 : machines,
      initial: membership ? 3 : machines,
      syncs: 'manual',
      tornWrite: ratio(1, 2),
      seed,
      config: { snapshotCount: 8, snapshotCatchUpEntries: 3, compactionBatchLimit: 3, compactionBatchesPerTick: 1, strictReconfigCheck: false, coalesceAppends },
    });
  }

  run(count: number): void {
    for (let i = 0; i < count; i++) this.step(true);
  }

  /** Heals, stops the faults and runs until every member applied as far as the leader; true when they did. */
  converge(maxSteps: number): boolean {
    this.cluster.heal();
    for (const machine of this.cluster.machines) if (!this.cluster.isUp(machine.id)) this.cluster.restart(machine.id);
    for (let i = 0; i < maxSteps; i++) {
      this.cluster.settle(1);
      this.check();
      const leader = this.cluster.leader();
      if (leader === null) continue;
      const members = this.cluster.server(leader).state.membership.members.map((member) => member.ID);
      // A new leader's commit index may still lag what a member applied under the old one (it
      // learns the commit point once an entry of its own term commits): wait for that too.
      let target = this.cluster.server(leader).hardState.commit;
      for (const id of members) target = Math.max(target, this.cluster.server(id).appliedIndex);
      if (members.every((id) => this.cluster.server(id).appliedIndex >= target) && i > 5) return true;
    }
    return false;
  }

  private step(faults: boolean): void {
    this.steps++;
    const cluster = this.cluster;
    const random = this.random;
    const member = 1 + random.below(cluster.machines.length);
    const roll = random.below(1000);
    if (roll < 150) {
      if (cluster.isUp(member)) cluster.tick(member);
    } else if (roll < 600) {
      this.deliverOne(faults);
    } else if (roll < 800) {
      cluster.completeSyncs(member);
    } else if (roll < 980) {
      if (cluster.isUp(member)) cluster.submit(member, this.randomCall());
    } else if (!faults) {
      if (cluster.isUp(member)) cluster.tick(member);
    } else if (roll < 992) {
      cluster.heal();
      if (random.below(2) === 0) cluster.isolate(member);
    } else if (cluster.isUp(member)) {
      cluster.crash(member);
      cluster.restart(member);
      this.restarts++;
    }
    this.check();
  }

  private deliverOne(faults: boolean): void {
    const network = this.cluster.network;
    if (network.length === 0) return;
    const at = this.random.below(network.length);
    const [inFlight] = network.splice(at, 1);
    const fate = faults ? this.random.below(20) : 99;
    if (fate === 0) network.push(inFlight!); // duplicated: a copy stays in flight
    if (fate === 1) return; // lost
    network.unshift(inFlight!);
    this.cluster.deliver(1);
  }

  private nextValueText(): string {
    return `${this.nextValue++}`.padEnd(this.valueLength, '.');
  }

  private randomCall(): ServerRequest {
    const random = this.random;
    if (this.membership && random.below(100) < 4) return this.randomMembershipCall();
    const key = `k${random.below(6)}`;
    const roll = random.below(100);
    if (roll < 35) return { method: 'Put', request: { key, value: this.nextValueText() } };
    if (roll < 45) return { method: 'DeleteRange', request: { key, rangeEnd: random.below(2) === 0 ? '' : 'k9' } };
    if (roll < 60) {
      return {
        method: 'Txn',
        request: {
          compare: [{ key, target: 'MOD', result: 'LESS', modRevision: random.below(40) }],
          success: [{ requestPut: { key: `${key}t`, value: this.nextValueText() } }, { requestDeleteRange: { key } }],
          failure: [{ requestRange: { key: 'k', rangeEnd: 'l' } }],
        },
      };
    }
    if (roll < 70) return { method: 'Compact', request: { revision: (this.compactTo += 1 + random.below(4)), physical: random.below(2) === 0 } };
    if (roll < 85) return { method: 'Range', request: { key: 'k', rangeEnd: 'l' } };
    return { method: 'Range', request: { key, serializable: true } };
  }

  /** A membership change, from what some member believes the membership is (perhaps stale: the apply checks it again). */
  private randomMembershipCall(): ServerRequest {
    const random = this.random;
    const up = this.cluster.machines.filter((m) => this.cluster.isUp(m.id));
    const view = this.cluster.server(up[random.below(up.length)]!.id).state.membership;
    const ids = view.members.map((member) => member.ID);
    const outsiders = [1, 2, 3, 4, 5].filter((id) => !ids.includes(id) && !view.isRemoved(id));
    const learners = view.members.filter((member) => member.isLearner).map((member) => member.ID);
    const voters = view.votingMembers.map((member) => member.ID);
    const pick = <T>(items: readonly T[]): T => items[random.below(items.length)]!;
    const peer = (id: number) => [`http://m${id}:2380`];
    const roll = random.below(4);
    if (roll === 0 && outsiders.length > 0) return { method: 'MemberAdd', request: { peerURLs: peer(pick(outsiders)), isLearner: random.below(2) === 0 } };
    if (roll === 1 && learners.length > 0) return { method: 'MemberPromote', request: { ID: pick(learners) } };
    if (roll === 2 && voters.length > 3) return { method: 'MemberRemove', request: { ID: pick(voters) } };
    if (outsiders.length > 0 && voters.length >= 3) return { method: 'MemberReconfigure', request: { add: [{ peerURLs: peer(pick(outsiders)) }], remove: [pick(voters)] } };
    return { method: 'MemberList', request: {} };
  }

  /** Every member at an applied index it has not been checked at holds the state recorded there. */
  private check(): void {
    for (const machine of this.cluster.machines) {
      if (!this.cluster.isUp(machine.id)) continue;
      const server = this.cluster.server(machine.id);
      if (this.checkedAt.get(machine.id) === server.appliedIndex) continue;
      this.checkedAt.set(machine.id, server.appliedIndex);
      const hash = server.state.kv.hashKV();
      if (isEtcdError(hash)) continue;
      const state = { revision: server.state.kv.revision, hash: hash.hash, compactRevision: hash.compactRevision, by: machine.id };
      const known = this.stateAt.get(server.appliedIndex);
      if (known === undefined) this.stateAt.set(server.appliedIndex, state);
      else {
        assert(
          known.revision === state.revision && known.hash === state.hash && known.compactRevision === state.compactRevision,
          () => `step ${this.steps}: member ${machine.id} at applied index ${server.appliedIndex} holds revision ${state.revision} hash ${state.hash} (compacted at ${state.compactRevision}); member ${known.by} held revision ${known.revision} hash ${known.hash} (compacted at ${known.compactRevision})`,
        );
      }
    }
  }
}
