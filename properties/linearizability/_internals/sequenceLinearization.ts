/**
 * The fast path (`Model.linearize`) of a model whose responses order the history (`SequenceOrder`:
 * etcd's revisions). Where the kv fast path reads the order off the written values, here the
 * responses give it outright: the operations with a sequence key go in key order, and what is left
 * to choose is small — which unknown-outcome write fills each gap of the sequence, and where the
 * operations without a key (serializable reads, compactions, refusals) go. It walks the sequence
 * once, stepping the model, and never backtracks:
 * - each keyed operation, in key order (ties by invocation), after its gap is filled: while the
 *   floor is below the one it needs, the first pending unknown-outcome write that the model's gap
 *   evidence allows (`unknownCandidates`), that was invoked before the keyed operation completed
 *   and that raises the floor by exactly one;
 * - each operation without a key as soon as the model takes it and its earliest floor is reached
 *   (a serializable read judges a revision the store has passed, which later steps do not change),
 *   and at the latest before the first keyed operation invoked after it completed.
 * Unknown-outcome operations left out never took effect. A wrong choice (a gap filled by the
 * wrong write, a compaction taken too early for a historical read) only makes the certificate
 * refuse (`certificate.ts`) and the search decide: the fast path costs time, never a verdict.
 *
 * Measured (task checker12): the 100,000-operation etcd benchmark's whole search took 2.3-3 s of
 * CPU where stepping the model through its order takes ~0.15-0.2 s.
 */
import type { Operation } from '../history.ts';
import type { Model, SequenceOrder, UnknownCandidates } from '../model.ts';
import { sortIds } from './sortIds.ts';

/** How many of the unknown writes invoked last a gap's filler is looked for among. */
const fillerScan = 64;

/** Positions of `operations` in the order they take effect, or undefined when the walk got stuck. */
export function linearizeBySequence<State, Input, Output extends {} | null>(model: Model<State, Input, Output>, operations: readonly Operation<Input, Output>[]): Int32Array | undefined {
  const sequence = model.sequence;
  if (sequence === undefined) return undefined;
  const count = operations.length;
  const keyOf = new Float64Array(count);
  const keyed: number[] = [];
  const unkeyed: number[] = [];
  const unknown: number[] = [];
  for (let position = 0; position < count; position++) {
    const operation = operations[position]!;
    if (operation.outcome === 'fail') return undefined;
    if (operation.outcome === 'unknown') {
      unknown.push(position);
      continue;
    }
    const key = sequence.keyOf(operation.input, operation.output as Output);
    if (key === undefined) {
      unkeyed.push(position);
      continue;
    }
    keyOf[position] = key;
    keyed.push(position);
  }
  const byKey = Int32Array.from(keyed);
  // Ties by invocation: positions ascend by invocation in a history sorted so, and the sort is stable.
  sortIds(byKey, keyOf);
  const invokedAt = new Float64Array(count);
  for (let position = 0; position < count; position++) invokedAt[position] = operations[position]!.invokedAt;
  const byInvocation = Int32Array.from(unkeyed);
  sortIds(byInvocation, invokedAt);
  const walk = new SequenceWalk(model, sequence, operations, unknown, byKey, keyOf);
  return walk.run(byInvocation) ? walk.order.subarray(0, walk.length) : undefined;
}

class SequenceWalk<State, Input, Output extends {} | null> {
  readonly order: Int32Array;
  length = 0;
  #state: State;
  readonly #taken: Uint8Array;
  /** Gap evidence: the unknown writes (indexes into `unknown`) that may take effect next; undefined: any. */
  readonly #candidates: UnknownCandidates<State>;
  /**
   * Model steps left for tries that may fail (gap fillers, unkeyed operations not due yet): a walk
   * that would cost more than a few steps per operation gives the partition to the search.
   */
  #triesLeft: number;
  /** The latest invocation among the operations taken: real time's point (`certificate.ts`). */
  #point = -Infinity;
  /** The unkeyed operations by invocation; how many of them were invoked so far; those of them not taken yet. */
  #byInvocation: Int32Array = new Int32Array(0);
  #invoked = 0;
  readonly #active: number[] = [];
  /** Per position: whether the model says the operation changes nothing (`Model.readOnly`). */
  readonly #readOnly: Uint8Array;

  constructor(
    readonly model: Model<State, Input, Output>,
    readonly sequence: SequenceOrder<State, Input, Output>,
    readonly operations: readonly Operation<Input, Output>[],
    /** Unknown-outcome positions, ascending (by invocation). */
    readonly unknown: readonly number[],
    readonly byKey: Int32Array,
    readonly keyOf: Float64Array,
  ) {
    this.order = new Int32Array(operations.length);
    this.#taken = new Uint8Array(operations.length);
    this.#readOnly = new Uint8Array(operations.length);
    this.#state = model.init();
    this.#triesLeft = 4 * operations.length + 4096;
    if (sequence.unknownCandidates === undefined || unknown.length === 0) {
      this.#candidates = () => undefined;
    } else {
      const completed = byKey.length === 0 ? [] : Array.from(byKey, (position) => [operations[position]!.input, operations[position]!.output as Output] as const);
      const keys = Float64Array.from(new Set(Array.from(byKey, (position) => keyOf[position]!)));
      this.#candidates = sequence.unknownCandidates(completed, unknown.map((position) => operations[position]!.input), keys);
    }
  }

  /** Walks the keyed operations in order, the unkeyed ones (`byInvocation`) in between; false when stuck. */
  run(byInvocation: Int32Array): boolean {
    const { operations, byKey, keyOf, sequence, model } = this;
    this.#byInvocation = byInvocation;
    for (let at = 0; at < byInvocation.length; at++) {
      const operation = operations[byInvocation[at]!]!;
      this.#readOnly[byInvocation[at]!] = model.readOnly?.(operation.input, operation.output as Output) === true ? 1 : 0;
    }
    for (let at = 0; at < byKey.length; at++) {
      const position = byKey[at]!;
      const operation = operations[position]!;
      // The unkeyed ones that must or may go before it.
      if (!this.#unkeyed(operation.invokedAt, operation.completedAt)) return false;
      // A write that made key k (k = r - 0.5) needs the floor at r - 1; a read at r, r.
      const needed = Math.ceil(keyOf[position]! - 0.5);
      while (sequence.floor(this.#state) < needed) if (!this.#fillGap(operation.completedAt)) return false;
      this.#keepAhead(operation.input, operation.output);
      if (!this.#step(position)) return false;
    }
    return this.#unkeyed(Infinity, Infinity);
  }

  /**
   * Before the keyed operation invoked at `invokedAt` and completed at `completedAt`: brings the
   * unkeyed operations invoked by its completion into the active set, takes the reads among them
   * that the model takes now, and those that must go before it (they completed before its
   * invocation); false when one of those cannot. Other unkeyed ones wait (`#keepAhead`).
   */
  #unkeyed(invokedAt: number, completedAt: number): boolean {
    const { operations, sequence } = this;
    const byInvocation = this.#byInvocation;
    const active = this.#active;
    while (this.#invoked < byInvocation.length && operations[byInvocation[this.#invoked]!]!.invokedAt <= completedAt) active.push(byInvocation[this.#invoked++]!);
    let kept = 0;
    for (let at = 0; at < active.length; at++) {
      const position = active[at]!;
      if (this.#taken[position] === 1) continue;
      const operation = operations[position]!;
      const due = operation.completedAt < invokedAt;
      // A read goes early only when invoked by `next`'s invocation: then it does not move the
      // point real time is judged by (`certificate.ts`) past where `next` puts it.
      if (operation.invokedAt > invokedAt && this.#readOnly[position] === 1) {
        active[kept++] = position;
        continue;
      }
      const earliest = sequence.earliestFloor?.(operation.input, operation.output as Output);
      const ready = earliest === undefined || sequence.floor(this.#state) >= earliest;
      if (ready && --this.#triesLeft < 0) return false;
      if (ready && (due || this.#readOnly[position] === 1) && this.#step(position, due)) continue;
      if (due) return false;
      active[kept++] = position;
    }
    active.length = kept;
    return true;
  }

  /**
   * Takes, before a step of `input` (a keyed operation, or an unknown write filling a gap: output
   * undefined), the active unkeyed operations that change the state and that the model takes now
   * but would refuse after that step. They go as late as they can (etcd: a compaction refuses the
   * historical reads below it that follow it), and no later: a compaction is refused once the
   * store has passed the revision it answered with.
   */
  #keepAhead(input: Input, output: Output | undefined): boolean {
    const { operations, model, sequence } = this;
    const active = this.#active;
    let took = false;
    for (let at = 0; at < active.length; at++) {
      const position = active[at]!;
      if (this.#taken[position] === 1 || this.#readOnly[position] === 1) continue;
      const operation = operations[position]!;
      const earliest = sequence.earliestFloor?.(operation.input, operation.output as Output);
      if (earliest !== undefined && sequence.floor(this.#state) < earliest) continue;
      if ((this.#triesLeft -= 3) < 0) return took;
      const now = model.step(this.#state, operation.input, operation.output);
      if (now === undefined || sequence.floor(now) !== sequence.floor(this.#state)) continue;
      const after = model.step(this.#state, input, output);
      if (after === undefined || model.step(after, operation.input, operation.output) !== undefined) continue;
      // After those that completed before it was invoked (admitting no new ones).
      if (!this.#unkeyed(operation.invokedAt, -Infinity)) continue;
      const then = model.step(this.#state, operation.input, operation.output);
      if (then === undefined || sequence.floor(then) !== sequence.floor(this.#state)) continue;
      this.#take(position, then);
      took = true;
    }
    return took;
  }

  /**
   * Takes what fills the next revision of the gap: a pending unkeyed operation that raises the
   * floor by one (etcd: a lease revoke that deleted keys), else the first unknown-outcome write
   * the evidence allows; either invoked by `completedAt`.
   */
  #fillGap(completedAt: number): boolean {
    const { operations, unknown, model, sequence } = this;
    const floor = sequence.floor(this.#state);
    const active = this.#active;
    for (let at = 0; at < active.length; at++) {
      const position = active[at]!;
      const operation = operations[position]!;
      if (this.#taken[position] === 1 || operation.invokedAt > completedAt) continue;
      if (--this.#triesLeft < 0) return false;
      const next = model.step(this.#state, operation.input, operation.output);
      if (next !== undefined && sequence.floor(next) === floor + 1) return this.#fill(position, operation.output, completedAt);
    }
    const allowed = this.#candidates(this.#state);
    // Among the last `fillerScan` invoked by `completedAt` (both lists ascend by invocation): first
    // those still in flight at the point reached (their client had not given up yet: in a
    // simulated or real client a write mostly lands before that), earliest invoked first; then the
    // others, latest invoked first. Not simply the earliest invoked: writes that never took
    // effect stay pending for ever, and would fill every gap after them.
    const at = (index: number) => unknown[allowed === undefined ? index : allowed[index]!]!;
    let low = 0;
    for (let high = allowed?.length ?? unknown.length; low < high; ) {
      const middle = (low + high) >>> 1;
      if (operations[at(middle)]!.invokedAt <= completedAt) low = middle + 1;
      else high = middle;
    }
    const start = Math.max(0, low - fillerScan);
    for (let pass = 0; pass < 2; pass++) {
      for (let step = 0; step < low - start; step++) {
        const index = pass === 0 ? start + step : low - 1 - step;
        const position = at(index);
        if (this.#taken[position] === 1 || (operations[position]!.completedAt >= this.#point) !== (pass === 0)) continue;
        // Without evidence for this gap, not a write the evidence names for another.
        if (allowed === undefined && this.#candidates.claimed?.(index) === true) continue;
        if (--this.#triesLeft < 0) return false;
        const next = model.step(this.#state, operations[position]!.input, undefined);
        if (next !== undefined && sequence.floor(next) === floor + 1) return this.#fill(position, undefined, completedAt);
      }
    }
    return false;
  }

  /**
   * Takes the gap's filler (output undefined: an unknown outcome), after the unkeyed operations
   * that completed before it was invoked and those it would make the model refuse (`#keepAhead`).
   */
  #fill(position: number, output: Output | undefined, completedAt: number): boolean {
    const operation = this.operations[position]!;
    const floor = this.sequence.floor(this.#state);
    if (!this.#unkeyed(operation.invokedAt, completedAt)) return false;
    this.#keepAhead(operation.input, output);
    const next = this.model.step(this.#state, operation.input, output);
    if (next === undefined || this.sequence.floor(next) !== floor + 1) return false;
    this.#take(position, next);
    return true;
  }


  /** Takes the operation when the model does; one that is not `due` only when it leaves the floor where it is (else it fills a gap, in its turn). */
  #step(position: number, due = true): boolean {
    const operation = this.operations[position]!;
    const next = this.model.step(this.#state, operation.input, operation.output);
    if (next === undefined || (!due && this.sequence.floor(next) !== this.sequence.floor(this.#state))) return false;
    this.#take(position, next);
    return true;
  }

  #take(position: number, state: State): void {
    this.#taken[position] = 1;
    const invokedAt = this.operations[position]!.invokedAt;
    if (invokedAt > this.#point) this.#point = invokedAt;
    this.#state = state;
    this.order[this.length++] = position;
  }
}
