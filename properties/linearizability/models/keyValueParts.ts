/**
 * Which writes a value returned by a get is made of. A key's state is always the value of one put
 * (or the empty initial value) followed by the values of appends, each write at most once. So a
 * returned value w can be cut into written values; when exactly one cut exists, the state the get
 * saw is known: these writes, in this order, and no others. With unique written values (Jepsen's
 * `x 3 17 y`, or any values no two of which overlap) every returned value has one cut; with
 * repeated or overlapping values some have several and are `ambiguous`; a value no cut makes
 * could never be read, and is `impossible`.
 *
 * The cuts are counted by dynamic programming over the positions of w that written values can
 * end at (at most two counted: one or more than one is all that matters), looking up the
 * substrings of the lengths that written values have. Values that repeat (consecutive gets of one
 * state) are parsed once.
 */
import type { KeyValueInput } from './keyValue.ts';

export type ValueParts =
  | { readonly kind: 'unique'; readonly writes: readonly number[] }
  | { readonly kind: 'ambiguous' }
  | { readonly kind: 'impossible'; readonly repeated?: number };

/** More than one way: the count saturates here. */
const many = 2;

export class ValueParser {
  /** Non-empty written values to the positions of the writes that wrote them. */
  readonly #puts = new Map<string, number[]>();
  readonly #appends = new Map<string, number[]>();
  readonly #lengths: number[];
  /** Puts of the empty value: a state without a put value may follow one of these, or the start. */
  readonly #emptyPuts: number;
  readonly #memo = new Map<string, ValueParts>();
  // Scratch arrays for the dynamic programming, one position per character, reused.
  #ways = new Uint8Array(64);
  #last = new Int32Array(64);
  #from = new Int32Array(64);

  #grow(size: number): void {
    const capacity = Math.max(size, this.#ways.length * 2);
    this.#ways = new Uint8Array(capacity);
    this.#last = new Int32Array(capacity);
    this.#from = new Int32Array(capacity);
  }

  /** `writes` are positions in `inputs` of one key's puts and appends. */
  constructor(inputs: readonly KeyValueInput[], writes: readonly number[]) {
    const lengths = new Set<number>();
    let emptyPuts = 0;
    for (const position of writes) {
      const input = inputs[position]!;
      if (input.kind === 'get') continue;
      if (input.value === '') {
        if (input.kind === 'put') emptyPuts++;
        continue;
      }
      const byValue = input.kind === 'put' ? this.#puts : this.#appends;
      const positions = byValue.get(input.value);
      if (positions === undefined) byValue.set(input.value, [position]);
      else positions.push(position);
      lengths.add(input.value.length);
    }
    this.#lengths = [...lengths].sort((a, b) => a - b);
    this.#emptyPuts = emptyPuts;
  }

  parse(value: string): ValueParts {
    let parts = this.#memo.get(value);
    if (parts === undefined) {
      parts = this.#parse(value);
      this.#memo.set(value, parts);
    }
    return parts;
  }

  #parse(value: string): ValueParts {
    const length = value.length;
    // ways[p]: cuts of value[0, p) into a put or append first, appends after (saturating at
    // `many`); when exactly one, `last[p]` is its last write and `from[p]` where that write began.
    if (this.#ways.length <= length) this.#grow(length + 1);
    const ways = this.#ways;
    const last = this.#last;
    const from = this.#from;
    ways.fill(0, 0, length + 1);
    ways[0] = 1;
    for (let start = 0; start < length; start++) {
      if (ways[start] === 0) continue;
      for (const size of this.#lengths) {
        if (start + size > length) break;
        const piece = value.slice(start, start + size);
        const appends = this.#appends.get(piece);
        const puts = start === 0 ? this.#puts.get(piece) : undefined;
        // A run of appends may start from the initial value or from any put of "".
        const appendWays = (appends?.length ?? 0) * (start === 0 ? 1 + this.#emptyPuts : 1);
        const count = Math.min(many, ways[start]! * (appendWays + (puts?.length ?? 0)));
        if (count === 0) continue;
        const end = start + size;
        ways[end] = Math.min(many, ways[end]! + count);
        if (ways[end] === 1) {
          last[end] = (puts ?? appends)![0]!;
          from[end] = start;
        }
      }
    }
    if (length === 0) return this.#emptyPuts === 0 ? { kind: 'unique', writes: [] } : { kind: 'ambiguous' };
    if (ways[length] === 0) return { kind: 'impossible' };
    if (ways[length]! > 1) return { kind: 'ambiguous' };
    const writes: number[] = [];
    for (let end = length; end > 0; end = from[end]!) writes.push(last[end]!);
    writes.reverse();
    const repeated = writes.find((write, index) => writes.indexOf(write) !== index);
    return repeated === undefined ? { kind: 'unique', writes } : { kind: 'impossible', repeated };
  }
}
