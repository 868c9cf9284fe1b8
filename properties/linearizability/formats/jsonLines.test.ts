import test from 'ava';
import { SeededRandom } from '../../../sim/rng.ts';
import { atomicEtcd, atomicKeyValue, atomicRegister } from '../_test/atomicObjects.ts';
import { simulateHistory } from '../_test/simulateHistory.ts';
import { formatJsonLines, parseJsonLines } from './jsonLines.ts';
import { HistoryParseError } from './parseError.ts';
import type { TypedHistory } from './typedHistory.ts';
import fc from 'fast-check';
import { checkJsonText, ExactNumbers, needsExactScan } from './exactNumbers.ts';

const options = { clients: 3, operations: 40, failPercent: 10, unknownPercent: 10, latencyMax: 5, thinkMax: 2 };

test('every model round-trips through the format', (t) => {
  const random = new SeededRandom('json-lines');
  const histories: TypedHistory[] = [
    { model: 'register', operations: simulateHistory(random, options, atomicRegister()) },
    { model: 'kv', operations: simulateHistory(random, options, atomicKeyValue()) },
    { model: 'etcd', operations: simulateHistory(random, options, atomicEtcd()), initialRevision: 1 },
  ];
  for (const history of histories) {
    const text = formatJsonLines(history);
    t.deepEqual(parseJsonLines(text), history);
    // Without the header the model is inferred from the operation kinds.
    t.is(parseJsonLines(text.slice(text.indexOf('\n') + 1)).model, history.model);
  }
});

test('an unknown outcome may omit its completion; only puts with revisions mean etcd', (t) => {
  const line = (output: string) => `{"process":1,"invoke":5,"complete":6,"outcome":"ok","input":{"kind":"put","key":"a","value":"v"},"output":${output}}`;
  t.is(parseJsonLines(line('{"revision":2}')).model, 'etcd');
  t.is(parseJsonLines(line('{}')).model, 'kv');
  const unknown = parseJsonLines('{"process":1,"invoke":5,"outcome":"unknown","input":{"kind":"read"}}');
  t.is(unknown.operations[0]!.completedAt, Infinity);
});

test('a client that gave up and went on is written under a new process id, so the file reads back (etcd-standard seed 2 could not be re-checked)', (t) => {
  // `detcd-sim run --history` wrote a timed-out delete (no completion) and the same client's next
  // call under one process, and `detcd-sim check` refused the file: two operations at once.
  const history: TypedHistory = {
    model: 'register',
    operations: [
      { process: 6, invokedAt: 10, completedAt: Infinity, input: { kind: 'write', value: 1 }, output: undefined, outcome: 'unknown' },
      { process: 2, invokedAt: 12, completedAt: 14, input: { kind: 'read' }, output: { value: 0 }, outcome: 'ok' },
      { process: 6, invokedAt: 30, completedAt: 31, input: { kind: 'read' }, output: { value: 1 }, outcome: 'ok' },
    ],
  } as unknown as TypedHistory;
  const read = parseJsonLines(formatJsonLines(history));
  t.deepEqual(read.operations.map((operation) => operation.process), [6, 2, 7]);
  t.deepEqual(read.operations.map((operation) => operation.invokedAt), [10, 12, 30]);
});

test('bad lines name the line and the field', (t) => {
  const refuse = (text: string, line: number, message: RegExp) => {
    t.is(t.throws(() => parseJsonLines(text), { instanceOf: HistoryParseError, message })?.line, line);
  };
  const good = '{"process":1,"invoke":5,"complete":6,"outcome":"ok","input":{"kind":"read"},"output":{"value":1}}';
  refuse(`${good}\n{"process":1`, 2, /not JSON/);
  refuse(`${good}\n{"process":1,"invoke":7,"complete":6,"outcome":"ok","input":{"kind":"read"},"output":{"value":1}}`, 2, /before invoke/);
  refuse('{"process":1,"invoke":5,"complete":6,"outcome":"ok","input":{"kind":"read"}}', 1, /output is given exactly/);
  refuse('{"history":"detcd","version":1,"model":"register"}\n{"process":1,"invoke":5,"complete":6,"outcome":"ok","input":{"kind":"read","key":"x"},"output":{"value":1}}', 2, /input has an unknown field "key"/);
  refuse('{"process":1,"invoke":5,"complete":6,"outcome":"maybe","input":{"kind":"read"}}', 1, /outcome must be one of/);
  refuse(`${good}\n{"history":"detcd","version":1}`, 2, /header must be the first line/);
  refuse('{"history":"detcd","version":2}', 1, /version 2 is not supported/);
  refuse('{"process":1,"invoke":5,"complete":6,"outcome":"ok","input":{"kind":"txn","compare":[{"key":"a","target":"size","result":"=","operand":1}],"success":[],"failure":[]},"output":{"succeeded":true}}', 1, /input.compare\[0\].target must be one of/);
  refuse(`${good}\n{"process":2,"invoke":5,"outcome":"unknown","input":{"kind":"get","key":"a"}}`, 2, /are mixed/);
  refuse('{"history":"detcd","version":1,"model":"kv"}\n' + good, 2, /input.kind must be one of/);
});

test('the command-line model must agree with the header', (t) => {
  t.throws(() => parseJsonLines('{"history":"detcd","version":1,"model":"kv"}', 'etcd'), { message: /header says model "kv"/ });
});

test('a text without decimals, long digit runs or \\u escapes has nothing the exact-number scan could refuse', (t) => {
  fc.assert(
    fc.property(fc.json(), (text) => {
      if (needsExactScan(text)) return true;
      checkJsonText(text, 1, new ExactNumbers());
      return true;
    }),
    { numRuns: 2000 },
  );
  for (const text of ['{"a":1.5}', '{"a":1e5}', '{"a":1234567890123456}', '{"a":"\\ud800"}']) t.true(needsExactScan(text), text);
  t.false(needsExactScan('{"process":3,"invoke":1200,"input":{"kind":"put","key":"a","value":"v 1"}}'));
});

test('etcd strings that mix characters above U+FFFF with U+E000–U+FFFF are refused, written as themselves or escaped; one kind alone is read', (t) => {
  const put = (process: number, value: string) => `{"process":${process},"invoke":${process},"complete":${process + 1},"outcome":"ok","input":{"kind":"put","key":"k","value":${value}},"output":{"revision":${process + 2}}}`;
  const history = (...values: string[]) => values.map((value, index) => put(index, value)).join('\n');
  const refused = (text: string) => t.throws(() => parseJsonLines(text), { instanceOf: HistoryParseError, message: /^the history mixes characters above U\+FFFF \(line 1\) with U\+E000–U\+FFFF \(line 2\)/ });
  refused(history('"\u{1F600}"', '"\uE000"'));
  refused(history('"\\ud83d\\ude00"', '"\\uf8ff"'));
  refused(history('"\u{1F600}"', '"\\uFFFD"'));
  t.is(parseJsonLines(history('"\u{1F600}"', '"\\ud83d\\ude00"', '"a"')).operations.length, 3);
  t.is(parseJsonLines(history('"\uE000"', '"\\uFFFD"')).operations.length, 2);
});

test('overlaps: the one pass over lines in order and the sort for lines out of order accept and refuse the same files, naming the same lines', (t) => {
  // A file's operations, shuffled or not, some touching or overlapping: the reader's answer must
  // be the one a full sort by process and invocation gives (the lowest process's first overlap).
  fc.assert(
    fc.property(fc.array(fc.record({ process: fc.integer({ min: 0, max: 3 }), invoke: fc.integer({ min: 0, max: 30 }), length: fc.integer({ min: 0, max: 4 }) }), { maxLength: 12 }), (operations) => {
      const text = operations
        .map(({ process, invoke, length }) => `{"process":${process},"invoke":${invoke},"complete":${invoke + length},"outcome":"ok","input":{"kind":"read"},"output":{"value":1}}`)
        .join('\n');
      let expected: string | undefined;
      for (const process of [0, 1, 2, 3]) {
        const lines = operations
          .map((operation, index) => ({ ...operation, line: index + 1 }))
          .filter((operation) => operation.process === process)
          .sort((a, b) => a.invoke - b.invoke || a.line - b.line);
        for (let at = 1; at < lines.length && expected === undefined; at++) {
          if (lines[at - 1]!.invoke + lines[at - 1]!.length <= lines[at]!.invoke) continue;
          const [first, second] = [lines[at - 1]!.line, lines[at]!.line].sort((a, b) => a - b);
          expected = `${second}: process ${process} has two operations at once: lines ${first} and ${second} overlap`;
        }
        if (expected !== undefined) break;
      }
      try {
        parseJsonLines(text);
        return expected === undefined;
      } catch (error) {
        return error instanceof HistoryParseError && `${error.line}: ${error.message}` === expected;
      }
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('a kv file of plain lines is read without the exact scan, and one other line sends the whole file the exact way', (t) => {
  const header = '{"history":"detcd","version":1,"model":"kv"}';
  const put = (invoke: number, value: string) => `{"process":1,"invoke":${invoke},"complete":${invoke + 1},"outcome":"ok","input":{"kind":"put","key":"k","value":"${value}"},"output":{}}`;
  // Text the scan would stop at, inside strings only: read as it says.
  const plain = parseJsonLines([header, put(1, '1.5e3'), put(3, '12345678901234567')].join('\n'));
  t.deepEqual(
    plain.operations.map((operation) => (operation.input as { value: string }).value),
    ['1.5e3', '12345678901234567'],
  );
  // A plain line's integer 1 and another line's decimal that is the same float: refused, as
  // the exact way refuses it, the plain line read first or not.
  const other = '{"process":2,"invoke":1.00000000000000001,"complete":4,"outcome":"ok","input":{"kind":"get","key":"k"},"output":{"value":"x"}}';
  for (const text of [[header, put(1, 'x'), other], [header, other, put(1, 'x')]]) {
    t.throws(() => parseJsonLines(text.join('\n')), { instanceOf: HistoryParseError, message: /are the same 64-bit float/ });
  }
  // A header whose own number needs the exact way takes the whole file there.
  t.throws(() => parseJsonLines(['{"history":"detcd","version":1.00000000000000001,"model":"kv"}', put(1, 'x')].join('\n')), { instanceOf: HistoryParseError });
});
