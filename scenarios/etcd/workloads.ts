import type { NodeId } from '../../core/host/node.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { Workload } from '../../sim/client.ts';
import { etcdWorkload, type EtcdClientSpec } from '../../sim/etcdClient.ts';
import { deleteMix, KeyValueTraffic, mixedMix, readMix, readOnlyMix, registerMix, staleReadMix, txnMix } from './keyValueTraffic.ts';
import { CompactorTraffic, HeadCompactor, KubernetesTraffic } from './kubernetesTraffic.ts';
import { LeaseTraffic, longTtlSeconds, racingTtlSeconds } from './leaseTraffic.ts';
import { LockTraffic } from './lockTraffic.ts';
import { Defragmenter, MembershipAdmin, QuotaFiller } from './operatorTraffic.ts';

/**
 * The etcd family's workloads: who the clients are and what each does. A client either talks to
 * every initial member (round robin, clientv3's balancer) or is pinned to one member (as etcd's
 * robustness tests pin most of theirs), so that a lagging or partitioned member's answers are
 * seen too.
 */
export type ClientRole =
  | 'register'
  | 'mixed'
  | 'large-values'
  | 'txn'
  | 'deletes'
  | 'delete-reader'
  | 'reads'
  | 'kubernetes'
  | 'compactor'
  | 'fast-compactor'
  | 'head-compactor'
  | 'fast-head-compactor'
  | 'head-reader'
  | 'defragmenter'
  | 'admin-single'
  | 'admin-joint'
  | 'quota-filler'
  | 'lease'
  /** Lease clients whose puts also move keys off their lease or onto another (LeaseTraffic's `moves`). */
  | 'lease-moves'
  /** Lease clients whose leases live longer than a run's faults (LeaseTraffic's `longTtlSeconds`): checkpoints matter at every leader change. */
  | 'lease-long'
  /** Lease clients that let every lease lapse and send a late keep-alive just past its expiry (LeaseTraffic's `racing`). */
  | 'lease-racing'
  | 'lock'
  | 'lock-fenced';

export interface WorkloadShape {
  readonly roles: readonly ClientRole[];
  /** The members the cluster starts with (the clients' endpoints). */
  readonly initialMembers: readonly NodeId[];
  /** Every machine, members or not (an admin adds the others). */
  readonly machines: number;
  /** When the faults stop: operators stop changing the cluster then. */
  readonly quietAtUs: number;
  readonly timeoutUs: number;
  readonly operationsPerClientMax: number;
  /** The quota filler's value size. */
  readonly quotaValueBytes?: number;
  /** The lock clients' session TTL (seconds) and how often their process pauses in the critical section (percent). */
  readonly lock?: { readonly ttlSeconds: number; readonly pausePercent: number };
}

export function etcdScenarioWorkload(shape: WorkloadShape, firstClient: number): Workload<ServerRequest, ServerReply> {
  const clients = shape.roles.map((role, index) => clientOf(role, index, shape));
  return etcdWorkload(
    {
      name: [...new Set(shape.roles)].join(' + '),
      clients,
      timeoutUs: shape.timeoutUs,
      thinkUsMin: 0,
      thinkUsMax: 100_000,
      operationsPerClientMax: shape.operationsPerClientMax,
    },
    firstClient,
  );
}

function clientOf(role: ClientRole, index: number, shape: WorkloadShape): EtcdClientSpec {
  const spec = clientSpecOf(role, index, shape);
  // Where members come and go, every client follows the membership (and none is pinned).
  return shape.machines > shape.initialMembers.length ? { ...spec, endpoints: shape.initialMembers, autoSyncUs: 3_000_000 } : spec;
}

function clientSpecOf(role: ClientRole, index: number, shape: WorkloadShape): EtcdClientSpec {
  const all = shape.initialMembers;
  // Every other key-value client is pinned to one member; the rest use them all.
  const pinned = index % 2 === 1 ? [all[index % all.length]!] : all;
  const tag = `c${index}`;
  switch (role) {
    case 'register':
      return { traffic: new KeyValueTraffic({ tag, mix: registerMix, prefix: 'r/', keyCount: 1 }), endpoints: pinned };
    case 'mixed':
      return { traffic: new KeyValueTraffic({ tag, mix: mixedMix, prefix: 'k/', keyCount: 8 }), endpoints: pinned };
    case 'large-values':
      return { traffic: new KeyValueTraffic({ tag, mix: mixedMix, prefix: 'v/', keyCount: 8, largeValues: true }), endpoints: pinned };
    case 'txn':
      return { traffic: new KeyValueTraffic({ tag, mix: txnMix, prefix: 't/', keyCount: 6 }), endpoints: pinned };
    case 'deletes':
      return { traffic: new KeyValueTraffic({ tag, mix: deleteMix, prefix: 'd/', keyCount: 6 }), endpoints: pinned };
    case 'delete-reader':
      return { traffic: new KeyValueTraffic({ tag, mix: staleReadMix, prefix: 'd/', keyCount: 6 }), endpoints: pinned };
    case 'reads':
      return { traffic: new KeyValueTraffic({ tag, mix: readMix, prefix: 'k/', keyCount: 8 }), endpoints: pinned };
    case 'kubernetes':
      return { traffic: new KubernetesTraffic({ tag, prefix: '/registry/pods/', objects: 8, pageLimit: 3 }), endpoints: pinned };
    case 'compactor':
      return { traffic: new CompactorTraffic({ key: 'compact_rev_key', intervalUs: 4_000_000, physical: index % 2 === 0 }), endpoints: all };
    case 'fast-compactor':
      return { traffic: new CompactorTraffic({ key: 'compact_rev_key', intervalUs: 600_000, physical: index % 2 === 0 }), endpoints: all };
    case 'head-compactor':
      return { traffic: new HeadCompactor({ key: 'h/head', intervalUs: 800_000 }), endpoints: all };
    case 'head-reader':
      return { traffic: new KeyValueTraffic({ tag, mix: readOnlyMix, prefix: 'h/', keyCount: 4 }), endpoints: pinned };
    case 'fast-head-compactor':
      return { traffic: new HeadCompactor({ key: `h/${tag}`, intervalUs: 250_000 }), endpoints: all };
    case 'defragmenter':
      return { traffic: new Defragmenter(3_000_000), endpoints: all };
    case 'admin-single':
    case 'admin-joint':
      return {
        traffic: new MembershipAdmin({ mode: role === 'admin-single' ? 'single' : 'joint', machines: shape.machines, initialMembers: all, stopAtUs: shape.quietAtUs, everyUs: 1_500_000 }),
        endpoints: all,
      };
    case 'quota-filler':
      return { traffic: new QuotaFiller({ tag, endpoints: all, valueBytes: shape.quotaValueBytes ?? 2048 }), endpoints: all };
    case 'lease':
      return { traffic: new LeaseTraffic({ tag }), endpoints: pinned };
    case 'lease-moves':
      return { traffic: new LeaseTraffic({ tag, moves: true }), endpoints: pinned };
    case 'lease-long':
      return { traffic: new LeaseTraffic({ tag, ttlSeconds: longTtlSeconds, keeps: true }), endpoints: pinned };
    case 'lease-racing':
      return { traffic: new LeaseTraffic({ tag, ttlSeconds: racingTtlSeconds, racing: true }), endpoints: pinned };
    case 'lock':
    case 'lock-fenced': {
      const lock = shape.lock ?? { ttlSeconds: 2, pausePercent: 0 };
      return { traffic: new LockTraffic({ ...lock, fenced: role === 'lock-fenced' }), endpoints: pinned };
    }
  }
}
