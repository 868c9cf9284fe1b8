import type { Random } from '../core/base/random.ts';
import { isNever, never, ratio, type Ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';
import type { FaultPlan, PartitionShape, TimedFault } from './faults.ts';
import { planFaults, timedFaultClasses, type NemesisConstraints, type TimedFaultClass } from './nemesis.ts';
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
  /** Weather may bring slow tails up to this rate and delay (see NemesisConstraints.weatherTail). */
  readonly weatherTail?: { readonly max: Ratio; readonly usMax: number };
  /** The longest a stall holds a node's links (the 'stall' class; default: the longest fault). */
  readonly stallUsMax?: number;
  /** The longest a disk stall holds a node's syncs (the 'disk-stall' class; default: the longest fault). */
  readonly diskStallUsMax?: number;
  /** The average time between two disk stalls (default: twice the window's mean gap). */
  readonly diskStallGapUs?: number;
  /**
   * The extreme-timings knob: when its coin comes up, timings widen to the ends an untimed model
   * reaches — syncs that take no time, restarts right after crashes, and a slow tail of several
   * election timeouts on every link — each end with its own coin.
   */
  readonly extremeTimings?: { readonly tailMax: Ratio; readonly tailUsMax: number; readonly restartUsMax: number };
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
    calm: { loss, duplicate, tail, tailUsMax: isNever(tail) ? 0 : space.tailUsMax },
    ...(space.weatherTail === undefined ? {} : { weatherTail: space.weatherTail }),
  });
  const options: SimOptions = {
    ...base,
    network: { ...base.network, loss, duplicate, tail, tailUsMax: isNever(tail) ? 0 : space.tailUsMax },
    disk: { ...base.disk, tornWrite: torn, syncLatencyUsMax: slowDisk ? space.syncLatencyUsMax : base.disk.syncLatencyUsMax },
    clock: skew ? { ...base.clock, offsetUsMax: space.clockOffsetUsMax, driftPpmMax: space.clockDriftPpmMax } : base.clock,
    faults,
  };
  return drawLaterKnobs(random, { classesOn, options }, space, window, members);
}

/**
 * The coins added after the first swarm: tossed only when the space asks for them, and after
 * every earlier draw, so that the scenarios that existed before still draw what they drew.
 */
function drawLaterKnobs(random: Random, draw: SwarmDraw, space: SwarmSpace, window: { startUs: number; quietAtUs: number; meanGapUs: number; faultUsMax: number }, members: readonly NodeId[]): SwarmDraw {
  const classesOn = [...draw.classesOn];
  let options = draw.options;
  const coin = (): boolean => random.below(2) === 0;
  if (space.timedClasses.includes('stall') && (coin() || (space.alwaysOn ?? []).includes('stall'))) {
    classesOn.push('stall');
    options = { ...options, faults: withLaterClass(random, options.faults, 'stall', window, members, window.meanGapUs * 2, { stallUsMax: space.stallUsMax ?? window.faultUsMax }) };
  }
  const extreme = space.extremeTimings;
  if (extreme !== undefined && coin()) {
    const ends: string[] = [];
    if (coin()) {
      ends.push('instant syncs');
      options = { ...options, disk: { ...options.disk, syncLatencyUsMin: 0, syncLatencyUsMax: 0 } };
    }
    if (coin()) {
      ends.push('instant restarts');
      options = { ...options, faults: restartSooner(random, options.faults, extreme.restartUsMax) };
    }
    if (coin()) {
      ends.push('long tails');
      const tail = ratio(random.between(1, extreme.tailMax.numerator), extreme.tailMax.denominator);
      options = { ...options, network: { ...options.network, tail, tailUsMax: extreme.tailUsMax } };
    }
    classesOn.push(`extreme timings (${ends.length === 0 ? 'none' : ends.join(', ')})`);
  }
  // Disk stalls came after the extreme timings: their coin is tossed last.
  if (space.timedClasses.includes('disk-stall') && (coin() || (space.alwaysOn ?? []).includes('disk-stall'))) {
    classesOn.push('disk-stall');
    options = { ...options, faults: withLaterClass(random, options.faults, 'disk-stall', window, members, space.diskStallGapUs ?? window.meanGapUs * 2, { diskStallUsMax: space.diskStallUsMax ?? window.faultUsMax }) };
  }
  return { classesOn, options };
}

/**
 * `plan` with the faults of one later class added, drawn by a plan of their own (no node down for
 * them, no weather); both plans end with the quiet action, and one is kept.
 */
function withLaterClass(
  random: Random,
  plan: FaultPlan,
  kind: 'stall' | 'disk-stall',
  window: { startUs: number; quietAtUs: number; faultUsMax: number },
  members: readonly NodeId[],
  meanGapUs: number,
  limits: Pick<NemesisConstraints, 'stallUsMax' | 'diskStallUsMax'>,
): FaultPlan {
  const added = planFaults(random, {
    members,
    classes: [kind],
    startUs: window.startUs,
    quietAtUs: window.quietAtUs,
    meanGapUs,
    faultUsMax: window.faultUsMax,
    unavailableMax: 0,
    partitionShapes: [],
    clockJumpUsMax: 0,
    clockDriftPpmMax: 0,
    weatherLossMax: never,
    weatherDuplicateMax: never,
    calm: { loss: never, duplicate: never },
    ...limits,
  });
  return sortPlan([...plan.filter((f) => f.action.kind !== 'quiet'), ...added]);
}

/** Each crash's restart moved to within `restartUsMax` of the crash. */
function restartSooner(random: Random, plan: FaultPlan, restartUsMax: number): FaultPlan {
  const moved = plan.map((fault) => {
    if (fault.action.kind === 'crash-leader') return { ...fault, action: { ...fault.action, restartAfterUs: random.between(1, restartUsMax) } };
    return fault;
  });
  for (let i = 0; i < moved.length; i++) {
    const crash = moved[i]!;
    if (crash.action.kind !== 'crash') continue;
    const node = crash.action.node;
    const restart = moved.findIndex((f, j) => j > i && f.action.kind === 'restart' && f.action.node === node);
    if (restart < 0) continue;
    moved[restart] = { ...moved[restart]!, atUs: Math.min(moved[restart]!.atUs, crash.atUs + random.between(0, restartUsMax)) };
  }
  return sortPlan(moved);
}

/** By time, stably: a restart drawn right after its crash stays after it. */
function sortPlan(plan: readonly TimedFault[]): FaultPlan {
  return plan.map((fault, index) => ({ fault, index })).sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index).map((x) => x.fault);
}
