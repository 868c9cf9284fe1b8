/**
 * A history: what clients saw of a system, one record per operation. The checker asks whether
 * some total order of these operations, consistent with real time, is a legal run of a sequential
 * model (Herlihy & Wing, "Linearizability", 1990).
 */

/**
 * What the client learned about an operation.
 * - `ok`: it took effect exactly once, between invocation and completion, and `output` is what
 *   it returned. (A compare-and-set whose compare failed is `ok` with a "not succeeded" output:
 *   it executed and observed the state.)
 * - `fail`: it certainly did not take effect (the server refused it before applying it). The
 *   checker drops it.
 * - `unknown`: the client never learned (a timeout, a crash). It may take effect at any point
 *   after its invocation, or never; its output is not known.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

export interface Operation<Input, Output> {
  /** The client (Jepsen "process") that issued it. A process has at most one operation pending. */
  readonly process: number;
  /** When the client sent it, in any unit that orders events; only comparisons matter. */
  readonly invokedAt: number;
  /**
   * When the client learned the outcome. For `unknown` outcomes this is when it gave up (kept for
   * display) or `Infinity`; the checker treats every unknown operation as never completing.
   */
  readonly completedAt: number;
  readonly input: Input;
  /** What it returned; present exactly when the outcome is `ok`. */
  readonly output: Output | undefined;
  readonly outcome: Outcome;
}

/** Real-time precedence: `a` completed before `b` was invoked. Equal times count as overlap. */
export function precedes(a: Operation<unknown, unknown>, b: Operation<unknown, unknown>): boolean {
  return a.outcome !== 'unknown' && a.completedAt < b.invokedAt;
}

/**
 * The problems that make a history meaningless rather than non-linearizable: times out of order,
 * an `ok` operation without output. Returns one message per problem, naming the operation index.
 */
export function historyProblems(operations: readonly Operation<unknown, unknown>[]): string[] {
  const problems: string[] = [];
  // A loop, not forEach with a closure: a one-shot check runs this before the JIT compiles it.
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index]!;
    if (!Number.isFinite(operation.invokedAt)) problems.push(`operation ${index}: invokedAt must be a finite number`);
    if (Number.isNaN(operation.completedAt)) problems.push(`operation ${index}: completedAt is NaN`);
    if (operation.completedAt < operation.invokedAt) problems.push(`operation ${index}: completes before it is invoked`);
    if (operation.outcome !== 'unknown' && !Number.isFinite(operation.completedAt)) {
      problems.push(`operation ${index}: a completed (${operation.outcome}) operation needs a finite completedAt`);
    }
    if ((operation.outcome === 'ok') !== (operation.output !== undefined)) {
      problems.push(`operation ${index}: output must be given exactly when the outcome is ok`);
    }
  }
  return problems;
}

/**
 * The history with each client that lost track of an operation going on under a new process, as
 * Jepsen's clients do: an unknown outcome without a completion time keeps its process busy for
 * good, so the same client's later operations would overlap it, and a history reader refuses a
 * process with two operations at once. The new ids come after every id in use; the operations
 * keep their order, and nothing else about them changes (the checker ignores processes).
 */
export function continueUnderNewProcesses<Input, Output>(operations: readonly Operation<Input, Output>[]): Operation<Input, Output>[] {
  let nextProcess = operations.reduce((most, operation) => Math.max(most, operation.process + 1), 0);
  const byProcess = new Map<number, number[]>();
  operations.forEach((operation, index) => byProcess.set(operation.process, [...(byProcess.get(operation.process) ?? []), index]));
  const renumbered = [...operations];
  for (const indexes of byProcess.values()) {
    indexes.sort((a, b) => operations[a]!.invokedAt - operations[b]!.invokedAt || a - b);
    let process = operations[indexes[0]!]!.process;
    let busyUntil = -Infinity;
    for (const index of indexes) {
      const operation = operations[index]!;
      if (busyUntil > operation.invokedAt) process = nextProcess++;
      busyUntil = operation.completedAt;
      if (process !== operation.process) renumbered[index] = { ...operation, process };
    }
  }
  return renumbered;
}
