import type { ClientId, NodeId } from '../../host/node.ts';
import { ratio } from '../../base/ratio.ts';
import type { Random } from '../../base/random.ts';
import type { Workload } from '../../../sim/client.ts';
import { defaultSimOptions, type SimOptions } from '../../../sim/options.ts';
import { RandomStreams } from '../../../sim/rng.ts';
import { drawSwarm, fullSwarmSpace } from '../../../sim/swarm.ts';
import { Simulation } from '../../../sim/simulation.ts';
import type { RunResult, SimObserver } from '../../../sim/observer.ts';
import { isEtcdError } from '../../api/index.ts';
import type { EtcdServer } from '../etcdServer.ts';
import type { PeerMessage } from '../peerMessage.ts';
import { etcdProtocol, etcdServerConfig } from '../protocol.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../serverRequest.ts';
import type { EtcdServerConfig } from '../config.ts';
import { raftSafety } from '../../../properties/raft/raftSafety.ts';

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
    outcome: (reply) => (isErrorReply(reply) ? 'fail' : 'ok'),
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

export function runSimulated(seed: number, overrides: Partial<EtcdServerConfig> = {}, machines = 5, clients = 6, host: { readonly pipelinedHost?: boolean } = {}): SimulatedRun {
  const members = Array.from({ length: machines }, (_, i) => i + 1);
  const base: SimOptions = { ...defaultSimOptions, seed, nodeCount: machines, timeLimitUs: 20_000_000, eventLimit: 2_000_000, clock: { ...defaultSimOptions.clock, tickBurstMax: 3 } };
  const draw = drawSwarm(new RandomStreams(seed).stream('swarm'), base, { ...fullSwarmSpace, lossMax: ratio(10, 100) }, { startUs: 1_000_000, quietAtUs: 15_000_000, meanGapUs: 1_500_000, faultUsMax: 3_000_000 }, members);
  const config = etcdServerConfig(members, { snapshotCount: 50, snapshotCatchUpEntries: 10, ...overrides });
  const sim = new Simulation({ ...draw.options, ...host }, { protocol: etcdProtocol(config), workload: kvWorkload(machines, clients), observers: process.env.NOCHECK ? [] : [raftSafety<ServerRequest, ServerReply, EtcdServer>(), hashesAgree()] });
  return { result: sim.run(), sim };
}
