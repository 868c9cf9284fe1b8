import { never, ratio, type Ratio } from '../core/base/ratio.ts';
import { backendFile } from '../core/mvcc/index.ts';
import { relocatedValues, useSlabSize } from '../core/mvcc/valueSlabs.ts';
import { ErrNoSpace } from '../core/api/index.ts';
import { carriesSnapshot } from '../core/server/codec.ts';
import { defaultWatchConfig, etcdProtocol, etcdServerConfig, isErrorReply, isRaftMessage, type EtcdServer, type EtcdServerConfig, type PeerMessage, type ServerReply, type ServerRequest } from '../core/server/index.ts';
import { etcdHistory } from '../properties/etcd/etcdHistory.ts';
import { LeaseExpiryRecorder } from '../properties/etcd/leaseExpiries.ts';
import { etcdInvariants, type EtcdInvariantStats } from '../properties/etcd/etcdInvariants.ts';
import { defaultHistoryCheckOptions, linearizableHistory, type HistoryCheckStats } from '../properties/etcd/linearizableHistory.ts';
import { currentLeader, raftLiveness, type LivenessFigures } from '../properties/raft/raftLiveness.ts';
import { raftTrafficOnly } from '../properties/raft/raftHost.ts';
import { snapshotWaitBounded } from '../properties/raft/snapshotWait.ts';
import { unreachableProbed } from '../properties/raft/unreachableProbed.ts';
import { defaultRaftSafetyOptions, describeRaftSafety, raftSafety } from '../properties/raft/raftSafety.ts';
import type { TimedFaultClass } from '../sim/nemesis.ts';
import type { HistoryEntry } from '../sim/client.ts';
import type { SimObserver, SnapshotReports, UnreachableReports } from '../sim/observer.ts';
import { defaultSimOptions, type SimOptions } from '../sim/options.ts';
import { RandomStreams } from '../sim/rng.ts';
import { drawSwarm, fullSwarmSpace, quietSwarmSpace, type SwarmDraw, type SwarmSpace } from '../sim/swarm.ts';
import { everyFaultClass } from './etcd/everyFaultClass.ts';
import { withLeaderFaults, type LeaderFaults } from './etcd/leaderFaults.ts';
import { lockCounterKey } from './etcd/lockTraffic.ts';
import { etcdScenarioWorkload, type ClientRole } from './etcd/workloads.ts';
import { swarmCoverage } from './coverage.ts';
import { checkingLeaseAttachments } from '../properties/lease/leaseAttachments.ts';
import { ApplyReference } from '../properties/etcd/applyReference.ts';
import { leaseChecks, type LeaseCheckStats } from '../properties/lease/leaseChecks.ts';
import { mutualExclusion, type MutualExclusionStats } from '../properties/lease/mutualExclusion.ts';
import { watchParts, type WatchRun, type WatchShape } from './etcd/watchers.ts';
import { watchRepliesApplied } from '../properties/watch/watchReplies.ts';
import { executeSimulation, resolveKnobs, type PreparedRun, type RunSettings, type Scenario } from './scenario.ts';
import { unstableCounts } from './unstableCounts.ts';
import { diskStallCounts } from './etcd/diskStallCounts.ts';

/**
 * The etcd scenario family: etcd members (core/server: Raft, the MVCC store and its backend, the
 * apply loop) under every fault class of the simulator, with etcd clients (sim/etcdClient.ts)
 * running real traffic: key-value calls, Kubernetes' pattern, compaction, defragmentation,
 * membership changes, the space quota. Every run is judged by Raft's safety checks on every step,
 * the etcd members' cross-node checks (properties/etcd) at the first wrong step, the clients'
 * history against etcd's model at the end, and liveness once the faults stop.
 */

const tickIntervalUs = 100_000;
const electionTicks = 10;
const electionTimeoutUs = electionTicks * tickIntervalUs;
const faultsStartUs = 2_000_000;
const quietAtUs = 20_000_000;
/**
 * The clients' call deadline. A write goes through two synced disk writes (the leader's and a
 * follower's WAL) and an apply on the member that answers, and a slow disk takes up to 250 ms per
 * sync: 2 s leaves room for that, well under etcd's own 7 s request timeout.
 */
const requestTimeoutUs = 2_000_000;
/** Liveness bound, stated in election timeouts. */
const livenessElectionTimeouts = 10;
const livenessBoundUs = livenessElectionTimeouts * electionTimeoutUs;
/**
 * The longest any client here waits between one call's end and its next call (session 23, task
 * leaselog): a compactor's interval (up to 4 s), a lock client's pause (up to two 2 s session TTLs).
 * Liveness holds each client to it once the cluster is live (raftLiveness' ClientPacing).
 */
const clientPacingUsMax = 4_000_000;
/** The latest a client may be served after the cluster is live: its call in flight, its pause, its next call lost, a pause, a call. */
const clientLivenessUsMax = requestTimeoutUs + 2 * (clientPacingUsMax + requestTimeoutUs);

export interface EtcdScenarioShape {
  readonly machines: number;
  /** Members of the first configuration (machines 1..initialMembers); the admin adds the others. */
  readonly initialMembers?: number;
  readonly roles: readonly ClientRole[];
  readonly space: SwarmSpace;
  /** Turn every class of `space` on, each seed drawing only how hard (the standard scenario). */
  readonly everyClassOn?: boolean;
  /** Faults aimed at the leader, added to every seed's plan (scenarios/etcd/leaderFaults.ts). */
  readonly leaderFaults?: LeaderFaults;
  readonly meanGapUs?: number;
  readonly faultUsMax?: number;
  readonly server?: Partial<EtcdServerConfig>;
  readonly quotaValueBytes?: number;
  /** Calls per client at most (default 5,000: in practice the run's length decides). */
  readonly operationsPerClientMax?: number;
  readonly checks?: EtcdTuning['checks'];
  readonly onHistory?: EtcdTuning['onHistory'];
  /** Lease clients run: check etcd's lease guarantees (`timing`: expiries against true time, see leaseChecks). */
  readonly leases?: { readonly timing: boolean; readonly checkpoints?: true };
  /** Lock clients run: their session TTL and process pauses, and mutual exclusion is checked. */
  readonly lock?: { readonly ttlSeconds: number; readonly pausePercent: number };
  /** What a run should find: a scenario that shows where etcd's own guarantees end expects a violation. */
  readonly expect?: 'pass' | 'violation';
  /** With `expect: 'violation'`: the share of seeds promised to catch it (Scenario.promisedCatchRate). */
  readonly promisedCatchRate?: number;
  /** Watch clients and their checks (scenarios/etcd/watchers.ts); none without it. */
  readonly watch?: WatchShape;
  /** With watches: settle unknown puts from what they showed before checking the history (default on). */
  readonly watchGuided?: boolean;
  /** How long a member's slice of deferred work takes (SimOptions.deferredWorkUs; a range delete applied in slices). */
  readonly deferredWorkUs?: number;
  /** The members' db writes lag their syncs at times, as the runtime's behind a rewrite (DiskOptions.lag on the backend file). */
  readonly dbLag?: { readonly chance: Ratio; readonly usMin: number; readonly usMax: number };
  /**
   * The value slabs' size during the run (core/mvcc/valueSlabs.ts; 4 MiB otherwise): small slabs
   * fill, go sparse under compaction and have their survivors relocated within a run. The run
   * starts on a fresh slab (where values land is never observable: no trace changes) and counts
   * the values relocated (`slabRelocations`).
   */
  readonly slabBytes?: number;
  /**
   * What the scenario exists to make happen, as stats keys a sweep of it must not leave at zero
   * (`Scenario.coverage`): snapshots installed, member changes, compactions. The fault classes'
   * counts are required from the space (swarmCoverage), the lease and lock counts from `leases`
   * and `lock`.
   */
  readonly coverage?: readonly string[];
  /**
   * The members run on the pipelined host loop, as the runtime runs them (runtime/server.ts's
   * `sendBeforeSync`): a Ready's appends, heartbeats and answers to applied entries leave while its
   * sync is in flight; acknowledgements, votes and what promises writes wait for it.
   */
  readonly pipelinedHost?: boolean;
}

/** What a property test or a benchmark may vary in a scenario beyond its seed: how much work, how many faults, which checks. */
export interface EtcdTuning {
  readonly operationsPerClientMax?: number;
  readonly meanGapUs?: number;
  readonly faultUsMax?: number;
  /** Which checks run (all by default); a benchmark turns some off to see what each costs. */
  readonly checks?: { readonly raft: boolean; readonly members: boolean; readonly history: boolean };
  /** Handed the clients' calls when a run ends without a violation (a benchmark times the history check on them). */
  readonly onHistory?: (calls: readonly HistoryEntry<ServerRequest, ServerReply>[], watches?: WatchRun) => void;
}

const baseOptions: Omit<SimOptions, 'seed'> = {
  ...defaultSimOptions,
  tickIntervalUs,
  // Room for a client served at its own pacing after a cluster live just within the bound.
  timeLimitUs: quietAtUs + livenessBoundUs + clientLivenessUsMax + 1_000_000,
  eventLimit: 3_000_000,
  clock: { ...defaultSimOptions.clock, tickBurstMax: 3 },
};

/**
 * The simulator's member: etcd's defaults in ticks, small snapshot counts so that snapshots happen,
 * and the runtime's Raft setting for snapshots (`snapshotStatusReported`): the simulated network
 * reports each snapshot's fate (`snapshotReports`), so the leader waits in StateSnapshot for that
 * report, as etcd's does, instead of core's timed retry.
 */
const serverDefaults: Partial<EtcdServerConfig> = { snapshotCount: 100, snapshotCatchUpEntries: 20, snapshotStatusReported: true };

/**
 * How long a snapshot is on the wire beyond its link's delay: three ticks. The simulator's stores
 * are small, but a snapshot's send is where the runtime spends seconds (see SnapshotReports.transferUs);
 * for a link's delay alone no fault ever met a snapshot in flight (none reported failed in 64 runs
 * of seven etcd scenarios).
 */
const snapshotTransferUs = 3 * tickIntervalUs;
/**
 * The longest a leader may wait in StateSnapshot for one follower while both are up
 * (properties/raft/snapshotWait.ts): past the longest fault (a stall holds a link up to 8 s), a
 * snapshot's transfer and the slowest tails.
 */
const snapshotWaitBoundUs = 15 * electionTimeoutUs;

/**
 * The simulated network reports snapshots to their senders' Raft as the runtime's peer transport
 * does (runtime/protocols/etcd.ts's reportSnapshot and reportUnreachable): finished once handed to
 * the receiving member, unreachable and failed when lost (see SimParts.snapshotReports).
 */
const snapshotReports: SnapshotReports<PeerMessage, EtcdServer> = {
  carriesSnapshot,
  transferUs: snapshotTransferUs,
  reportSnapshot: (node, to, status) => node.raft.reportSnapshot(to, status),
  reportUnreachable: (node, to) => node.raft.reportUnreachable(to),
};

/**
 * The simulated network reports ordinary messages it could not hand on (the link cut, the
 * receiver down or its paused inbox full, the link full) to their senders' Raft, as the runtime's
 * peer transport does whatever the snapshot setting (runtime/server.ts's onUnreachable): the
 * leader moves that follower from StateReplicate to StateProbe (see SimParts.unreachableReports).
 */
const unreachableReports: UnreachableReports<EtcdServer> = { reportUnreachable: snapshotReports.reportUnreachable };

/*
 * No message is duplicated in this family. etcd's peers talk over TCP streams (rafthttp): a
 * message may be lost when a stream breaks, and reordered between the two streams, but never
 * delivered twice. Raft shrugs off duplicates of its own messages, but not of a forwarded
 * proposal (MsgProp): a follower's proposal delivered twice is appended twice and its request
 * applied twice, which etcd never has to guard against (the Raft paper's §8 client serial numbers
 * are not part of etcd). Loss, delay, slow tails and reordering stay.
 */

/** Counts a run gathers beyond the simulator's, for its summary. */
export interface EtcdRunCounts {
  readonly history: HistoryCheckStats;
  readonly invariants: EtcdInvariantStats;
  readonly calls: CallCounts;
  readonly leases: LeaseCheckStats & MutualExclusionStats;
}

/** What the operators got done: calls answered ok by kind, and NOSPACE answers. */
interface CallCounts {
  memberChanges: number;
  compactions: number;
  defragmentations: number;
  alarmsDisarmed: number;
  noSpace: number;
}

function callCounts(counts: CallCounts): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    finish(sim) {
      for (const call of sim.history) {
        const reply = call.reply;
        if (reply === null) continue;
        if (isErrorReply(reply)) {
          if (reply.error.message === ErrNoSpace.message) counts.noSpace++;
          continue;
        }
        const method = call.request.method;
        if (method === 'MemberAdd' || method === 'MemberRemove' || method === 'MemberPromote' || method === 'MemberReconfigure') counts.memberChanges++;
        else if (method === 'Compact') counts.compactions++;
        else if (method === 'Defragment') counts.defragmentations++;
        else if (method === 'Alarm' && call.request.request.action === 'DEACTIVATE' && reply.method === 'Alarm' && reply.response.alarms.length > 0) counts.alarmsDisarmed++;
      }
    },
  };
}

/** The knobs of an etcd scenario (`--set NAME=VALUE`): the members' Raft and snapshot settings, the clients' work. */
function etcdKnobs(shape: EtcdScenarioShape) {
  const { electionTicks: ticks, snapshotCount, snapshotCatchUpEntries } = { ...serverDefaults, electionTicks, ...shape.server } as EtcdServerConfig;
  return { electionTicks: ticks, snapshotCount, snapshotCatchUpEntries, operationsPerClientMax: shape.operationsPerClientMax ?? 5_000 };
}

function prepareEtcdRun(name: string, seed: number, shape: EtcdScenarioShape, settings?: RunSettings): PreparedRun {
  const knobs = resolveKnobs(name, etcdKnobs(shape), settings?.knobs);
  let options: SimOptions;
  let drawNote: string;
  if (settings?.options === undefined) {
    const everyMachine = Array.from({ length: shape.machines }, (_, i) => i + 1);
    const base: SimOptions = {
      ...baseOptions,
      seed,
      nodeCount: shape.machines,
      ...(shape.deferredWorkUs === undefined ? {} : { deferredWorkUs: shape.deferredWorkUs }),
      ...(shape.dbLag === undefined ? {} : { disk: { ...baseOptions.disk, lag: { file: backendFile, ...shape.dbLag } } }),
      ...(shape.pipelinedHost === true ? { pipelinedHost: true } : {}),
    };
    const window = { startUs: faultsStartUs, quietAtUs, meanGapUs: shape.meanGapUs ?? 2_000_000, faultUsMax: shape.faultUsMax ?? 4_000_000 };
    const swarm = new RandomStreams(seed).stream('swarm');
    // Faults strike every machine, members or not yet: a member added later is crashed and cut off too.
    const draw: SwarmDraw = shape.everyClassOn === true ? everyFaultClass(swarm, base, shape.space, window, everyMachine) : drawSwarm(swarm, base, shape.space, window, everyMachine);
    options = draw.options;
    drawNote = `swarm: ${draw.classesOn.length === 0 ? 'no faults' : draw.classesOn.join(', ')}`;
    const aimed = shape.leaderFaults;
    if (aimed !== undefined) {
      options = { ...options, faults: withLeaderFaults(new RandomStreams(seed).stream('leader-faults'), options.faults, aimed, window) };
      const stalls = aimed.diskStalls;
      const parts = [
        ...(aimed.pauses > 0 ? [`${aimed.pauses} pauses of ${aimed.pauseUsMin / 1000}-${aimed.pauseUsMax / 1000} ms`] : []),
        ...(aimed.forwardJumps > 0 ? [`${aimed.forwardJumps} forward clock jumps of ${aimed.jumpUsMin / 1000}-${aimed.jumpUsMax / 1000} ms`] : []),
        ...(stalls !== undefined && stalls.count > 0 ? [`${stalls.count} disk stalls of ${stalls.usMin / 1000}-${stalls.usMax / 1000} ms`] : []),
      ];
      drawNote += `; aimed at the leader: ${parts.join(', ')}`;
    }
  } else {
    options = settings.options;
    drawNote = 'options: given (a case or --set), not drawn from the seed';
  }
  const machineCount = options.nodeCount;
  const initialMembers = Array.from({ length: Math.min(shape.initialMembers ?? shape.machines, machineCount) }, (_, i) => i + 1);
  const { operationsPerClientMax, ...serverKnobs } = knobs;
  const config = etcdServerConfig(initialMembers, { ...serverDefaults, ...shape.server, ...serverKnobs });
  const safetyOptions = defaultRaftSafetyOptions;
  const checks = shape.checks ?? { raft: true, members: true, history: true };
  const workloadShape = { roles: shape.roles, initialMembers, machines: machineCount, quietAtUs, timeoutUs: requestTimeoutUs, operationsPerClientMax, quotaValueBytes: shape.quotaValueBytes ?? 2048, ...(shape.lock === undefined ? {} : { lock: shape.lock }) };
  return {
    options,
    knobs,
    notes: [
      drawNote,
      ...(shape.dbLag === undefined ? [] : [`disk: a db write that finds no lag starts one with chance ${shape.dbLag.chance.numerator}/${shape.dbLag.chance.denominator}, ${shape.dbLag.usMin / 1000}-${shape.dbLag.usMax / 1000} ms: it and later db writes left out of the syncs meanwhile`]),
      ...(options.pipelinedHost === true ? ['host: pipelined, as the runtime runs a member (appends, heartbeats and answers to applied entries leave before the sync; acknowledgements, votes and answers that promise writes after it)'] : []),
      `etcd: ${machineCount} machines, members ${JSON.stringify(initialMembers)}, election ${config.electionTicks} ticks, snapshot every ${config.snapshotCount} entries, quota ${config.quotaBackendBytes} bytes`,
      `clients: ${shape.roles.join(', ')} (${requestTimeoutUs / 1e6} s request timeout, clientv3's retry rules)`,
      `checks: the clients' history against etcd's model (linearizable, unknown outcomes handled, revisions used; serializable and historical reads and compactions included), ` +
        "every applied request's answer against etcd's model and every other member's at the apply, " +
        'revision at each consistent index on every member, backend never ahead of the durable WAL, linearizable reads at or past the commit index at arrival, ' +
        'writes answered only once applied, Defragment and physical Compact answered only once their write is durable, the store equal to its backend file after every restart, HashKV agreement every 2 s and after restarts',
      describeRaftSafety(safetyOptions),
      ...(config.snapshotStatusReported
        ? [`snapshots: ${snapshotTransferUs / 1000} ms on the wire, each one's fate reported to its sender as the runtime's transport does (finished once handed on, failed when lost); no leader waits in StateSnapshot over ${snapshotWaitBoundUs / 1000} ms while it and the follower are up`]
        : []),
      `liveness: the cluster within ${livenessElectionTimeouts} election timeouts (${livenessBoundUs / 1000} ms) of the quiet fault, then each client within its own pacing (its call in flight, a pause of up to ${clientPacingUsMax / 1000} ms, a call answered within its ${requestTimeoutUs / 1000} ms deadline; once more if that call is lost)`,
      ...(shape.leases === undefined
        ? []
        : [
            `leases: a revoke takes every key of its lease in one revision, no key outlives its lease, every write's keys attached to the lease it names at its apply, no primary sets an expiry later than its TTL after a grant or renewal or an election timeout plus its last checkpointed remaining TTL after a promotion, checkpoints kept scheduled (every ${config.leaseCheckpointIntervalTicks ?? 'never'} ticks), a restarted member's remaining TTLs those of the log's checkpoints at its applied index; ${shape.leases.timing ? 'no lease expires before its TTL has passed in true time since its last acknowledged keep-alive, no promotion sets an expiry before that, and at every acknowledged keep-alive or grant and applied checkpoint a primary promoted from then on would keep it (an election timeout plus the last checkpointed remaining TTL)' : 'expiries NOT judged against true time (these faults break etcd\'s own timing assumptions)'}`,
          ]),
      ...(shape.lock === undefined ? [] : [`lock: session TTL ${shape.lock.ttlSeconds} s, the client's process pauses in ${shape.lock.pausePercent}% of critical sections; mutual exclusion checked on the counter it protects`]),
      ...(shape.watch === undefined
        ? []
        : [
            `watches: ${shape.watch.clients} watch clients resuming across members; every response judged as received against the revisions the members applied (ordered, unique, no gap, ` +
              'whole revisions, prev_kv, filters, bookmarks, never below the start), sent only once applied on its member; unknown puts and guarded txns settled from what the watches showed' +
              (shape.watchGuided === false ? ' (off)' : ''),
          ]),
    ],
    execute: (run) => {
      const counts: EtcdRunCounts = {
        history: { operations: 0, steps: 0, leftOut: { rangeOptions: 0, cluster: 0, lease: 0 } },
        invariants: { hashChecks: 0, hashesCompared: 0, snapshotsInstalled: 0, recoveriesChecked: 0 },
        calls: { memberChanges: 0, compactions: 0, defragmentations: 0, alarmsDisarmed: 0, noSpace: 0 },
        leases: { expiriesJudged: 0, revokesChecked: 0, keysRevoked: 0, promotionsJudged: 0, installsJudged: 0, checkpointsApplied: 0, checkpointsUsed: 0, expirySettingsJudged: 0, increments: 0 },
      };
      // Lease traffic: the leaders' revokes of expired leases join the clients' history.
      const expiries = shape.leases === undefined ? undefined : new LeaseExpiryRecorder();
      const workload = etcdScenarioWorkload(workloadShape, machineCount + 1);
      const watch = shape.watch === undefined ? null : watchParts(shape.watch, { initialMembers, firstClient: machineCount + 1 + workload.clientCount, stopAtUs: quietAtUs + livenessBoundUs / 2 });
      // With lease traffic, every member's lessor is checked at each apply (leaseAttachments.ts).
      const leased = shape.leases === undefined ? etcdProtocol(config) : checkingLeaseAttachments(etcdProtocol(config));
      // Every member's answer at each applied index is judged by the reference model and the other members' (applyReference.ts).
      const reference = checks.members ? new ApplyReference() : null;
      const members = reference === null ? leased : reference.checking(leased);
      const slabSizeBefore = shape.slabBytes === undefined ? null : useSlabSize(shape.slabBytes);
      const relocationsBefore = relocatedValues();
      // The unstable log's coverage counts, as the Raft family reads them (unstableCounts.ts).
      const unstable = unstableCounts<PeerMessage, ServerRequest, ServerReply, EtcdServer>();
      // With disk stalls: what members did while their disks were stalled (diskStallCounts.ts).
      const stalls = shape.space.timedClasses.includes('disk-stall') ? diskStallCounts() : null;
      const liveness = raftLiveness<PeerMessage, ServerRequest, ServerReply, EtcdServer>(livenessBoundUs, livenessElectionTimeouts, { timeoutUs: requestTimeoutUs, pacingUsMax: clientPacingUsMax });
      let executed: ReturnType<typeof executeSimulation>;
      try {
        executed = executeSimulation<PeerMessage, ServerRequest, ServerReply, EtcdServer>(
          options,
          {
          protocol: watch === null ? members : watch.ledger.watching(members),
          workload: watch === null ? workload : { ...workload, streams: watch.streams },
          observers: [
            ...(checks.raft ? [raftTrafficOnly<PeerMessage, ServerRequest, ServerReply, EtcdServer>(raftSafety(safetyOptions), isRaftMessage)] : []),
            ...(checks.raft && config.snapshotStatusReported ? [raftTrafficOnly<PeerMessage, ServerRequest, ServerReply, EtcdServer>(snapshotWaitBounded(snapshotWaitBoundUs, tickIntervalUs), isRaftMessage)] : []),
            ...(checks.raft ? [raftTrafficOnly<PeerMessage, ServerRequest, ServerReply, EtcdServer>(unreachableProbed(tickIntervalUs), isRaftMessage)] : []),
            ...(checks.members ? [etcdInvariants(undefined, counts.invariants)] : []),
            ...(checks.history ? [linearizableHistory(watch === null || shape.watchGuided === false ? defaultHistoryCheckOptions : { ...defaultHistoryCheckOptions, watches: watch.observed }, counts.history, expiries)] : []),
            ...(expiries === undefined ? [] : [expiries.observer(), leaseChecks(shape.leases!, counts.leases)]),
            ...(shape.lock === undefined ? [] : [mutualExclusion(lockCounterKey, counts.leases)]),
            ...(watch === null || !checks.members ? [] : [watchRepliesApplied()]),
            callCounts(counts.calls),
            unstable.observer,
            ...(stalls === null ? [] : [stalls.observer]),
            ...(shape.onHistory === undefined ? [] : [{ finish: (sim: { readonly history: readonly HistoryEntry<ServerRequest, ServerReply>[] }) => shape.onHistory!(sim.history, watch ?? undefined) }]),
          ],
          liveness,
          leader: currentLeader,
          // Reported whenever the members wait for reports (a scenario may turn that off: then nothing is reported).
          ...(config.snapshotStatusReported ? { snapshotReports } : {}),
          unreachableReports,
          clientHistory: (sim) => etcdHistory(sim.history, expiries?.expiries).history,
          },
          run,
        );
      } finally {
        if (slabSizeBefore !== null) useSlabSize(slabSizeBefore);
      }
      const { history, invariants, calls, leases } = counts;
      return {
        ...executed,
        stats: {
          ...executed.stats,
          ...(watch === null ? {} : { ...watch.stats(), watchSettledTookEffect: history.watchGuidance?.tookEffect ?? 0, watchSettledNever: history.watchGuidance?.neverTookEffect ?? 0 }),
          ...livenessStats(liveness.figures()),
          historyOperations: history.operations,
          historySteps: history.steps,
          // The apply check's work (applyReference.ts): indexes whose answer the model judged or learned, later appliers' answers compared, served reads judged (those below the model's compaction among them).
          ...(reference === null ? {} : { applyModelled: reference.stats.modelled, applyLearned: reference.stats.learned, applyCompared: reference.stats.compared, applyReads: reference.stats.reads, applyReadsBelowCompaction: reference.stats.readsBelowCompaction }),
          hashChecks: invariants.hashChecks,
          snapshotsInstalled: invariants.snapshotsInstalled,
          recoveriesChecked: invariants.recoveriesChecked,
          ...((shape.server?.applySliceKeys ?? 0) > 0 ? { slicedApplies: invariants.slicedApplies ?? 0 } : {}),
          ...calls,
          ...unstable.counts(),
          ...(stalls === null ? {} : stalls.counts),
          ...(shape.leases === undefined ? {} : { leaseExpiries: leases.expiriesJudged, leaseRevokes: leases.revokesChecked, leaseKeysRevoked: leases.keysRevoked, leaseInstallsJudged: leases.installsJudged, leaseRepliesUnjudged: leases.repliesUnjudged ?? 0, leaseRenewalsRefused: leases.renewalsRefusedBeforeRevoke ?? 0, leaseCheckpointProposalsForgotten: leases.checkpointProposalsForgotten ?? 0, leaseClearsOverCheckpoints: leases.clearsOverProposedCheckpoints ?? 0 }),
          ...(shape.leases?.checkpoints === true ? { leaseCheckpointsApplied: leases.checkpointsApplied, leaseCheckpointsUsed: leases.checkpointsUsed } : {}),
          ...(shape.lock === undefined ? {} : { lockIncrements: leases.increments }),
          ...(shape.slabBytes === undefined ? {} : { slabRelocations: relocatedValues() - relocationsBefore }),
        },
      };
    },
  };
}

/** The liveness figures in ms after quiet (the cluster live; the deadline in force at the last probe before it all held), and the slowest answer to a call on the live cluster, when known. */
function livenessStats({ quietAtUs: quietUs, clusterLiveAtUs, lastDeadlineUs, slowestCallUs }: ReturnType<LivenessFigures['figures']>): Record<string, number> {
  return {
    ...(slowestCallUs === null ? {} : { livenessSlowestCallMs: Math.round(slowestCallUs / 1000) }),
    ...(clusterLiveAtUs === null ? {} : { livenessClusterLiveMs: Math.round((clusterLiveAtUs - quietUs) / 1000) }),
    ...(lastDeadlineUs === null ? {} : { livenessDeadlineMs: Math.round((lastDeadlineUs - quietUs) / 1000) }),
  };
}

/** An etcd scenario; `tune` gives the same scenario with less or more work and faults (for property tests). */
export function etcdScenario(name: string, summary: string, shape: EtcdScenarioShape): Scenario & { tune(tuning: EtcdTuning): Scenario } {
  const space = { ...shape.space, duplicateMax: never };
  // A default sweep (`npm start`) runs two seeds of each: an etcd run costs several Raft runs.
  // Lease scenarios must see leases expire and take keys with them (and locks taken), or they lost coverage.
  // The fault classes' counts are required as the Raft family requires them, but not of a scenario
  // that expects a violation: its runs stop at the first, often before the faults it draws.
  const coverage = [
    ...(shape.expect === 'violation' ? [] : swarmCoverage(shape.space)),
    ...(shape.coverage ?? []),
    ...(shape.leases === undefined ? [] : ['leaseExpiries', 'leaseKeysRevoked']),
    ...(shape.leases?.checkpoints === true ? ['leaseCheckpointsApplied', 'leaseCheckpointsUsed'] : []),
    ...(shape.lock === undefined ? [] : ['lockIncrements']),
    ...(shape.slabBytes === undefined ? [] : ['slabRelocations']),
  ];
  const scenario = (tuned: EtcdScenarioShape): Scenario => ({
    name,
    family: 'etcd',
    summary,
    expect: shape.expect ?? 'pass',
    ...(shape.promisedCatchRate === undefined ? {} : { promisedCatchRate: shape.promisedCatchRate }),
    sweepSeeds: 2,
    ...(coverage.length === 0 ? {} : { coverage }),
    prepare: (seed, settings) => prepareEtcdRun(name, seed, { ...tuned, space }, settings),
  });
  return { ...scenario(shape), tune: (tuning) => scenario({ ...shape, ...tuning }) };
}

function only(classes: readonly TimedFaultClass[], extra: Partial<SwarmSpace> = {}): SwarmSpace {
  return { ...quietSwarmSpace, timedClasses: classes, alwaysOn: classes, ...extra };
}

/** Three members, one at a time cut off or down, while the others write past a snapshot every 20 entries. */
const catchingUp = {
  machines: 3,
  roles: ['mixed', 'mixed', 'txn', 'register', 'compactor'],
  space: only(['crash', 'partition'], { partitionShapes: ['isolate'], unavailableMax: 1 }),
  server: { snapshotCount: 20, snapshotCatchUpEntries: 5 },
} as const satisfies Partial<EtcdScenarioShape>;

const kvRoles: readonly ClientRole[] = ['mixed', 'mixed', 'register', 'txn', 'kubernetes', 'reads', 'compactor'];
const five = { machines: 5, roles: kvRoles } as const;
/**
 * --strict-reconfig-check wants every voter connected for etcd's 5 s health interval before a
 * member is added; with a fault every two seconds or so that almost never holds. One second keeps
 * the check and lets changes through.
 */
const membershipServer: Partial<EtcdServerConfig> = { healthIntervalTicks: 10 };
const crashSpace = only(['crash'], { tornWriteMax: ratio(1, 1), syncLatencyUsMax: fullSwarmSpace.syncLatencyUsMax });

const leaseRoles: readonly ClientRole[] = ['lease', 'lease', 'lease', 'lease', 'mixed', 'register', 'kubernetes', 'compactor'];
/**
 * Every fault class but the two that break etcd's lease timing by design: a paused process (a
 * deposed leader wakes up and renews leases its successor already runs on its own clock) and a
 * clock that runs fast or jumps (the leader's ticks are its lease clock).
 */
const leaseSafeSpace: SwarmSpace = { ...fullSwarmSpace, timedClasses: ['crash', 'partition', 'weather', 'leader'], clockDriftPpmMax: 0, clockJumpUsMax: 0 };
/** Pauses and clocks: what etcd's lessor assumes away. */
const leaseBreakingSpace = only(['pause', 'clock'], { clockOffsetUsMax: fullSwarmSpace.clockOffsetUsMax, clockDriftPpmMax: fullSwarmSpace.clockDriftPpmMax, clockJumpUsMax: fullSwarmSpace.clockJumpUsMax });
/**
 * What the two scenarios where etcd's own guarantees end promise: a catch in 95% of seeds. Measured:
 * etcd-lease-pauses 399/400 (seeds 0-399, with its leader faults; 116/200 before them), etcd-lock
 * 499/500 (seeds 0-499; seed 460 missed: its one long client pause was outlived by its lease, the
 * leader's clock having jumped back 1.26 s and the leader then paused, answering the queued
 * keep-alive when it woke). Well below both, so a sweep that draws new seeds does not fail on a
 * clean tree; high enough that a sweep of a few hundred seeds notices a check that stopped firing.
 */
const expectedViolationRate = 0.95;
/** A lock held by 2-second sessions whose clients' processes pause in a quarter of their critical sections. */
const pausedLock = { ttlSeconds: 2, pausePercent: 25 } as const;
const lockRoles = (role: ClientRole): readonly ClientRole[] => [role, role, role, role, 'mixed', 'register'];
/**
 * The members' Watch service made tight, so that its slow paths run: a stream buffers 8 responses
 * and sends 4 a tick (victims), unsynced watchers catch up 5 revisions a tick, progress every
 * half second.
 */
const watchServer: Partial<EtcdServerConfig> = {
  snapshotCount: 20,
  snapshotCatchUpEntries: 5,
  watch: { ...defaultWatchConfig, streamBufferResponses: 8, streamSendsPerTick: 4, syncBatchRevisions: 5, progressNotifyTicks: 5 },
};
const watchRoles: readonly ClientRole[] = ['mixed', 'mixed', 'deletes', 'kubernetes', 'txn', 'register', 'fast-compactor', 'head-compactor'];

export const etcdScenarios: readonly ReturnType<typeof etcdScenario>[] = [
  etcdScenario('etcd-calm', 'etcd, 5 members, every kind of client traffic, no faults', { ...five, space: quietSwarmSpace }),
  etcdScenario('etcd-standard', 'etcd, 5 members, 16 clients (key-value, Kubernetes, compactor, defragmenter), every fault class on at once', {
    machines: 5,
    roles: ['mixed', 'mixed', 'register', 'txn', 'deletes', 'kubernetes', 'kubernetes', 'reads', 'compactor', 'defragmenter', 'mixed', 'mixed', 'register', 'txn', 'deletes', 'reads'],
    space: fullSwarmSpace,
    everyClassOn: true,
  }),
  etcdScenario('etcd-swarm', 'etcd, 5 members, each seed draws its own mix of every fault class', { ...five, space: fullSwarmSpace }),
  etcdScenario('etcd-crashes', 'etcd, crashes and restarts with torn writes and slow syncs, a defragmenter (etcd #13766, #14685)', {
    machines: 5,
    roles: [...kvRoles, 'defragmenter'],
    space: crashSpace,
    coverage: ['defragmentations'],
  }),
  etcdScenario('etcd-partitions', 'etcd, every partition shape (isolate, leader, split, ring, bridge, one-way)', { ...five, space: only(['partition']) }),
  etcdScenario('etcd-pauses', 'etcd, processes paused and resumed (etcd #20418)', { ...five, space: only(['pause']) }),
  etcdScenario('etcd-clocks', 'etcd, clock offsets, drift and jumps', {
    ...five,
    space: only(['clock'], { clockOffsetUsMax: fullSwarmSpace.clockOffsetUsMax, clockDriftPpmMax: fullSwarmSpace.clockDriftPpmMax, clockJumpUsMax: fullSwarmSpace.clockJumpUsMax }),
  }),
  etcdScenario('etcd-lossy', 'etcd, message loss, duplication, reordering and slow tails', {
    ...five,
    space: only(['weather'], { lossMax: ratio(30, 100), duplicateMax: ratio(20, 100), tailMax: ratio(10, 100) }),
  }),
  etcdScenario('etcd-leader-churn', 'etcd, leaders crashed and cut off every second or so', { ...five, meanGapUs: 1_000_000, space: only(['leader'], { lossMax: ratio(10, 100) }) }),
  etcdScenario('etcd-register', 'etcd, single-key register traffic (puts, reads, compare-and-sets) from 8 clients under every fault class', {
    machines: 5,
    roles: ['register', 'register', 'register', 'register', 'register', 'register', 'register', 'register'],
    space: fullSwarmSpace,
  }),
  etcdScenario('etcd-kubernetes', "etcd, Kubernetes' pattern: guarded creates, updates and deletes, paged lists at one revision, a compactor", {
    machines: 3,
    roles: ['kubernetes', 'kubernetes', 'kubernetes', 'kubernetes', 'compactor', 'txn', 'deletes'],
    space: fullSwarmSpace,
  }),
  etcdScenario('etcd-snapshot-catchup', 'etcd, a member cut off or down while the others write past several snapshots, then caught up by snapshot', {
    ...catchingUp,
    meanGapUs: 3_000_000,
    faultUsMax: 8_000_000,
    coverage: ['snapshotsInstalled'],
  }),
  // Faults every 0.8 s meet snapshots on the wire (SnapshotReports.transferUs): with a fault every
  // 3 s (etcd-snapshot-catchup) none was lost in seeds 0-7.
  etcdScenario('etcd-snapshot-loss', 'etcd, members cut off and crashed every second or so while the others write past snapshots: snapshots lost in flight, reported failed, sent again', {
    ...catchingUp,
    meanGapUs: 800_000,
    faultUsMax: 1_500_000,
    coverage: ['snapshotsInstalled', 'snapshotsReportedFailed'],
  }),
  etcdScenario('etcd-membership', 'etcd, 3 of 7 machines members, learners added and promoted, voters added and removed under load and every fault class', {
    machines: 7,
    initialMembers: 3,
    roles: ['mixed', 'register', 'txn', 'kubernetes', 'admin-single'],
    space: fullSwarmSpace,
    server: membershipServer,
    coverage: ['memberChanges'],
  }),
  etcdScenario('etcd-joint', 'etcd, 3 of 7 machines members, voters replaced through joint consensus under load and every fault class', {
    machines: 7,
    initialMembers: 3,
    roles: ['mixed', 'register', 'txn', 'kubernetes', 'admin-joint'],
    space: fullSwarmSpace,
    server: membershipServer,
    coverage: ['memberChanges'],
  }),
  etcdScenario('etcd-compaction', 'etcd, compaction every half second in batches of 10 revisions, some at the head right after a delete, crashes mid-compaction with torn writes (etcd #17780, #18089)', {
    machines: 3,
    roles: ['mixed', 'deletes', 'kubernetes', 'kubernetes', 'txn', 'fast-compactor', 'head-compactor'],
    space: { ...crashSpace, timedClasses: ['crash', 'partition'], alwaysOn: ['crash'] },
    server: { compactionBatchLimit: 10, compactionBatchesPerTick: 1 },
    coverage: ['compactions'],
  }),
  etcdScenario('etcd-lease', 'etcd, lease clients (grant, keep-alive, keys attached, revokes, leases left to expire) beside key-value traffic, under crashes, partitions, lossy links and leader faults', {
    machines: 5,
    roles: leaseRoles,
    space: leaseSafeSpace,
    leases: { timing: true },
  }),
  // Session 20 (task hunt): the lease traffic's keys also move off their lease and between leases, so that the lessor's
  // detach on a put runs (mutant lease-put-without-lease-keeps-attachment was unreached by the other lease scenarios).
  etcdScenario('etcd-lease-moves', 'etcd, lease clients whose puts also move keys off their lease or onto another, beside key-value traffic, under crashes, partitions, lossy links and leader faults', {
    machines: 5,
    roles: ['lease-moves', 'lease-moves', 'lease-moves', 'lease-moves', 'mixed', 'register', 'kubernetes', 'compactor'],
    space: leaseSafeSpace,
    leases: { timing: true },
  }),
  // Session 20 (task leasecp): checkpoints every 2 s (etcd's 5 min outlived every run) and a leader fault every second or so,
  // so that checkpoints are made, applied, persisted and used by the next primary (etcd #9924, #13491).
  etcdScenario('etcd-lease-checkpoints', "etcd, lease checkpoints every 2 s under leader churn, crashes and partitions: a new leader runs each lease on from its last checkpointed remaining TTL, never later", {
    machines: 5,
    roles: ['lease', 'lease', 'lease-long', 'lease-long', 'mixed', 'register', 'kubernetes', 'compactor'],
    space: { ...leaseSafeSpace, alwaysOn: ['leader', 'crash'] },
    meanGapUs: 1_000_000,
    server: { leaseCheckpointIntervalTicks: 20 },
    leases: { timing: true, checkpoints: true },
  }),
  // Session 23 (task leaselog): a keep-alive reaches the primary while its own checkpoint of the lease is on its way (proposed,
  // not applied there yet) mostly on slow disks, where that takes up to two 250 ms syncs instead of a few ms: in
  // etcd-lease-checkpoints 5 of the 9 slow-disk seeds of 0-19 did, 1 of the 11 others. Slow disks there for every seed cost
  // its snapshot installs (37 over seeds 0-59 to 0), so the race has a scenario of its own: long leases, checkpoints every 2 s,
  // every disk slow, leader churn every ~4 s.
  etcdScenario('etcd-lease-checkpoint-race', "etcd, lease checkpoints every 2 s on slow disks under leader churn: keep-alives reach the primary while its own checkpoint of the lease is on its way, and must clear it too, or a new primary runs the renewed lease from the remaining TTL before the renewal", {
    machines: 5,
    roles: ['lease-long', 'lease-long', 'lease-long', 'lease-long', 'lease', 'mixed', 'register'],
    space: only(['leader'], { syncLatencyUsMax: fullSwarmSpace.syncLatencyUsMax }),
    everyClassOn: true,
    meanGapUs: 4_000_000,
    server: { leaseCheckpointIntervalTicks: 20 },
    leases: { timing: true, checkpoints: true },
    coverage: ['leaseClearsOverCheckpoints'],
  }),
  // Session 22 (task leasebound2): every lease let go lapses with a late keep-alive aimed just past the leader's expiry,
  // on slow disks (a revoke takes up to two 250 ms syncs to apply), so keep-alives land between the primary's expiry and
  // its revoke's apply (etcd #20616's window: a few ms on etcd-lease's calm disks, where 5 of seeds 0-19 reached it).
  etcdScenario('etcd-lease-expiry-race', "etcd, lease clients that let their leases lapse and send one more keep-alive just past the leader's expiry, on slow disks and under leader churn: the primary must renew a lease or say it is gone, never both", {
    machines: 5,
    roles: ['lease-racing', 'lease-racing', 'lease-racing', 'lease-racing', 'lease-racing', 'lease-racing', 'mixed', 'register'],
    space: only(['leader'], { syncLatencyUsMax: fullSwarmSpace.syncLatencyUsMax }),
    everyClassOn: true,
    meanGapUs: 4_000_000,
    leases: { timing: true },
    coverage: ['leaseRenewalsRefused'],
  }),
  etcdScenario('etcd-lease-swarm', "etcd, lease clients under every fault class; a lease's keys go with it in one revision (expiry timing not judged: pauses and clocks break it in etcd too)", {
    machines: 5,
    roles: leaseRoles,
    space: fullSwarmSpace,
    leases: { timing: false },
  }),
  /**
   * Where etcd's own lease guarantee ends (expected violation, documented like the bug catalogue):
   * etcd's lessor measures a lease on the leader's clock and trusts that a deposed leader stops
   * renewing within the election timeout by which its successor extends every lease (Promote).
   * A leader paused past that — a VM stall, a long GC — wakes up, still believes it leads, and
   * acknowledges keep-alives its successor never hears of; a leader whose clock runs fast (drift)
   * or jumps ahead counts a TTL down early. Either way a lease expires before its TTL has passed in
   * true time since its last acknowledged keep-alive. Jepsen's etcd 3.4.3 analysis shows the
   * consequence for locks (etcd #11457; see etcd-lock below).
   */
  etcdScenario('etcd-lease-pauses', "etcd's lease timing broken by design: leaders paused past an election timeout, leaders' clocks jumping ahead, clocks drifting and jumping (expected violation: a lease expires before its TTL in true time)", {
    machines: 5,
    roles: leaseRoles,
    space: leaseBreakingSpace,
    everyClassOn: true,
    leaderFaults: { pauses: 2, pauseUsMin: 1_200_000, pauseUsMax: 2_500_000, forwardJumps: 3, jumpUsMin: 300_000, jumpUsMax: 3_000_000 },
    leases: { timing: true },
    expect: 'violation',
    promisedCatchRate: expectedViolationRate,
  }),
  /**
   * etcd's lock recipe without fencing (expected violation; Jepsen etcd 3.4.3, etcd #11457 and its
   * docs fix #11490): a holder whose process pauses past its session's TTL — or whose keep-alives
   * stall on a paused member — loses its lease and its lock key, the next client takes the lock, and
   * the first one wakes up and writes anyway. The protected counter gets the same increment twice.
   */
  etcdScenario('etcd-lock', "etcd's lock recipe (a key under a session lease, first create revision holds it) without fencing, client processes pausing in the critical section, members paused and clocks jumping: mutual exclusion broken (expected violation)", {
    machines: 5,
    roles: lockRoles('lock'),
    space: leaseBreakingSpace,
    lock: pausedLock,
    leases: { timing: false },
    expect: 'violation',
    promisedCatchRate: expectedViolationRate,
  }),
  etcdScenario('etcd-lock-fenced', "etcd's lock recipe with revision fencing (the holder's write requires its lock key's create revision) under the same pauses and clock faults as etcd-lock: mutual exclusion holds", {
    machines: 5,
    roles: lockRoles('lock-fenced'),
    space: leaseBreakingSpace,
    lock: pausedLock,
    leases: { timing: false },
  }),
  /**
   * etcd #17780 needs the compacted revision to be the store's last: a delete, then a compaction at
   * it, with nothing written since, and a crash after the batch that removed the head's tombstone
   * is durable but before the finished mark is. Here the only writers are two head compactors (a third client only reads), and
   * one member at a time crashes every second or so, with torn writes and slow syncs.
   */
  etcdScenario('etcd-compaction-head', 'etcd, compactions at the head revision right after a delete (nothing written since), members crashing mid-compaction with torn writes (etcd #17780, #18089)', {
    machines: 3,
    roles: ['fast-head-compactor', 'fast-head-compactor', 'head-reader'],
    space: { ...crashSpace, unavailableMax: 1 },
    meanGapUs: 1_000_000,
    faultUsMax: 600_000,
    // One revision per compaction batch (the head's tombstone goes in a batch of its own, the
    // finished mark in a later one) and a 1 s backend batch interval (etcd's --backend-batch-
    // interval): the finished mark waits long after the removal it completes.
    server: { compactionBatchLimit: 1, compactionBatchesPerTick: 1, backendBatchIntervalTicks: 10 },
    coverage: ['compactions'],
  }),
  /**
   * A compaction's index compacted in slices (issue 10; runtime: 10,000 keys a slice, one a tick):
   * here two keys a slice, so every compaction's index work spans many ticks, with reads, writes,
   * watch catch-ups, HashKV checks, snapshots (every 20 entries: an install resumes the
   * compaction in slices too), further compactions and crashes landing in between. Reads below
   * the compaction revision are refused from its apply on; the rest must see nothing of it, and
   * no removal may start before the whole index is compacted (the mutant
   * etcd-compaction-removes-before-index-whole).
   */
  etcdScenario('etcd-compaction-slices', "etcd, 3 members, a compaction's index compacted two keys a tick (reads, writes, watchers, snapshots and crashes between slices), compaction every half second, under crashes and partitions", {
    machines: 3,
    roles: ['mixed', 'deletes', 'kubernetes', 'kubernetes', 'txn', 'register', 'fast-compactor', 'head-compactor'],
    space: { ...crashSpace, timedClasses: ['crash', 'partition'], alwaysOn: ['crash'] },
    server: { ...watchServer, compactionBatchLimit: 10, compactionBatchesPerTick: 1, compactionIndexSliceKeys: 2 },
    watch: { clients: 2 },
  }),
  etcdScenario('etcd-watch', 'etcd, 3 members, watchers (keys, prefixes, prev_kv, filters, progress) resuming across members under every fault class, compaction every half second, snapshots every 20 entries', {
    machines: 3,
    roles: watchRoles,
    space: fullSwarmSpace,
    server: watchServer,
    watch: { clients: 3 },
    coverage: ['compactions'],
  }),
  etcdScenario('etcd-watch-catchup', 'etcd, 3 members, watchers on a member cut off or down while the others write past snapshots and compactions, then caught up by snapshot (etcd #15271, #20221)', {
    machines: 3,
    roles: watchRoles,
    space: only(['crash', 'partition'], { partitionShapes: ['isolate'], unavailableMax: 1 }),
    meanGapUs: 3_000_000,
    faultUsMax: 6_000_000,
    server: watchServer,
    watch: { clients: 4 },
    coverage: ['snapshotsInstalled', 'compactions'],
  }),
  /**
   * A range delete applied across turns of the member's loop (issue 10; runtime: 4,096 keys a
   * turn): here one key a turn, so every DeleteRange of its clients (one key, or ranges of up to
   * three; deletes inside txns apply whole) spans two to four turns, with heartbeats, reads, watch creations,
   * snapshots (every 20 entries), defragments and crashes landing in between. The checks must
   * see nothing of it: one revision for the delete, exactly as applied in one turn. Two readers
   * read the deletes' keys serializably (one pinned, one round robin), so that clients' reads land
   * between slices too and the history check judges what they show there (a half-applied delete
   * shown as the revision before it: the mutant etcd-read-sees-open-delete).
   */
  etcdScenario('etcd-delete-turns', 'etcd, 3 members, range deletes applied one key per loop turn (later entries queued behind them) under every fault class, serializable readers of the deleted keys, watchers, snapshots every 20 entries, compaction and defragmentation', {
    machines: 3,
    roles: ['deletes', 'deletes', 'mixed', 'kubernetes', 'txn', 'register', 'fast-compactor', 'defragmenter', 'delete-reader', 'delete-reader'],
    space: fullSwarmSpace,
    server: { ...watchServer, applySliceKeys: 1 },
    // A slice takes as long as the runtime's (10-20 ms of CPU for its 4,096 keys): reads, watch
    // creations and faults land between slices.
    deferredWorkUs: 15_000,
    watch: { clients: 3 },
    coverage: ['compactions', 'defragmentations'],
  }),
  /**
   * The db lagging its syncs, as the runtime's FileStore lets it behind a rewrite (a defragment's
   * own, or the periodic one) or a large append being framed in turns: a third of the db writes
   * that find no lag under way start one of 20-300 ms, holding every later db write. A Defragment
   * and a physical Compact promise their write durable (etcd fsyncs both first): their answers
   * must wait for it (DurableStore.caughtUp; the check is PromisedWrites), under crashes.
   */
  etcdScenario('etcd-db-lag', 'etcd, 3 members, the db lagging its syncs (a rewrite in the making): defragments and physical compactions answered only once durable, under crashes', {
    machines: 3,
    roles: ['mixed', 'mixed', 'register', 'txn', 'kubernetes', 'fast-compactor', 'defragmenter'],
    space: crashSpace,
    dbLag: { chance: ratio(1, 3), usMin: 20_000, usMax: 300_000 },
    coverage: ['compactions', 'defragmentations'],
  }),
  /**
   * Values long enough for the store's slabs (core/mvcc/valueSlabs.ts: 64 bytes or more), some of
   * several kB, in 64 KiB slabs: they fill within seconds, go sparse as a compactor every 0.6 s
   * removes old revisions, and the survivors are relocated (counted: slabRelocations), under
   * crashes (torn writes: values decoded back into slabs at restarts), partitions and snapshots
   * every 20 entries. Every other etcd scenario's values are shorter than 64 bytes.
   */
  etcdScenario('etcd-large-values', 'etcd, 3 members, values of up to 8 kB (most in value slabs, 64 KiB each, relocated after compactions) under crashes, partitions and snapshots every 20 entries, with defragmentation', {
    machines: 3,
    roles: ['large-values', 'large-values', 'large-values', 'mixed', 'register', 'fast-compactor', 'defragmenter'],
    space: only(['crash', 'partition'], { tornWriteMax: ratio(1, 2), syncLatencyUsMax: fullSwarmSpace.syncLatencyUsMax }),
    server: { snapshotCount: 20, snapshotCatchUpEntries: 5 },
    slabBytes: 64 * 1024,
    coverage: ['defragmentations'],
  }),
  etcdScenario('etcd-quota', 'etcd, a writer fills a small space quota: the NOSPACE alarm, then compaction, defragmentation and disarm, under crashes and partitions', {
    machines: 3,
    roles: ['quota-filler', 'mixed', 'deletes', 'register'],
    space: only(['crash', 'partition'], { tornWriteMax: ratio(1, 2) }),
    server: { quotaBackendBytes: 256 * 1024 },
    quotaValueBytes: 3000,
    coverage: ['noSpace', 'alarmsDisarmed'],
  }),
  /**
   * The members as the runtime runs them: on the pipelined host loop (every other etcd scenario
   * runs the plain one, which sends nothing before its sync), under every fault class and two
   * that no other etcd scenario draws: links that stall, then deliver what they held at once, and
   * weather whose slow tails outlive an election timeout, so appends sent before their sync and
   * old-term traffic reach members late and out of turn (the Raft family's raft-stale-traffic).
   */
  etcdScenario('etcd-pipelined', 'etcd, 5 members on the pipelined host loop (as the runtime runs them: appends and heartbeats leave before the sync) under every fault class, links that stall and tails past an election timeout', {
    ...five,
    space: { ...fullSwarmSpace, timedClasses: [...fullSwarmSpace.timedClasses, 'stall'], weatherTail: { max: ratio(5, 100), usMax: 3 * electionTimeoutUs }, stallUsMax: 3 * electionTimeoutUs },
    pipelinedHost: true,
  }),
  /**
   * Disks that stall (the 'disk-stall' class: an fsync that hangs, etcd's "slow fdatasync";
   * etcd-io/etcd#9079's 53 s WAL sync) for up to 3 election timeouts, on any member (the leader
   * too), about every 0.6 s, the sync in flight held with the rest; beside leader churn (leaders
   * crashed or cut off), on the pipelined host loop, with leases (timing judged: a stalled disk
   * leaves every clock right), checkpoints every 2 s, compaction every half second and snapshots
   * every 20 entries. What a stall opens: a member's Raft log compacted by its application past
   * Raft's applied index while a Ready waits for the held sync (#9079), a member whose syncs lag
   * its peers' while it keeps answering heartbeats, a primary that runs its leases on (renews,
   * expiries) while its own log cannot grow, and reads answered by a member whose disk hangs
   * (diskStallCounts.ts counts the compactions, the stalled primary's renewals and expiries, the
   * reads and the stalls that hit the leader, all required).
   */
  etcdScenario('etcd-disk-stalls', 'etcd, 5 members on the pipelined host loop, disks that stall for up to 3 election timeouts (the leader\'s too) under leader churn, leases with checkpoints, compaction every half second, snapshots every 20 entries', {
    machines: 5,
    roles: ['lease', 'lease', 'lease-long', 'mixed', 'mixed', 'register', 'txn', 'kubernetes', 'reads', 'reads', 'fast-compactor'],
    space: only(['leader', 'disk-stall'], { syncLatencyUsMax: fullSwarmSpace.syncLatencyUsMax, diskStallUsMax: 3 * electionTimeoutUs, diskStallGapUs: 2_000_000 }),
    meanGapUs: 1_500_000,
    leaderFaults: { pauses: 0, pauseUsMin: 0, pauseUsMax: 0, forwardJumps: 0, jumpUsMin: 0, jumpUsMax: 0, diskStalls: { count: 6, usMin: 200_000, usMax: 3 * electionTimeoutUs } },
    server: { snapshotCount: 20, snapshotCatchUpEntries: 5, leaseCheckpointIntervalTicks: 20 },
    leases: { timing: true, checkpoints: true },
    pipelinedHost: true,
    coverage: ['snapshotsInstalled', 'compactions', 'unstableCutsInFlight', 'leaderDiskStalls', 'readsWhileStalled', 'keepAlivesWhileStalled', 'expiriesWhileStalled', 'compactedPastApplied'],
  }),
];
