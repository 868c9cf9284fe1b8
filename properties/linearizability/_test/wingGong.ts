/**
 * Wing & Gong's search with Lowe's cache, as Porcupine runs it (`checker.go`'s `checkSingle`):
 * the history as one list of call and return entries in time order; at each step the first call
 * in the list whose operation the model accepts (and whose configuration is new) is lifted out of
 * the list with its return, and reaching a return entry means backtracking. A configuration is
 * the set of linearized operations (a bitset, copied into the cache) and the model state. Unknown
 * outcomes return at infinity (and, as in Porcupine, must be linearized: the same verdicts as
 * detcd's where a write is always legal, as in the kv model). Histories are split with the
 * model's `partition`, as Porcupine's models split them; no other pruning.
 *
 * It is the benchmark's in-run baseline: what detcd's search and the models' inferences are
 * measured against, on the same machine in the same process.
 */
import type { Operation } from '../history.ts';
import type { Model } from '../model.ts';

interface Entry {
  /** The operation's index, or -1 for the head. */
  readonly operation: number;
  /** The return entry of a call; undefined for a return. */
  readonly match: Entry | undefined;
  previous: Entry | undefined;
  next: Entry | undefined;
}

/** true / false, or undefined when `deadline` (a `performance.now()` time) passed first. */
export function wingGongLinearizable<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  deadline = Infinity,
): boolean | undefined {
  const partitions = new Map<string, Operation<Input, Output>[]>();
  for (const operation of history) {
    if (operation.outcome === 'fail') continue;
    const partition = model.partition?.(operation.input) ?? '';
    const members = partitions.get(partition);
    if (members === undefined) partitions.set(partition, [operation]);
    else members.push(operation);
  }
  let verdict: boolean | undefined = true;
  for (const operations of partitions.values()) {
    const checked = checkSingle(model, operations, deadline);
    if (checked === false) return false;
    if (checked === undefined) verdict = undefined;
  }
  return verdict;
}

function checkSingle<State, Input, Output extends {} | null>(model: Model<State, Input, Output>, operations: readonly Operation<Input, Output>[], deadline: number): boolean | undefined {
  const head = linkedEntries(operations);
  const words = Math.ceil(operations.length / 32);
  const linearized = new Uint32Array(words);
  const cache = new Map<number, { bits: Uint32Array; state: State }[]>();
  const calls: { entry: Entry; state: State }[] = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if ((++steps & 1023) === 0 && performance.now() > deadline) return undefined;
    if (entry!.match !== undefined) {
      const operation = operations[entry!.operation]!;
      const next = model.step(state, operation.input, operation.outcome === 'ok' ? operation.output : undefined);
      if (next !== undefined) {
        flip(linearized, entry!.operation);
        if (remember(cache, model, linearized, next)) {
          calls.push({ entry: entry!, state });
          state = next;
          lift(entry!);
          entry = head.next;
          continue;
        }
        flip(linearized, entry!.operation);
      }
      entry = entry!.next;
    } else {
      const top = calls.pop();
      if (top === undefined) return false;
      state = top.state;
      flip(linearized, top.entry.operation);
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return true;
}

function linkedEntries<Input, Output>(operations: readonly Operation<Input, Output>[]): Entry {
  const events: { time: number; isReturn: boolean; operation: number }[] = [];
  operations.forEach((operation, index) => {
    events.push({ time: operation.invokedAt, isReturn: false, operation: index });
    events.push({ time: operation.outcome === 'ok' ? operation.completedAt : Infinity, isReturn: true, operation: index });
  });
  // Calls before returns at equal times: intervals are closed, so those operations overlap.
  events.sort((a, b) => a.time - b.time || Number(a.isReturn) - Number(b.isReturn));
  const returns = new Map<number, Entry>();
  const head: Entry = { operation: -1, match: undefined, previous: undefined, next: undefined };
  let last = head;
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index]!;
    if (event.isReturn) returns.set(event.operation, { operation: event.operation, match: undefined, previous: undefined, next: undefined });
  }
  for (const event of events) {
    const entry: Entry = event.isReturn ? returns.get(event.operation)! : { operation: event.operation, match: returns.get(event.operation), previous: undefined, next: undefined };
    entry.previous = last;
    last.next = entry;
    last = entry;
  }
  return head;
}

function lift(entry: Entry): void {
  entry.previous!.next = entry.next;
  if (entry.next !== undefined) entry.next.previous = entry.previous;
  const match = entry.match!;
  match.previous!.next = match.next;
  if (match.next !== undefined) match.next.previous = match.previous;
}

function unlift(entry: Entry): void {
  const match = entry.match!;
  match.previous!.next = match;
  if (match.next !== undefined) match.next.previous = match;
  entry.previous!.next = entry;
  if (entry.next !== undefined) entry.next.previous = entry;
}

function flip(bits: Uint32Array, index: number): void {
  bits[index >>> 5]! ^= 1 << (index & 31);
}

/** Adds the configuration to the cache; false when it was there. */
function remember<State>(cache: Map<number, { bits: Uint32Array; state: State }[]>, model: Pick<Model<State, never, never>, "hash" | "equal">, bits: Uint32Array, state: State): boolean {
  let hash = model.hash(state);
  for (let word = 0; word < bits.length; word++) hash = (Math.imul(hash, 0x01000193) ^ bits[word]!) | 0;
  const bucket = cache.get(hash);
  if (bucket !== undefined) {
    for (const entry of bucket) if (sameBits(entry.bits, bits) && model.equal(entry.state, state)) return false;
    bucket.push({ bits: bits.slice(), state });
  } else {
    cache.set(hash, [{ bits: bits.slice(), state }]);
  }
  return true;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let word = 0; word < a.length; word++) if (a[word] !== b[word]) return false;
  return true;
}
