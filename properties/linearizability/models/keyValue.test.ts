import test from 'ava';
import fc from 'fast-check';
import type { Operation } from '../history.ts';
import { keyValueModel, valueOf, type KeyValueInput, type KeyValueOutput, type KeyValueState } from './keyValue.ts';

const apply = (inputs: readonly KeyValueInput[]): KeyValueState =>
  inputs.reduce<KeyValueState>((state, input) => keyValueModel.step(state, input, undefined)!, keyValueModel.init());

test('a missing key reads as the empty string; append concatenates', (t) => {
  const state = apply([
    { kind: 'append', key: 'a', value: 'x' },
    { kind: 'append', key: 'a', value: 'yz' },
  ]);
  t.is(keyValueModel.step(state, { kind: 'get', key: 'a' }, { value: 'xyz' }), state);
  t.is(keyValueModel.step(state, { kind: 'get', key: 'b' }, { value: '' }), state);
  t.is(keyValueModel.step(state, { kind: 'get', key: 'a' }, { value: 'xy' }), undefined);
});

test('equal maps are equal and hash alike however they were built', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ kind: fc.constantFrom('put' as const, 'append' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.string({ maxLength: 3 }) }),
        { maxLength: 12 },
      ),
      (inputs) => {
        const built = apply(inputs);
        const contents = new Map<string, string>();
        for (const input of inputs) contents.set(input.key, input.kind === 'put' ? input.value : (contents.get(input.key) ?? '') + input.value);
        // The same contents written directly with puts, in another key order.
        const direct = apply([...contents].reverse().map(([key, value]) => ({ kind: 'put', key, value })));
        return keyValueModel.equal(built, direct) && keyValueModel.hash(built) === keyValueModel.hash(direct);
      },
    ),
  );
  t.pass();
});

test('the model partitions by key and describes the touched key only', (t) => {
  const state = apply([
    { kind: 'put', key: 'a', value: '1' },
    { kind: 'put', key: 'b', value: '2' },
  ]);
  t.is(keyValueModel.partition!({ kind: 'get', key: 'a' }), 'a');
  t.is(keyValueModel.describeState(state), '{"a": "1", "b": "2"}');
  t.is(keyValueModel.describeState(state, { kind: 'get', key: 'b' }), '{"b": "2"}');
  t.is(keyValueModel.describeOperation({ kind: 'get', key: 'a' }, undefined), 'get("a") → ?');
});

test('legalInOrder answers what stepping from the initial state answers, for any order of any operations', (t) => {
  const seen = { legal: 0, illegal: 0 };
  const text = fc.constantFrom('', 'x', 'y', 'xy', 'yx');
  const operation = fc.record({
    input: fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constantFrom('put' as const, 'append' as const), key: fc.constantFrom('a', 'b', 'c'), value: text }),
    ),
    outcome: fc.constantFrom('ok' as const, 'ok' as const, 'unknown' as const),
    // A get's output: what it reads where the order puts it (faithful), or a value drawn.
    faithful: fc.boolean(),
    read: text,
  });
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), (drawn, picks) => {
      // Some of the operations, each once, in an order drawn.
      const left = drawn.map((_, at) => at);
      const order: number[] = [];
      for (const pick of picks) if (left.length > 0) order.push(left.splice(pick % left.length, 1)[0]!);
      const operations: Operation<KeyValueInput, KeyValueOutput>[] = drawn.map(({ input, outcome, read }, at) => ({
        process: at,
        invokedAt: at,
        completedAt: outcome === 'ok' ? at + 1 : Infinity,
        input,
        outcome,
        output: outcome === 'ok' ? (input.kind === 'get' ? { value: read } : {}) : undefined,
      }));
      let state: KeyValueState | undefined = keyValueModel.init();
      for (const position of order) {
        const operation = operations[position]!;
        if (operation.outcome === 'ok' && operation.input.kind === 'get' && drawn[position]!.faithful) operations[position] = { ...operation, output: { value: valueOf(state, operation.input.key) } };
        const { input, outcome, output } = operations[position]!;
        state = keyValueModel.step(state, input, outcome === 'unknown' ? undefined : output);
        if (state === undefined) break;
      }
      const legal = keyValueModel.legalInOrder!(operations, Int32Array.from(order));
      seen[legal ? 'legal' : 'illegal']++;
      return legal === (state !== undefined);
    }),
    { numRuns: 1000 },
  );
  t.true(seen.legal > 200 && seen.illegal > 200, JSON.stringify(seen));
});
