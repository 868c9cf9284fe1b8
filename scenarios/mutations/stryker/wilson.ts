/**
 * The Wilson score interval for a binomial proportion (Wilson 1927): for `successes` of `trials`
 * and the normal quantile `z` (1.96 for 95%). Unlike the plain normal interval it stays inside
 * [0, 1] and behaves near 0% and 100%, where a mutation score often is.
 */
export function wilsonInterval(successes: number, trials: number, z: number): { low: number; high: number } {
  if (trials <= 0) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z / (1 + z2 / trials)) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
