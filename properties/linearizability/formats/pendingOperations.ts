/**
 * Turns a stream of invocation and completion events into operations, for the formats that log
 * events (Jepsen's): each process has at most one operation pending, a completion closes it,
 * and whatever is still pending at the end of the log never completed — its outcome is unknown.
 */
import type { Operation, Outcome } from '../history.ts';
import { HistoryParseError } from './parseError.ts';

interface Pending {
  readonly index: number;
  readonly name: string;
}

export class PendingOperations<Input, Output> {
  readonly #operations: (Operation<Input, Output> | undefined)[] = [];
  readonly #invoked: { process: number; invokedAt: number; input: Input }[] = [];
  readonly #pending = new Map<number, Pending>();

  /** `name` is what completions must repeat (Jepsen's `:f`). */
  invoke(line: number, process: number, name: string, input: Input): void {
    const open = this.#pending.get(process);
    if (open !== undefined) throw new HistoryParseError(line, `process ${process} invokes ${name} while its ${open.name} (line ${this.#invoked[open.index]!.invokedAt}) is still pending`);
    this.#pending.set(process, { index: this.#invoked.length, name });
    this.#invoked.push({ process, invokedAt: line, input });
    this.#operations.push(undefined);
  }

  /**
   * Closes the process's pending operation. `output` builds the result from the invocation's
   * input (and may throw a HistoryParseError when the completion contradicts it).
   */
  complete(line: number, process: number, name: string, outcome: Outcome, output: (input: Input) => Output | undefined): void {
    const open = this.#pending.get(process);
    if (open === undefined) throw new HistoryParseError(line, `process ${process} completes ${name} but has no pending operation`);
    if (open.name !== name) throw new HistoryParseError(line, `process ${process} completes ${name} but its pending operation is ${open.name}`);
    this.#pending.delete(process);
    const invoked = this.#invoked[open.index]!;
    const result = outcome === 'ok' ? output(invoked.input) : undefined;
    // An unknown outcome keeps the line where the client gave up, for display only.
    this.#operations[open.index] = { process, invokedAt: invoked.invokedAt, completedAt: line, input: invoked.input, output: result, outcome };
  }

  /** The operations in invocation order; those still pending get unknown outcomes. */
  finish(): Operation<Input, Output>[] {
    return this.#operations.map((operation, index) => {
      if (operation !== undefined) return operation;
      const invoked = this.#invoked[index]!;
      return { ...invoked, completedAt: Infinity, output: undefined, outcome: 'unknown' };
    });
  }
}
