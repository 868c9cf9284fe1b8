import test from 'ava';
import fc from 'fast-check';
import { ByteReader, ByteWriter, installNativeByteStrings } from '../core/base/byteCodec.ts';
import { useNativeByteStrings } from './nativeByteStrings.ts';

const byteString = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 3000 });

function encoded(texts: readonly string[]): Uint8Array {
  const writer = new ByteWriter(16);
  for (const text of texts) writer.byteString(text).varByteString(text);
  return writer.finish();
}

test.serial('Buffer\'s latin1 coding gives the portable codec\'s bytes and strings, both ways', (t) => {
  t.teardown(() => installNativeByteStrings(null));
  fc.assert(
    fc.property(fc.array(byteString, { maxLength: 6 }), (texts) => {
      installNativeByteStrings(null);
      const portable = encoded(texts);
      useNativeByteStrings();
      const native = encoded(texts);
      t.deepEqual(native, portable);
      const reader = new ByteReader(native);
      for (const text of texts) {
        t.is(reader.byteString(), text);
        t.is(reader.varByteString(), text);
      }
      reader.end();
    }),
    { numRuns: 200 },
  );
});

test.serial('a character above 0xff is refused on the native path too (Buffer would keep its low byte)', (t) => {
  t.teardown(() => installNativeByteStrings(null));
  useNativeByteStrings();
  t.throws(() => new ByteWriter().byteString('x'.repeat(100) + '\u0100'), { message: /above 0xff/ });
});
