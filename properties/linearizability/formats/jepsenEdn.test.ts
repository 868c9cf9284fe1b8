import test from 'ava';
import { readEdnMap } from './ednMap.ts';
import { parseJepsenEdn } from './jepsenEdn.ts';
import { HistoryParseError } from './parseError.ts';

test('reads Jepsen key/value maps: get, put, append; nil reads as the empty string', (t) => {
  const { model, operations } = parseJepsenEdn(
    [
      '{:process 0, :type :invoke, :f :append, :key "1", :value "x 0 0 y"}',
      '{:process 1, :type :invoke, :f :get, :key "1", :value nil}',
      '{:process 1, :type :ok, :f :get, :key "1", :value nil}',
      '{:process 0, :type :ok, :f :append, :key "1", :value "x 0 0 y"}',
      '{:process :nemesis, :type :info, :f :start, :value nil}',
      '{:process 2, :type :invoke, :f :put, :key 7, :value "a\\"b"}',
      '{:process 2, :type :fail, :f :put, :key 7, :value "a\\"b"}',
    ].join('\n'),
  );
  t.is(model, 'kv');
  t.deepEqual(operations, [
    { process: 0, invokedAt: 1, completedAt: 4, input: { kind: 'append', key: '1', value: 'x 0 0 y' }, output: {}, outcome: 'ok' },
    { process: 1, invokedAt: 2, completedAt: 3, input: { kind: 'get', key: '1' }, output: { value: '' }, outcome: 'ok' },
    { process: 2, invokedAt: 6, completedAt: 7, input: { kind: 'put', key: '7', value: 'a"b' }, output: undefined, outcome: 'fail' },
  ]);
});

test('a history inside one vector (Knossos’ data, a history printed whole) reads as the same maps line by line', (t) => {
  const maps = ['{:process 0, :type :invoke, :f :write, :value [:x 1]}', '{:process 0, :type :ok, :f :write, :value [:x 1]}', '{:process 1, :type :invoke, :f :read, :value [:x nil]}', '{:process 1, :type :ok, :f :read, :value [:x 1]}'];
  const wrapped = parseJepsenEdn(`[${maps[0]}\n ${maps.slice(1, 3).join('\n ')}\n ${maps[3]}]\n`);
  t.deepEqual(wrapped, parseJepsenEdn(maps.join('\n')));
  t.is(t.throws(() => parseJepsenEdn(`[${maps.join('\n')}\n`), { instanceOf: HistoryParseError, message: /the vector opened on line 1 is not closed/ })?.line, 4);
});

test('malformed maps name the line', (t) => {
  const refuse = (text: string, line: number, message: RegExp) => {
    t.is(t.throws(() => parseJepsenEdn(text), { instanceOf: HistoryParseError, message })?.line, line);
  };
  refuse('{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n{:process 0 :type', 2, /not an EDN map/);
  refuse('{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n{:process 1, :type :invoke, :f :cas, :key "1", :value nil}', 2, /:f must be/);
  refuse('{:process 0, :type :invoke, :f :frob, :key "1", :value nil}', 1, /:f must be/);
  refuse('{:process 0, :type :invoke, :f :get, :value nil}', 1, /missing :key/);
  refuse('{:process 0, :type :done, :f :get, :key "1", :value nil}', 1, /:type must be/);
  refuse('{:process 0, :type :ok, :f :get, :key "1", :value nil}', 1, /no pending operation/);
});

test('the EDN reader refuses what it does not understand', (t) => {
  t.throws(() => readEdnMap('{:a @x}'), { message: /unsupported EDN value/ });
  t.throws(() => readEdnMap('[1 2]'), { message: /not a map/ });
  t.throws(() => readEdnMap('{:a 1, :a 2}'), { message: /duplicate key/ });
  t.throws(() => readEdnMap('{:a "x}'), { message: /unterminated string/ });
  t.deepEqual([...readEdnMap('{:a true, :b -3}')], [
    ['a', { kind: 'boolean', value: true }],
    ['b', { kind: 'integer', value: -3 }],
  ]);
});
