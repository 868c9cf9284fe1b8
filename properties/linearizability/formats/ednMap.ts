/**
 * A reader for the one EDN shape Jepsen writes per history line: a flat map from keywords to
 * scalars, `{:process 3, :type :ok, :f :get, :key "1", :value "x 3 0 y"}`. Commas are whitespace
 * in EDN. Nested collections and tagged literals are refused rather than half-read.
 */
import { quoted } from './parseError.ts';

export type EdnScalar =
  | { readonly kind: 'keyword'; readonly name: string }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'integer'; readonly value: number }
  | { readonly kind: 'nil' }
  | { readonly kind: 'boolean'; readonly value: boolean };

/** The map's entries by keyword name (without the colon); throws an Error saying what is wrong. */
export function readEdnMap(text: string): Map<string, EdnScalar> {
  const reader = new Reader(text);
  reader.skipSpace();
  reader.expect('{');
  const entries = new Map<string, EdnScalar>();
  for (;;) {
    reader.skipSpace();
    if (reader.peek() === '}') break;
    const key = reader.scalar();
    if (key.kind !== 'keyword') throw new Error(`map keys must be keywords, at column ${reader.column}`);
    reader.skipSpace();
    if (entries.has(key.name)) throw new Error(`duplicate key :${key.name}`);
    entries.set(key.name, reader.scalar());
  }
  reader.expect('}');
  reader.skipSpace();
  if (!reader.atEnd()) throw new Error(`unexpected text after the map, at column ${reader.column}`);
  return entries;
}

const escapes: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

class Reader {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  get column(): number {
    return this.#at + 1;
  }

  atEnd(): boolean {
    return this.#at >= this.#text.length;
  }

  peek(): string {
    return this.#text[this.#at] ?? '';
  }

  skipSpace(): void {
    while (/[\s,]/.test(this.peek()) && !this.atEnd()) this.#at++;
  }

  expect(character: string): void {
    if (this.peek() !== character) throw new Error(`expected "${character}" at column ${this.column}`);
    this.#at++;
  }

  scalar(): EdnScalar {
    const start = this.#at;
    if (this.peek() === '"') return { kind: 'string', text: this.#string() };
    while (!this.atEnd() && !/[\s,{}[\]()"]/.test(this.peek())) this.#at++;
    const token = this.#text.slice(start, this.#at);
    if (token === '') throw new Error(`expected a value at column ${start + 1}`);
    if (token.startsWith(':') && token.length > 1) return { kind: 'keyword', name: token.slice(1) };
    if (/^[-+]?\d+$/.test(token)) {
      if (!Number.isSafeInteger(Number(token))) throw new Error(`the integer ${quoted(token)} cannot be kept exact (it is beyond 2^53, where 64-bit floats round); write it as a string`);
      return { kind: 'integer', value: Number(token) };
    }
    if (token === 'nil') return { kind: 'nil' };
    if (token === 'true' || token === 'false') return { kind: 'boolean', value: token === 'true' };
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
      const escaped = escapes[this.#text[this.#at++] ?? ''];
      if (escaped === undefined) throw new Error(`unsupported string escape at column ${this.#at}`);
      text += escaped;
    }
  }
}
