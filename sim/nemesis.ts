import { assert } from '../core/base/assert.ts';
import type { Random } from '../core/base/random.ts';
import { never, ratio, type Ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';
import type { FaultAction, FaultPlan, PartitionShape, TimedFault } from './faults.ts';

/** The fault classes a plan can draw from. Loss, duplication and torn writes are rates, set in the options. */
export const timedFaultClasses = ['crash', 'pause', 'partition', 'clock', 'weather', 'leader'] as const;
/**
 * Classes added later. The swarm tosses their coins after every draw of the classes above, so that
 * scenarios that do not use them draw exactly what they drew before.
 */
export const laterTimedFaultClasses = ['stall', 'disk-stall'] as const;
export type TimedFaultClass = (typeof timedFaultClasses)[number] | (typeof laterTimedFaultClasses)[number];

export interface NemesisConstraints {
  readonly members: readonly NodeId[];
  readonly classes: readonly TimedFaultClass[];
  /** Faults start no earlier than this (let the cluster form first). */
  readonly startUs: number;
  /** Faults stop here: the plan ends with the quiet action at this time. */
  readonly quietAtUs: number;
  /** The average time between two faults. */
  readonly meanGapUs: number;
  /** How long a fault lasts before its recovery, at most. */
  readonly faultUsMax: number;
  /** At most this many nodes down or paused at once (a majority may go down: safety must hold). */
  readonly unavailableMax: number;
  /** The partition shapes to draw from; isolate-leader needs the scenario to supply a leader probe. */
  readonly partitionShapes: readonly PartitionShape['kind'][];
  readonly clockJumpUsMax: number;
  readonly clockDriftPpmMax: number;
  /** The loss and duplication rates of bad weather; calm weather restores `calm`. */
  readonly weatherLossMax: Ratio;
  readonly weatherDuplicateMax: Ratio;
  readonly calm: { readonly loss: Ratio; readonly duplicate: Ratio; readonly tail?: Ratio; readonly tailUsMax?: number };
  /**
   * Bad weather may also bring a slow tail, up to this rate and this delay (which may outlive an
   * election timeout). Absent: weather is loss and duplication only, drawn as before.
   */
  readonly weatherTail?: { readonly max: Ratio; readonly usMax: number };
  /** A stall holds a node's links for up to this long (the 'stall' class). */
  readonly stallUsMax?: number;
  /** A disk stall holds a node's syncs for up to this long (the 'disk-stall' class; default: the longest fault). */
  readonly diskStallUsMax?: number;
}

/**
 * Draws a fault plan: faults at random gaps from the enabled classes, each followed by its
 * recovery (a crash by a restart, a pause by a resume, a partition by a heal, bad weather by
 * calm), then the quiet action. Every draw comes from `random`, the nemesis' own stream.
 */
export function planFaults(random: Random, constraints: NemesisConstraints): FaultPlan {
  const { members, classes, startUs, quietAtUs, meanGapUs, faultUsMax } = constraints;
  assert(quietAtUs >= startUs, 'faults must stop after they start');
  assert(meanGapUs > 0 && faultUsMax > 0, 'fault gaps and durations must be positive');
  const plan: TimedFault[] = [];
  const nodeBusyUntil = new Map<NodeId, number>(members.map((id) => [id, 0]));
  let partitionBusyUntil = 0;
  let weatherBusyUntil = 0;
  let atUs = startUs;
  for (;;) {
    atUs += random.between(Math.ceil(meanGapUs / 2), Math.ceil((meanGapUs * 3) / 2));
    if (atUs >= quietAtUs || classes.length === 0) break;
    const kind = classes[random.below(classes.length)]!;
    const endUs = Math.min(quietAtUs, atUs + random.between(Math.ceil(faultUsMax / 10), faultUsMax));
    const add = (at: number, action: FaultAction): void => void plan.push({ atUs: at, action });
    switch (kind) {
      case 'crash':
      case 'pause': {
        const unavailable = members.filter((id) => nodeBusyUntil.get(id)! > atUs).length;
        const free = members.filter((id) => nodeBusyUntil.get(id)! <= atUs);
        if (unavailable >= constraints.unavailableMax || free.length === 0) break;
        const node = free[random.below(free.length)]!;
        nodeBusyUntil.set(node, endUs);
        add(atUs, { kind, node });
        add(endUs, { kind: kind === 'crash' ? 'restart' : 'resume', node });
        break;
      }
      case 'partition': {
        if (partitionBusyUntil > atUs || constraints.partitionShapes.length === 0) break;
        partitionBusyUntil = endUs;
        add(atUs, { kind: 'partition', shape: drawShape(random, members, constraints.partitionShapes) });
        add(endUs, { kind: 'heal' });
        break;
      }
      case 'clock': {
        const node = members[random.below(members.length)]!;
        if (random.below(2) === 0 && constraints.clockJumpUsMax > 0) {
          const magnitude = random.between(1, constraints.clockJumpUsMax);
          add(atUs, { kind: 'clock-jump', node, deltaUs: random.below(2) === 0 ? magnitude : -magnitude });
        } else {
          const max = constraints.clockDriftPpmMax;
          add(atUs, { kind: 'clock-drift', node, driftPpm: max === 0 ? 0 : random.between(-max, max) });
        }
        break;
      }
      case 'leader': {
        // Leader churn: crash the leader, or cut it off, for a short while.
        const shortUs = Math.max(1, Math.min(endUs, atUs + random.between(Math.ceil(faultUsMax / 20), Math.ceil(faultUsMax / 4))) - atUs);
        if (random.below(2) === 0) add(atUs, { kind: 'crash-leader', restartAfterUs: shortUs });
        else if (partitionBusyUntil <= atUs) {
          partitionBusyUntil = atUs + shortUs;
          add(atUs, { kind: 'partition', shape: { kind: 'isolate-leader' } });
          add(atUs + shortUs, { kind: 'heal' });
        }
        break;
      }
      case 'weather': {
        if (weatherBusyUntil > atUs) break;
        weatherBusyUntil = endUs;
        const loss = drawRatio(random, constraints.weatherLossMax);
        const duplicate = drawRatio(random, constraints.weatherDuplicateMax);
        const tail = constraints.weatherTail;
        if (tail === undefined) {
          add(atUs, { kind: 'network', loss, duplicate });
          add(endUs, { kind: 'network', loss: constraints.calm.loss, duplicate: constraints.calm.duplicate });
        } else {
          add(atUs, { kind: 'network', loss, duplicate, tail: drawRatio(random, tail.max), tailUsMax: random.between(1, tail.usMax) });
          const calm = constraints.calm;
          add(endUs, { kind: 'network', loss: calm.loss, duplicate: calm.duplicate, tail: calm.tail ?? never, tailUsMax: calm.tailUsMax ?? 0 });
        }
        break;
      }
      case 'stall': {
        // A node's links hold their traffic for a while, then deliver it all, late.
        const node = members[random.below(members.length)]!;
        add(atUs, { kind: 'stall', node, durationUs: random.between(1, constraints.stallUsMax ?? faultUsMax) });
        break;
      }
      case 'disk-stall': {
        // A node's syncs hang for a while; it runs on meanwhile.
        const node = members[random.below(members.length)]!;
        add(atUs, { kind: 'disk-stall', node, durationUs: random.between(1, constraints.diskStallUsMax ?? faultUsMax) });
        break;
      }
    }
  }
  plan.push({ atUs: quietAtUs, action: { kind: 'quiet' } });
  // Stable sort by time: recoveries scheduled early keep their drawing order among equals.
  return plan.map((fault, index) => ({ fault, index })).sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index).map((x) => x.fault);
}

function drawShape(random: Random, members: readonly NodeId[], kinds: readonly PartitionShape['kind'][]): PartitionShape {
  const usable = kinds.filter((kind) => (kind === 'ring' ? members.length >= 5 : kind === 'bridge' ? members.length >= 3 : members.length >= 2));
  if (usable.length === 0) return { kind: 'isolate', node: members[0]! };
  const kind = usable[random.below(usable.length)]!;
  const pick = (): NodeId => members[random.below(members.length)]!;
  switch (kind) {
    case 'isolate':
      return { kind, node: pick() };
    case 'isolate-leader':
      return { kind };
    case 'split': {
      const order = shuffle(random, members);
      const minority = Math.max(1, random.between(1, Math.floor((members.length - 1) / 2) || 1));
      return { kind, side: order.slice(0, minority).sort((a, b) => a - b) };
    }
    case 'ring':
      return { kind, order: shuffle(random, members) };
    case 'bridge': {
      const order = shuffle(random, members);
      const bridge = order[0]!;
      const rest = order.slice(1);
      return { kind, bridge, side: rest.slice(0, Math.floor(rest.length / 2)).sort((a, b) => a - b) };
    }
    case 'one-way': {
      const from = pick();
      const others = members.filter((m) => m !== from);
      return { kind, from, to: others[random.below(others.length)]! };
    }
  }
}

/** A ratio in (0, max], at a resolution of max's own denominator. */
function drawRatio(random: Random, max: Ratio): Ratio {
  if (max.numerator === 0) return never;
  return ratio(random.between(1, max.numerator), max.denominator);
}

export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}
