import type { AlarmResponse, Member, MemberListResponse, StatusResponse } from '../../core/api/index.ts';
import type { Random } from '../../core/base/random.ts';
import type { NodeId } from '../../core/host/node.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import { etcdOutcome, type EtcdCall, type EtcdTraffic } from '../../sim/etcdClient.ts';
import { get, pick, put, responseOf, revisionOf } from './requests.ts';

/*
 * The operators of a cluster, as simulated clients: an admin changing the membership under load,
 * a defragmenter, and a writer that fills the space quota and then does what etcd's docs say to
 * do about the NOSPACE alarm. Their calls are not part of the key-value history the checker
 * judges (except the filler's puts), but every answer they get is checked like any other.
 */

/**
 * Membership changes under load, one at a time, each sent to the leader (with
 * --strict-reconfig-check a follower refuses them): add a learner, promote it, add a voter
 * directly (it catches up by snapshot), remove a voter (the leader included) — and, in joint
 * mode, replace a voter by a new one in one call (detcd's MemberReconfigure, through a joint
 * configuration). Machine N stands for member N; a removed member's id is never reused (etcd
 * refuses it), so a machine is used at most once. Changes stop when the faults stop.
 */
export class MembershipAdmin implements EtcdTraffic {
  readonly name: string;
  private readonly mode: 'single' | 'joint';
  private readonly machines: number;
  private readonly stopAtUs: number;
  private readonly everyUs: number;
  private members: readonly Member[];
  private readonly used = new Set<NodeId>();
  private leader: NodeId = 0;
  private step: 'status' | 'change' | 'list' = 'status';

  constructor(options: { readonly mode: 'single' | 'joint'; readonly machines: number; readonly initialMembers: readonly NodeId[]; readonly stopAtUs: number; readonly everyUs: number }) {
    this.mode = options.mode;
    this.name = `admin(${options.mode})`;
    this.machines = options.machines;
    this.stopAtUs = options.stopAtUs;
    this.everyUs = options.everyUs;
    this.members = options.initialMembers.map((id) => ({ ID: id, name: `m${id}`, peerURLs: [peerURL(id)], clientURLs: [], isLearner: false }));
    for (const id of options.initialMembers) this.used.add(id);
  }

  next(random: Random, nowUs: number): EtcdCall | null {
    if (this.step === 'list' || nowUs >= this.stopAtUs) {
      this.step = 'status';
      return { request: { method: 'MemberList', request: {} } };
    }
    if (this.step === 'status' || this.leader === 0) {
      this.step = 'change';
      return { request: { method: 'Status', request: {} } };
    }
    this.step = 'status';
    const change = this.drawChange(random);
    return change === null ? { request: { method: 'MemberList', request: {} } } : { request: change, to: this.leader };
  }

  onComplete(request: ServerRequest, reply: ServerReply | null): void {
    const response = responseOf(reply);
    if (response === null) {
      if (request.method === 'Status') this.leader = 0;
      // What the membership is now, when a change went wrong, before the next one.
      if (request.method !== 'Status' && request.method !== 'MemberList') this.step = 'list';
      // A machine whose add surely failed may be added later.
      if (reply !== null && etcdOutcome(request, reply) === 'fail') for (const id of addedBy(request)) this.used.delete(id);
      return;
    }
    if (request.method === 'Status') this.leader = (response as StatusResponse).leader;
    else if ('members' in (response as object)) this.members = (response as MemberListResponse).members;
  }

  think(random: Random): number {
    return this.step === 'status' ? random.between(this.everyUs / 2, this.everyUs) : random.between(0, 50_000);
  }

  private drawChange(random: Random): ServerRequest | null {
    const voters = this.members.filter((member) => !member.isLearner).map((member) => member.ID);
    const learners = this.members.filter((member) => member.isLearner).map((member) => member.ID);
    const fresh = Array.from({ length: this.machines }, (_, i) => i + 1).filter((id) => !this.used.has(id));
    const options: (() => ServerRequest)[] = [];
    const add = (isLearner: boolean) => () => {
      const id = pick(random, fresh);
      this.used.add(id);
      return { method: 'MemberAdd', request: { peerURLs: [peerURL(id)], isLearner } } satisfies ServerRequest;
    };
    if (fresh.length > 0 && learners.length === 0) options.push(add(true));
    if (fresh.length > 0 && voters.length < 5) options.push(add(false));
    if (learners.length > 0) options.push(() => ({ method: 'MemberPromote', request: { ID: pick(random, learners) } }));
    if (voters.length > 3) options.push(() => ({ method: 'MemberRemove', request: { ID: pick(random, voters) } }));
    if (learners.length > 0 && random.below(4) === 0) options.push(() => ({ method: 'MemberRemove', request: { ID: pick(random, learners) } }));
    // In joint mode, half the changes that can be a replacement are one (through a joint configuration).
    if (this.mode === 'joint' && fresh.length > 0 && voters.length >= 3 && random.below(2) === 0) {
      const id = pick(random, fresh);
      this.used.add(id);
      return { method: 'MemberReconfigure', request: { add: [{ peerURLs: [peerURL(id)] }], remove: [pick(random, voters)] } };
    }
    return options.length === 0 ? null : pick(random, options)();
  }
}

function peerURL(id: NodeId): string {
  return `http://m${id}:2380`;
}

/** The machines a membership call adds. */
function addedBy(request: ServerRequest): NodeId[] {
  const adds = request.method === 'MemberAdd' ? [request.request] : request.method === 'MemberReconfigure' ? (request.request.add ?? []) : [];
  return adds.map((add) => Number(/^http:\/\/m(\d+):/.exec(add.peerURLs[0] ?? '')?.[1] ?? 0));
}

/** Defragments one member every few seconds, each in turn (etcdctl defrag --endpoints=…, one at a time). */
export class Defragmenter implements EtcdTraffic {
  readonly name = 'defragmenter';
  private readonly everyUs: number;

  constructor(everyUs: number) {
    this.everyUs = everyUs;
  }

  next(): EtcdCall {
    return { request: { method: 'Defragment', request: {} } };
  }

  think(random: Random): number {
    return random.between(this.everyUs / 2, this.everyUs);
  }
}

/**
 * Fills the space quota with large values until the cluster answers NOSPACE, then recovers as
 * etcd's maintenance guide says: compact to the current revision, defragment every member, and
 * disarm the alarm (list the alarms, deactivate each); then fills again.
 */
export class QuotaFiller implements EtcdTraffic {
  readonly name = 'quota-filler';
  private readonly endpoints: readonly NodeId[];
  private readonly valueBytes: number;
  private readonly tag: string;
  private count = 0;
  private revision = 1;
  /** The recovery's calls still to make, in order. */
  private recovery: EtcdCall[] = [];

  constructor(options: { readonly tag: string; readonly endpoints: readonly NodeId[]; readonly valueBytes: number }) {
    this.endpoints = options.endpoints;
    this.valueBytes = options.valueBytes;
    this.tag = options.tag;
  }

  next(random: Random): EtcdCall {
    const step = this.recovery.shift();
    if (step !== undefined) return step;
    const value = `${this.tag}.${++this.count}.`.padEnd(this.valueBytes, 'x');
    return random.below(10) === 0 ? get('quota/', { rangeEnd: 'quota0', countOnly: true }) : put(`quota/${String.fromCharCode(97 + random.below(16))}`, value);
  }

  onComplete(request: ServerRequest, reply: ServerReply | null): void {
    this.revision = Math.max(this.revision, revisionOf(reply) ?? 0);
    if (reply !== null && isErrorReply(reply) && reply.error.message.includes('database space exceeded') && this.recovery.length === 0) this.startRecovery();
    if (request.method === 'Alarm' && request.request.action === 'GET') {
      const alarms = (responseOf(reply) as AlarmResponse | null)?.alarms ?? [];
      for (const alarm of alarms) this.recovery.unshift({ request: { method: 'Alarm', request: { action: 'DEACTIVATE', memberID: alarm.memberID, alarm: alarm.alarm } } });
    }
  }

  private startRecovery(): void {
    this.recovery = [
      get('quota/', { rangeEnd: 'quota0', countOnly: true }),
      { request: { method: 'Compact', request: { revision: this.revision, physical: true } } },
      ...this.endpoints.map((to): EtcdCall => ({ request: { method: 'Defragment', request: {} }, to })),
      { request: { method: 'Alarm', request: { action: 'GET', alarm: 'NOSPACE' } } },
    ];
  }
}
