/**
 * Small helpers over arrays of operation ids (`Int32Array`s of positions), which the kv fast
 * path, its replay and the analysis build per key.
 */

/** The ids for which `keep` holds, in their order. */
export function selectIds(ids: Int32Array, keep: (id: number) => boolean): Int32Array {
  let count = 0;
  for (let at = 0; at < ids.length; at++) if (keep(ids[at]!)) count++;
  const kept = new Int32Array(count);
  count = 0;
  for (let at = 0; at < ids.length; at++) if (keep(ids[at]!)) kept[count++] = ids[at]!;
  return kept;
}

/** How many of `ids`, ascending by `keys[id]`, have a key at or below `limit`. */
export function countAtOrBelow(ids: ArrayLike<number>, keys: ArrayLike<number>, limit: number): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[ids[middle]!]! <= limit) low = middle + 1;
    else high = middle;
  }
  return low;
}
