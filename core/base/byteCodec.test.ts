import test from 'ava';
import fc from 'fast-check';
import { ByteReader, ByteWriter } from './byteCodec.ts';

/**
 * The writer's fields as the format defines them, written the plain way (a DataView call per
 * field into a buffer sized first): what ByteWriter wrote before its fields became byte stores.
 */
type Field =
  | { kind: 'uint8'; value: number }
  | { kind: 'uint32'; value: number }
  | { kind: 'uint53'; value: number }
  | { kind: 'float64'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'byteString'; value: string }
  | { kind: 'varint'; value: number }
  | { kind: 'bytes'; value: Uint8Array };

function reference(fields: readonly Field[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(1 << 16));
  let at = 0;
  for (const field of fields) {
    switch (field.kind) {
      case 'uint8':
        view.setUint8(at++, field.value);
        break;
      case 'boolean':
        view.setUint8(at++, field.value ? 1 : 0);
        break;
      case 'uint32':
        view.setUint32(at, field.value);
        at += 4;
        break;
      case 'uint53':
        view.setUint32(at, Math.floor(field.value / 0x1_0000_0000));
        view.setUint32(at + 4, field.value >>> 0);
        at += 8;
        break;
      case 'float64':
        view.setFloat64(at, field.value);
        at += 8;
        break;
      case 'string':
        view.setUint32(at, field.value.length);
        at += 4;
        for (let i = 0; i < field.value.length; i++, at += 2) view.setUint16(at, field.value.charCodeAt(i));
        break;
      case 'byteString':
        view.setUint32(at, field.value.length);
        at += 4;
        for (let i = 0; i < field.value.length; i++) view.setUint8(at++, field.value.charCodeAt(i));
        break;
      case 'varint': {
        let rest = field.value;
        while (rest >= 0x80) {
          view.setUint8(at++, (rest % 0x80) | 0x80);
          rest = Math.floor(rest / 0x80);
        }
        view.setUint8(at++, rest);
        break;
      }
      case 'bytes':
        view.setUint32(at, field.value.byteLength);
        at += 4;
        for (const byte of field.value) view.setUint8(at++, byte);
        break;
    }
  }
  return new Uint8Array(view.buffer, 0, at).slice();
}

function written(fields: readonly Field[], capacity: number): Uint8Array {
  const writer = new ByteWriter(capacity);
  for (const field of fields) {
    switch (field.kind) {
      case 'uint8':
        writer.uint8(field.value);
        break;
      case 'boolean':
        writer.boolean(field.value);
        break;
      case 'uint32':
        writer.uint32(field.value);
        break;
      case 'uint53':
        writer.uint53(field.value);
        break;
      case 'float64':
        writer.float64(field.value);
        break;
      case 'string':
        writer.string(field.value);
        break;
      case 'byteString':
        writer.byteString(field.value);
        break;
      case 'varint':
        writer.varint(field.value);
        break;
      case 'bytes':
        writer.bytesField(field.value);
        break;
    }
  }
  return writer.finish();
}

const byteString = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 300 });
const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('uint8' as const), value: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ kind: fc.constant('boolean' as const), value: fc.boolean() }),
  fc.record({ kind: fc.constant('uint32' as const), value: fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff)) }),
  fc.record({ kind: fc.constant('uint53' as const), value: fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER)) }),
  fc.record({ kind: fc.constant('float64' as const), value: fc.oneof(fc.double(), fc.constantFrom(-0, NaN, Infinity, -Infinity, -1, 2 ** 53)) }),
  fc.record({ kind: fc.constant('string' as const), value: fc.string({ unit: 'binary', maxLength: 40 }) }),
  fc.record({ kind: fc.constant('byteString' as const), value: byteString }),
  fc.record({ kind: fc.constant('varint' as const), value: fc.maxSafeNat() }),
  fc.record({ kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 100 }) }),
);

test('every field is written as the plain DataView encoding writes it, whatever the writer grows from', (t) => {
  fc.assert(
    fc.property(fc.array(field, { maxLength: 40 }), fc.constantFrom(1, 7, 64, 256, 1 << 16), (fields, capacity) => {
      t.deepEqual(written(fields, capacity), reference(fields));
    }),
    { numRuns: 500 },
  );
});

test('what the writer wrote reads back field by field', (t) => {
  fc.assert(
    fc.property(fc.array(field, { maxLength: 40 }), (fields) => {
      const reader = new ByteReader(written(fields, 16));
      for (const f of fields) {
        if (f.kind === 'uint8') t.is(reader.uint8(), f.value);
        else if (f.kind === 'boolean') t.is(reader.boolean(), f.value);
        else if (f.kind === 'uint32') t.is(reader.uint32(), f.value);
        else if (f.kind === 'uint53') t.is(reader.uint53(), f.value);
        else if (f.kind === 'float64') t.true(Object.is(reader.float64(), f.value));
        else if (f.kind === 'string') t.is(reader.string(), f.value);
        else if (f.kind === 'byteString') t.is(reader.byteString(), f.value);
        else if (f.kind === 'varint') t.is(reader.varint(), f.value);
        else t.deepEqual(reader.bytesField(), f.value);
      }
      reader.end();
    }),
    { numRuns: 300 },
  );
});

test('out-of-range integers and characters above a byte are refused, not written truncated', (t) => {
  t.throws(() => new ByteWriter().uint32(2 ** 32), { message: /not a uint32/ });
  t.throws(() => new ByteWriter().uint32(-1), { message: /not a uint32/ });
  t.throws(() => new ByteWriter().uint53(2 ** 53), { message: /not a non-negative safe integer/ });
  t.throws(() => new ByteWriter().uint53(1.5), { message: /not a non-negative safe integer/ });
  t.throws(() => new ByteWriter().byteString('a\u0100'), { message: /above 0xff/ });
  t.throws(() => new ByteWriter().byteString('x'.repeat(100) + '\u0100'), { message: /above 0xff/ });
});
