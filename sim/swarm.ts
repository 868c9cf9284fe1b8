import type { Random } from '../core/base/random.ts';
import { isNever, never, ratio, type Ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';
import type { PartitionShape } from './faults.ts';
import { planFaults, timedFaultClasses, type TimedFaultClass } from './nemesis.ts';
import type { SimOptions } from './options.ts';

/** Which fault classes a scenario lets the swarm draw from, and how hard at most. */
export interface SwarmSpace {
  readonly timedClasses: readonly TimedFaultClass[];
  readonly partitionShapes: readonly PartitionShape['kind'][];
  readonly lossMax: Ratio;
  readonly duplicateMax: Ratio;
  readonly tornWriteMax: Ratio;
  readonly tailMax: Ratio;
  readonly tailUsMax: number;
  readonly clockOffsetUsMax: number;
  readonly clockDriftPpmMax: number;
  readonly clockJumpUsMax: number;
  readonly syncLatencyUsMax: number;
  /** At most this many nodes crashed or paused at once; by default any number but one. */
  readonly unavailableMax?: number;
  /** Timed classes that are on in every draw (a bug-catalogue scenario needs its trigger). */
  readonly alwaysOn?: readonly TimedFaultClass[];
}

export const allPartitionShapes: readonly PartitionShape['kind'][] = ['isolate', 'isolate-leader', 'split', 'ring', 'bridge', 'one-way'];

export const fullSwarmSpace: SwarmSpace = {
  timedClasses: timedFaultClasses,
  partitionShapes: allPartitionShapes,
  lossMax: ratio(20, 100),
  duplicateMax: ratio(10, 100),
  tornWriteMax: ratio(1, 2),
  tailMax: ratio(5, 100),
  tailUsMax: 200_000,
  clockOffsetUsMax: 2_000_000,
  clockDriftPpmMax: 100_000,
  clockJumpUsMax: 3_000_000,
  syncLatencyUsMax: 250_000,
};

/** Nothing on: the start for a scenario that turns on one class. */
export const quietSwarmSpace: SwarmSpace = {
  ...fullSwarmSpace,
  timedClasses: [],
  lossMax: never,
  duplicateMax: never,
  tornWriteMax: never,
  tailMax: never,
  clockOffsetUsMax: 0,
  clockDriftPpmMax: 0,
  clockJumpUsMax: 0,
  syncLatencyUsMax: 0,
};

/** What the swarm drew for one seed: the classes on, and the options that carry them. */
export interface SwarmDraw {
  readonly classesOn: readonly string[];
  readonly options: SimOptions;
}

/**
 * Swarm testing (Groce et al.; TigerBeetle's VOPR): each seed first draws *which* fault classes are
 * on and how hard, then draws the faults themselves. Runs with few classes on explore deep
 * interleavings of those; runs with many explore their interactions. Draws come from the swarm's
 * own stream, so a scenario that changes its space does not shift the network's or disks' draws.
 */
export function drawSwarm(random: Random, base: SimOptions, space: SwarmSpace, window: { startUs: number; quietAtUs: number; meanGapUs: number; faultUsMax: number }, members: readonly NodeId[]): SwarmDraw {
  const coin = (): boolean => random.below(2) === 0;
  // Every coin is tossed whether or not its class is possible, so the draws line up across spaces.
  const on = (possible: boolean): boolean => coin() && possible;
  const rate = (max: Ratio): Ratio => (on(max.numerator > 0) ? ratio(random.between(1, max.numerator), max.denominator) : never);
  const isOn = (kind: TimedFaultClass): boolean => on(space.timedClasses.includes(kind)) || (space.alwaysOn ?? []).includes(kind);
  // Leader churn came later: its coin is tossed last, so the draws of the other classes stay put.
  const timed = timedFaultClasses.filter((kind) => kind !== 'leader' && isOn(kind));
  const loss = rate(space.lossMax);
  const duplicate = rate(space.duplicateMax);
  const torn = rate(space.tornWriteMax);
  const tail = rate(space.tailMax);
  const skew = on(space.clockOffsetUsMax > 0 || space.clockDriftPpmMax > 0);
  const slowDisk = on(space.syncLatencyUsMax > base.disk.syncLatencyUsMax);
  if (isOn('leader')) timed.push('leader');
  const classesOn: string[] = [...timed];
  for (const [name, value] of [['loss', loss], ['duplicate', duplicate], ['torn', torn], ['tail', tail]] as const) if (!isNever(value)) classesOn.push(name);
  if (skew) classesOn.push('skew');
  if (slowDisk) classesOn.push('slow-disk');
  const meanGapUs = random.between(Math.ceil(window.meanGapUs / 2), window.meanGapUs * 2);
  const faults = planFaults(random, {
    members,
    classes: timed,
    startUs: window.startUs,
    quietAtUs: window.quietAtUs,
    meanGapUs,
    faultUsMax: window.faultUsMax,
    unavailableMax: space.unavailableMax ?? members.length - 1,
    partitionShapes: space.partitionShapes,
    clockJumpUsMax: space.clockJumpUsMax,
    clockDriftPpmMax: space.clockDriftPpmMax,
    weatherLossMax: space.lossMax,
    weatherDuplicateMax: space.duplicateMax,
    calm: { loss, duplicate },
  });
  return {
    classesOn,
    options: {
      ...base,
      network: { ...base.network, loss, duplicate, tail, tailUsMax: isNever(tail) ? 0 : space.tailUsMax },
      disk: { ...base.disk, tornWrite: torn, syncLatencyUsMax: slowDisk ? space.syncLatencyUsMax : base.disk.syncLatencyUsMax },
      clock: skew ? { ...base.clock, offsetUsMax: space.clockOffsetUsMax, driftPpmMax: space.clockDriftPpmMax } : base.clock,
      faults,
    },
  };
}
