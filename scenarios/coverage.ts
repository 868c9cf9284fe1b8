import type { SwarmSpace } from '../sim/swarm.ts';

/**
 * The behaviour counts a swarm scenario must produce over a sweep, from the fault classes its
 * space turns on: crashes (and torn writes recovered when writes can tear), partitions healed,
 * clock jumps, pauses. A count that should be non-zero and is zero means the scenario stopped
 * exercising what it exists for; `sweep --require-coverage` (and the gate) fail on it.
 */
export function swarmCoverage(space: SwarmSpace): string[] {
  const on = (kind: SwarmSpace['timedClasses'][number]): boolean => space.timedClasses.includes(kind) || (space.alwaysOn ?? []).includes(kind);
  const counts: string[] = [];
  if (on('crash') || on('leader')) counts.push('crashes');
  if (on('crash') && space.tornWriteMax.numerator > 0) counts.push('tornWritesRecovered');
  if (on('partition')) counts.push('partitionsHealed');
  if (on('clock') && space.clockJumpUsMax > 0) counts.push('clockJumps');
  if (on('pause')) counts.push('pauses');
  return counts;
}
