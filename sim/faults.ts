import { assert, assertNever } from '../core/base/assert.ts';
import type { Ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';

/** How the nodes are cut off from each other. Clients keep their links: they sit with the nodes. */
export type PartitionShape =
  /** One node alone; the others together. */
  | { readonly kind: 'isolate'; readonly node: NodeId }
  /** The current leader alone, whoever it is when the fault fires (needs a leader probe). */
  | { readonly kind: 'isolate-leader' }
  /** Two sides that cannot talk: `side` and everyone else (a minority/majority split). */
  | { readonly kind: 'split'; readonly side: readonly NodeId[] }
  /**
   * Jepsen's majorities ring: nodes in `order` form a ring and each talks only to the nodes
   * within ⌊majority/2⌋ places, so each sees a majority and no two see the same one.
   */
  | { readonly kind: 'ring'; readonly order: readonly NodeId[] }
  /** Two halves joined only through `bridge`, which talks to both. */
  | { readonly kind: 'bridge'; readonly bridge: NodeId; readonly side: readonly NodeId[] }
  /** `from` can no longer reach `to`; the other direction still works. Adds to the current cuts. */
  | { readonly kind: 'one-way'; readonly from: NodeId; readonly to: NodeId };

export type FaultAction =
  | { readonly kind: 'crash'; readonly node: NodeId }
  /** Crash whoever leads when the fault fires (needs a leader probe), and restart it after a while. */
  | { readonly kind: 'crash-leader'; readonly restartAfterUs: number }
  | { readonly kind: 'restart'; readonly node: NodeId }
  /**
   * Pause whoever leads when the fault fires (needs a leader probe), and resume it after a while: a
   * leader stalled past an election timeout (a VM stall, a long GC) that wakes up believing it
   * still leads — what etcd's lease timing assumes away.
   */
  | { readonly kind: 'pause-leader'; readonly resumeAfterUs: number }
  | { readonly kind: 'pause'; readonly node: NodeId }
  | { readonly kind: 'resume'; readonly node: NodeId }
  | { readonly kind: 'partition'; readonly shape: PartitionShape }
  | { readonly kind: 'heal' }
  | { readonly kind: 'clock-jump'; readonly node: NodeId; readonly deltaUs: number }
  /** Whoever leads when the fault fires has its clock jump (needs a leader probe): its lessor counts TTLs down early. */
  | { readonly kind: 'clock-jump-leader'; readonly deltaUs: number }
  | { readonly kind: 'clock-drift'; readonly node: NodeId; readonly driftPpm: number }
  /**
   * Network weather from now on: loss and duplication rates, and (when given) a slow tail — whose
   * delays may outlive an election timeout, so that old-term traffic reaches a new leader.
   */
  | { readonly kind: 'network'; readonly loss: Ratio; readonly duplicate: Ratio; readonly tail?: Ratio; readonly tailUsMax?: number }
  /**
   * Every link to and from `node` stalls for `durationUs`: what is sent meanwhile arrives only
   * after it, all at once and late (a link that reconnects and delivers old traffic).
   */
  | { readonly kind: 'stall'; readonly node: NodeId; readonly durationUs: number }
  /**
   * `node`'s disk stalls for `durationUs` (an fsync that hangs: etcd's "slow fdatasync"): no sync
   * completes before the stall's end, neither one begun meanwhile nor one already in flight when
   * it began (completing at max(its own time, the stall's end)). The process runs on, takes messages
   * and sends what needs nothing durable; what waits for the sync waits. A follower's write in
   * flight then outlives an election timeout, and a new leader's entries cut into it.
   */
  | { readonly kind: 'disk-stall'; readonly node: NodeId; readonly durationUs: number }
  /**
   * Whoever leads when the fault fires has its disk stall for `durationUs` (needs a leader probe):
   * a 'disk-stall' fault of that node follows at once, as its own event; none without a leader.
   */
  | { readonly kind: 'disk-stall-leader'; readonly durationUs: number }
  /**
   * Faults stop: partitions heal, paused processes resume, crashed ones restart, the network
   * calms. What follows is the liveness phase.
   */
  | { readonly kind: 'quiet' };

export interface TimedFault {
  readonly atUs: number;
  readonly action: FaultAction;
}

export type FaultPlan = readonly TimedFault[];

/** One line per fault, for headers and reports. */
export function describeFault(action: FaultAction): string {
  switch (action.kind) {
    case 'crash':
    case 'restart':
    case 'pause':
    case 'resume':
      return `${action.kind} ${action.node}`;
    case 'crash-leader':
      return `crash-leader (restart after ${action.restartAfterUs}us)`;
    case 'pause-leader':
      return `pause-leader (resume after ${action.resumeAfterUs}us)`;
    case 'partition':
      return `partition ${describeShape(action.shape)}`;
    case 'heal':
    case 'quiet':
      return action.kind;
    case 'clock-jump':
      return `clock-jump ${action.node} ${action.deltaUs >= 0 ? '+' : ''}${action.deltaUs}us`;
    case 'clock-jump-leader':
      return `clock-jump-leader ${action.deltaUs >= 0 ? '+' : ''}${action.deltaUs}us`;
    case 'clock-drift':
      return `clock-drift ${action.node} ${action.driftPpm}ppm`;
    case 'network': {
      const tail = action.tail === undefined ? '' : ` tail=${action.tail.numerator}/${action.tail.denominator} up to ${action.tailUsMax ?? 0}us`;
      return `network loss=${action.loss.numerator}/${action.loss.denominator} duplicate=${action.duplicate.numerator}/${action.duplicate.denominator}${tail}`;
    }
    case 'stall':
      return `stall ${action.node} for ${action.durationUs}us`;
    case 'disk-stall':
      return `disk-stall ${action.node} for ${action.durationUs}us`;
    case 'disk-stall-leader':
      return `disk-stall-leader for ${action.durationUs}us`;
    default:
      return assertNever(action, 'fault');
  }
}

export function describeShape(shape: PartitionShape): string {
  switch (shape.kind) {
    case 'isolate':
      return `isolate ${shape.node}`;
    case 'isolate-leader':
      return 'isolate-leader';
    case 'split':
      return `split [${shape.side.join(',')}]`;
    case 'ring':
      return `ring [${shape.order.join(',')}]`;
    case 'bridge':
      return `bridge ${shape.bridge} [${shape.side.join(',')}]`;
    case 'one-way':
      return `one-way ${shape.from}->${shape.to}`;
    default:
      return assertNever(shape, 'partition shape');
  }
}

/**
 * Whether nodes `a` and `b` can talk under `shape` (for every shape but one-way, which is a
 * single directed cut). `leader` resolves isolate-leader; with no leader nothing is cut.
 */
export function connected(shape: Exclude<PartitionShape, { kind: 'one-way' }>, a: NodeId, b: NodeId, members: readonly NodeId[], leader: NodeId | null): boolean {
  if (a === b) return true;
  switch (shape.kind) {
    case 'isolate':
      return a !== shape.node && b !== shape.node;
    case 'isolate-leader':
      return leader === null || (a !== leader && b !== leader);
    case 'split':
      return shape.side.includes(a) === shape.side.includes(b);
    case 'ring': {
      const n = shape.order.length;
      const i = shape.order.indexOf(a);
      const j = shape.order.indexOf(b);
      assert(i >= 0 && j >= 0, 'ring order must name every member');
      const distance = Math.min((i - j + n) % n, (j - i + n) % n);
      return distance <= Math.floor((Math.floor(members.length / 2) + 1) / 2);
    }
    case 'bridge':
      if (a === shape.bridge || b === shape.bridge) return true;
      return shape.side.includes(a) === shape.side.includes(b);
    default:
      return assertNever(shape, 'partition shape');
  }
}
