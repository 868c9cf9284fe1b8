/**
 * Unknown-outcome compactions that nothing in the history can see (`HistoryAnalysis.fates` of the
 * etcd model): the checker drops them, as if they never took effect.
 *
 * A compaction to c changes one thing, the compaction revision, and only an ErrCompacted answer
 * shows that it moved that far: a compaction to r ≤ c refused, or a read at a revision r < c
 * refused (alone, serializable or inside a txn). Everything else a compaction's effect can
 * decide only gets harder with it: a read at a revision, or a compaction, that succeeded needs
 * the compaction revision below its own, and a lower one still is fine; an unknown-outcome
 * request it would have refused may as well not take effect. So when no completed response is
 * an ErrCompacted that c could explain, any linearization in which the compaction took effect
 * stays one without it, and the search need not try both (etcd-compaction seed 1878: four unknown
 * compactions, no ErrCompacted in its 131 operations, 112,000 steps before). Exactness is
 * property-tested against the plain search in etcdSettledCompactions.property.test.ts.
 */
import type { Operation } from '../history.ts';
import type { UnknownFate } from '../model.ts';
import { modelledError, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';

const unobserved: UnknownFate = { kind: 'unobserved' };

/** Per operation, `unobserved` for an unknown-outcome compaction that no ErrCompacted answer can need; undefined when there is none. */
export function unobservedCompactionFates(operations: readonly Operation<EtcdRequest, EtcdResponse>[]): (UnknownFate | undefined)[] | undefined {
  let fates: (UnknownFate | undefined)[] | undefined;
  let seen: number | undefined;
  for (let index = 0; index < operations.length; index++) {
    const { outcome, input } = operations[index]!;
    if (outcome !== 'unknown' || input.kind !== 'compact') continue;
    seen ??= lowestSeenCompaction(operations);
    if (input.revision >= seen) continue;
    fates ??= new Array<UnknownFate | undefined>(operations.length).fill(undefined);
    fates[index] = unobserved;
  }
  return fates;
}

/**
 * The lowest compaction revision that some completed ErrCompacted answer may need: a compaction
 * to c explains a refused compaction to r when c ≥ r, and a refused read at r when c > r.
 * Infinity when there is no such answer; -Infinity when one cannot be told (no revision found).
 */
function lowestSeenCompaction(operations: readonly Operation<EtcdRequest, EtcdResponse>[]): number {
  let lowest = Infinity;
  for (const { outcome, input, output } of operations) {
    if (outcome === 'unknown' || output?.error === undefined || modelledError(output.error) !== 'compacted') continue;
    lowest = Math.min(lowest, input.kind === 'compact' ? input.revision : lowestReadRevision(input) + 1);
  }
  return lowest;
}

/** The lowest revision a refused request reads at, in any branch; -Infinity when it reads at none (then no telling what refused it). */
function lowestReadRevision(request: EtcdRequest): number {
  const lowest = readRevisions(request).reduce((low, revision) => Math.min(low, revision), Infinity);
  return lowest === Infinity ? -Infinity : lowest;
}

function readRevisions(request: EtcdRequest): number[] {
  if (request.kind === 'range') return (request.revision ?? 0) > 0 ? [request.revision!] : [];
  return request.kind === 'txn' ? [...request.success, ...request.failure].flatMap(readRevisions) : [];
}
