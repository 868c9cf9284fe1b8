/**
 * Numbers in a history kept exactly what they say. JavaScript reads every number as a 64-bit
 * float, which rounds integers above 2^53 and decimals with many digits: two different revisions
 * or values could become equal, and two different times could start to overlap. So:
 * - an integer must be exactly representable (else: refused, write it as a string);
 * - two different numbers of one history must not round to the same float (else: refused).
 * Rounding is monotone, so with no two numbers merged every comparison keeps its answer.
 */
import { HistoryParseError, quoted } from './parseError.ts';

export class ExactNumbers {
  /** Decimal (non-integer) numbers seen, by their float, with their exact value and line. */
  readonly #decimals = new Map<number, { exact: string; line: number }>();
  /** Integer values seen (all exact), checked against the decimals at the end. */
  readonly #integers = new Map<number, number>();

  /** Records a number token of the input text; throws when it cannot be kept exact. */
  record(token: string, line: number): void {
    const value = Number(token);
    if (/^-?\d+$/.test(token)) {
      if (!Number.isSafeInteger(value) && BigInt(token) !== BigInt(value)) {
        throw new HistoryParseError(line, `the integer ${quoted(token)} cannot be kept exact (it is beyond 2^53, where 64-bit floats round); write it as a string`);
      }
      if (this.#decimals.size > 0) this.#againstDecimals(value, canonical(token), line);
      if (!this.#integers.has(value)) this.#integers.set(value, line);
      return;
    }
    const exact = canonical(token);
    const seen = this.#decimals.get(value);
    if (seen === undefined) {
      this.#decimals.set(value, { exact, line });
      const integerLine = this.#integers.get(value);
      if (integerLine !== undefined && Number.isInteger(value) && exact !== canonical(String(BigInt(value)))) this.#conflict(token, line, integerLine);
    } else if (seen.exact !== exact) {
      this.#conflict(token, line, seen.line);
    }
  }

  #againstDecimals(value: number, exact: string, line: number): void {
    const seen = this.#decimals.get(value);
    if (seen !== undefined && seen.exact !== exact) this.#conflict(exact, line, seen.line);
  }

  #conflict(token: string, line: number, otherLine: number): never {
    throw new HistoryParseError(line, `the number ${quoted(token)} and another number on line ${otherLine} differ, but are the same 64-bit float; give fewer digits or strings`);
  }
}

/** The number's exact decimal value in one spelling: sign, digits without zeros around, exponent. */
function canonical(token: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token)!;
  const fraction = match[3] ?? '';
  let digits = (match[2]! + fraction).replace(/^0+/, '');
  let exponent = Number(match[4] ?? 0) - fraction.length;
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  return `${match[1]}${digits}e${exponent}`;
}

/**
 * Whether `checkJsonText` can find anything in this text: a number that is a decimal, has an
 * exponent or 16 digits or more (every integer of up to 15 digits is exact, and no two integers
 * share a float), or a string escape `\u` (an unpaired surrogate). Most histories hold none, and a
 * scan of every character of every line was a third of reading one.
 */
export function needsExactScan(text: string): boolean {
  // Three scans, not one alternation: 2.5 ms instead of 4 on 10,000 lines.
  return /\d[.eE]/.test(text) || /\d{16}/.test(text) || text.includes('\\u');
}

/**
 * Scans one JSON text (already known to be valid JSON) for number tokens outside strings and
 * records them; refuses strings holding an unpaired surrogate escape (`"\ud800"`), which is no
 * text that UTF-8 can carry.
 */
export function checkJsonText(text: string, line: number, numbers: ExactNumbers): void {
  const length = text.length;
  for (let at = 0; at < length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x22) {
      at = endOfString(text, at, line);
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      numberToken.lastIndex = at;
      const token = numberToken.exec(text)![0];
      numbers.record(token, line);
      at += token.length - 1;
    }
  }
}

const numberToken = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The index of the closing quote of the string opening at `start`. */
function endOfString(text: string, start: number, line: number): number {
  let highSurrogate = false;
  for (let at = start + 1; ; at++) {
    const character = text[at]!;
    if (character === '"') {
      if (highSurrogate) unpaired(line);
      return at;
    }
    if (character !== '\\') {
      if (highSurrogate) unpaired(line);
      continue;
    }
    const escaped = text[++at]!;
    if (escaped !== 'u') {
      if (highSurrogate) unpaired(line);
      continue;
    }
    const unit = parseInt(text.slice(at + 1, at + 5), 16);
    at += 4;
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    if (isLow && !highSurrogate) unpaired(line);
    if (!isLow && highSurrogate) unpaired(line);
    highSurrogate = isHigh;
  }
}

function unpaired(line: number): never {
  throw new HistoryParseError(line, 'a string holds an unpaired surrogate escape (\\ud800 to \\udfff), which is no text UTF-8 can carry');
}
