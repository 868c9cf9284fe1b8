/**
 * A reader for the EDN Jepsen writes, one map per history line:
 * `{:type :ok, :f :cas, :value [3 [1 2]], :process 7, :time 123, :error [:timeout "…"]}`. It reads
 * every EDN form such lines hold — maps, vectors, lists, sets, keywords, symbols, strings,
 * characters, integers, decimals, nil, booleans and tagged values (`#jepsen.independent.Tuple
 * {:key 3 :value 4}`) — so that extra fields never break a history; the fields a history needs
 * are then checked by the format's reader. Commas are whitespace; `;` starts a comment.
 * Integers that a 64-bit float cannot keep exact are refused (see `exactNumbers.ts`).
 */
import { quoted } from './parseError.ts';

export type EdnValue =
  | { readonly kind: 'keyword'; readonly name: string }
  | { readonly kind: 'symbol'; readonly name: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'integer'; readonly value: number }
  | { readonly kind: 'decimal'; readonly text: string }
  | { readonly kind: 'character'; readonly text: string }
  | { readonly kind: 'nil' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'vector' | 'list' | 'set'; readonly items: readonly EdnValue[] }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [EdnValue, EdnValue])[] }
  | { readonly kind: 'tagged'; readonly tag: string; readonly value: EdnValue };

/** The old name of the values a history line's fields hold. */
export type EdnScalar = EdnValue;

/** A line's map, by keyword name (without the colon); throws an Error saying what is wrong. */
export function readEdnMap(text: string): Map<string, EdnValue> {
  const reader = new Reader(text);
  const value = reader.value();
  reader.skipSpace();
  if (!reader.atEnd()) throw new Error(`unexpected text after the map, at column ${reader.column}`);
  if (value.kind !== 'map') throw new Error('the line is not a map');
  const entries = new Map<string, EdnValue>();
  for (const [key, entry] of value.entries) {
    if (key.kind !== 'keyword') throw new Error('map keys must be keywords');
    if (entries.has(key.name)) throw new Error(`duplicate key :${quoted(key.name)}`);
    entries.set(key.name, entry);
  }
  return entries;
}

const escapes: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
const closers: Record<string, string> = { '[': ']', '(': ')', '{': '}' };
/** Nesting beyond this is refused: no history needs it, and a hostile file must not overflow the stack. */
const depthMax = 64;

class Reader {
  readonly #text: string;
  #at = 0;
  #depth = 0;

  constructor(text: string) {
    this.#text = text;
  }

  get column(): number {
    return this.#at + 1;
  }

  atEnd(): boolean {
    return this.#at >= this.#text.length;
  }

  skipSpace(): void {
    for (;;) {
      const character = this.#text[this.#at];
      if (character === undefined) return;
      if (character === ';') {
        while (this.#at < this.#text.length && this.#text[this.#at] !== '\n') this.#at++;
      } else if (/[\s,]/.test(character)) {
        this.#at++;
      } else {
        return;
      }
    }
  }

  value(): EdnValue {
    this.skipSpace();
    const start = this.#at;
    const character = this.#text[this.#at];
    if (character === undefined) throw new Error('unexpected end of the line');
    if (character === '"') return { kind: 'string', text: this.#string() };
    if (character === '[' || character === '(' || character === '{') {
      this.#at++;
      const items = this.#until(closers[character]!);
      if (character === '[') return { kind: 'vector', items };
      if (character === '(') return { kind: 'list', items };
      return { kind: 'map', entries: pairs(items, start) };
    }
    if (character === '#') return this.#dispatch();
    if (character === '\\') return this.#character();
    if (character === ']' || character === ')' || character === '}') throw new Error(`unexpected "${character}" at column ${start + 1}`);
    return this.#token(start);
  }

  #until(closer: string): EdnValue[] {
    if (++this.#depth > depthMax) throw new Error(`nested more than ${depthMax} deep`);
    const items: EdnValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) throw new Error(`missing "${closer}"`);
      if (this.#text[this.#at] === closer) break;
      items.push(this.value());
    }
    this.#at++;
    this.#depth--;
    return items;
  }

  #dispatch(): EdnValue {
    const start = this.#at;
    this.#at++;
    const next = this.#text[this.#at];
    if (next === '{') {
      this.#at++;
      return { kind: 'set', items: this.#until('}') };
    }
    if (next === '_') {
      // A discarded form: read it and go on to the next one.
      this.#at++;
      this.value();
      return this.value();
    }
    const tag = this.#token(this.#at);
    if (tag.kind !== 'symbol') throw new Error(`unsupported dispatch "#" at column ${start + 1}`);
    return { kind: 'tagged', tag: tag.name, value: this.value() };
  }

  #character(): EdnValue {
    const start = this.#at;
    this.#at++;
    while (!this.atEnd() && !/[\s,()[\]{}"]/.test(this.#text[this.#at]!)) this.#at++;
    if (this.#at === start + 1 && !this.atEnd()) this.#at++;
    return { kind: 'character', text: this.#text.slice(start + 1, this.#at) };
  }

  #token(start: number): EdnValue {
    while (!this.atEnd() && !/[\s,()[\]{}"]/.test(this.#text[this.#at]!)) this.#at++;
    const token = this.#text.slice(start, this.#at);
    if (token === '') throw new Error(`expected a value at column ${start + 1}`);
    if (token.startsWith(':') && token.length > 1) return { kind: 'keyword', name: token.slice(1) };
    if (/^[-+]?\d+N?$/.test(token)) {
      const digits = token.replace(/N$/, '');
      if (!Number.isSafeInteger(Number(digits))) throw new Error(`the integer ${quoted(token)} cannot be kept exact (it is beyond 2^53, where 64-bit floats round); write it as a string`);
      return { kind: 'integer', value: Number(digits) };
    }
    if (/^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?M?$/.test(token)) return { kind: 'decimal', text: token };
    if (token === 'nil') return { kind: 'nil' };
    if (token === 'true' || token === 'false') return { kind: 'boolean', value: token === 'true' };
    if (/^[a-zA-Z*+!\-_?<>=./'&%$][\w*+!\-_?<>=./:'&%$#]*$/.test(token)) return { kind: 'symbol', name: token };
    throw new Error(`unsupported EDN value ${quoted(token)} at column ${start + 1}`);
  }

  #string(): string {
    this.#at++;
    let text = '';
    for (;;) {
      if (this.atEnd()) throw new Error('unterminated string');
      const character = this.#text[this.#at++]!;
      if (character === '"') return text;
      if (character !== '\\') {
        text += character;
        continue;
      }
      const code = this.#text[this.#at++] ?? '';
      if (code === 'u' && /^[0-9a-fA-F]{4}$/.test(this.#text.slice(this.#at, this.#at + 4))) {
        const unit = parseInt(this.#text.slice(this.#at, this.#at + 4), 16);
        if (unit >= 0xd800 && unit <= 0xdfff) throw new Error('a string holds a surrogate escape, which is no text');
        text += String.fromCharCode(unit);
        this.#at += 4;
        continue;
      }
      const escaped = escapes[code];
      if (escaped === undefined) throw new Error(`unsupported string escape at column ${this.#at}`);
      text += escaped;
    }
  }
}

function pairs(items: readonly EdnValue[], start: number): [EdnValue, EdnValue][] {
  if (items.length % 2 !== 0) throw new Error(`a map at column ${start + 1} has a key without a value`);
  const result: [EdnValue, EdnValue][] = [];
  for (let index = 0; index < items.length; index += 2) result.push([items[index]!, items[index + 1]!]);
  return result;
}
