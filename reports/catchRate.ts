/**
 * The contract of an expected-violation scenario: the share of seeds in which it promises to catch
 * its violation, and how a sweep judges that promise over the seeds it ran.
 *
 * A scenario that re-creates a bug on purpose (a planted one, or where etcd's own guarantees end)
 * may not catch it in every seed: a fault plan that never hits the leader, a lock never contended.
 * Counting each miss as a failure made a gate that draws new seeds fail on a clean tree now and
 * then. So such a scenario states its rate (`Scenario.promisedCatchRate`, default every seed), and
 * a sweep fails it only when its catches are too few to be chance at that rate: a one-sided
 * binomial test at `implausible` (one sweep in a thousand of a scenario that keeps its promise
 * would fail), and never with no catch at all. A miss is listed with its replay line, not failed,
 * while the rate holds. A scenario that promises every seed is judged as before: each miss fails.
 */

/** A sweep fails a promise when catches this few happen with at most this probability at the promised rate. */
export const implausible = 0.001;

export interface CatchRateVerdict {
  readonly caught: number;
  readonly seeds: number;
  /** The promised share of seeds, in (0, 1]. */
  readonly promised: number;
  readonly holds: boolean;
  /** "caught in 246/250 seeds (98.4%), promised ≥ 95%: holds", and why when it does not. */
  readonly text: string;
}

/** Judges `caught` of `seeds` against the promised rate. */
export function judgeCatchRate(caught: number, seeds: number, promised: number): CatchRateVerdict {
  const head = `caught in ${caught}/${seeds} seeds${seeds === 0 ? '' : ` (${percent(caught / seeds)})`}, promised ${promised === 1 ? 'in every seed' : `≥ ${percent(promised)}`}`;
  const verdict = (holds: boolean, why: string): CatchRateVerdict => ({ caught, seeds, promised, holds, text: `${head}: ${why}` });
  if (seeds === 0) return verdict(true, 'nothing to judge');
  if (caught === seeds) return verdict(true, 'holds');
  if (promised >= 1) return verdict(false, `BROKEN (${seeds - caught} missed)`);
  if (caught === 0) return verdict(false, 'BROKEN (never caught)');
  if (caught / seeds >= promised) return verdict(true, 'holds');
  const chance = binomialAtMost(caught, seeds, promised);
  if (chance > implausible) return verdict(true, `holds (below the rate, but ${seeds} seeds cannot tell: so few catches happen with probability ${chance.toPrecision(2)} at ${percent(promised)})`);
  return verdict(false, `BROKEN (so few catches happen with probability ${chance.toPrecision(2)} at ${percent(promised)})`);
}

/** P(X ≤ k) for X ~ Binomial(n, p), summed in log space (n may be a million seeds). */
export function binomialAtMost(k: number, n: number, p: number): number {
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  // log C(n, i), built up term by term.
  let logChoose = 0;
  const terms: number[] = [];
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    terms.push(logChoose + i * logP + (n - i) * logQ);
  }
  const top = terms.reduce((most, term) => Math.max(most, term), -Infinity);
  return Math.min(1, Math.exp(top) * terms.reduce((sum, term) => sum + Math.exp(term - top), 0));
}

/** "caught in ≥ 95% of seeds", or "caught in every seed": what a scenario promises, for names and lists. */
export function describePromise(promised: number): string {
  return promised >= 1 ? 'caught in every seed' : `caught in ≥ ${percent(promised)} of seeds`;
}

function percent(share: number): string {
  const value = share * 100;
  return `${Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1)}%`;
}
