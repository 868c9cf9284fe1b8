import type { Random } from '../../core/base/random.ts';
import type { FaultPlan, TimedFault } from '../../sim/faults.ts';

/**
 * Faults aimed at whoever leads, added to a scenario's drawn plan: the two that break etcd's lease
 * timing. The swarm's pauses and clock faults hit a random member, so a fifth of them hit the
 * leader and a seed often had none that did (etcd-lease-pauses caught its violation in 58% of
 * seeds); these hit the leader in every seed.
 */
export interface LeaderFaults {
  /** Leader pauses, each between `pauseUsMin` and `pauseUsMax` long. */
  readonly pauses: number;
  readonly pauseUsMin: number;
  readonly pauseUsMax: number;
  /** Forward jumps of the leader's clock, each between `jumpUsMin` and `jumpUsMax`. */
  readonly forwardJumps: number;
  readonly jumpUsMin: number;
  readonly jumpUsMax: number;
  /** Disk stalls of the leader, each between `diskStallUsMin` and `diskStallUsMax` (none when absent): drawn after the rest. */
  readonly diskStalls?: { readonly count: number; readonly usMin: number; readonly usMax: number };
}

/**
 * The plan with the leader faults added, each kind spread over the fault window (one in each of
 * as many equal slices) and drawn from `random`, a stream of their own, so the rest of the plan is
 * what the seed drew without them.
 *
 * - A paused leader (a VM stall, a long GC) is deposed while keep-alives queue for it; it wakes
 *   up believing it still leads. (In this simulator a resumed member handles its inbox in arrival
 *   order, so it hears its successor's term before any keep-alive that arrived after the
 *   successor's election, and etcd's one-election-timeout extension at promotion covers the ones
 *   before: a pause alone rarely breaks a lease here. It still makes the leases change hands.)
 * - A leader whose clock jumps forward owes a burst of ticks, and its lessor counts every TTL down
 *   early by them: a lease left to lapse expires before its TTL has passed in true time.
 * - A leader whose disk stalls (etcd-disk-stalls) goes on leading, renewing and expiring leases and
 *   serving reads on its clock and its followers' heartbeat answers while its own log cannot grow.
 *   Drawn after the two above, so a scenario without them draws what it drew before.
 */
export function withLeaderFaults(random: Random, plan: FaultPlan, faults: LeaderFaults, window: { readonly startUs: number; readonly quietAtUs: number }): FaultPlan {
  const added: TimedFault[] = [];
  const spread = (count: number, lastUs: number, action: () => TimedFault['action']): void => {
    const sliceUs = Math.floor((lastUs - window.startUs) / count);
    for (let slice = 0; slice < count; slice++) added.push({ atUs: window.startUs + slice * sliceUs + random.below(sliceUs), action: action() });
  };
  spread(faults.pauses, window.quietAtUs - faults.pauseUsMax, () => ({ kind: 'pause-leader', resumeAfterUs: random.between(faults.pauseUsMin, faults.pauseUsMax) }));
  spread(faults.forwardJumps, window.quietAtUs, () => ({ kind: 'clock-jump-leader', deltaUs: random.between(faults.jumpUsMin, faults.jumpUsMax) }));
  const stalls = faults.diskStalls;
  if (stalls !== undefined && stalls.count > 0) spread(stalls.count, window.quietAtUs - stalls.usMax, () => ({ kind: 'disk-stall-leader', durationUs: random.between(stalls.usMin, stalls.usMax) }));
  // By time, stably: the drawn plan's faults first among equals, the quiet action last.
  return [...plan, ...added].map((fault, index) => ({ fault, index })).sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index).map((x) => x.fault);
}
