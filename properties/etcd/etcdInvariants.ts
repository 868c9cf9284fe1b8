import { isEtcdError } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';
import type { Simulation } from '../../sim/simulation.ts';
import { DurableOrder } from './durableOrder.ts';
import { checkHashesAgree } from './hashAgreement.ts';
import { checkRecovery } from './recoveryCheck.ts';
import { PromisedWrites } from './promisedWrites.ts';
import { RequestIdsDurable } from './requestIdsDurable.ts';
import { ReplyChecks } from './replyChecks.ts';
import { RevisionLedger } from './revisionLedger.ts';
import { WholeRevisions } from './wholeRevisions.ts';

type EtcdSimulation = Simulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>;

export interface EtcdInvariantOptions {
  /** HashKV is compared across members this often (and soon after every restart, and at the end). */
  readonly hashEveryUs: number;
  /** How long after a restart the restarted member's HashKV is compared (it has replayed its WAL by then). */
  readonly hashAfterRestartUs: number;
}

export const defaultEtcdInvariantOptions: EtcdInvariantOptions = { hashEveryUs: 2_000_000, hashAfterRestartUs: 1_000_000 };

/** Counts for a run's summary. */
export interface EtcdInvariantStats {
  hashChecks: number;
  hashesCompared: number;
  /** Raft snapshots members installed from a leader (a lagging member caught up). */
  snapshotsInstalled: number;
  /** Restarts whose store was compared with an independent reopening of the backend file. */
  recoveriesChecked: number;
  /** Range deletes seen applied across turns (a member between two slices when observed). */
  slicedApplies?: number;
}

/**
 * The etcd members' cross-node checks, each at the first wrong step:
 * - per member and across members, the revision at each consistent index (RevisionLedger):
 *   revisions and the consistent index never go back, no entry is applied twice or skipped (after
 *   a restart too: the store then equals what its backend and WAL give), an apply moves the
 *   revision by at most one per entry;
 * - on disk, the backend never runs ahead of the durable WAL (DurableOrder), and no backend commit
 *   holds part of a revision (WholeRevisions);
 * - as answers leave, a linearizable read is served at an applied index no lower than the
 *   cluster's commit index when it arrived, and a write is answered only once applied there
 *   (ReplyChecks), and a Defragment or physical Compact only once the write it promises is
 *   durable on the member's disk (PromisedWrites);
 * - as messages leave, every request id a member's own proposal, conf change or ReadIndex context
 *   carries lies below the reservation durable on its disk (RequestIdsDurable);
 * - at every restart, the store equals an independent reopening of the member's backend file
 *   (recoveryCheck);
 * - every couple of seconds, a second after every restart and at the end, all running members'
 *   HashKV agree at equal revisions;
 * - a member between two slices of a range delete reads the delete's range at its current
 *   revision as that revision holds it (checkBetweenSlices).
 */
export function etcdInvariants(options: EtcdInvariantOptions = defaultEtcdInvariantOptions, stats?: EtcdInvariantStats): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  const ledger = new RevisionLedger();
  const durable = new DurableOrder();
  const wholeRevisions = new WholeRevisions();
  const replies = new ReplyChecks();
  const promised = new PromisedWrites();
  const requestIds = new RequestIdsDurable();
  let nextHashUs = options.hashEveryUs;
  const counts = stats ?? { hashChecks: 0, hashesCompared: 0, snapshotsInstalled: 0, recoveriesChecked: 0 };
  /** Each member's state object when last observed: installing a snapshot replaces it (taking one does not). */
  const stateBefore = new Map<NodeId, { incarnation: number; state: object }>();
  /** Each member's sliced apply when last observed (a new one is counted). */
  const slicedBefore = new Map<NodeId, object | null>();

  const observe = (sim: EtcdSimulation, id: NodeId): void => {
    durable.check(id, sim.disk(id));
    const server = sim.node(id);
    const incarnation = sim.incarnation(id);
    wholeRevisions.check(id, sim.disk(id), server, incarnation);
    if (server === null) return;
    ledger.observe(id, incarnation, { appliedIndex: server.appliedIndex, consistentIndex: server.consistentIndex, revision: server.state.kv.revision });
    if (server.slicedApply !== (slicedBefore.get(id) ?? null)) {
      if (server.slicedApply !== null) counts.slicedApplies = (counts.slicedApplies ?? 0) + 1;
      slicedBefore.set(id, server.slicedApply);
    }
    if (server.slicedApply !== null) checkBetweenSlices(server);
    const before = stateBefore.get(id);
    if (before === undefined || before.state !== server.state) {
      if (before !== undefined && before.incarnation === incarnation) counts.snapshotsInstalled++;
      stateBefore.set(id, { incarnation, state: server.state });
    }
  };
  const compareHashes = (sim: EtcdSimulation, when: string): void => {
    counts.hashChecks++;
    counts.hashesCompared += checkHashesAgree(runningServers(sim), when);
  };

  return {
    onRequest(client, member, requestId, request, sim) {
      replies.onRequest(client, member, requestId, request, () => clusterCommit(sim), sim.node(member)?.state.kv.revision ?? 0);
      promised.onRequest(client, member, requestId, request, sim.disk(member));
    },
    onReply(member, client, requestId, reply, sim) {
      replies.onReply(sim.node(member)!, client, requestId, reply);
      promised.onReply(member, client, requestId, reply, sim.disk(member));
    },
    onSend(from, _to, message, sim) {
      requestIds.onSend(from, message, sim.disk(from));
    },
    afterEvent(sim) {
      const id = sim.lastEventNode;
      // Faults (a restart replays entries, a resume drains an inbox) touch nodes the event does not name.
      if (id === 0) for (const member of sim.members) observe(sim, member);
      else observe(sim, id);
      if (sim.nowUs >= nextHashUs) {
        nextHashUs = sim.nowUs + options.hashEveryUs;
        compareHashes(sim, `periodic check at ${sim.nowUs}us`);
      }
    },
    onRestart(member, sim) {
      const server = sim.node(member);
      if (server !== null && checkRecovery(server, sim.disk(member))) counts.recoveriesChecked++;
      nextHashUs = Math.min(nextHashUs, sim.nowUs + options.hashAfterRestartUs);
    },
    finish(sim) {
      compareHashes(sim, 'at the end of the run');
    },
  };
}

/**
 * A member between two slices of a range delete: a read of the delete's range at the current
 * revision (what serializable reads and read-only txns are served from) must be the read at that
 * revision named, the store before the delete — not a half-applied delete.
 */
function checkBetweenSlices(server: EtcdServer): void {
  const sliced = server.slicedApply!;
  if (sliced.op.kind !== 'deleteRange') return;
  const { key, rangeEnd } = sliced.op.request;
  const kv = server.state.kv;
  const now = kv.range({ key, ...(rangeEnd === undefined ? {} : { rangeEnd }) });
  const named = kv.range({ key, ...(rangeEnd === undefined ? {} : { rangeEnd }), revision: kv.revision });
  const keys = (result: typeof now): string => (isEtcdError(result) ? result.message : result.kvs.map((each) => `${each.key}@${each.modRevision}`).join(','));
  if (keys(now) !== keys(named)) {
    throw new AssertionError(`member ${server.id}, between slices of the delete at index ${sliced.entry.index}, reads [${keys(now)}] at its current revision ${kv.revision} where that revision holds [${keys(named)}]: a read sees a half-applied delete`);
  }
}

/** The highest commit index any running member knows: every entry up to it is committed. */
function clusterCommit(sim: EtcdSimulation): number {
  let commit = 0;
  for (const id of sim.members) {
    const server = sim.node(id);
    if (server !== null && server.hardState.commit > commit) commit = server.hardState.commit;
  }
  return commit;
}

function runningServers(sim: EtcdSimulation): EtcdServer[] {
  const servers: EtcdServer[] = [];
  for (const id of sim.members) {
    const server = sim.node(id);
    // A removed member stops applying; a machine never added holds nothing to compare.
    if (server !== null && !server.stopped && server.state.membership.member(id) !== undefined) servers.push(server);
  }
  return servers;
}
