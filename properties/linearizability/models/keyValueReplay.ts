/**
 * The kv fast path for a key whose written values repeat (`v1` put a hundred times): the values
 * no longer name their writes, so the order cannot be read off them (`keyValueLinearization.ts`).
 * Instead this *replays* the key's operations once, just in time, without backtracking, and
 * proposes the order it took; the checker's certificate admits it or the search decides
 * (`certificate.ts`): a wrong guess costs time, never a verdict.
 *
 * The replay takes the ok operations earliest deadline first (Lowe's just-in-time
 * linearization): the one that must complete next, X at time c, goes next, and anything invoked
 * by c may go before it.
 * - Before the value changes, every pending get of the current value invoked by c is taken (a
 *   read taken early costs nothing; the search's read-only rule).
 * - A get of value v: a *plan* leads from the current value s to v with pending writes invoked by
 *   c — appends that spell what v adds to s, or a put that begins v and appends after it — and
 *   then the get. Of writes with equal values, the one with the earliest deadline is used (the
 *   others can wait longer), an unknown-outcome one only where no ok one fits.
 * - A write: when the next get's plan uses it, that plan's writes up to it go first (a put the
 *   next get's value begins with comes before an append it shows), otherwise it goes alone.
 * Unknown-outcome writes that no plan used never took effect. Each operation takes the earliest
 * point real time allows after the one before, so keys can be merged by points.
 *
 * It gives up (false) when a plan cannot be found or work bounds run out; the history may still
 * be linearizable (a guess went wrong), and the search decides.
 */
import type { Operation } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from './keyValue.ts';
import { countAtOrBelow, selectIds } from '../_internals/idArrays.ts';
import { sortIds } from '../_internals/sortIds.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** How far a lookup scans a value's writes past ones it cannot use. */
const scanLimit = 64;
/** How many of the next gets a run holds. */
const runLimit = 8;

/** One written value's writes of one kind: ok ones by deadline, unknown ones by invocation. */
interface Writers {
  readonly ok: number[];
  /** Ok ones before it are all taken. */
  okHead: number;
  readonly unknown: number[];
}

export class KeyValueReplay {
  readonly #operations: readonly KeyValueOperation[];
  readonly #invokedAt: Float64Array;
  readonly #completedAt: Float64Array;
  readonly #taken: Uint8Array;
  /** Writes held by the plan being made. */
  readonly #reserved: Uint8Array;
  /** The result of the last `linearizeKey`: positions and the point each took. */
  readonly order: Int32Array;
  readonly points: Float64Array;
  length = 0;
  // The key being replayed.
  #puts = new Map<string, Writers>();
  #appends = new Map<string, Writers>();
  #putLengths: number[] = [];
  #appendLengths: number[] = [];
  /** Pending gets by the value they returned, by invocation, with the head before which all are taken. */
  #getsOf = new Map<string, { readonly gets: number[]; head: number }>();
  #value = '';
  #point = -Infinity;
  #plan: number[] = [];
  /** While judging whether a write is harmless: plans of ok writes only (an unknown one may never have taken effect). */
  #okOnly = false;
  /** The values a plan leads through, and by when each must be reached. */
  #runValues: string[] = [];
  #runHorizons: number[] = [];
  /** The first get after the run, or -1; whether the last write judged is needed by it (not by the run). */
  #afterRun = -1;
  #neededAfterRun = false;
  /** Lookups left to the whole partition: a replay that costs more than a search would is dropped. */
  #lookupsLeft: number;

  constructor(operations: readonly KeyValueOperation[], invokedAt: Float64Array, completedAt: Float64Array) {
    const count = operations.length;
    this.#operations = operations;
    this.#invokedAt = invokedAt;
    this.#completedAt = completedAt;
    this.#taken = new Uint8Array(count);
    this.#reserved = new Uint8Array(count);
    this.order = new Int32Array(count);
    this.points = new Float64Array(count);
    this.#lookupsLeft = 64 * count + 4096;
  }

  /** Orders the operations at `positions` (one key's, ascending); false when it cannot tell. */
  linearizeKey(positions: Int32Array): boolean {
    this.length = 0;
    this.#value = '';
    this.#point = -Infinity;
    this.#index(positions);
    const deadlines = this.#okByCompletion(positions);
    const gets = this.#getsByCompletion(deadlines);
    let nextGet = 0;
    for (let at = 0; at < deadlines.length; at++) {
      const position = deadlines[at]!;
      if (this.#taken[position] === 1) continue;
      const deadline = this.#completedAt[position]!;
      const input = this.#operations[position]!.input;
      if (input.kind === 'get') {
        const value = this.#operations[position]!.output!.value!;
        this.#runOf(position);
        if (value !== this.#value && !(this.#makePlan(-1) && this.#follow(this.#plan.length, deadline))) return false;
        this.#takeGets(deadline);
        if (this.#taken[position] === 0) return false;
        continue;
      }
      while (nextGet < gets.length && this.#taken[gets[nextGet]!] === 1) nextGet++;
      if (!this.#writeDue(position, deadline, deadlines, at, gets, nextGet)) return false;
    }
    return true;
  }

  /**
   * Write `position` is due (its deadline is the earliest pending one). The next gets that
   * returned one value, v, say where it goes: the writes that must precede the last of them (they
   * complete before it is invoked) and are not in the plan for v go first, where the plan's put
   * overwrites them; then the plan up to this write, when it uses it; else this write alone.
   */
  #writeDue(position: number, deadline: number, deadlines: Int32Array, at: number, gets: Int32Array, nextGet: number): boolean {
    if (nextGet < gets.length) {
      const first = gets[nextGet]!;
      const latest = this.#collectRun(gets, nextGet);
      const value = this.#runValues[this.#runValues.length - 1]!;
      const input = this.#operations[position]!.input as { kind: 'put' | 'append'; value: string };
      if (this.#harmless(position, input, deadlines, at, latest)) return this.#followAlone(position, deadline);
      // A put the run's value begins with restarts it, even where the value is already there:
      // the writes that must come before the run then go before this put.
      const restart = input.kind === 'put' && value.startsWith(input.value);
      if ((restart && this.#makePlan(position, true)) || this.#makePlan(position)) {
        const plan = this.#plan;
        let through = plan.indexOf(position);
        if (through >= 0 && this.#invokedBy(through + 1, deadline)) {
          const early = this.#mustPrecede(deadlines, at, latest, deadline);
          if (early > 0 && !this.#follow(early, deadline)) return false;
          if (this.#taken[position] === 1) return true;
          if (early > 0 && !this.#makePlan(position)) plan.length = 0;
          through = plan.indexOf(position);
          if (through >= 0 && this.#invokedBy(through + 1, deadline)) return this.#follow(through + 1, deadline);
        }
        // The get after the run needs this write, or a plan that builds on the current value
        // would be spoiled by it (unless another plan restarts the value with a put, and this
        // write is overwritten): the first get goes first when it can.
        const restarts = plan.length > 0 && this.#operations[plan[0]!]!.input.kind === 'put';
        if (through < 0 && (this.#neededAfterRun || (!restarts && !this.#restartable(position))) && this.#invokedAt[first]! <= deadline) {
          this.#runOf(first, deadline);
          if (this.#makePlan(-1)) {
            if (!this.#follow(this.#plan.length, deadline)) return false;
            this.#takeGets(deadline);
          }
        }
      }
    }
    return this.#followAlone(position, deadline);
  }

  /**
   * The run of next gets whose values extend one another (one epoch's states, in order) into
   * `#runValues` and `#runHorizons`; the latest invocation among them.
   */
  #collectRun(gets: Int32Array, nextGet: number): number {
    const first = gets[nextGet]!;
    this.#runOf(first);
    this.#afterRun = -1;
    let latest = this.#invokedAt[first]!;
    const values = this.#runValues;
    const horizons = this.#runHorizons;
    for (let next = nextGet + 1, end = Math.min(gets.length, nextGet + runLimit); next < end; next++) {
      const get = gets[next]!;
      if (this.#taken[get] === 1) continue;
      const got = this.#operations[get]!.output!.value!;
      const before = values[values.length - 1]!;
      if (!got.startsWith(before)) {
        this.#afterRun = get;
        break;
      }
      if (got !== before) {
        values.push(got);
        horizons.push(this.#completedAt[get]!);
      }
      if (this.#invokedAt[get]! > latest) latest = this.#invokedAt[get]!;
    }
    return latest;
  }

  /** A run of one get (by `horizon`: its completion unless given). */
  #runOf(get: number, horizon = this.#completedAt[get]!): void {
    this.#runValues.length = 0;
    this.#runHorizons.length = 0;
    this.#runValues.push(this.#operations[get]!.output!.value!);
    this.#runHorizons.push(horizon);
  }

  #followAlone(write: number, deadline: number): boolean {
    this.#plan.length = 0;
    this.#plan.push(write);
    return this.#follow(1, deadline);
  }

  /**
   * Whether taking `write` now, alone, leaves the run reachable: a plan without it leads there
   * from the value it makes, and the writes that must precede the run's last get (they complete
   * before `latest`) are in that plan or before its put, which overwrites them.
   */
  #harmless(write: number, input: { kind: 'put' | 'append'; value: string }, deadlines: Int32Array, at: number, latest: number): boolean {
    const current = this.#value;
    this.#value = input.kind === 'put' ? input.value : current + input.value;
    this.#reserved[write] = 1;
    let harmless = false;
    this.#okOnly = true;
    for (let restart = 0; restart < 2 && !harmless; restart++) harmless = this.#makePlan(-1, restart === 1) && this.#covers(deadlines, at, latest);
    this.#neededAfterRun = false;
    if (harmless && this.#afterRun >= 0) {
      harmless = this.#reachesAfterRun();
      this.#neededAfterRun = !harmless;
    }
    this.#okOnly = false;
    this.#reserved[write] = 0;
    this.#value = current;
    return harmless;
  }

  /** Whether every pending ok write completing before `latest` (from `at` on) is in `#plan`, or `#plan` begins with a put. */
  #covers(deadlines: Int32Array, at: number, latest: number): boolean {
    const plan = this.#plan;
    if (plan.length > 0 && this.#operations[plan[0]!]!.input.kind === 'put') return true;
    const reserved = this.#reserved;
    for (let index = 0; index < plan.length; index++) reserved[plan[index]!] = 1;
    let covered = true;
    for (let next = at, end = Math.min(deadlines.length, at + scanLimit); next < end && covered; next++) {
      const write = deadlines[next]!;
      if (this.#completedAt[write]! >= latest) break;
      if (this.#taken[write] === 0 && reserved[write] === 0 && this.#operations[write]!.input.kind !== 'get') covered = false;
    }
    for (let index = 0; index < plan.length; index++) reserved[plan[index]!] = 0;
    return covered;
  }

  /**
   * Whether, after the plan for the run, a plan of other writes leads on to the value of the get
   * after the run (a write that the run does not need may still be the one that get needs).
   */
  #reachesAfterRun(): boolean {
    const plan = this.#plan;
    const reserved = this.#reserved;
    const held = plan.slice();
    for (let index = 0; index < held.length; index++) reserved[held[index]!] = 1;
    const current = this.#value;
    const values = this.#runValues.slice();
    const horizons = this.#runHorizons.slice();
    this.#value = values[values.length - 1]!;
    this.#runOf(this.#afterRun);
    const reached = this.#value === this.#runValues[0] || this.#makePlan(-1);
    this.#value = current;
    this.#runValues = values;
    this.#runHorizons = horizons;
    for (let index = 0; index < held.length; index++) reserved[held[index]!] = 0;
    plan.length = 0;
    plan.push(...held);
    return reached;
  }

  /** Whether a plan that begins with a put, without `write`, leads to the run. */
  #restartable(write: number): boolean {
    this.#reserved[write] = 1;
    const found = this.#makePlan(-1, true);
    this.#reserved[write] = 0;
    return found;
  }

  /**
   * Puts in front of `#plan` the pending ok writes, invoked by `deadline`, that complete before
   * `latest` and are not in it; returns how many.
   */
  #mustPrecede(deadlines: Int32Array, at: number, latest: number, deadline: number): number {
    const plan = this.#plan;
    const reserved = this.#reserved;
    for (let index = 0; index < plan.length; index++) reserved[plan[index]!] = 1;
    const early: number[] = [];
    for (let next = at, end = Math.min(deadlines.length, at + scanLimit); next < end; next++) {
      const write = deadlines[next]!;
      if (this.#completedAt[write]! >= latest) break;
      if (this.#taken[write] === 1 || reserved[write] === 1 || this.#operations[write]!.input.kind === 'get' || this.#invokedAt[write]! > deadline) continue;
      early.push(write);
    }
    for (let index = 0; index < plan.length; index++) reserved[plan[index]!] = 0;
    if (early.length > 0) plan.unshift(...early);
    return early.length;
  }

  /** The key's writes by value, and its ok gets by value. */
  #index(positions: Int32Array): void {
    this.#puts = new Map();
    this.#appends = new Map();
    this.#getsOf = new Map();
    const putLengths = new Set<number>();
    const appendLengths = new Set<number>();
    for (let at = 0; at < positions.length; at++) {
      const position = positions[at]!;
      const operation = this.#operations[position]!;
      this.#taken[position] = 0;
      this.#reserved[position] = 0;
      const input = operation.input;
      if (input.kind === 'get') {
        const value = operation.output!.value!;
        const entry = this.#getsOf.get(value);
        if (entry === undefined) this.#getsOf.set(value, { gets: [position], head: 0 });
        else entry.gets.push(position);
        continue;
      }
      const byValue = input.kind === 'put' ? this.#puts : this.#appends;
      (input.kind === 'put' ? putLengths : appendLengths).add(input.value.length);
      let writers = byValue.get(input.value);
      if (writers === undefined) byValue.set(input.value, (writers = { ok: [], okHead: 0, unknown: [] }));
      (operation.outcome === 'unknown' ? writers.unknown : writers.ok).push(position);
    }
    // Positions ascend by invocation (a history is sorted so); ok writes go by deadline.
    for (const writers of this.#puts.values()) this.#byDeadline(writers.ok);
    for (const writers of this.#appends.values()) this.#byDeadline(writers.ok);
    for (const entry of this.#getsOf.values()) this.#byInvocation(entry.gets);
    this.#putLengths = [...putLengths].sort((a, b) => a - b);
    this.#appendLengths = [...appendLengths].filter((length) => length > 0).sort((a, b) => a - b);
  }

  #byDeadline(list: number[]): void {
    const ids = Int32Array.from(list);
    sortIds(ids, this.#completedAt);
    for (let at = 0; at < ids.length; at++) list[at] = ids[at]!;
  }

  #byInvocation(list: number[]): void {
    const ids = Int32Array.from(list);
    sortIds(ids, this.#invokedAt);
    for (let at = 0; at < ids.length; at++) list[at] = ids[at]!;
  }

  #okByCompletion(positions: Int32Array): Int32Array {
    const ok = selectIds(positions, (id) => this.#operations[id]!.outcome === 'ok');
    sortIds(ok, this.#completedAt);
    return ok;
  }

  #getsByCompletion(deadlines: Int32Array): Int32Array {
    return selectIds(deadlines, (id) => this.#operations[id]!.input.kind === 'get');
  }

  /**
   * Fills `#plan` with pending writes that lead from the current value through the run's values
   * (`#runValues`), each write invoked by the completion of the first get that needs it
   * (`#runHorizons`); `write`, when not -1, is used where its value fits first. With `restart`,
   * only plans that begin with a put. False when none is found.
   */
  #makePlan(write: number, restart = false): boolean {
    const plan = this.#plan;
    plan.length = 0;
    const values = this.#runValues;
    const horizons = this.#runHorizons;
    const first = values[0]!;
    const current = this.#value;
    let found = !restart && first.startsWith(current) && this.#spell(first, current.length, horizons[0]!, write);
    for (let which = 0; which < this.#putLengths.length && !found; which++) {
      const length = this.#putLengths[which]!;
      if (length > first.length) break;
      const put = this.#writer(this.#puts, first.slice(0, length), horizons[0]!, write);
      if (put < 0) continue;
      this.#reserved[put] = 1;
      plan.push(put);
      found = this.#spell(first, length, horizons[0]!, write);
      if (found) break;
      plan.pop();
      this.#reserved[put] = 0;
    }
    for (let index = 1; index < values.length && found; index++) found = this.#spell(values[index]!, values[index - 1]!.length, horizons[index]!, write);
    for (let index = 0; index < plan.length; index++) this.#reserved[plan[index]!] = 0;
    return found;
  }

  /**
   * Appends to `#plan` pending appends that spell `value` from `at` on (a bounded depth-first
   * search over the cuts), reserving them; on failure it leaves `#plan` as it found it.
   */
  #spell(value: string, at: number, horizon: number, write: number): boolean {
    if (at === value.length) return true;
    const lengths = this.#appendLengths;
    for (let which = 0; which < lengths.length; which++) {
      const end = at + lengths[which]!;
      if (end > value.length) break;
      if (--this.#lookupsLeft < 0) return false;
      const append = this.#writer(this.#appends, value.slice(at, end), horizon, write);
      if (append < 0) continue;
      this.#reserved[append] = 1;
      this.#plan.push(append);
      if (this.#spell(value, end, horizon, write)) return true;
      this.#plan.pop();
      this.#reserved[append] = 0;
    }
    return false;
  }

  /**
   * A pending, unreserved write of `value` invoked by `horizon`: `write` when it is one, else the
   * ok one with the earliest deadline, else the latest-invoked unknown one; -1 when none.
   */
  #writer(byValue: Map<string, Writers>, value: string, horizon: number, write: number): number {
    const writers = byValue.get(value);
    if (writers === undefined) return -1;
    const taken = this.#taken;
    const reserved = this.#reserved;
    const invokedAt = this.#invokedAt;
    if (write >= 0 && reserved[write] === 0 && taken[write] === 0 && (this.#operations[write]!.input as { value: string }).value === value && byValue === (this.#operations[write]!.input.kind === 'put' ? this.#puts : this.#appends)) return write;
    const ok = writers.ok;
    while (writers.okHead < ok.length && taken[ok[writers.okHead]!] === 1) writers.okHead++;
    for (let at = writers.okHead, end = Math.min(ok.length, writers.okHead + scanLimit); at < end; at++) {
      const candidate = ok[at]!;
      if (taken[candidate] === 0 && reserved[candidate] === 0 && invokedAt[candidate]! <= horizon) return candidate;
    }
    const unknown = writers.unknown;
    if (this.#okOnly) return -1;
    const low = countAtOrBelow(unknown, invokedAt, horizon);
    for (let at = low - 1, end = Math.max(0, low - scanLimit); at >= end; at--) {
      const candidate = unknown[at]!;
      if (taken[candidate] === 0 && reserved[candidate] === 0) return candidate;
    }
    return -1;
  }

  /** Whether the first `count` writes of `#plan` were invoked by `deadline`. */
  #invokedBy(count: number, deadline: number): boolean {
    for (let index = 0; index < count; index++) if (this.#invokedAt[this.#plan[index]!]! > deadline) return false;
    return true;
  }

  /** Takes the first `count` writes of `#plan`, each after the gets of the value it changes; false when one was invoked after `deadline`. */
  #follow(count: number, deadline: number): boolean {
    const plan = this.#plan;
    for (let index = 0; index < count; index++) {
      const write = plan[index]!;
      if (this.#invokedAt[write]! > deadline) return false;
      this.#takeGets(deadline);
      const input = this.#operations[write]!.input as { kind: 'put' | 'append'; value: string };
      this.#take(write);
      this.#value = input.kind === 'put' ? input.value : this.#value + input.value;
    }
    return true;
  }

  /** Takes every pending get of the current value invoked by `deadline`. */
  #takeGets(deadline: number): void {
    const entry = this.#getsOf.get(this.#value);
    if (entry === undefined) return;
    const gets = entry.gets;
    const taken = this.#taken;
    while (entry.head < gets.length && taken[gets[entry.head]!] === 1) entry.head++;
    for (let at = entry.head; at < gets.length; at++) {
      const get = gets[at]!;
      if (this.#invokedAt[get]! > deadline) break;
      if (taken[get] === 0) this.#take(get);
    }
  }

  #take(position: number): void {
    this.#taken[position] = 1;
    const invokedAt = this.#invokedAt[position]!;
    if (invokedAt > this.#point) this.#point = invokedAt;
    this.order[this.length] = position;
    this.points[this.length++] = this.#point;
  }
}
