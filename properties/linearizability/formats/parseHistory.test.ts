import test from 'ava';
import { HistoryParseError } from './parseError.ts';
import { parseHistory } from './parseHistory.ts';

test('the format is detected from the first non-blank line', (t) => {
  t.is(parseHistory('\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n').format, 'jepsen-log');
  t.is(parseHistory('{:process 0, :type :invoke, :f :get, :key "1", :value nil}').history.model, 'kv');
  t.is(parseHistory('{"history":"detcd","version":1,"model":"etcd"}').history.model, 'etcd');
  t.is(parseHistory('{ "history":"detcd","version":1}\n').format, 'jsonl');
  t.throws(() => parseHistory('{}'), { message: /process is missing/ });
});

test('an empty file is an empty history of the requested model', (t) => {
  t.deepEqual(parseHistory(''), { format: undefined, history: { model: 'register', operations: [] } });
  t.is(parseHistory('', { model: 'etcd' }).history.model, 'etcd');
  t.is(parseHistory('', { format: 'jepsen-edn' }).history.model, 'kv');
});

test('nothing is guessed: unknown text and contradicting options are errors on a line', (t) => {
  t.is(t.throws(() => parseHistory('\n\nhello'), { instanceOf: HistoryParseError, message: /cannot tell the format/ })?.line, 3);
  t.throws(() => parseHistory('INFO  jepsen.util - 0\t:invoke\t:read\tnil', { model: 'kv' }), { message: /checked with the register model, not kv/ });
  t.throws(() => parseHistory('INFO  jepsen.util - 0\t:invoke\t:read\tnil', { format: 'jsonl' }), { message: /not JSON/ });
});
