/**
 * Sorts ids by one or two numbers each, stably, in place: a bottom-up merge sort over typed arrays.
 * `TypedArray.prototype.sort` with a comparator calls a function per comparison, which made
 * sorting the 100,000 operations of a history the costliest part of setting up its search; and
 * histories arrive almost sorted (by invocation, which completion order follows closely), so most
 * merges here find their two runs already in order and copy nothing.
 */

/** Sorts `ids` by `primary[id]`, then `secondary[id]` when given, keeping the given order of ties. */
export function sortIds(ids: Int32Array, primary: Float64Array, secondary?: Float64Array): void {
  const length = ids.length;
  if (length < 2) return;
  const before = (a: number, b: number): boolean => {
    const x = primary[a]!;
    const y = primary[b]!;
    if (x !== y) return x < y;
    return secondary !== undefined && secondary[a]! < secondary[b]!;
  };
  let from: Int32Array = ids;
  let to: Int32Array = new Int32Array(length);
  for (let width = 1; width < length; width *= 2) {
    for (let start = 0; start < length; start += 2 * width) {
      const middle = Math.min(start + width, length);
      const end = Math.min(start + 2 * width, length);
      // Runs already in order are copied whole.
      if (middle === end || !before(from[middle]!, from[middle - 1]!)) {
        for (let at = start; at < end; at++) to[at] = from[at]!;
        continue;
      }
      let left = start;
      let right = middle;
      for (let at = start; at < end; at++) {
        // Ties take the left run's id first: the sort is stable.
        if (right >= end || (left < middle && !before(from[right]!, from[left]!))) to[at] = from[left++]!;
        else to[at] = from[right++]!;
      }
    }
    [from, to] = [to, from];
  }
  if (from !== ids) ids.set(from);
}
