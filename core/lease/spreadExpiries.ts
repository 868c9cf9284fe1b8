import type { Lease } from './lease.ts';

/**
 * etcd's Promote spreads expiries so that leases piled up behind a leader change do not all expire
 * at once: when there are at least as many leases as the revoke rate allows per second, leases are
 * taken in expiry order and, once more than 3/4 of the rate fall into one second, later ones are
 * pushed back in proportion (lessor.go Promote, "adjust expiries in case of overlap").
 */
export function spreadExpiries(leases: Lease[], now: number, extendTicks: number, ticksPerSecond: number, revokesPerSecond: number): void {
  if (leases.length < revokesPerSecond) return;
  leases.sort((a, b) => a.expiry - b.expiry || a.id - b.id);
  const target = Math.floor((3 * revokesPerSecond) / 4);
  let baseWindow = leases[0]!.expiry - now;
  let nextWindow = baseWindow + ticksPerSecond;
  let expires = 0;
  for (const lease of leases) {
    const remaining = lease.expiry - now;
    if (remaining > nextWindow) {
      baseWindow = remaining;
      nextWindow = baseWindow + ticksPerSecond;
      expires = 1;
      continue;
    }
    expires++;
    if (expires <= target) continue;
    // Leases extended by n seconds, n seconds ahead of the base window, are pushed by one second only.
    const delay = Math.ceil((ticksPerSecond * expires) / target - (remaining - baseWindow));
    nextWindow = baseWindow + delay;
    lease.refresh(now, delay + extendTicks, ticksPerSecond);
  }
}
