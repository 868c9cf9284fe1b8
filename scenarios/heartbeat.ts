import { assert } from '../core/base/assert.ts';
import { ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';
import { defaultSimOptions, type SimOptions } from '../sim/options.ts';
import { RandomStreams } from '../sim/rng.ts';
import type { SimObserver } from '../sim/observer.ts';
import { drawSwarm, fullSwarmSpace, quietSwarmSpace, type SwarmSpace } from '../sim/swarm.ts';
import {
  heartbeatLiveness,
  heartbeatProtocol,
  heartbeatSafety,
  heartbeatWorkload,
  type Heartbeat,
  type HeartbeatReply,
  type HeartbeatRequest,
  type HeartbeatSimulation,
  HeartbeatNode,
} from '../sim/testing/heartbeat.ts';
import { swarmCoverage } from './coverage.ts';
import { executeSimulation, resolveKnobs, type PreparedRun, type RunSettings, type Scenario } from './scenario.ts';

/**
 * The heartbeat family proves the simulator kernel on the small test protocol: each scenario turns
 * on one fault class (or, for the swarm, a random subset of all of them) and checks that the
 * heartbeat's safety property holds and that, once the faults stop, every node hears every other.
 */

const faultsStartUs = 1_000_000;
const quietAtUs = 20_000_000;
const livenessBoundUs = 5_000_000;

const base: Omit<SimOptions, 'seed'> = {
  ...defaultSimOptions,
  nodeCount: 5,
  timeLimitUs: quietAtUs + livenessBoundUs + 1_000_000,
  eventLimit: 2_000_000,
};

type HeartbeatObserver = SimObserver<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode>;

/** Reads of one node's counter never go back in real time: a reply shows only durable counters. */
function readsNeverGoBack(): HeartbeatObserver {
  return {
    finish(sim) {
      const byNode = new Map<NodeId, { invokeUs: number; completeUs: number; counter: number }[]>();
      for (const entry of sim.history) {
        if (entry.outcome !== 'ok' || entry.reply === null || entry.completeUs === null) continue;
        const reads = byNode.get(entry.to) ?? [];
        reads.push({ invokeUs: entry.invokeUs, completeUs: entry.completeUs, counter: entry.reply.counter });
        byNode.set(entry.to, reads);
      }
      for (const [node, reads] of byNode) {
        // For reads ordered in real time (one completed before the other began) the counter must not fall.
        const byInvoke = [...reads].sort((a, b) => a.invokeUs - b.invokeUs);
        let highestCompleted = -1;
        let completedIndex = 0;
        const byComplete = [...reads].sort((a, b) => a.completeUs - b.completeUs);
        for (const read of byInvoke) {
          while (completedIndex < byComplete.length && byComplete[completedIndex]!.completeUs < read.invokeUs) {
            highestCompleted = Math.max(highestCompleted, byComplete[completedIndex]!.counter);
            completedIndex++;
          }
          assert(read.counter >= highestCompleted, () => `a read of node ${node} at ${read.invokeUs}us saw counter ${read.counter} after an earlier read saw ${highestCompleted}`);
        }
      }
    },
  };
}

/** The lowest-numbered running node stands in for a leader in isolate-leader partitions. */
function standInLeader(sim: HeartbeatSimulation): NodeId | null {
  return sim.members.find((id) => sim.processState(id) === 'up') ?? null;
}

type Protocol = typeof heartbeatProtocol;

/** The family's knobs: how many clients read counters. */
const defaultKnobs = { clients: 2 };

/**
 * The run of `name` with `drawn` options (or the settings' own), its knobs and notes. Settings
 * replace what the seed drew, so a case or `--set` runs exactly what it says.
 */
function prepare(name: string, drawn: () => { options: SimOptions; notes: string[] }, settings: RunSettings | undefined, protocol: Protocol = heartbeatProtocol): PreparedRun {
  const knobs = resolveKnobs(name, defaultKnobs, settings?.knobs);
  const { options, notes } = settings?.options === undefined ? drawn() : { options: settings.options, notes: ['options: given (a case or --set), not drawn from the seed'] };
  return {
    options,
    knobs,
    notes: [...notes, 'checks: sent counters strictly increase per link (every send); reads never go back (end of run); liveness after quiet'],
    execute: (config) =>
      executeSimulation(
        options,
        {
          protocol,
          workload: heartbeatWorkload(knobs.clients, options.nodeCount),
          observers: [heartbeatSafety(), readsNeverGoBack()],
          liveness: heartbeatLiveness(livenessBoundUs),
          leader: standInLeader,
        },
        config,
      ),
  };
}


/** A scenario whose faults the swarm draws from `space` for each seed. */
function swarmScenario(name: string, summary: string, space: SwarmSpace, bug?: { protocol: Protocol }): Scenario {
  return {
    name,
    family: 'heartbeat',
    summary,
    expect: bug === undefined ? 'pass' : 'violation',
    coverage: swarmCoverage(space),
    prepare(seed, settings) {
      const drawn = (): { options: SimOptions; notes: string[] } => {
        const options: SimOptions = { ...base, seed };
        const draw = drawSwarm(new RandomStreams(seed).stream('swarm'), options, space, { startUs: faultsStartUs, quietAtUs, meanGapUs: 1_000_000, faultUsMax: 3_000_000 }, Array.from({ length: options.nodeCount }, (_, i) => i + 1));
        return { options: draw.options, notes: [`swarm: ${draw.classesOn.length === 0 ? 'no faults' : draw.classesOn.join(', ')}`] };
      };
      return prepare(name, drawn, settings, bug?.protocol);
    },
  };
}

/**
 * Bug catalogue: a node that lets its heartbeats leave without waiting for them to be durable
 * (the heartbeat's version of "replying to a vote before persisting it"). After a crash it
 * restarts from an older counter and sends a counter it already sent.
 */
class UnsyncedSendNode extends HeartbeatNode {
  override ready(): ReturnType<HeartbeatNode['ready']> {
    return { ...super.ready(), mustSync: false };
  }
}
const unsyncedSendProtocol: Protocol = { ...heartbeatProtocol, start: (config) => new UnsyncedSendNode(config) };

export const heartbeatScenarios: readonly Scenario[] = [
  {
    name: 'heartbeat-calm',
    family: 'heartbeat',
    summary: 'heartbeat protocol, 5 nodes, no faults',
    expect: 'pass',
    coverage: [],
    prepare: (seed, settings) => prepare('heartbeat-calm', () => ({ options: { ...base, seed, faults: [{ atUs: quietAtUs, action: { kind: 'quiet' } }] }, notes: ['no faults'] }), settings),
  },
  swarmScenario('heartbeat-swarm', 'heartbeat protocol, 5 nodes, each seed draws its own mix of every fault class', fullSwarmSpace),
  swarmScenario('heartbeat-crashes', 'heartbeat protocol, crashes and restarts with torn writes and slow syncs', {
    ...quietSwarmSpace,
    timedClasses: ['crash'],
    tornWriteMax: ratio(1, 1),
    syncLatencyUsMax: 250_000,
  }),
  swarmScenario('heartbeat-partitions', 'heartbeat protocol, every partition shape (isolate, leader, split, ring, bridge, one-way)', {
    ...quietSwarmSpace,
    timedClasses: ['partition'],
  }),
  swarmScenario('heartbeat-pauses', 'heartbeat protocol, processes paused and resumed', { ...quietSwarmSpace, timedClasses: ['pause'] }),
  swarmScenario('heartbeat-clocks', 'heartbeat protocol, clock offsets, drift and jumps', {
    ...quietSwarmSpace,
    timedClasses: ['clock'],
    clockOffsetUsMax: fullSwarmSpace.clockOffsetUsMax,
    clockDriftPpmMax: fullSwarmSpace.clockDriftPpmMax,
    clockJumpUsMax: fullSwarmSpace.clockJumpUsMax,
  }),
  swarmScenario('heartbeat-lossy', 'heartbeat protocol, message loss, duplication and slow tails', {
    ...quietSwarmSpace,
    timedClasses: ['weather'],
    lossMax: ratio(30, 100),
    duplicateMax: ratio(20, 100),
    tailMax: ratio(10, 100),
  }),
  swarmScenario(
    'bug-heartbeat-unsynced-send',
    'bug catalogue: heartbeats sent before they are durable; crashes must expose a repeated counter',
    { ...quietSwarmSpace, timedClasses: ['crash'], alwaysOn: ['crash'] },
    { protocol: unsyncedSendProtocol },
  ),
];
