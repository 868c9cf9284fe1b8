import type { FaultAction } from '../sim/faults.ts';
import type { SwarmSpace } from '../sim/swarm.ts';
import type { Scenario } from './scenario.ts';

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
  if (on('disk-stall')) counts.push('diskStalls');
  return counts;
}

/** The coverage counts a fault in a run's plan makes non-zero, and the faults that do. */
export const plannedCoverageFaults: Readonly<Record<string, readonly FaultAction['kind'][]>> = {
  crashes: ['crash', 'crash-leader'],
  pauses: ['pause', 'pause-leader'],
  clockJumps: ['clock-jump', 'clock-jump-leader'],
  partitionsHealed: ['partition'],
  diskStalls: ['disk-stall'],
};

/**
 * The counts of `plannedCoverageFaults` this seed's fault plan makes non-zero, from the prepared run
 * alone (no run): how reports/measureCoverageRates.ts measures their rates over thousands of seeds.
 */
export function plannedCoverage(scenario: Pick<Scenario, 'prepare'>, seed: number): Set<string> {
  const kinds = new Set(scenario.prepare(seed).options.faults.map((fault) => fault.action.kind));
  return new Set(Object.entries(plannedCoverageFaults).filter(([, on]) => on.some((kind) => kinds.has(kind))).map(([name]) => name));
}
