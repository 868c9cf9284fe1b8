/**
 * What a key/value history says about its unknown-outcome writes (`Model.settleUnknowns`). The
 * state of a key is the value of its last put followed by the values appended since, and a get
 * returns it whole, so a written value shows up as a substring of what later gets return:
 *
 * - **Unobserved.** Let U write a non-empty value v. In any linearization that takes U, every get
 *   of the key after U and before the next put returns a value containing v. So if no get that
 *   completes at or after U's invocation returns a value containing v, no get lies in that window,
 *   and the linearization without U is legal too (puts and appends are always legal, and only
 *   that window's states change). U constrains nothing: it may take effect last, or never.
 * - **Took effect.** Call v *identifiable* when no combination of the key's other written values
 *   can contain it: v is no substring of another value (an occurrence of v would end inside one
 *   value), and no non-empty suffix of another value is a proper prefix of v (it would start
 *   inside one and run past its end). Then a get whose value contains v saw U: U took effect, and
 *   before the first such get completed. Jepsen's values (`x 3 17 y`) and detcd's generator's are
 *   identifiable; repeated values are not, and stay unknown.
 *
 * Both rules are exact whatever the values, so the verdict never changes; they only apply less
 * often when values repeat.
 */
import type { Operation } from '../history.ts';
import type { UnknownFate } from '../model.ts';
import type { KeyValueInput, KeyValueOutput } from './keyValue.ts';

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

export function settleKeyValueUnknowns(operations: readonly KeyValueOperation[]): (UnknownFate | undefined)[] {
  const fates: (UnknownFate | undefined)[] = operations.map(() => undefined);
  for (const indexes of byKey(operations).values()) settleKey(operations, indexes, fates);
  return fates;
}

function byKey(operations: readonly KeyValueOperation[]): Map<string, number[]> {
  const keys = new Map<string, number[]>();
  operations.forEach((operation, index) => {
    const indexes = keys.get(operation.input.key);
    if (indexes === undefined) keys.set(operation.input.key, [index]);
    else indexes.push(index);
  });
  return keys;
}

function settleKey(operations: readonly KeyValueOperation[], indexes: readonly number[], fates: (UnknownFate | undefined)[]): void {
  const unknownWrites = indexes.filter((index) => operations[index]!.outcome === 'unknown' && writtenValue(operations[index]!) !== '');
  if (unknownWrites.length === 0) return;
  // Gets in completion order, so that the first one to see a value is the first found.
  const gets = indexes.filter((index) => operations[index]!.outcome === 'ok' && operations[index]!.input.kind === 'get');
  gets.sort((a, b) => operations[a]!.completedAt - operations[b]!.completedAt);
  const pieces = new WrittenPieces(
    indexes.map((index) => writtenValue(operations[index]!)).filter((value) => value !== ''),
    unknownWrites.map((index) => writtenValue(operations[index]!)),
  );
  for (const index of unknownWrites) {
    const write = operations[index]!;
    const value = writtenValue(write);
    const firstSeen = firstGetContaining(operations, gets, value, write.invokedAt);
    if (firstSeen === undefined) fates[index] = { kind: 'unobserved' };
    else if (pieces.identifiable(value)) fates[index] = { kind: 'took-effect', by: firstSeen };
  }
}

/** The value a put or append writes; "" for a get (which writes nothing). */
function writtenValue(operation: KeyValueOperation): string {
  return operation.input.kind === 'get' ? '' : operation.input.value;
}

/** The completion time of the first get completing at or after `from` whose value contains `value`. */
function firstGetContaining(operations: readonly KeyValueOperation[], gets: readonly number[], value: string, from: number): number | undefined {
  let low = 0;
  let high = gets.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (operations[gets[middle]!]!.completedAt < from) low = middle + 1;
    else high = middle;
  }
  for (let at = low; at < gets.length; at++) {
    const get = operations[gets[at]!]!;
    if (get.output!.value!.includes(value)) return get.completedAt;
  }
  return undefined;
}

/**
 * The pieces of a key's written values that could make up an unknown write's value without it:
 * the substrings equal to an unknown value, and the suffixes equal to a proper prefix of one,
 * both counted (a value's own pieces are subtracted when it asks about itself). Only pieces that
 * can matter are kept, so the maps stay as small as the set of unknown values.
 */
class WrittenPieces {
  readonly #substrings = new Map<string, number>();
  readonly #suffixes = new Map<string, number>();

  constructor(values: readonly string[], unknownValues: readonly string[]) {
    for (const value of unknownValues) {
      this.#substrings.set(value, 0);
      for (let length = 1; length < value.length; length++) this.#suffixes.set(value.slice(0, length), 0);
    }
    const lengths = [...new Set(unknownValues.map((value) => value.length))];
    const longest = Math.max(...lengths);
    for (const value of values) {
      for (const length of lengths) {
        for (let start = 0; start + length <= value.length; start++) countIfKept(this.#substrings, value.slice(start, start + length));
      }
      for (let length = 1; length < longest && length <= value.length; length++) countIfKept(this.#suffixes, value.slice(value.length - length));
    }
  }

  /** Whether `value`, itself one of the values, can only appear in a key's state by being written. */
  identifiable(value: string): boolean {
    // The value itself contributes one occurrence of itself as a substring.
    if (this.#substrings.get(value)! > 1) return false;
    for (let length = 1; length < value.length; length++) {
      const prefix = value.slice(0, length);
      const own = value.endsWith(prefix) ? 1 : 0;
      if (this.#suffixes.get(prefix)! > own) return false;
    }
    return true;
  }
}

function countIfKept(counts: Map<string, number>, piece: string): void {
  const seen = counts.get(piece);
  if (seen !== undefined) counts.set(piece, seen + 1);
}
