import test from 'ava';
import fc from 'fast-check';
import { DecodeError } from './byteCodec.ts';
import { decodeValue, encodeValue } from './valueCodec.ts';

const byteString = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 300 });
const anything = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, undefined, -0, Number.NaN, Number.POSITIVE_INFINITY),
    fc.integer(),
    fc.maxSafeNat(),
    fc.maxSafeInteger(),
    fc.double(),
    byteString,
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), tie('value'), { maxKeys: 5 }),
  ),
})).value;

test('a value decodes to what JSON.parse(JSON.stringify(value)) gives: undefined fields left out, non-finite numbers null', (t) => {
  fc.assert(
    fc.property(anything, (value) => {
      const expected = JSON.parse(JSON.stringify([value])) as unknown[];
      t.deepEqual([decodeValue(encodeValue(value))], expected);
    }),
  );
});

test('a byte string is its bytes after a length and a tag; integers are varints', (t) => {
  t.is(encodeValue('\u0000'.repeat(1024)).byteLength, 1 + 2 + 1024);
  t.is(encodeValue(127).byteLength, 2);
  t.is(encodeValue(2 ** 53 - 1).byteLength, 1 + 8);
  t.is(decodeValue(encodeValue(2 ** 53 - 1)), 2 ** 53 - 1);
});

test('bytes it did not write are a DecodeError, never a wrong value', (t) => {
  t.throws(() => decodeValue(Uint8Array.of(42)), { instanceOf: DecodeError });
  t.throws(() => decodeValue(Uint8Array.of(6, 5, 1)), { instanceOf: DecodeError }, 'a string longer than the bytes');
  t.throws(() => decodeValue(Uint8Array.of(3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)), { instanceOf: DecodeError }, 'a varint beyond 2^53');
  t.throws(() => decodeValue(Uint8Array.of(0, 0)), { instanceOf: DecodeError }, 'trailing bytes');
  t.throws(() => decodeValue(new Uint8Array(200).fill(8).map((byte, i) => (i % 2 === 0 ? byte : 1))), { instanceOf: DecodeError }, 'nesting deeper than the bound');
});
