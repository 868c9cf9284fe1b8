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
import { polynomialBase, polynomialHash, polynomialPower } from '../_internals/polynomialHash.ts';

export type ValueParts =
  | { readonly kind: 'unique'; readonly writes: readonly number[] }
  | { readonly kind: 'ambiguous' }
  | { readonly kind: 'impossible'; readonly repeated?: number };

/** The size of the filter of written values' slots, less one (a power of two). */
const presentMask = (1 << 14) - 1;

/** More than one way: the count saturates here. */
const many = 2;

export class ValueParser {
  /**
   * Non-empty written values to the positions of the writes that wrote them, by the hash of the
   * value and its length (values that share a hash are told apart by comparing the text).
   */
  readonly #puts = new Map<number, number[]>();
  readonly #appends = new Map<number, number[]>();
  readonly #inputs: readonly KeyValueInput[];
  readonly #lengths: number[];
  /** base^length for each length in `#lengths`. */
  readonly #powers: number[];
  /** Puts of the empty value: a state without a put value may follow one of these, or the start. */
  readonly #emptyPuts: number;
  readonly #memo = new Map<string, ValueParts>();
  /** Per slot modulo the table's size: 1 when some written value may have it (a filter before the maps). */
  readonly #present = new Uint8Array(presentMask + 1);
  /** The value whose table the scratch arrays hold. */
  #previous = '';
  // Scratch arrays for the dynamic programming, one position per character, reused.
  #ways = new Uint8Array(64);
  #last = new Int32Array(64);
  #from = new Int32Array(64);
  #prefix = new Int32Array(64);

  #grow(size: number): void {
    const capacity = Math.max(size, this.#ways.length * 2);
    const grown = <T extends Uint8Array | Int32Array>(old: T, make: (size: number) => T): T => {
      const array = make(capacity);
      array.set(old);
      return array;
    };
    this.#ways = grown(this.#ways, (size) => new Uint8Array(size));
    this.#last = grown(this.#last, (size) => new Int32Array(size));
    this.#from = grown(this.#from, (size) => new Int32Array(size));
    this.#prefix = grown(this.#prefix, (size) => new Int32Array(size));
  }

  /** `writes` are positions in `inputs` of one key's puts and appends. */
  constructor(inputs: readonly KeyValueInput[], writes: readonly number[]) {
    this.#inputs = inputs;
    const lengths = new Set<number>();
    let emptyPuts = 0;
    for (let at = 0; at < writes.length; at++) {
      const position = writes[at]!;
      const input = inputs[position]!;
      if (input.kind === 'get') continue;
      if (input.value === '') {
        if (input.kind === 'put') emptyPuts++;
        continue;
      }
      const byValue = input.kind === 'put' ? this.#puts : this.#appends;
      const slot = slotOf(polynomialHash(input.value), input.value.length);
      this.#present[slot & presentMask] = 1;
      const positions = byValue.get(slot);
      if (positions === undefined) byValue.set(slot, [position]);
      else positions.push(position);
      lengths.add(input.value.length);
    }
    this.#lengths = [...lengths].sort((a, b) => a - b);
    this.#powers = this.#lengths.map((length) => polynomialPower(length));
    this.#emptyPuts = emptyPuts;
  }

  /** The writes among `candidates` whose value is `value` at `start` (hash collisions filtered out). */
  #matching(candidates: readonly number[] | undefined, value: string, start: number, size: number): number[] | undefined {
    if (candidates === undefined) return undefined;
    let matches: number[] | undefined;
    for (let at = 0; at < candidates.length; at++) {
      const candidate = candidates[at]!;
      const written = (this.#inputs[candidate] as { value: string }).value;
      if (written.length === size && value.startsWith(written, start)) (matches ??= []).push(candidate);
    }
    return matches;
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
    // ways[p] depends only on value[0, p): when this value extends the one parsed before (a get
    // that saw more appends than the last), the table up to that one's length is kept.
    if (this.#ways.length <= length) this.#grow(length + 1);
    const previous = this.#previous;
    const resume = previous.length > 0 && length > previous.length && value.startsWith(previous) ? previous.length : 0;
    const ways = this.#ways;
    const prefix = this.#prefix;
    ways.fill(0, resume === 0 ? 0 : resume + 1, length + 1);
    if (resume === 0) {
      ways[0] = 1;
      prefix[0] = 0;
    }
    for (let at = resume; at < length; at++) prefix[at + 1] = (Math.imul(prefix[at]!, polynomialBase) + value.charCodeAt(at)) | 0;
    // Pieces that began in the kept part and end past it, then everything after it.
    const longest = this.#lengths[this.#lengths.length - 1] ?? 0;
    for (let start = Math.max(0, resume - longest + 1); start < resume; start++) this.#extend(value, start, resume + 1);
    for (let start = resume; start < length; start++) this.#extend(value, start, 0);
    this.#previous = value;
    if (length === 0) return this.#emptyPuts === 0 ? { kind: 'unique', writes: [] } : { kind: 'ambiguous' };
    if (ways[length] === 0) return { kind: 'impossible' };
    if (ways[length]! > 1) return { kind: 'ambiguous' };
    const writes: number[] = [];
    for (let end = length; end > 0; end = this.#from[end]!) writes.push(this.#last[end]!);
    writes.reverse();
    const repeated = this.#repeated(writes);
    return repeated === undefined ? { kind: 'unique', writes } : { kind: 'impossible', repeated };
  }

  /** Adds the cuts that continue at `start` with one written value ending at or after `minimumEnd`. */
  #extend(value: string, start: number, minimumEnd: number): void {
    const ways = this.#ways;
    const waysHere = ways[start]!;
    if (waysHere === 0) return;
    const prefix = this.#prefix;
    const lengths = this.#lengths;
    const powers = this.#powers;
    const present = this.#present;
    const startHash = prefix[start]!;
    const length = value.length;
    for (let which = 0; which < lengths.length; which++) {
      const size = lengths[which]!;
      const end = start + size;
      if (end > length) break;
      if (end < minimumEnd) continue;
      // The hash of value[start, end) from the prefix hashes, without slicing; most pieces are
      // no written value, and the filter says so without a map lookup (a one-shot check runs
      // this before the JIT compiles it).
      const slot = slotOf((prefix[end]! - Math.imul(startHash, powers[which]!)) | 0, size);
      if (present[slot & presentMask] === 0) continue;
      const appends = this.#matching(this.#appends.get(slot), value, start, size);
      const puts = start === 0 ? this.#matching(this.#puts.get(slot), value, start, size) : undefined;
      // A run of appends may start from the initial value or from any put of "".
      const appendWays = (appends?.length ?? 0) * (start === 0 ? 1 + this.#emptyPuts : 1);
      const count = Math.min(many, waysHere * (appendWays + (puts?.length ?? 0)));
      if (count === 0) continue;
      ways[end] = Math.min(many, ways[end]! + count);
      if (ways[end] === 1) {
        this.#last[end] = (puts ?? appends)![0]!;
        this.#from[end] = start;
      }
    }
  }

  /** A write that occurs twice in the cut, if any. */
  #repeated(writes: readonly number[]): number | undefined {
    if (writes.length < 2) return undefined;
    // A short cut (most are) is searched in place: a Set per parsed value cost more.
    if (writes.length <= 32) {
      for (let at = 1; at < writes.length; at++) {
        for (let before = 0; before < at; before++) if (writes[before] === writes[at]) return writes[at];
      }
      return undefined;
    }
    const seen = new Set<number>();
    for (const write of writes) {
      if (seen.has(write)) return write;
      seen.add(write);
    }
    return undefined;
  }
}

/** A map slot for a hash and a length. */
function slotOf(hash: number, length: number): number {
  return (Math.imul(hash, 31) ^ length) | 0;
}
