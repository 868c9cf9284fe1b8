import { randomInt } from 'node:crypto';
import { hashString32 } from '../../core/base/hash.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { UsageError } from '../cli/usage.ts';

/**
 * Which runs a sweep makes, and in which order. Runs are numbered by seed index k = 0, 1, 2, ...
 * (seed = first seed + k) and, for each k, every scenario in turn — so a sweep cut short by its
 * time budget has covered every scenario about equally. A shard I/N takes the seed indexes with
 * k mod N = I - 1: N machines of a CI matrix share one large sweep, and `merge` joins them.
 */
export interface SweepPlan {
  readonly scenarios: readonly Scenario[];
  readonly firstSeed: number;
  /** Seed indexes to run (before sharding); null: as many as the time budget allows. */
  readonly seeds: number | null;
  /**
   * Whether `seeds` was asked for. When it was not and no time budget bounds the sweep (the
   * default sweep, `npm start`), a scenario that names its own `sweepSeeds` (a costly one: an
   * etcd run costs several Raft runs) runs only that many seed indexes. A time-budgeted sweep (the
   * gate) runs every scenario seed by seed as long as the budget lasts.
   */
  readonly seedsGiven: boolean;
  readonly shard: Shard;
  /** Stop starting runs after this much wall time; null: no limit. */
  readonly timeBudgetMs: number | null;
  /** Check determinism on seed indexes k with k mod every = 0; 0: never. */
  readonly determinismEvery: number;
}

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export interface SweepTask {
  readonly scenario: string;
  readonly seed: number;
  readonly checkDeterminism: boolean;
}

/** The most seed indexes a sweep runs, with or without a time budget (a bound on every sweep). */
export const seedsMax = 1_000_000;

/** `I/N` with 1 ≤ I ≤ N. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be I/N with 1 <= I <= N, got "${text}"`);
  return { index, count };
}

/**
 * The first seed from `--seed-from`: `random` draws one (and the sweep prints it), any other text
 * (a commit id, a date) is hashed, so that a gate explores new seeds for every commit and any run
 * of it can still be replayed from the seed it prints.
 */
export function seedFrom(text: string): number {
  if (text === 'random') return randomInt(0, 2 ** 31);
  return hashString32(text) % 2 ** 31;
}

/** The tasks of a plan, in order, for one shard; stops at the plan's seed count (or `seedsMax`). */
export function* planTasks(plan: SweepPlan): Generator<SweepTask> {
  const seeds = plan.seeds ?? seedsMax;
  for (let k = plan.shard.index - 1; k < seeds; k += plan.shard.count) {
    const checkDeterminism = plan.determinismEvery > 0 && k % plan.determinismEvery === 0;
    for (const scenario of plan.scenarios) if (k < seedLimit(plan, scenario)) yield { scenario: scenario.name, seed: plan.firstSeed + k, checkDeterminism };
  }
}

/** How many seed indexes a scenario takes in a plan. */
function seedLimit(plan: SweepPlan, scenario: Scenario): number {
  const seeds = plan.seeds ?? seedsMax;
  return plan.seedsGiven || plan.seeds === null || scenario.sweepSeeds === undefined ? seeds : Math.min(seeds, scenario.sweepSeeds);
}

/** How many runs a plan makes in its shard, or null when only the time budget bounds it. */
export function plannedRuns(plan: SweepPlan): number | null {
  if (plan.seeds === null) return null;
  const indexesBelow = (limit: number): number => Math.max(0, Math.ceil((limit - (plan.shard.index - 1)) / plan.shard.count));
  return plan.scenarios.reduce((sum, scenario) => sum + indexesBelow(seedLimit(plan, scenario)), 0);
}

/** One line saying what a plan runs. */
export function describePlan(plan: SweepPlan, seedSource: string | null): string {
  const seeds = plan.seeds === null ? `seeds from ${plan.firstSeed} on` : `seeds ${plan.firstSeed}..${plan.firstSeed + plan.seeds - 1}`;
  const shard = plan.shard.count === 1 ? '' : `, shard ${plan.shard.index}/${plan.shard.count} (seed indexes k with k mod ${plan.shard.count} = ${plan.shard.index - 1})`;
  const budget = plan.timeBudgetMs === null ? '' : `, for at most ${(plan.timeBudgetMs / 1000).toFixed(0)} s`;
  const source = seedSource === null ? '' : ` (first seed from --seed-from ${JSON.stringify(seedSource)})`;
  const determinism = plan.determinismEvery === 0 ? 'no determinism checks' : plan.determinismEvery === 1 ? 'every run checked for determinism' : `determinism checked on every ${plan.determinismEvery}th seed`;
  return `sweep: ${plan.scenarios.length} scenario(s), ${seeds}${source}${shard}${budget}; ${determinism}`;
}
