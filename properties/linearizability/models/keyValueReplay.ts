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
 *   c (`keyValuePlans.ts`), and then the get.
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
import { byTime, KeyValuePlans, scanLimit } from './keyValuePlans.ts';
import { selectIds } from '../_internals/idArrays.ts';
import { sortIds } from '../_internals/sortIds.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

/** How many of the next gets a run holds. */
const runLimit = 8;

export class KeyValueReplay {
  readonly #operations: readonly KeyValueOperation[];
  readonly #invokedAt: Float64Array;
  readonly #completedAt: Float64Array;
  /** The key's writes by value, the plans made of them, and the taken and reserved marks. */
  readonly #plans: KeyValuePlans;
  readonly #taken: Uint8Array;
  readonly #reserved: Uint8Array;
  /** The result of the last `linearizeKey`: positions and the point each took. */
  readonly order: Int32Array;
  readonly points: Float64Array;
  length = 0;
  // The key being replayed.
  /** Pending gets by the value they returned, by invocation, with the head before which all are taken. */
  #getsOf = new Map<string, { readonly gets: number[]; head: number }>();
  #value = '';
  #point = -Infinity;
  readonly #plan: number[];
  /** The values a plan leads through, and by when each must be reached. */
  #runValues: string[] = [];
  #runHorizons: number[] = [];
  /** The first get after the run, or -1; whether the last write judged is needed by it (not by the run). */
  #afterRun = -1;
  #neededAfterRun = false;

  constructor(operations: readonly KeyValueOperation[], invokedAt: Float64Array, completedAt: Float64Array) {
    const count = operations.length;
    this.#operations = operations;
    this.#invokedAt = invokedAt;
    this.#completedAt = completedAt;
    this.#plans = new KeyValuePlans(operations, invokedAt, completedAt);
    this.#taken = this.#plans.taken;
    this.#reserved = this.#plans.reserved;
    this.#plan = this.#plans.plan;
    this.order = new Int32Array(count);
    this.points = new Float64Array(count);
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
    this.#plans.okOnly = true;
    for (let restart = 0; restart < 2 && !harmless; restart++) harmless = this.#makePlan(-1, restart === 1) && this.#covers(deadlines, at, latest);
    this.#neededAfterRun = false;
    if (harmless && this.#afterRun >= 0) {
      harmless = this.#reachesAfterRun();
      this.#neededAfterRun = !harmless;
    }
    this.#plans.okOnly = false;
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

  /** The key's writes by value (its plans'), and its ok gets by value. */
  #index(positions: Int32Array): void {
    const plans = this.#plans;
    plans.beginKey();
    this.#getsOf = new Map();
    for (let at = 0; at < positions.length; at++) {
      const position = positions[at]!;
      const operation = this.#operations[position]!;
      plans.taken[position] = 0;
      plans.reserved[position] = 0;
      const input = operation.input;
      if (input.kind !== 'get') {
        plans.addWrite(position, input, operation.outcome);
        continue;
      }
      const value = operation.output!.value!;
      const entry = this.#getsOf.get(value);
      if (entry === undefined) this.#getsOf.set(value, { gets: [position], head: 0 });
      else entry.gets.push(position);
    }
    plans.indexed();
    for (const entry of this.#getsOf.values()) byTime(entry.gets, this.#invokedAt);
  }

  #okByCompletion(positions: Int32Array): Int32Array {
    const ok = selectIds(positions, (id) => this.#operations[id]!.outcome === 'ok');
    sortIds(ok, this.#completedAt);
    return ok;
  }

  #getsByCompletion(deadlines: Int32Array): Int32Array {
    return selectIds(deadlines, (id) => this.#operations[id]!.input.kind === 'get');
  }

  /** A plan through the run's values from the current value (`KeyValuePlans.make`). */
  #makePlan(write: number, restart = false): boolean {
    return this.#plans.make(this.#value, this.#runValues, this.#runHorizons, write, restart);
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
