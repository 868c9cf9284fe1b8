/**
 * Sorts ids by one or two numbers each, stably, in place: a merge sort over typed arrays, made for
 * histories. `TypedArray.prototype.sort` with a comparator calls a function per comparison, which
 * made sorting the 100,000 operations of a history the costliest part of setting up its search.
 * Histories arrive nearly sorted: by invocation, and completion order differs from it only within
 * the window of operations running at once (but a hostile file may come in any order). So:
 * - blocks of `blockSize` ids are sorted by insertion (the ids out of place move a few slots);
 * - then neighbouring sorted runs are merged, doubling their width; a merge copies the left
 *   run's ids that go before all of the right run, and the right run's that go after all of the
 *   left, whole (found by binary search, copied with `set`), and compares only where they
 *   overlap. Nearly sorted, each pass is about a memory copy; in any order, O(n log n).
 */

const blockSize = 32;

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
  for (let start = 0; start < length; start += blockSize) {
    const end = Math.min(start + blockSize, length);
    for (let at = start + 1; at < end; at++) {
      const id = ids[at]!;
      const time = primary[id]!;
      let to = at;
      // Strictly before: an id never passes an equal one (stable). `before`, written out: a cold
      // check runs this in the interpreter, where a call per comparison was most of its cost.
      while (to > start) {
        const other = ids[to - 1]!;
        const otherTime = primary[other]!;
        if (time !== otherTime ? !(time < otherTime) : secondary === undefined || !(secondary[id]! < secondary[other]!)) break;
        ids[to] = other;
        to--;
      }
      ids[to] = id;
    }
  }
  if (length <= blockSize) return;
  let from: Int32Array = ids;
  let to: Int32Array = new Int32Array(length);
  for (let width = blockSize; width < length; width *= 2) {
    for (let start = 0; start < length; start += 2 * width) {
      const middle = Math.min(start + width, length);
      const end = Math.min(start + 2 * width, length);
      if (middle === end || !before(from[middle]!, from[middle - 1]!)) {
        to.set(from.subarray(start, end), start);
        continue;
      }
      // The left ids not after the right run's first go first (ties: left first, stable), and the
      // right ids not before the left run's last go last.
      const firstRight = from[middle]!;
      let left = firstAt(start, middle, (at) => before(firstRight, from[at]!));
      const lastLeft = from[middle - 1]!;
      const rightEnd = firstAt(middle, end, (at) => !before(from[at]!, lastLeft));
      to.set(from.subarray(start, left), start);
      let right = middle;
      let at = left;
      while (left < middle && right < rightEnd) {
        // `before(from[right], from[left])`, written out as in the insertion sort above.
        const rightId = from[right]!;
        const leftId = from[left]!;
        const rightTime = primary[rightId]!;
        const leftTime = primary[leftId]!;
        const rightFirst = rightTime !== leftTime ? rightTime < leftTime : secondary !== undefined && secondary[rightId]! < secondary[leftId]!;
        if (rightFirst) {
          to[at++] = rightId;
          right++;
        } else {
          to[at++] = leftId;
          left++;
        }
      }
      to.set(from.subarray(left, middle), at);
      at += middle - left;
      to.set(from.subarray(right, end), at);
    }
    [from, to] = [to, from];
  }
  if (from !== ids) ids.set(from);
}

/** The first index in [low, high) where `holds` (which, once true, stays true), or high. */
function firstAt(low: number, high: number, holds: (at: number) => boolean): number {
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (holds(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}
