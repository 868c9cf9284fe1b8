import test from 'ava';
import { parseJepsenLog } from './jepsenLog.ts';
import { HistoryParseError } from './parseError.ts';

const log = (...lines: string[]) => lines.map((line) => `INFO  jepsen.util - ${line}`).join('\n');

test('tabs and runs of spaces both separate fields; line numbers are times', (t) => {
  const operations = parseJepsenLog(log('0\t:invoke\t:write\t3', '1   :invoke :read   nil', '0\t:ok\t:write\t3', '1  :ok  :read  3'));
  t.deepEqual(operations, [
    { process: 0, invokedAt: 1, completedAt: 3, input: { kind: 'write', value: 3 }, output: {}, outcome: 'ok' },
    { process: 1, invokedAt: 2, completedAt: 4, input: { kind: 'read' }, output: { value: 3 }, outcome: 'ok' },
  ]);
});

test('an empty file is an empty history', (t) => {
  t.deepEqual(parseJepsenLog(''), []);
  t.deepEqual(parseJepsenLog('\n\n'), []);
});

test(':fail :cas executed and failed; :info, timed-out reads and pending invocations are unknown', (t) => {
  const operations = parseJepsenLog(
    log('0\t:invoke\t:cas\t[1 2]', '0\t:fail\t:cas\t[1 2]', '1\t:invoke\t:write\t4', '1\t:info\t:write\t:timed-out', '2\t:invoke\t:read\tnil', '2\t:fail\t:read\t:timed-out', '3\t:invoke\t:write\t1'),
  );
  t.deepEqual(
    operations.map((operation) => [operation.outcome, operation.output]),
    [
      ['ok', { succeeded: false }],
      ['unknown', undefined],
      ['unknown', undefined],
      ['unknown', undefined],
    ],
  );
  t.is(operations[3]!.completedAt, Infinity);
});

test('bad lines are refused with their line number', (t) => {
  const refuse = (text: string, line: number, message: RegExp) => {
    const error = t.throws(() => parseJepsenLog(text), { instanceOf: HistoryParseError, message });
    t.is(error?.line, line);
  };
  refuse(log('0\t:invoke\t:write\t3') + '\ngarbage', 2, /not a Jepsen log line/);
  refuse(log('0\t:invoke\t:write\t3', '0\t:invoke\t:read\tnil'), 2, /still pending/);
  refuse(log('0\t:ok\t:write\t3'), 1, /no pending operation/);
  refuse(log('0\t:invoke\t:write\t3', '0\t:ok\t:read\t3'), 2, /pending operation is write/);
  refuse(log('0\t:invoke\t:cas\t[1 2]', '0\t:ok\t:cas\t[1 3]'), 2, /invoked with \[1 2\]/);
  refuse(log('0\t:invoke\t:write\tx'), 1, /integer or nil/);
});
