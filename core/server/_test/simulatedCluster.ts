import type { ClientId, NodeId } from '../../host/node.ts';
import { ratio } from '../../base/ratio.ts';
import type { Random } from '../../base/random.ts';
import type { Workload } from '../../../sim/client.ts';
import { defaultSimOptions, type SimOptions } from '../../../sim/options.ts';
import { RandomStreams } from '../../../sim/rng.ts';
import { drawSwarm, fullSwarmSpace } from '../../../sim/swarm.ts';
import { Simulation } from '../../../sim/simulation.ts';
import type { RunResult, SimObserver } from '../../../sim/observer.ts';
import { isEtcdError, type Member } from '../../api/index.ts';
import type { EtcdServer } from '../etcdServer.ts';
import { isRaftMessage, type PeerMessage } from '../peerMessage.ts';
import { etcdProtocol, etcdServerConfig } from '../protocol.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../serverRequest.ts';
import type { EtcdServerConfig } from '../config.ts';
import { raftSafety } from '../../../properties/raft/raftSafety.ts';
import { stepChecks } from '../../../properties/raft/stepChecks.ts';
import { raftTrafficOnlyAll, type RaftHost } from '../../../properties/raft/raftHost.ts';
import { AssertionError } from '../../base/assert.ts';
import { etcdOutcome } from '../../../sim/etcdClient.ts';
import { etcdHistory } from '../../../properties/etcd/etcdHistory.ts';
import { checkTypedHistory } from '../../../properties/linearizability/formats/typedHistory.ts';

/**
 * A smoke harness for the member under the simulator: a random KV workload (puts, deletes, txns,
 * linearizable and serializable ranges, compactions) on every fault class, checked at the end for
 * HashKV agreement. The etcd scenario family (scenarios/) is the full version, with histories
 * checked for linearizability; this one keeps core/server's own tests honest under real faults.
 */
export interface SimulatedRun {
  readonly result: RunResult;
  readonly sim: Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>;
}

export function kvWorkload(machines: number, clients: number): Workload<ServerRequest, ServerReply> {
  let compactAt = 0;
  return {
    name: 'kv-random',
    clientCount: clients,
    operationsPerClientMax: 400,
    timeoutUs: 1_000_000,
    thinkUsMin: 0,
    thinkUsMax: 50_000,
    next(_client: ClientId, random: Random) {
      const to: NodeId = 1 + random.below(machines);
      const key = `k${random.below(8)}`;
      const roll = random.below(100);
      if (roll < 35) return { to, request: { method: 'Put', request: { key, value: `${random.uint32()}` } } };
      if (roll < 45) return { to, request: { method: 'DeleteRange', request: { key } } };
      if (roll < 55) {
        return {
          to,
          request: {
            method: 'Txn',
            request: {
              compare: [{ key, target: 'VERSION', result: 'GREATER', version: 0 }],
              success: [{ requestPut: { key: `${key}x`, value: 'y' } }, { requestRange: { key } }],
              failure: [{ requestPut: { key, value: 'created' } }],
            },
          },
        };
      }
      if (roll < 80) return { to, request: { method: 'Range', request: { key: 'k', rangeEnd: 'l' } } };
      if (roll < 95) return { to, request: { method: 'Range', request: { key, serializable: true } } };
      compactAt += 3;
      return { to, request: { method: 'Compact', request: { revision: compactAt } } };
    },
    // etcd's client rules (sim/etcdClient.ts): an error that may follow a proposal leaves the write unknown.
    outcome: (reply, request) => etcdOutcome(request, reply),
  };
}

/**
 * At the end: the clients' history is linearizable under the etcd model, in the etcd family's own
 * terms (properties/etcd/etcdHistory.ts: what the model cannot express is left out). Unlike the
 * family's check, an inconclusive one passes: this smoke harness's histories hold many unknown
 * writes (slow disks, 1 s timeouts), and 1M steps keep the checker's memory near 200 MB.
 */
export function historyLinearizable(): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    finish(sim) {
      const { history, callOf } = etcdHistory(sim.history);
      const { result } = checkTypedHistory(history, { budget: { maxSteps: 1_000_000 } });
      if (result.verdict === 'not-linearizable') throw new AssertionError(`the clients' history is not linearizable (client calls ${result.violation!.stuck.map((index) => callOf[index]).join(', ')} cannot take effect next)`);
    },
  };
}

/**
 * At the end: members up that have the same compaction revision have the same HashKV at the
 * lowest revision they all have (etcd compares hashes only at equal compaction revisions too).
 */
export function hashesAgree(): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    finish(sim) {
      const servers = sim.members.map((id) => sim.node(id)).filter((server): server is EtcdServer => server !== null && !server.stopped);
      const revision = Math.min(...servers.map((server) => server.state.kv.revision));
      const byCompaction = new Map<number, { hash: number; member: NodeId }>();
      for (const server of servers) {
        const hash = server.state.kv.hashKV({ revision });
        if (isEtcdError(hash)) continue; // compacted past it: nothing to compare there
        const seen = byCompaction.get(hash.compactRevision);
        if (seen === undefined) byCompaction.set(hash.compactRevision, { hash: hash.hash, member: server.id });
        else if (seen.hash !== hash.hash) sim.fail(`members ${seen.member} and ${server.id} disagree on HashKV at revision ${revision} (compacted at ${hash.compactRevision})`);
      }
    },
  };
}

/**
 * An admin among the clients (the last one): every second or so it lists the members at a random
 * member, then asks for a change that fits what it saw — add a learner, promote one, remove a voter,
 * replace one through a joint change — until the faults stop. Many attempts fail (not the leader,
 * not ready, a stale view); the apply decides.
 */
function withAdmin(workload: Workload<ServerRequest, ServerReply>, machines: number, quietAtUs: number): Workload<ServerRequest, ServerReply> {
  const admin = machines + workload.clientCount + 1;
  let view: Member[] = [];
  let leader = 1;
  let phase = 0;
  return {
    ...workload,
    clientCount: workload.clientCount + 1,
    next(client, random, nowUs) {
      if (client !== admin) return workload.next(client, random, nowUs);
      // Ask someone who leads, list the members there, then change them there.
      phase = (phase + 1) % 3;
      if (phase === 1 || nowUs >= quietAtUs) return { to: 1 + random.below(machines), request: { method: 'Status', request: {} } };
      const to = leader;
      if (phase === 2 || view.length === 0) return { to, request: { method: 'MemberList', request: {} } };
      const ids = view.map((member) => member.ID);
      const outsiders = Array.from({ length: machines }, (_, i) => i + 1).filter((id) => !ids.includes(id));
      const learners = view.filter((member) => member.isLearner).map((member) => member.ID);
      const voters = view.filter((member) => !member.isLearner).map((member) => member.ID);
      const pick = <T>(items: readonly T[]): T => items[random.below(items.length)]!;
      const peer = (id: number) => [`http://m${id}:2380`];
      const roll = random.below(4);
      if (roll === 0 && outsiders.length > 0) return { to, request: { method: 'MemberAdd', request: { peerURLs: peer(pick(outsiders)), isLearner: true } } };
      if (roll === 1 && learners.length > 0) return { to, request: { method: 'MemberPromote', request: { ID: pick(learners) } } };
      if (roll === 2 && voters.length > 3) return { to, request: { method: 'MemberRemove', request: { ID: pick(voters) } } };
      if (outsiders.length > 0) return { to, request: { method: 'MemberReconfigure', request: { add: [{ peerURLs: peer(pick(outsiders)) }], remove: [pick(voters)] } } };
      return { to, request: { method: 'MemberList', request: {} } };
    },
    onComplete(client, _request, reply) {
      if (client === admin && reply !== null && !isErrorReply(reply)) {
        if ('members' in reply.response) view = [...(reply.response as { members: readonly Member[] }).members];
        if (reply.method === 'Status' && reply.response.leader !== 0) leader = reply.response.leader;
      }
      // Passed on whole: the harness may tell more than these three (it does on the etcd branch).
      (workload.onComplete as ((...args: unknown[]) => void) | undefined)?.apply(workload, [...arguments]);
    },
  };
}

export interface SimulatedRunOptions {
  readonly config?: Partial<EtcdServerConfig>;
  readonly machines?: number;
  readonly clients?: number;
  /** Raft's safety checks, HashKV agreement and the history check (default on). */
  readonly checked?: boolean;
  /** 3 of the machines as members and an admin changing the membership (default off). */
  readonly membership?: boolean;
  readonly observers?: readonly SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer>[];
  /** The runtime's pipelined host loop (messages that promise nothing durable leave before the sync). */
  readonly pipelinedHost?: boolean;
}

export function runSimulated(seed: number, options: SimulatedRunOptions = {}): SimulatedRun {
  const { config: overrides = {}, machines = 5, clients = 6, checked = true, membership = false } = options;
  const members = Array.from({ length: machines }, (_, i) => i + 1);
  const base: SimOptions = { ...defaultSimOptions, seed, nodeCount: machines, timeLimitUs: 20_000_000, eventLimit: 2_000_000, clock: { ...defaultSimOptions.clock, tickBurstMax: 3 } };
  const draw = drawSwarm(new RandomStreams(seed).stream('swarm'), base, { ...fullSwarmSpace, lossMax: ratio(10, 100) }, { startUs: 1_000_000, quietAtUs: 15_000_000, meanGapUs: 1_500_000, faultUsMax: 3_000_000 }, members);
  const config = etcdServerConfig(membership ? members.slice(0, 3) : members, { snapshotCount: 50, snapshotCatchUpEntries: 10, ...overrides });
  const workload = membership ? withAdmin(kvWorkload(machines, clients), machines, 15_000_000) : kvWorkload(machines, clients);
  const stepOptions = { electionTimeoutUs: config.electionTicks * base.tickIntervalUs, lease: config.checkQuorum && config.preVote, successPercentMin: null, requestTimeoutUs: 1_000_000 };
  const checks = checked
    ? [...raftTrafficOnlyAll<PeerMessage, ServerRequest, ServerReply, EtcdServer>([raftSafety<ServerRequest, ServerReply, RaftHost<ServerRequest, ServerReply>>(), ...stepChecks<ServerRequest, ServerReply, RaftHost<ServerRequest, ServerReply>>(stepOptions)], isRaftMessage), hashesAgree(), historyLinearizable()]
    : [];
  const sim = new Simulation(options.pipelinedHost === true ? { ...draw.options, pipelinedHost: true } : draw.options, { protocol: etcdProtocol(config), workload, observers: [...checks, ...(options.observers ?? [])] });
  return { result: sim.run(), sim };
}
