import test from 'ava';
import fc from 'fast-check';
import { ByteReader, ByteWriter, installByteAllocator, installNativeByteStrings } from '../core/base/byteCodec.ts';
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

test.serial('writers on pooled uninitialised memory hand out exactly what they wrote, and later writers never overwrite it', (t) => {
  t.teardown(() => {
    installNativeByteStrings(null);
    installByteAllocator(null);
  });
  fc.assert(
    fc.property(fc.array(fc.array(byteString, { maxLength: 4 }), { minLength: 1, maxLength: 12 }), (batches) => {
      installNativeByteStrings(null);
      installByteAllocator(null);
      const portable = batches.map(encoded);
      useNativeByteStrings();
      // All encoded first, then compared: small writers share Buffer's pool, so a writer that
      // wrote outside its own slice would show up in an earlier one's bytes.
      const native = batches.map(encoded);
      for (let i = 0; i < batches.length; i++) {
        t.is(native[i]!.constructor, Uint8Array);
        t.deepEqual(native[i], portable[i]);
      }
    }),
    { numRuns: 200 },
  );
});
