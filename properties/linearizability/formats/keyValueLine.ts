/**
 * A kv operation line in the very shape `formatJsonLines` (and so the simulator and the
 * benchmark's generator) writes it, read by one regular expression instead of `JSON.parse`, the
 * shape checks and the codec:
 *
 *   {"process":3,"invoke":12,"complete":15,"outcome":"ok","input":{"kind":"get","key":"k1"},"output":{"value":"v2 "}}
 *
 * A cold `check` of 10,000 kv operations spent about a third of its CPU parsing, most of it in
 * per-line JavaScript that had not been compiled yet; the expression is compiled to machine code
 * once (irregexp) and builds the operation from its groups.
 *
 * It never reads a line differently from the general path: it accepts only what that path would
 * decode to the same operation and otherwise answers undefined, and the line goes the general way
 * (which also names any error). So: fields in that order and no others, no white space, integers
 * of at most 15 digits without a sign or leading zero (exact doubles), strings without escapes or
 * control characters (their text is their value), and the outcome's rules (`complete` for ok and
 * fail, `output` exactly for ok, `complete` not before `invoke`, a get's output a value, a
 * write's an empty object). The caller uses it only in a file whose header says kv. Nothing in
 * such a line is what the exact-number scan (`needsExactScan`) looks for outside strings (integers
 * of at most 15 digits are exact, and no escapes), so a file of only such lines needs no scan.
 */
import type { Operation, Outcome } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';

const integer = '(0|[1-9][0-9]{0,14})';
const text = '([^"\\\\\\u0000-\\u001f]*)';
const line = new RegExp(
  `^\\{"process":${integer},"invoke":${integer},(?:"complete":${integer},)?"outcome":"(ok|fail|unknown)",` +
    `"input":\\{"kind":"(get|put|append)","key":${'"' + text + '"'}(?:,"value":${'"' + text + '"'})?\\}` +
    `(,"output":\\{(?:"value":${'"' + text + '"'})?\\})?\\}$`,
);

/** The operation on `content`, or undefined when the line is not in the plain shape (or is wrong). */
export function keyValueLine(content: string): Operation<KeyValueInput, KeyValueOutput> | undefined {
  const match = line.exec(content);
  if (match === null) return undefined;
  // Indexed, not destructured: before the JIT compiles this, destructuring walks an iterator.
  const complete = match[3];
  // The outcome and kind as the literals, not the match's copies: every later `=== 'ok'` and
  // `=== 'get'` (partition, fast path, certificate) is then the same string, which compares at once
  // where a copy is compared character by character (a cold check of 2,000 operations makes about
  // ten such comparisons per operation).
  const matched = match[4]!;
  const outcome: Outcome = matched === 'ok' ? 'ok' : matched === 'fail' ? 'fail' : 'unknown';
  const kind = match[5]!;
  const value = match[7];
  const returned = match[9];
  // Unary plus, not `Number(…)`: the same conversion, without a call (a cold check runs this per line).
  const invokedAt = +match[2]!;
  const completedAt = complete === undefined ? Infinity : +complete;
  if (completedAt < invokedAt) return undefined;
  if (complete === undefined && outcome !== 'unknown') return undefined;
  if ((outcome === 'ok') !== (match[8] !== undefined)) return undefined;
  // The input, written out (a call per line costs before the JIT): a get has no value, a write one.
  let input: KeyValueInput;
  if (kind === 'get') {
    if (value !== undefined) return undefined;
    input = { kind: 'get', key: match[6]! };
  } else {
    if (value === undefined) return undefined;
    input = { kind: kind === 'put' ? 'put' : 'append', key: match[6]!, value };
  }
  if (outcome !== 'ok') return { process: +match[1]!, invokedAt, completedAt, input, output: undefined, outcome };
  if ((kind === 'get') !== (returned !== undefined)) return undefined;
  return { process: +match[1]!, invokedAt, completedAt, input, output: returned === undefined ? {} : { value: returned }, outcome: 'ok' };
}
