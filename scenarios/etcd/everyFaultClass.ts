import type { Random } from '../../core/base/random.ts';
import { ratio, type Ratio } from '../../core/base/ratio.ts';
import type { NodeId } from '../../core/host/node.ts';
import { planFaults, timedFaultClasses } from '../../sim/nemesis.ts';
import type { SimOptions } from '../../sim/options.ts';
import type { SwarmDraw, SwarmSpace } from '../../sim/swarm.ts';

/**
 * Every fault class of `space` on at once, each seed drawing only how hard: crashes, pauses,
 * partitions, clock jumps, bad weather and leader churn as timed faults; loss, duplication, torn
 * writes, slow tails, clock skew and slow disks as rates. (The swarm turns classes on and off per
 * seed; the standard scenario wants them all together, as a user's worst day.)
 */
export function everyFaultClass(random: Random, base: SimOptions, space: SwarmSpace, window: { startUs: number; quietAtUs: number; meanGapUs: number; faultUsMax: number }, members: readonly NodeId[]): SwarmDraw {
  // A class the space leaves at zero stays off (a pause-and-clock space has no loss, torn writes or tails).
  const rate = (max: Ratio): Ratio => (max.numerator === 0 ? max : ratio(random.between(Math.max(1, Math.ceil(max.numerator / 4)), max.numerator), max.denominator));
  const loss = rate(space.lossMax);
  const duplicate = rate(space.duplicateMax);
  const torn = rate(space.tornWriteMax);
  const tail = rate(space.tailMax);
  const classes = timedFaultClasses.filter((kind) => space.timedClasses.includes(kind));
  const faults = planFaults(random, {
    members,
    classes,
    startUs: window.startUs,
    quietAtUs: window.quietAtUs,
    meanGapUs: window.meanGapUs,
    faultUsMax: window.faultUsMax,
    unavailableMax: space.unavailableMax ?? members.length - 1,
    partitionShapes: space.partitionShapes,
    clockJumpUsMax: space.clockJumpUsMax,
    clockDriftPpmMax: space.clockDriftPpmMax,
    weatherLossMax: space.lossMax,
    weatherDuplicateMax: space.duplicateMax,
    calm: { loss, duplicate },
  });
  // Skew and slow disks stay off where the space leaves them at the base's (a pause-and-clock space
  // has the quiet disk: its 0 µs bound under the base's 100 µs floor tripped "bad sync latency range").
  const skew = space.clockOffsetUsMax > 0 || space.clockDriftPpmMax > 0;
  const slowDisk = space.syncLatencyUsMax > base.disk.syncLatencyUsMax;
  return {
    classesOn: [...classes, ...rated({ loss, duplicate, torn, tail }), ...(skew ? ['skew'] : []), ...(slowDisk ? ['slow-disk'] : [])],
    options: {
      ...base,
      network: { ...base.network, loss, duplicate, tail, tailUsMax: space.tailUsMax },
      disk: { ...base.disk, tornWrite: torn, syncLatencyUsMax: slowDisk ? space.syncLatencyUsMax : base.disk.syncLatencyUsMax },
      clock: { ...base.clock, offsetUsMax: space.clockOffsetUsMax, driftPpmMax: space.clockDriftPpmMax },
      faults,
    },
  };
}

/** The rate classes that are on, in the order the swarm names them. */
function rated(rates: Readonly<Record<'loss' | 'duplicate' | 'torn' | 'tail', Ratio>>): string[] {
  return (['loss', 'duplicate', 'torn', 'tail'] as const).filter((kind) => rates[kind].numerator !== 0);
}
