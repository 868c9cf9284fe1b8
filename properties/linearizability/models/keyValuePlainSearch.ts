/**
 * The kv fast path's proposal for a key whose values name nothing and whose replay guesses wrong
 * (appends of repeated values: which epoch a get read is a guess): Wing & Gong's search with
 * Lowe's cache in Porcupine's order (`checker.go`'s `checkSingle`), bounded, for that one key.
 * The history is one list of call and return entries in time order, unknown outcomes returning
 * at infinity; at each step the first call in the list that the state accepts, into a
 * configuration (linearized set, value) not seen before, is lifted out with its return, and
 * reaching a return means backtracking. It stops when every ok operation is placed: the unknown
 * ones left never took effect. One pruning, the search's read-only rule (`search.ts`): a get that
 * may go now is taken and stands for its whole level, so when what follows it fails, the level
 * fails (20 clients on 2 keys: 7 and 25 steps per operation without it, 2 and 3 with it). Such a
 * get is looked for first, before any write of the level (`scanLevel`), and the level's other
 * gets are refused without a step (the value they would read is the level's, which they do not
 * show): task checker11, 10,000 operations with appends of 3 values, 22,089 steps → 14,446.
 *
 * Why this order here, when the checker's own search goes earliest deadline first: on such keys
 * the search offers unknown-outcome appends only after every ok candidate has failed, so a get
 * that needs one (its value shows the append) is found out only after a deep excursion; in
 * invocation order the unknown append is tried as soon as it was invoked. Measured on the
 * benchmark's 10,000-operation class with 3 values per key and appends (5 keys of ~2,000
 * operations): 4,000–5,600 steps a key against the search's 5,200–24,000, and no analysis,
 * lookahead or layout to set up. Its cost grows fast with the overlap, though (10 clients on one
 * key with appends: ~300 steps per operation), which is why it is bounded and routed
 * (`keyValueLinearization.ts`'s `orderKey`).
 *
 * Values no pending get can read before the next put are searched as one stand-in, as in the
 * checker's search (`keyValueDeadValues.ts`, which argues why): here the pending gets that count
 * are the calls in the list before the first return of an ok put (task class21: 20 clients
 * appending 3 values to 2 keys, 125,226 and 705,933 steps → 39,351 and 62,591). An unknown-outcome
 * write that changes nothing is not taken (dropping it from any completion leaves one).
 *
 * Like every fast path it only proposes: the certificate admits the order or the checker's
 * analysis and search decide (`certificate.ts`), so a bound reached or a wrong order costs time,
 * never a verdict. The per-key state is the value itself (a string and its polynomial hash,
 * which an append extends in O(1)); the linearized set hashes as the XOR of per-operation terms.
 */
import { polynomialHash, polynomialPower } from '../_internals/polynomialHash.ts';
import type { Operation } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from './keyValue.ts';
import { sortIds } from '../_internals/sortIds.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** The end of the entry list. */
const end = -1;
/**
 * `packedEntries` in doubles: operations per key below `packedIds`, times below `packedLimit`; the
 * largest number made, packedLimit · packedIds + packedIds - 1, is below 2^53, so every one is exact.
 */
const packedIds = 2 ** 16;
const packedLimit = 2 ** 36;
/** In place of an entry: backtrack once more (a read's level failed). */
const retreat = -3;
/** What a cache entry holds besides its copy of the linearized set: the value, a map slot, a chain link. */
const entryBytes = 48;
/** What the search holds per operation besides its cache: the entry list, the stack, the operations' fields. */
const operationBytes = 64;

export class KeyValuePlainSearch {
  readonly #operations: readonly KeyValueOperation[];
  readonly #invokedAt: Float64Array;
  readonly #completedAt: Float64Array;
  /** The result of the last `linearizeKey`: positions (and the point each took: `points`). */
  readonly order: Int32Array;
  #points: Float64Array | undefined;
  length = 0;
  /** Model steps tried by the last `linearizeKey` (for tests and the benchmark). */
  steps = 0;

  constructor(operations: readonly KeyValueOperation[], invokedAt: Float64Array, completedAt: Float64Array) {
    this.#operations = operations;
    this.#invokedAt = invokedAt;
    this.#completedAt = completedAt;
    this.order = new Int32Array(operations.length);
  }

  /**
   * Each of the order's operations at the earliest point real time allows after the one before,
   * made when asked: only keys merged into one partition's order need them (a partition by key,
   * the checker's, never asks).
   */
  get points(): Float64Array {
    const points = (this.#points ??= new Float64Array(this.order.length));
    let point = -Infinity;
    for (let at = 0; at < this.length; at++) {
      const invokedAt = this.#invokedAt[this.order[at]!]!;
      if (invokedAt > point) point = invokedAt;
      points[at] = point;
    }
    return points;
  }

  /**
   * Orders the operations at `positions` (one key's) within `stepLimit` model steps, holding no
   * more than `reserve` grants; false when it found no order in that.
   */
  linearizeKey(positions: Int32Array, stepLimit: number, reserve: (bytes: number) => boolean): boolean {
    const count = positions.length;
    const words = (count + 31) >>> 5;
    const perEntry = entryBytes + 4 * words;
    let reserved = 0;
    let steps = 0;
    try {
      if (!reserve(count * operationBytes)) return false;
      reserved = count * operationBytes;
      const list = this.#entries(positions);
      const { next, previous } = list;
      const head = 2 * count;
      // The per-operation arrays as locals: before the JIT compiles the loop, each property load costs.
      const { kind: kinds, value: written, valueHash: writtenHash, power, ok, term, okCount, longestRead } = this.#localOperations(positions);
      // The stand-in for every value no pending get can read before the next put: longer than any.
      const dead = '\u0000'.repeat(longestRead + 1);
      const deadHash = polynomialHash(dead);
      const linearized = new Uint32Array(words);
      let setHash = 0;
      let value = '';
      let valueHash = 0;
      // The configurations explored without success. Kept when the search backtracks out of one,
      // not when it reaches one: whenever a step is tried from depth d, every configuration
      // reached at depth d + 1 before has been backtracked out of, so the two prune the same
      // steps — but the path that succeeds (most steps, on the keys this is for) keeps nothing.
      const cache = new Map<number, number>();
      // Cache entries: a copy of the set per entry (one pool), the value, and the next entry of the same hash.
      let pool = new Uint32Array(words * 64);
      const values: string[] = [];
      const chain: number[] = [];
      // The stack of lifted calls, and the value before each.
      const stackCall = new Int32Array(count);
      const stackValue: string[] = [];
      const stackHash = new Int32Array(count);
      // Whether the call at each depth was a read that could go (its level ends with it).
      const stackForced = new Uint8Array(count);
      let depth = 0;
      let okLeft = okCount;
      // The level's read that may go, if any: every other get of the level is refused.
      let levelRead = noRead;
      let entry = scanLevel;
      while (okLeft > 0) {
        if (entry === scanLevel) {
          // A new level: its read first, if it has one. The get of the level that may go now (it
          // reads the current value) is tried first and stands for the whole level (a read changes
          // nothing, so whatever order exists from here exists with it first), and every other
          // get of the level is refused without a step. The candidates are the calls before the
          // first return in the list. Taking the read first spares the search placing a write
          // invoked before it, finding the read refused after it, and backtracking: on appends of
          // repeated values, most of its backtracking. (Here, not in a function: a call per step
          // costs, cold.)
          levelRead = noRead;
          for (let candidate = next[head]!; candidate !== end && (candidate & 1) === 0; candidate = next[candidate]!) {
            const candidateKind = kinds[candidate >>> 1]!;
            if (candidateKind === anyRead || (candidateKind === get && written[candidate >>> 1] === value)) {
              levelRead = candidate;
              break;
            }
          }
          entry = levelRead === noRead ? next[head]! : levelRead;
        }
        if (entry !== retreat && (entry & 1) === 0) {
          const operation = entry >>> 1;
          const kind = kinds[operation]!;
          const isRead = kind < put;
          if (isRead && entry !== levelRead) {
            entry = next[entry]!;
            continue;
          }
          const text = written[operation]!;
          const okHere = ok[operation]!;
          let stepped: string;
          let steppedHash = valueHash;
          if (++steps > stepLimit) return false;
          if (isRead) {
            stepped = value;
          } else {
            if (kind === put) {
              stepped = text;
              steppedHash = writtenHash[operation]!;
            } else if (value === dead) {
              stepped = value;
            } else {
              stepped = value + text;
              steppedHash = (Math.imul(valueHash, power[operation]!) + writtenHash[operation]!) | 0;
            }
            // A dead value is searched as the stand-in (`keyValueDeadValues.ts`): no pending get
            // invoked by the earliest return of a pending ok put (the first in the list; this one's
            // own left out) starts with it.
            if (stepped !== dead && !readable(stepped, next[head]!, operation, next, kinds, written, ok)) {
              stepped = dead;
              steppedHash = deadHash;
            }
            // An unknown-outcome write that changes nothing is the same as none.
            if (okHere === 0 && stepped === value) {
              steps--;
              entry = next[entry]!;
              continue;
            }
          }
          const bitHash = setHash ^ term[operation]!;
          linearized[operation >>> 5]! ^= 1 << (operation & 31);
          // `configurationKey(bitHash, steppedHash)`, written out (a call per step costs, cold).
          const first = values.length === 0 ? undefined : cache.get((bitHash ^ Math.imul(steppedHash, 0x9e3779b1)) & 0x3fffffff);
          // (Not a write that changed nothing here: one to the stand-in may change a later state.)
          const reads = isRead || (kind === append && text === '');
          if (first === undefined || !seen(first, linearized, pool, words, values, chain, stepped)) {
            stackCall[depth] = entry;
            stackValue[depth] = value;
            stackHash[depth] = valueHash;
            stackForced[depth] = reads ? 1 : 0;
            depth++;
            value = stepped;
            valueHash = steppedHash;
            setHash = bitHash;
            // Lifted out of the list with its return (by hand: before the JIT, each call costs).
            for (let lifted = entry; lifted <= entry + 1; lifted++) {
              const after = next[lifted]!;
              const before = previous[lifted]!;
              next[before] = after;
              if (after !== end) previous[after] = before;
            }
            okLeft -= okHere;
            entry = scanLevel;
            continue;
          }
          linearized[operation >>> 5]! ^= 1 << (operation & 31);
          // A read that may go now stands for its whole level (the search's read-only rule,
          // `search.ts`): the configuration it leads to was explored, so the level fails.
          if (reads) {
            entry = retreat;
            continue;
          }
          entry = next[entry]!;
          continue;
        }
        // A return (its call should have been lifted by now), or a read's level that failed: the
        // configuration failed; keep it, and backtrack.
        if (depth === 0) return false;
        if (reserved < count * operationBytes + (values.length + 1) * perEntry) {
          if (!reserve(64 * perEntry)) return false;
          reserved += 64 * perEntry;
        }
        const slot = values.length;
        if ((slot + 1) * words > pool.length) {
          const grown = new Uint32Array(pool.length * 2);
          grown.set(pool);
          pool = grown;
        }
        pool.set(linearized, slot * words);
        values.push(value);
        const key = configurationKey(setHash, valueHash);
        chain.push(cache.get(key) ?? end);
        cache.set(key, slot);
        depth--;
        const call = stackCall[depth]!;
        const operation = call >>> 1;
        value = stackValue[depth]!;
        valueHash = stackHash[depth]!;
        setHash ^= term[operation]!;
        linearized[operation >>> 5]! ^= 1 << (operation & 31);
        // Put back, its return first (the reverse of lifting).
        for (let lifted = call + 1; lifted >= call; lifted--) {
          const after = next[lifted]!;
          next[previous[lifted]!] = lifted;
          if (after !== end) previous[after] = lifted;
        }
        okLeft += ok[operation]!;
        // Back at a level whose read, if it had one, was this call: its writes are left to try.
        levelRead = noRead;
        entry = stackForced[depth] === 1 ? retreat : next[call]!;
      }
      this.#result(positions, stackCall, depth);
      return true;
    } finally {
      this.steps = steps;
      if (reserved > 0) reserve(-reserved);
    }
  }

  /** The order found, as positions. */
  #result(positions: Int32Array, stackCall: Int32Array, depth: number): void {
    const order = this.order;
    for (let at = 0; at < depth; at++) order[at] = positions[stackCall[at]! >>> 1]!;
    this.length = depth;
  }

  /**
   * The call (2i) and return (2i + 1) entries of the key's operations in time order, calls before
   * returns at equal times (intervals are closed), linked after a head (2 · count).
   */
  #entries(positions: Int32Array): EntryList {
    return packedEntries(positions, this.#invokedAt, this.#completedAt) ?? sortedEntries(positions, this.#invokedAt, this.#completedAt);
  }

  /** Per local operation: its kind, value, the value's hash and base^length, ok or not, its set term. */
  #localOperations(positions: Int32Array) {
    const count = positions.length;
    const kind = new Uint8Array(count);
    const value: string[] = new Array<string>(count);
    const valueHash = new Int32Array(count);
    const power = new Int32Array(count);
    const ok = new Uint8Array(count);
    const term = setTerms(count);
    // The values this is for repeat (a few per key): each distinct one is hashed once.
    const hashed = new Map<string, number>();
    let okCount = 0;
    let longestRead = 0;
    const operations = this.#operations;
    for (let at = 0; at < count; at++) {
      const operation = operations[positions[at]!]!;
      const input = operation.input;
      const inputKind = input.kind;
      if (operation.outcome === 'ok') {
        ok[at] = 1;
        okCount++;
      }
      if (inputKind === 'get') {
        // An unknown-outcome get reads anything: the checker drops those before, but be safe.
        const read = operation.output?.value;
        if (read === undefined) {
          kind[at] = anyRead;
          value[at] = '';
          continue;
        }
        // (`get` is 0, the array's own.)
        value[at] = read;
        if (read.length > longestRead) longestRead = read.length;
        continue;
      }
      const text = input.value;
      kind[at] = inputKind === 'put' ? put : append;
      value[at] = text;
      const same = hashed.get(text);
      if (same !== undefined) {
        valueHash[at] = valueHash[same]!;
        power[at] = power[same]!;
        continue;
      }
      hashed.set(text, at);
      valueHash[at] = polynomialHash(text);
      power[at] = polynomialPower(text.length);
    }
    return { kind, value, valueHash, power, ok, term, okCount, longestRead };
  }
}

/** Each local operation's term in the linearized set's hash (the XOR of its members'), made once for all keys. */
let terms = new Int32Array(0);

function setTerms(count: number): Int32Array {
  if (terms.length < count) {
    terms = new Int32Array(Math.max(count, 2 * terms.length));
    // Well mixed (murmur3's finalizer of a multiplicative hash), written out (a call per term costs,
    // cold), and within a small integer's range: the set's hash stays one without a boxed number.
    for (let at = 0; at < terms.length; at++) {
      let h = Math.imul(at + 1, 0x9e3779b1);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      terms[at] = (h ^ (h >>> 16)) & 0x3fffffff;
    }
  }
  return terms;
}

// The reads first (`kind < put`: one comparison per step where there were two).
const get = 0;
/** A get whose output is unknown. */
const anyRead = 1;
const put = 2;
const append = 3;

/** No get of the level may go. */
const noRead = -2;
/** In place of an entry: a new level begins, look for its read first. */
const scanLevel = -4;

/** The cache's key of a configuration: within a small integer's range (a Map keyed by larger numbers boxes each key). */
function configurationKey(setHash: number, valueHash: number): number {
  return (setHash ^ Math.imul(valueHash, 0x9e3779b1)) & 0x3fffffff;
}

/**
 * Whether a pending get invoked by the earliest return of a pending ok put (other than
 * `operation`'s) returned a value that starts with `value`: the list from `from` holds the pending
 * calls and returns in time order, calls first at equal times.
 */
function readable(value: string, from: number, operation: number, next: Int32Array, kinds: Uint8Array, written: readonly string[], ok: Uint8Array): boolean {
  for (let entry = from; entry !== end; entry = next[entry]!) {
    const at = entry >>> 1;
    if ((entry & 1) === 1) {
      if (kinds[at] === put && ok[at] === 1 && at !== operation) return false;
    } else if (kinds[at] === get && written[at]!.startsWith(value)) {
      return true;
    }
  }
  return false;
}

/** Whether the configuration (the set in `linearized`, `value`) is in the cache's chain from `first`. */
function seen(first: number, linearized: Uint32Array, pool: Uint32Array, words: number, values: readonly string[], chain: readonly number[], value: string): boolean {
  for (let slot = first; slot !== end; slot = chain[slot]!) {
    if (values[slot] !== value) continue;
    let same = true;
    for (let word = 0, offset = slot * words; word < words && same; word++) same = pool[offset + word] === linearized[word];
    if (same) return true;
  }
  return false;
}

/** The call (2i) and return (2i + 1) entries of a key's operations in time order, linked after a head (2 · count). */
export interface EntryList {
  readonly next: Int32Array;
  readonly previous: Int32Array;
}

/**
 * `KeyValuePlainSearch`'s entry list for the usual key: calls in invocation order, times whole
 * numbers from 0 below a limit, fewer than `packedIds` operations. Each return is then one exact
 * number, completion · scale + operation (scale a power of two above the operation numbers; an
 * unknown outcome's completion the limit, after every other), so one native sort orders the
 * returns by completion, ties by operation, as `sortIds` does; and a call comes before a return
 * exactly when invocation · scale is not above the return's number. A cold check sorted ~400
 * returns a key in the interpreter (`sortIds`, about a tenth of the check of 2,000 operations with
 * repeated values); now the numbers are made in the fill's pass and read in the merge's, with no
 * pass of their own (task class15). Where every number fits a small integer (below 2^30: the
 * generated histories' keys, a few hundred operations with times in the thousands) they are an
 * `Int32Array`, whose reads make no boxed number before the JIT (a sixth of the list's cost at
 * 2,000 operations, task class15 of session 14); otherwise doubles, exact below 2^53 (times
 * below `packedLimit`). Undefined for any other key (`sortedEntries` makes its list).
 */
export function packedEntries(positions: Int32Array, invokedAt: Float64Array, completedAt: Float64Array): EntryList | undefined {
  const count = positions.length;
  let scale = 1;
  while (scale < count) scale *= 2;
  const small = scale <= 1 << 20 ? packedWith(positions, invokedAt, completedAt, scale, (1 << 30) / scale - 1, Int32Array) : undefined;
  if (small !== undefined || count >= packedIds) return small;
  return packedWith(positions, invokedAt, completedAt, packedIds, packedLimit, Float64Array);
}

/** `packedEntries` with numbers time · scale + operation, times below `last` (an unknown outcome's completion), in an array of `Numbers`. */
function packedWith(
  positions: Int32Array,
  invokedAt: Float64Array,
  completedAt: Float64Array,
  scale: number,
  last: number,
  Numbers: Int32ArrayConstructor | Float64ArrayConstructor,
): EntryList | undefined {
  const count = positions.length;
  const calls = new Numbers(count);
  const returns = new Numbers(count);
  let latest = 0;
  for (let at = 0; at < count; at++) {
    const position = positions[at]!;
    const invoked = invokedAt[position]!;
    const completed = completedAt[position]!;
    // In order, whole and in range (NaN fails every test).
    // An unknown outcome's call is bounded too: its return is packed at `last`, after it.
    if (!(invoked >= latest && invoked < last && invoked % 1 === 0 && (completed === Infinity || (completed >= invoked && completed < last && completed % 1 === 0)))) return undefined;
    latest = invoked;
    calls[at] = invoked * scale;
    returns[at] = (completed === Infinity ? last : completed) * scale + at;
  }
  returns.sort();
  const next = new Int32Array(2 * count + 1);
  const previous = new Int32Array(2 * count + 1);
  let tail = 2 * count;
  let call = 0;
  let ret = 0;
  // The next call's and return's numbers held in locals: one array read per entry.
  let nextCall = count === 0 ? 0 : calls[0]!;
  let nextReturn = count === 0 ? 0 : returns[0]!;
  // Merged in one loop: once the calls run out, the rest are returns.
  while (ret < count) {
    let entry: number;
    if (call < count && nextCall <= nextReturn) {
      entry = 2 * call++;
      if (call < count) nextCall = calls[call]!;
    } else {
      entry = 2 * (nextReturn % scale) + 1;
      if (++ret < count) nextReturn = returns[ret]!;
    }
    next[tail] = entry;
    previous[entry] = tail;
    tail = entry;
  }
  next[tail] = end;
  return { next, previous };
}

/** The entry list for any key: the calls and returns sorted by `sortIds` (exported for the test that holds `packedEntries` to it). */
export function sortedEntries(positions: Int32Array, invokedAt: Float64Array, completedAt: Float64Array): EntryList {
  const count = positions.length;
  const calls = new Int32Array(count);
  const returns = new Int32Array(count);
  const invoked = new Float64Array(count);
  const completed = new Float64Array(count);
  for (let at = 0; at < count; at++) {
    const position = positions[at]!;
    calls[at] = returns[at] = at;
    invoked[at] = invokedAt[position]!;
    completed[at] = completedAt[position]!;
  }
  // Positions come in invocation order from any history sorted so (the generator's, the
  // simulator's): the calls then need no sort.
  let sorted = true;
  for (let at = 1; at < count && sorted; at++) sorted = invoked[at - 1]! <= invoked[at]!;
  if (!sorted) sortIds(calls, invoked);
  sortIds(returns, completed);
  const next = new Int32Array(2 * count + 1);
  const previous = new Int32Array(2 * count + 1);
  let last = 2 * count;
  // Merged; once the calls run out, the rest are returns.
  let call = 0;
  let ret = 0;
  while (call < count) {
    const entry = ret === count || invoked[calls[call]!]! <= completed[returns[ret]!]! ? 2 * calls[call++]! : 2 * returns[ret++]! + 1;
    next[last] = entry;
    previous[entry] = last;
    last = entry;
  }
  while (ret < count) {
    const entry = 2 * returns[ret++]! + 1;
    next[last] = entry;
    previous[entry] = last;
    last = entry;
  }
  next[last] = end;
  return { next, previous };
}
