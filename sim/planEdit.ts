import type { NodeId } from '../core/host/node.ts';
import type { FaultAction, FaultPlan, PartitionShape, TimedFault } from './faults.ts';

/**
 * Edits of a fault plan that keep it well-formed: fitting it to fewer members (a shrunk case, or
 * `--set nodeCount=3` on a plan drawn for five), and naming which faults pair up with which
 * recovery. Pure functions of plain data.
 */

/** The fault plan with every fault that names a node outside `members` dropped or narrowed. */
export function fitPlanToMembers(plan: FaultPlan, members: readonly NodeId[]): FaultPlan {
  const fitted: TimedFault[] = [];
  for (const fault of plan) {
    const action = fitAction(fault.action, members);
    if (action !== null) fitted.push(action === fault.action ? fault : { atUs: fault.atUs, action });
  }
  return fitted;
}

function fitAction(action: FaultAction, members: readonly NodeId[]): FaultAction | null {
  if ('node' in action) return members.includes(action.node) ? action : null;
  if (action.kind !== 'partition') return action;
  const shape = fitShape(action.shape, members);
  if (shape === null) return null;
  return shape === action.shape ? action : { kind: 'partition', shape };
}

function fitShape(shape: PartitionShape, members: readonly NodeId[]): PartitionShape | null {
  const inside = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => members.includes(id));
  switch (shape.kind) {
    case 'isolate':
      return members.includes(shape.node) && members.length > 1 ? shape : null;
    case 'isolate-leader':
      return members.length > 1 ? shape : null;
    case 'split': {
      const side = inside(shape.side);
      return side.length === 0 || side.length === members.length ? null : side.length === shape.side.length ? shape : { kind: 'split', side };
    }
    case 'ring': {
      const order = inside(shape.order);
      // A ring needs every member in its order, and only cuts anything from five members on.
      return order.length === members.length && members.length >= 5 ? (order.length === shape.order.length ? shape : { kind: 'ring', order }) : null;
    }
    case 'bridge': {
      const side = inside(shape.side);
      if (!members.includes(shape.bridge) || side.length === 0 || side.length === members.length - 1) return null;
      return side.length === shape.side.length ? shape : { kind: 'bridge', bridge: shape.bridge, side };
    }
    case 'one-way':
      return members.includes(shape.from) && members.includes(shape.to) ? shape : null;
  }
}

/**
 * For each fault, the index of the later fault that ends it, or -1: a crash's restart, a pause's
 * resume, a partition's heal, bad weather's calm (the next weather change). A shrinker removes a
 * fault together with its recovery, and shortens a fault by moving its recovery closer.
 */
export function recoveries(plan: FaultPlan): number[] {
  const enders = plan.map(() => -1);
  const taken = new Set<number>();
  plan.forEach((fault, index) => {
    const ender = plan.findIndex((later, laterIndex) => laterIndex > index && !taken.has(laterIndex) && isEndedBy(fault.action, later.action));
    if (ender < 0) return;
    enders[index] = ender;
    taken.add(ender);
  });
  return enders;
}

function isEndedBy(fault: FaultAction, later: FaultAction): boolean {
  switch (fault.kind) {
    case 'crash':
      return later.kind === 'restart' && later.node === fault.node;
    case 'pause':
      return later.kind === 'resume' && later.node === fault.node;
    case 'partition':
      return later.kind === 'heal' || later.kind === 'quiet';
    case 'network':
      return later.kind === 'network' || later.kind === 'quiet';
    default:
      return false;
  }
}

/**
 * The faults a plan injects: every action but the quiet and the recoveries that end an earlier
 * fault (a restart after a crash, calm weather after bad). A recovery left without its fault
 * changes nothing but still counts, until a shrinker removes it too.
 */
export function countFaults(plan: FaultPlan): number {
  const enders = new Set(recoveries(plan));
  return plan.filter((fault, index) => fault.action.kind !== 'quiet' && !enders.has(index)).length;
}
