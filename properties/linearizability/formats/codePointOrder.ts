/**
 * The etcd model compares keys and values as JavaScript strings (UTF-16 code units), which is
 * code point order — etcd's byte order for UTF-8 — for every pair of strings except one holding a
 * character above U+FFFF (a surrogate pair, D800–DFFF) against one holding U+E000–U+FFFF at the
 * same place. Rather than order those wrongly, a history whose strings contain both kinds is
 * refused; no real history is expected to.
 */
import type { Operation } from '../history.ts';
import { HistoryParseError } from './parseError.ts';

const astral = /[\uD800-\uDFFF]/;
const highPlane = /[\uE000-\uFFFF]/;

/** The same kinds of character in a history's JSON text, written as themselves or escaped. */
const astralInJson = /[\uD800-\uDFFF]|\\u[dD][89a-fA-F]/;
const highPlaneInJson = /[\uE000-\uFFFF]|\\u[eEfF]/;

/**
 * Throws, naming the line of the first operation that completes the mix, when strings would order
 * unlike etcd. `text`, the history's JSON text when there is one: a text that cannot hold both
 * kinds needs no look at each operation (on 100,000 operations that cost a sixth of the parse).
 */
export function refuseUnorderableText(operations: readonly Operation<unknown, unknown>[], lineOf: (index: number) => number, text?: string): void {
  if (text !== undefined && !(astralInJson.test(text) && highPlaneInJson.test(text))) return;
  let astralLine: number | undefined;
  let highLine: number | undefined;
  operations.forEach((operation, index) => {
    const text = JSON.stringify([operation.input, operation.output ?? null]);
    if (astralLine === undefined && astral.test(text)) astralLine = lineOf(index);
    if (highLine === undefined && highPlane.test(text)) highLine = lineOf(index);
    if (astralLine !== undefined && highLine !== undefined) {
      throw new HistoryParseError(Math.max(astralLine, highLine), `the history mixes characters above U+FFFF (line ${astralLine}) with U+E000–U+FFFF (line ${highLine}), which JavaScript orders unlike etcd's bytes`);
    }
  });
}
