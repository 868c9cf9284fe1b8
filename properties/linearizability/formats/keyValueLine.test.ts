/**
 * The kv line shape read by a regular expression (`keyValueLine.ts`) reads every file exactly as
 * the general path (`JSON.parse`, shape checks, codec) does: the same operations, or the same
 * error on the same line. Checked on generated histories and on lines edited at random (escapes,
 * control characters, leading zeros, signs, long and fractional numbers, outcomes and outputs that
 * do not go together, fields dropped or added).
 */
import test from 'ava';
import fc from 'fast-check';
import { SeededRandom } from '../../../sim/rng.ts';
import { generateKeyValueHistory } from '../generator/keyValueHistory.ts';
import { formatJsonLines } from './jsonLines.ts';
import { keyValueLine } from './keyValueLine.ts';
import { parseHistory } from './parseHistory.ts';

const seed = fc.integer({ min: 0, max: 0x7fffffff });

/** The result of parsing, as something to compare: the operations, or the error's text. */
function outcomeOf(text: string, model?: 'kv'): unknown {
  try {
    return parseHistory(text, model === undefined ? {} : { format: 'jsonl', model }).history.operations;
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/**
 * The same file read both ways: with its kv header (the expression) and without (the general path,
 * told the format and the model: a headerless file whose first line an edit cut to `{` is, by
 * detection, one of etcd's robustness reports, which failed this test about once in 3,000 draws).
 */
function bothWays(body: string): { fast: unknown; general: unknown } {
  return { fast: outcomeOf(`{"history":"detcd","version":1,"model":"kv"}\n${body}`), general: outcomeOf(`\n${body}`, 'kv') };
}

const edits: readonly ((line: string, random: SeededRandom) => string)[] = [
  (line) => line.replace('"key":"', '"key":"\\u0041'),
  (line) => line.replace('"key":"', '"key":"\\n'),
  (line) => line.replace('"key":"', '"key":"\u0001'),
  (line) => line.replace(/"invoke":(\d+)/, '"invoke":0$1'),
  (line) => line.replace(/"invoke":(\d+)/, '"invoke":-$1'),
  (line) => line.replace(/"complete":(\d+)/, '"complete":$1.5'),
  (line) => line.replace(/"complete":(\d+)/, '"complete":1234567890123456789'),
  (line) => line.replace(/"process":(\d+)/, '"process":1e2'),
  (line) => line.replace('"ok"', '"fail"'),
  (line) => line.replace('"unknown"', '"ok"'),
  (line) => line.replace(/,"output":\{[^}]*\}/, ''),
  (line) => line.replace(/,"complete":\d+/, ''),
  (line) => line.replace('"kind":"get"', '"kind":"put"'),
  (line) => line.replace('"kind":"put"', '"kind":"get"'),
  (line) => line.replace('"output":{}', '"output":{"value":"x"}'),
  (line) => line.replace(/"output":\{"value":"[^"]*"\}/, '"output":{}'),
  (line) => line.replace('{"process"', '{ "process"'),
  (line) => line.replace('}', ',"meta":1}'),
  (line) => line.replace(/"invoke":(\d+),"complete":(\d+)/, '"invoke":$2,"complete":$1'),
  (line, random) => line.slice(0, random.below(line.length + 1)),
];

test('kv lines read by the expression are the operations the general path reads, and a wrong line gets the same error', (t) => {
  const seen = { edited: 0, read: 0, refused: 0 };
  fc.assert(
    fc.property(seed, (value) => {
      const random = new SeededRandom(`kv-line-${value}`);
      const history = generateKeyValueHistory(random, { clients: 1 + random.below(5), operations: 1 + random.below(30), keys: 2, unknownPerTenThousand: 2000, failPerTenThousand: 1000, ...(random.below(2) === 0 ? { valuesPerKey: 2 } : {}) });
      const lines = formatJsonLines({ model: 'kv', operations: history }).trimEnd().split('\n').slice(1);
      for (let count = random.below(3); count > 0; count--) {
        const at = random.below(lines.length);
        lines[at] = edits[random.below(edits.length)]!(lines[at]!, random);
        seen.edited++;
      }
      const { fast, general } = bothWays(lines.join('\n'));
      if (typeof fast === 'string') seen.refused++;
      else seen.read++;
      t.deepEqual(fast, general);
      return true;
    }),
    { numRuns: 500 },
  );
  t.true(seen.read > 50 && seen.refused > 50, JSON.stringify(seen));
});

test('the expression reads the shape the simulator writes and leaves any other to the general path', (t) => {
  t.deepEqual(keyValueLine('{"process":3,"invoke":12,"complete":15,"outcome":"ok","input":{"kind":"get","key":"k1"},"output":{"value":"v2 "}}'), {
    process: 3,
    invokedAt: 12,
    completedAt: 15,
    input: { kind: 'get', key: 'k1' },
    output: { value: 'v2 ' },
    outcome: 'ok',
  });
  t.deepEqual(keyValueLine('{"process":4,"invoke":1,"outcome":"unknown","input":{"kind":"append","key":"k","value":"x"}}'), {
    process: 4,
    invokedAt: 1,
    completedAt: Infinity,
    input: { kind: 'append', key: 'k', value: 'x' },
    output: undefined,
    outcome: 'unknown',
  });
  t.is(keyValueLine('{"process":4,"invoke":1,"complete":2,"outcome":"ok","input":{"kind":"put","key":"k","value":"x"}}'), undefined, 'an ok outcome without output');
  t.is(keyValueLine('{"process":4,"invoke":1,"complete":2,"outcome":"ok","input":{"kind":"put","key":"k","value":"a\\"b"},"output":{}}'), undefined, 'an escape');
  t.is(keyValueLine('{"process":4,"invoke":9007199254740993,"complete":2,"outcome":"ok","input":{"kind":"put","key":"k","value":"x"},"output":{}}'), undefined, 'past 15 digits');
});

test('a file that needs the exact-number scan, or is told another model, is read the general way', (t) => {
  const header = '{"history":"detcd","version":1,"model":"kv"}';
  const line = '{"process":0,"invoke":1,"complete":2,"outcome":"ok","input":{"kind":"put","key":"k","value":"x"},"output":{}}';
  const decimal = '{"process":1,"invoke":1.0000000000000001,"complete":3,"outcome":"ok","input":{"kind":"get","key":"k"},"output":{"value":"x"}}';
  const { fast, general } = bothWays(`${line}\n${decimal}`);
  // Refused both ways (the header's version 1 is the other number where there is a header).
  t.regex(String(fast), /^error: the number "1.0000000000000001"/);
  t.regex(String(general), /^error: the number "1.0000000000000001"/);
  t.throws(() => parseHistory(`${header}\n${line}`, { model: 'register' }), { message: /kv/ });
});
