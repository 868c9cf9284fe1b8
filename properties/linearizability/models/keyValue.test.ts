import test from 'ava';
import fc from 'fast-check';
import { keyValueModel, type KeyValueInput, type KeyValueState } from './keyValue.ts';

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
