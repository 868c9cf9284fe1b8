/**
 * A sequential specification that the checker searches against, in Porcupine's shape
 * (`init`, `step`, `equal`, `partition`, `describe`) plus a hash, a read-only test and an optional
 * sequence order that lets responses carrying revisions turn most of the search into a sort.
 *
 * States must be immutable: the checker keeps every state it has visited in its cache and on its
 * backtracking stack. A step that changes nothing should return the same state object.
 */
import type { Operation } from './history.ts';

export interface Model<State, Input, Output extends {} | null> {
  /** A short name for reports: "register", "kv", "etcd". */
  readonly name: string;
  init(): State;
  /**
   * The state after `input` takes effect in `state` and returns `output`; `undefined` when that
   * output is impossible there. `output` is `undefined` when the outcome is unknown: then every
   * output is acceptable and only the effect matters.
   */
  step(state: State, input: Input, output: Output | undefined): State | undefined;
  /**
   * For the memory budget: about how many bytes `state` holds that `previous` (the state it was
   * stepped from) does not share, erring high. Default: 64.
   */
  stateBytes?(state: State, previous: State): number;
  /** A 32-bit hash; equal states must hash equally. It should be cheap (cache it in the state). */
  hash(state: State): number;
  equal(a: State, b: State): boolean;
  /**
   * The independent object an operation acts on (a key). When given, the checker checks each
   * object's operations separately, which is sound because linearizability is local
   * (Herlihy & Wing, theorem 1): a history is linearizable iff each object's subhistory is.
   */
  partition?(input: Input): string;
  /**
   * True when the operation, with this output, leaves every state in which it is legal
   * unchanged: a read, a compare-and-set that reports failure. `output` is undefined for an
   * unknown outcome; then only operations that can never change anything qualify. The checker
   * drops unknown-outcome read-only operations (they constrain nothing) and places completed
   * ones as early as it can without ever branching on them.
   */
  readOnly?(input: Input, output: Output | undefined): boolean;
  /**
   * What the history tells before any search, so that the search need not guess (see
   * `HistoryAnalysis`). Called once per partition with the operations the checker keeps, in
   * history order. Everything it says must be exact: each model's rules are property-tested
   * against the plain search.
   */
  analyze?(operations: readonly Operation<Input, Output>[]): HistoryAnalysis<State, Input>;
  /**
   * Optional fast path, tried on each partition before `analyze` and the search: a linearization
   * read straight off the operations (kv with unique written values: each get names its writes),
   * as positions in `operations` in the order they take effect; unknown-outcome operations left
   * out never took effect. Undefined when it cannot tell. The checker verifies the proposal (model
   * steps and real time, `_internals/certificate.ts`) and searches as usual when it fails, so a
   * fast path may decide a partition, never change a verdict. What it holds beyond a few numbers
   * per operation (a bounded search's cache) it takes from `reserve` and gives back (negative
   * bytes) before it returns; refused, it gives up.
   */
  linearize?(operations: readonly Operation<Input, Output>[], reserve?: (bytes: number) => boolean): Int32Array | undefined;
  /**
   * Optional, for the certificate of a proposed linearization (`_internals/certificate.ts`):
   * whether stepping the operations at `order` (positions in `operations`, none failed, none
   * twice) one after another from `init()` is legal, each with its output (any output for an
   * unknown outcome). It must answer exactly what `step` answers, without making the persistent
   * states `step` makes for the search (which the certificate never keeps).
   */
  legalInOrder?(operations: readonly Operation<Input, Output>[], order: Int32Array): boolean;
  /** Revisions or other sequence numbers that order operations; see `SequenceOrder`. */
  readonly sequence?: SequenceOrder<State, Input, Output>;
  /** One line: `put("a", "1") → rev 7`. `output` is undefined when unknown. */
  describeOperation(input: Input, output: Output | undefined): string;
  /** The state, or with `focus` only the part of it that operation touches (for large states). */
  describeState(state: State, focus?: Input): string;
}

/**
 * What a model reads from a partition's operations before the search (`Model.analyze`).
 * Indexes are positions in the operations it was given.
 */
export interface HistoryAnalysis<State, Input = never> {
  /** Per operation: for an unknown-outcome one, what it must have done (undefined: no telling). */
  readonly fates?: readonly (UnknownFate | undefined)[];
  /**
   * Per operation: an input the search uses in its place (undefined: its own), which, with the
   * operation's output (if known), has the same effect on everything the history can observe in
   * every state and is legal in the same states.
   * Operations that differ only in what nothing observes then get identical stand-ins, and the
   * search tries only the earliest of identical pending operations (etcd: writes to keys no
   * response shows only create a revision, `etcdUnobservedWrites.ts`).
   */
  readonly standIns?: readonly (Input | undefined)[];
  /** A violation that needs no search, when one is certain. */
  readonly violation?: AnalyzedViolation;
  /**
   * A lookahead for a search over the operations at `kept` (the ones left after the fates were
   * applied); the search then calls it with indexes into `kept`.
   */
  lookahead?(kept: readonly number[]): Lookahead<State>;
}

export interface AnalyzedViolation {
  /** The operations involved, the one that cannot be placed first. */
  readonly operations: readonly number[];
  /** One or two sentences, naming operations as `#i` with i their position in the history. */
  readonly explanation: (historyIndex: (position: number) => number) => string;
}

/**
 * A model's view ahead of the search (`HistoryAnalysis.lookahead`), which may keep its own
 * bookkeeping of what is taken. Both calls name operations by their index in `kept`.
 */
export interface Lookahead<State> {
  /** The search took operation `id` (`taken`), or gave it back when backtracking. */
  track(id: number, taken: boolean): void;
  /**
   * Called after the search took a state-changing operation `id`, reaching `state`: false when
   * some pending operation can no longer take effect in any later state, so that this
   * configuration has no completion. It must be a necessary condition (true when unsure).
   */
  viable(state: State, id: number): boolean;
  /**
   * Called after operation `id` stepped `previous` to `next` (a change), before the search looks
   * the configuration up: a state to search in its place, whose configuration has a completion
   * exactly when `next`'s has (the same set of operations taken), so that the cache merges states
   * that differ in nothing the rest of the history can tell. Returning `previous` makes the step
   * a change of nothing (an unknown-outcome operation is then not taken).
   */
  canonical?(previous: State, next: State, id: number): State;
}

/**
 * What an unknown-outcome operation must have done, read from the rest of the history:
 * - `unobserved`: nothing could tell whether it took effect (with unique written values: no read
 *   returned what it wrote). Such an operation may always take effect last, or never, so the
 *   checker drops it.
 * - `took-effect`: every linearization must take it, before `by` (the completion of the first
 *   read that returned what only it wrote). The checker treats it as an operation that
 *   completed at `by` with an unknown output.
 */
export type UnknownFate = { readonly kind: 'unobserved' } | { readonly kind: 'took-effect'; readonly by: number };

/**
 * A total preorder on operations that every legal sequence of steps respects, read from the
 * responses (etcd: the revision in a response header). The model promises:
 * 1. In every legal sequence, operations that have a key appear in non-decreasing key order.
 * 2. From a state `s`, no operation with a key below `floor(s)` can ever be stepped again (nor
 *    from any state reachable from `s`).
 * 3. Every step that changes the state raises the floor by at least 1 — except the steps of
 *    operations for which `changesWithoutRevision` holds (etcd's compaction).
 * 4. An operation whose `earliestFloor` is e cannot be stepped from a state whose floor is below e.
 * 5. An operation whose `settledFrom` is f and that cannot be stepped from a state whose floor is
 *    at least f cannot be stepped from any state reachable from that one either.
 * The checker then offers only the lowest-keyed pending operations, drops any step whose new
 * floor passes the lowest pending key, tries unknown-outcome operations only where the sequence
 * has a gap they could fill (or that change the state without raising the floor), and abandons a
 * configuration as soon as a completed operation there is refused for good (rule 5).
 */
export interface SequenceOrder<State, Input, Output> {
  /** The operation's place in the sequence, or undefined when its response does not say. */
  keyOf(input: Input, output: Output): number | undefined;
  floor(state: State): number;
  /**
   * Optional: from the completed operations (input and output; no output for an unknown-outcome
   * one that must have taken effect, `UnknownFate`), the unknown-outcome ones (their
   * inputs) and the distinct keys of the completed operations (ascending), the unknown operations
   * that can be the next to take effect in `state`, as ascending indexes into `unknown`
   * (undefined: any of them). It must include every one that does so in some linearization (a
   * necessary condition), and it is asked once per floor. etcd: a read that shows a key last
   * modified at revision r says what the write that made r wrote.
   */
  unknownCandidates?(completed: readonly (readonly [Input, Output | undefined])[], unknown: readonly Input[], keys: Float64Array): (state: State) => readonly number[] | undefined;
  /** Operations that may change the state without raising the floor (rule 3's exception). */
  changesWithoutRevision?(input: Input): boolean;
  /**
   * Optional (rule 4): the lowest floor from which the completed operation can be stepped, or
   * undefined when any may do. For operations without a key, which the search would otherwise try
   * at every step until the floor reaches them (etcd: a serializable read served at revision r).
   */
  earliestFloor?(input: Input, output: Output): number | undefined;
  /**
   * Optional (rule 5): the floor from which the completed operation's legality is settled, or
   * undefined when it never is. For operations without a key, whose place the sequence does not
   * fix (etcd: a serializable read, which shows a revision the store has passed; a compaction
   * to c once the store has reached c, which only a later compaction or the store passing its
   * header can refuse): refused there, it is refused for ever, and the search need not go on
   * placing others around it.
   */
  settledFrom?(input: Input, output: Output): number | undefined;
  /**
   * Optional (rule 6, a count): for a floor that rises by one per operation that raises it, what
   * the completed operation's response says about the floors. `reached`: a floor every
   * linearization reaches (etcd: the response's revision, one the store had reached); `made`: the
   * floor it may itself have raised the state to (etcd: a write's revision; undefined for one that
   * surely raised nothing). Every floor between the state's and the highest `reached` that no
   * completed operation may have made needs an unknown operation of its own (or a completed one
   * without an output), so a state with fewer of those left than such floors ahead is a dead end.
   * `latest` (rule 7): the highest floor from which it can still be stepped (etcd: its revision,
   * unless it is a serializable read or a compaction); past it with the operation pending, so is
   * the state. The sequence keys do this for operations with a key; this is for those without
   * (etcd: a lease revoke, which may or may not have deleted keys).
   */
  floorsOf?(input: Input, output: Output): { readonly reached?: number; readonly made?: number; readonly latest?: number };
}

/** A model whose type parameters have been forgotten, for code that only passes it along. */
export type AnyModel = Model<any, any, any>;

/**
 * The model with nothing but its sequential specification and its split into objects: no
 * analysis, no sequence order. Checking with it is the plain search (Wing & Gong with Lowe's
 * cache and the prunings of `search.ts`), the baseline that benchmarks and property tests compare
 * the model's inferences with.
 */
export function withoutInference<State, Input, Output extends {} | null>(model: Model<State, Input, Output>): Model<State, Input, Output> {
  const { analyze, sequence, linearize, legalInOrder, ...plain } = model;
  return { ...plain, name: `${model.name} (no inference)` };
}

/** The same model checked as one object: no per-key split (for comparisons and benchmarks). */
export function withoutPartition<State, Input, Output extends {} | null>(model: Model<State, Input, Output>): Model<State, Input, Output> {
  const { partition, ...whole } = model;
  return { ...whole, name: `${model.name} (unpartitioned)` };
}
