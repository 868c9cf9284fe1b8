/**
 * The kv model's linearization read straight off a history (`Model.linearize`), in about linear
 * time, for histories whose written values make the order explicit — Jepsen's and Porcupine's kv
 * tests write unique values (`x 3 17 y`), so every get names the writes its value is made of.
 * The checker verifies what this proposes (model steps and real time, `certificate.ts`) and falls
 * back to its analysis and search when this gives up or proposes wrongly: it may decide a
 * partition, never change a verdict.
 *
 * A key's states are *epochs*: a put, then appends, until the next put (the key's initial empty
 * value, and appends on it, is the initial epoch). A get's value cut into written values
 * ([put?, append, append, …]) is one state of one epoch, so its parts are consecutive writes of
 * that epoch: the cuts link each write to the next (`successor`), and each get hangs on the state
 * it read (its last part). Writes no get saw are unobserved: an unknown-outcome one never took
 * effect here (it may always take effect last or never), an ok one is a job of its own, placed
 * between epochs, where nothing reads the state it leaves.
 *
 * What is left is ordering the jobs (epochs and unobserved ok writes) in time: each is a fixed
 * sequence of operations (gets of one state by completion, earliest deadline first), which can
 * start no later than S, the earliest completion in it, and ends no earlier than M, the latest
 * invocation in it. Sorted by min(S, M) — Gibbons and Korach's zones ("Testing shared memories",
 * 1997): a job whose S < M spans [S, M], one whose M ≤ S fits anywhere in [M, S] — the jobs
 * run in a feasible order whenever one exists (an exchange argument: two neighbours out of that
 * order can always swap). The initial epoch goes first. Each operation then takes the earliest
 * point its predecessors allow; one past its completion ends the attempt.
 *
 * It gives up (undefined) on what it does not read: empty or repeated written values, a value no
 * greedy cut makes, cuts that disagree, a job order that fails. Checked as one partition (the
 * model without its split by key), each key is ordered alone and the keys merged by point.
 */
import type { Operation } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from './keyValue.ts';
import { selectIds } from '../_internals/idArrays.ts';
import { sortIds } from '../_internals/sortIds.ts';
import { KeyValuePlainSearch } from './keyValuePlainSearch.ts';
import { KeyValueReplay } from './keyValueReplay.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** No link, no get, no job. */
const none = -1;
/** Arrays not made yet (`Links`). */
const empty32 = new Int32Array(0);
const empty64 = new Float64Array(0);
/** `predecessor` of the first append of the initial epoch; the initial epoch's job. */
const initial = -2;

/** Positions in `operations` in the order they take effect, or undefined when it cannot tell. */
export function linearizeKeyValue(operations: readonly KeyValueOperation[], reserve: (bytes: number) => boolean = () => true): Int32Array | undefined {
  const links = new Links(operations, reserve);
  if (links.oneKey) {
    const ordered = orderKey(operations, links, links.everyPosition);
    return ordered === undefined ? undefined : ordered.order.slice(0, ordered.length);
  }
  return linearizeKeys(operations, links);
}

/** The result of ordering one key: positions and the point each took, the first `length` of each. */
interface KeyOrder {
  readonly order: Int32Array;
  readonly points: Float64Array;
  readonly length: number;
}

/**
 * One key's order: read off its values when they name their writes. When they cannot (values
 * repeat, or a value has no cut), two proposers, neither of which backtracks far:
 * - a bounded plain search (`keyValuePlainSearch.ts`): about 1–1.5 steps per operation on the
 *   benchmark's keys of puts and gets, at any overlap it meets there (20 clients on 2 keys
 *   included), and 1.4–1.7 with appends; it grows with the overlap of appends, though (10 clients
 *   on one key with appends: hundreds of steps per operation, past its bound);
 * - the just-in-time replay (`keyValueReplay.ts`), for keys of puts and gets only: it decides
 *   nearly all of those, but with appends it guesses which epoch a get read and decides few.
 * So every such key gets the plain search first, and a key of puts and gets the replay when the
 * plain search's bound ran out. Until task checker11 crowded keys of puts and gets (more than 4
 * operations in flight on average) went to the replay first: the plain search tried the writes
 * invoked before a get the current value allowed before that get, and needed 2–3 steps per
 * operation there; with the get tried first it needs ~1, less than the replay's work (2,000
 * operations from 20 clients on 2 keys: a cold check 21 → 11 ms of CPU). A key whose values were
 * read but whose jobs found no order (a stale read, most likely) is left to the search.
 */
function orderKey(operations: readonly KeyValueOperation[], links: Links, positions: Int32Array): KeyOrder | undefined {
  const read = links.linearizeKey(positions);
  if (read === 'ordered') return links;
  if (read === 'unordered') return undefined;
  const plain = (links.plain ??= new KeyValuePlainSearch(operations, links.invokedAt, links.completedAt));
  if (plain.linearizeKey(positions, plainStepLimit(positions.length), links.reserve)) return plain;
  if (hasAppends(operations, positions)) return undefined;
  const replay = (links.replay ??= new KeyValueReplay(operations, links.invokedAt, links.completedAt));
  return replay.linearizeKey(positions) ? replay : undefined;
}

/**
 * The plain search's steps on one key before the checker's own search takes over: on the
 * benchmark's repeated-value keys it needs about 1–1.7 steps per operation, and with 10 clients
 * appending 3 values to one key 40–70 (class 21, with dead values searched as one; task class21:
 * it then orders both keys, and the cold check drops from ~470 to ~190–250 ms of CPU). The bound
 * leaves that room once; a key it cannot order (a violation) pays it before the search.
 */
function plainStepLimit(count: number): number {
  return 96 * count + 4096;
}

function hasAppends(operations: readonly KeyValueOperation[], positions: Int32Array): boolean {
  for (let at = 0; at < positions.length; at++) if (operations[positions[at]!]!.input.kind === 'append') return true;
  return false;
}

/** Each key alone, then merged by the points their operations took. */
function linearizeKeys(operations: readonly KeyValueOperation[], links: Links): Int32Array | undefined {
  const count = operations.length;
  const keyIndex = new Map<string, number>();
  const keyOf = new Int32Array(count);
  const sizes: number[] = [];
  for (let position = 0; position < count; position++) {
    const key = operations[position]!.input.key;
    let index = keyIndex.get(key);
    if (index === undefined) {
      index = sizes.push(0) - 1;
      keyIndex.set(key, index);
    }
    keyOf[position] = index;
    sizes[index]!++;
  }
  // The positions of each key, one key after another.
  const starts = new Int32Array(sizes.length + 1);
  for (let index = 0; index < sizes.length; index++) starts[index + 1] = starts[index]! + sizes[index]!;
  const byKey = new Int32Array(count);
  const filled = starts.slice(0, sizes.length);
  for (let position = 0; position < count; position++) byKey[filled[keyOf[position]!]!++] = position;
  const order = new Int32Array(count);
  const points = new Float64Array(count);
  let length = 0;
  for (let index = 0; index < sizes.length; index++) {
    const ordered = orderKey(operations, links, byKey.subarray(starts[index]!, starts[index + 1]!));
    if (ordered === undefined) return undefined;
    order.set(ordered.order.subarray(0, ordered.length), length);
    points.set(ordered.points.subarray(0, ordered.length), length);
    length += ordered.length;
  }
  // Stable: a key's operations that share a point keep their order.
  const ids = new Int32Array(length);
  for (let at = 0; at < length; at++) ids[at] = at;
  sortIds(ids, points);
  const merged = new Int32Array(length);
  for (let at = 0; at < length; at++) merged[at] = order[ids[at]!]!;
  return merged;
}

/**
 * The links the gets' cuts make between one key's writes, and the order built from them. The
 * arrays are indexed by position in the partition and shared by its keys (a position has one key).
 */
class Links {
  readonly #operations: readonly KeyValueOperation[];
  readonly invokedAt: Float64Array;
  /** Infinity for an unknown outcome: it may take effect at any time after its invocation. */
  readonly completedAt: Float64Array;
  /** The replay and the plain search for keys whose values do not name their writes, made when first needed. */
  replay: KeyValueReplay | undefined;
  plain: KeyValuePlainSearch | undefined;
  /** Where the plain search takes the memory for its cache from. */
  readonly reserve: (bytes: number) => boolean;
  // The arrays below are made when a key's values first name their writes (`#allocate`): a
  // partition of repeated values never reads them, and making and filling ten arrays per
  // partition was a tenth of a cold check of 2,000 such operations (task class15).
  /** Per write: the next and the previous write of its epoch, as the cuts say. */
  #successor = empty32;
  #predecessor = empty32;
  /** Per write: whether some cut holds it. */
  #observed = new Uint8Array(0);
  /** Per write: the first and last get that read the state right after it; per get, the next. */
  #firstGet = empty32;
  #lastGet = empty32;
  #nextGet = empty32;
  /** Per write: the earliest completion and the latest invocation among the gets of the state after it. */
  #getsCompleted = empty64;
  #getsInvoked = empty64;
  /** The result of the last `linearizeKey`: positions and the point each took. */
  order = empty32;
  points = empty64;
  length = 0;
  // The key being linearized: its written values, the first append of its initial epoch, the
  // gets of its initial empty value.
  #values = new Map<string, number>();
  #lengths: number[] = [];
  #initialHead = none;
  #initialFirstGet = none;
  #initialLastGet = none;
  #cut = new Int32Array(16);
  /** Value lookups left to the whole partition: a few per operation (unique values need one or two per part). */
  #lookupsLeft: number;
  /** Whether every operation has one key (the checker's partitions by key do), and every position, ascending. */
  readonly oneKey: boolean;
  readonly everyPosition: Int32Array;

  constructor(operations: readonly KeyValueOperation[], reserve: (bytes: number) => boolean) {
    const count = operations.length;
    this.#operations = operations;
    this.reserve = reserve;
    const invokedAt = (this.invokedAt = new Float64Array(count));
    const completedAt = (this.completedAt = new Float64Array(count));
    const everyPosition = (this.everyPosition = new Int32Array(count));
    // One pass for all of it (a cold check pays per pass over the operations).
    const firstKey = count === 0 ? '' : operations[0]!.input.key;
    let oneKey = true;
    for (let position = 0; position < count; position++) {
      const operation = operations[position]!;
      invokedAt[position] = operation.invokedAt;
      completedAt[position] = operation.outcome === 'unknown' ? Infinity : operation.completedAt;
      everyPosition[position] = position;
      if (oneKey && operation.input.key !== firstKey) oneKey = false;
    }
    this.oneKey = oneKey;
    this.#lookupsLeft = 16 * count + 4096;
  }

  /** The per-write arrays, for the whole partition (each position has one key), made once. */
  #allocate(): void {
    if (this.order.length > 0) return;
    const count = this.#operations.length;
    this.#successor = new Int32Array(count).fill(none);
    this.#predecessor = new Int32Array(count).fill(none);
    this.#observed = new Uint8Array(count);
    this.#firstGet = new Int32Array(count).fill(none);
    this.#lastGet = new Int32Array(count).fill(none);
    this.#nextGet = new Int32Array(count).fill(none);
    this.#getsCompleted = new Float64Array(count).fill(Infinity);
    this.#getsInvoked = new Float64Array(count).fill(-Infinity);
    this.order = new Int32Array(count);
    this.points = new Float64Array(count);
  }

  /**
   * Orders the operations at `positions` (one key's): `unreadable` when the values do not name
   * their writes (repeated or empty values, a value no cut makes, cuts that disagree),
   * `unordered` when they do but the jobs found no order.
   */
  linearizeKey(positions: Int32Array): 'ordered' | 'unreadable' | 'unordered' {
    this.length = 0;
    this.#initialHead = none;
    this.#initialFirstGet = none;
    this.#initialLastGet = none;
    if (!this.#indexValues(positions)) return 'unreadable';
    this.#allocate();
    const gets = this.#getsByCompletion(positions);
    // Gets by completion mostly read a state read before, the next one, or one a little older:
    // a value seen before is looked up, and only what is new in a value is cut (`#cut` holds the
    // cut of `previous`, the value cut last).
    const seen = new Map<string, number>();
    let previous = '';
    let previousParts = 0;
    for (let at = 0; at < gets.length; at++) {
      const get = gets[at]!;
      const value = this.#operations[get]!.output!.value!;
      let state = seen.get(value);
      if (state === undefined) {
        const older = value.length < previous.length && previous.startsWith(value) ? this.#partsUpTo(value.length, previousParts) : -1;
        if (older >= 0) {
          state = older === 0 ? initial : this.#cut[older - 1]!;
        } else {
          const kept = value.length > previous.length && value.startsWith(previous) ? previousParts : 0;
          const parts = this.#cutOf(value, kept === 0 ? 0 : previous.length, kept);
          if (parts < 0 || !this.#link(parts)) return 'unreadable';
          state = parts === 0 ? initial : this.#cut[parts - 1]!;
          previous = value;
          previousParts = parts;
        }
        seen.set(value, state);
      }
      this.#hang(get, state);
    }
    return this.#schedule(this.#jobs(positions)) ? 'ordered' : 'unordered';
  }

  /** The key's written values by text, and their lengths; false when one is empty or repeated. */
  #indexValues(positions: Int32Array): boolean {
    const values = (this.#values = new Map<string, number>());
    const lengths = new Set<number>();
    for (let at = 0; at < positions.length; at++) {
      const input = this.#operations[positions[at]!]!.input;
      if (input.kind === 'get') continue;
      const value = input.value;
      if (value === '' || values.has(value)) return false;
      values.set(value, positions[at]!);
      lengths.add(value.length);
    }
    this.#lengths = [...lengths].sort((a, b) => a - b);
    return true;
  }

  /** The key's ok gets, by completion (ties by position). */
  #getsByCompletion(positions: Int32Array): Int32Array {
    const gets = selectIds(positions, (id) => this.#operations[id]!.input.kind === 'get');
    sortIds(gets, this.completedAt);
    return gets;
  }

  /** How many of the first `parts` parts of `#cut` make exactly `length` characters, or -1. */
  #partsUpTo(length: number, parts: number): number {
    let end = 0;
    let count = 0;
    while (count < parts && end < length) end += (this.#operations[this.#cut[count++]!]!.input as { value: string }).value.length;
    return end === length ? count : -1;
  }

  /**
   * Cuts `value` from `start` into written values, after `kept` parts already in `#cut`: the
   * shortest written value at each place (a put only first). The count of parts, or -1. Greedy
   * is enough: a wrong cut only makes the proposal fail (and the search decide). The lookups are
   * bounded (`#lookupsLeft`): values of many lengths, or long values cut anew again and again, make
   * a proposal give up rather than cost more than the search it would spare.
   */
  #cutOf(value: string, start: number, kept: number): number {
    let parts = kept;
    const lengths = this.#lengths;
    for (let at = start; at < value.length; ) {
      let found = none;
      for (let which = 0; which < lengths.length && found === none; which++) {
        const end = at + lengths[which]!;
        if (end > value.length) break;
        if (--this.#lookupsLeft < 0) return -1;
        const write = this.#values.get(value.slice(at, end));
        if (write !== undefined && (at === 0 || this.#operations[write]!.input.kind === 'append')) found = write;
      }
      if (found === none) return -1;
      if (parts === this.#cut.length) {
        const grown = new Int32Array(2 * parts);
        grown.set(this.#cut);
        this.#cut = grown;
      }
      this.#cut[parts++] = found;
      at += (this.#operations[found]!.input as { value: string }).value.length;
    }
    return parts;
  }

  /** Links the cut's consecutive parts; false where a cut disagrees with an earlier one. */
  #link(parts: number): boolean {
    if (parts === 0) return true;
    const cut = this.#cut;
    const successor = this.#successor;
    const predecessor = this.#predecessor;
    const first = cut[0]!;
    this.#observed[first] = 1;
    if (this.#operations[first]!.input.kind === 'append') {
      // No put began this state: it is the initial epoch's, whose first append is unique.
      if (this.#initialHead === none) this.#initialHead = first;
      if (this.#initialHead !== first) return false;
      if (predecessor[first] === none) predecessor[first] = initial;
      if (predecessor[first] !== initial) return false;
    }
    for (let at = 1; at < parts; at++) {
      const before = cut[at - 1]!;
      const after = cut[at]!;
      if (successor[before] === none && predecessor[after] === none) {
        successor[before] = after;
        predecessor[after] = before;
        this.#observed[after] = 1;
      } else if (successor[before] !== after || predecessor[after] !== before) {
        return false;
      }
    }
    return true;
  }

  /** Adds `get` to the gets of the state right after `write` (`initial`: the initial empty value). */
  #hang(get: number, write: number): void {
    if (write === initial) {
      if (this.#initialLastGet === none) this.#initialFirstGet = get;
      else this.#nextGet[this.#initialLastGet] = get;
      this.#initialLastGet = get;
      return;
    }
    const last = this.#lastGet[write]!;
    if (last === none) this.#firstGet[write] = get;
    else this.#nextGet[last] = get;
    this.#lastGet[write] = get;
    const completedAt = this.completedAt[get]!;
    const invokedAt = this.invokedAt[get]!;
    if (completedAt < this.#getsCompleted[write]!) this.#getsCompleted[write] = completedAt;
    if (invokedAt > this.#getsInvoked[write]!) this.#getsInvoked[write] = invokedAt;
  }

  /** The jobs: the initial epoch (when anything reads it), every put that took effect, every unobserved ok append. */
  #jobs(positions: Int32Array): Int32Array {
    const jobs: number[] = [];
    if (this.#initialFirstGet !== none || this.#initialHead !== none) jobs.push(initial);
    for (let at = 0; at < positions.length; at++) {
      const position = positions[at]!;
      const operation = this.#operations[position]!;
      if (operation.input.kind === 'get' || (operation.outcome === 'unknown' && this.#observed[position] === 0)) continue;
      if (operation.input.kind === 'put' || this.#observed[position] === 0) jobs.push(position);
    }
    return Int32Array.from(jobs);
  }

  /** Orders the jobs by zone, then gives each operation its point; false when one is late. */
  #schedule(jobs: Int32Array): boolean {
    const low = new Float64Array(jobs.length);
    // The initial epoch comes first, whatever its zone.
    for (let at = 0; at < jobs.length; at++) low[at] = jobs[at] === initial ? -Infinity : this.#zoneLow(jobs[at]!);
    const ids = new Int32Array(jobs.length);
    for (let at = 0; at < jobs.length; at++) ids[at] = at;
    sortIds(ids, low);
    let point = -Infinity;
    for (let at = 0; at < ids.length; at++) {
      const reached = this.#walk(jobs[ids[at]!]!, point);
      if (reached === undefined) return false;
      point = reached;
    }
    return true;
  }

  /**
   * A job's zone's low end, min(S, M): S the earliest completion in it, M the latest invocation,
   * from its writes and the gets of the states after them (kept per write by `#hang`).
   */
  #zoneLow(job: number): number {
    let earliest = Infinity;
    let latest = -Infinity;
    for (let write = job, steps = 0; write !== none && steps <= this.#operations.length; write = this.#successor[write]!, steps++) {
      earliest = Math.min(earliest, this.completedAt[write]!, this.#getsCompleted[write]!);
      latest = Math.max(latest, this.invokedAt[write]!, this.#getsInvoked[write]!);
    }
    return Math.min(earliest, latest);
  }

  /**
   * Walks one job's operations in order — its write (none for the initial epoch), the gets of the
   * state after it, the next write of its epoch, and so on — appending each to `order` at the
   * earliest point after `from`. The last point, or undefined when an operation's point would
   * pass its completion.
   */
  #walk(job: number, from: number): number | undefined {
    this.#point = from;
    let write = job;
    if (job === initial) {
      for (let get = this.#initialFirstGet; get !== none; get = this.#nextGet[get]!) if (!this.#visit(get)) return undefined;
      write = this.#initialHead;
    }
    // Cuts link no cycle (every link extends a cut from its epoch's first write), but a bound costs nothing.
    for (let steps = 0; write !== none; write = this.#successor[write]!) {
      if (++steps > this.#operations.length || !this.#visit(write)) return undefined;
      for (let get = this.#firstGet[write]!; get !== none; get = this.#nextGet[get]!) if (!this.#visit(get)) return undefined;
    }
    return this.#point;
  }

  #point = -Infinity;

  /** The next operation of a walk: false when its point would pass its completion. */
  #visit(position: number): boolean {
    const invokedAt = this.invokedAt[position]!;
    const completedAt = this.completedAt[position]!;
    if (invokedAt > this.#point) this.#point = invokedAt;
    if (this.#point > completedAt) return false;
    this.order[this.length] = position;
    this.points[this.length++] = this.#point;
    return true;
  }
}
