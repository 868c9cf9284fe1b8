import { ByteReader, ByteWriter, DecodeError, isByteString } from './byteCodec.ts';
import { decodeUtf8, encodeUtf8 } from './utf8.ts';

/**
 * A JSON-shaped value (what an etcd member proposes: requests of core/api, member attributes) as
 * compact tagged bytes. JSON was the entry format, and a byte string in JSON escapes every control
 * character into six bytes: etcdctl check perf's 1 kB values of zero bytes became 6 kB, copied,
 * CRC'd, sent, written and fsynced six times over. Here a string whose characters all fit a byte
 * (keys and values always do) is its length and its bytes, other strings UTF-8, integers varints.
 *
 * What is encoded decodes to what `JSON.parse(JSON.stringify(value))` gives: object properties
 * that are undefined are left out, undefined in an array and non-finite numbers become null, -0
 * becomes 0. (etcd's own choice is protobuf with a schema per message; this stays schema-free, so a
 * request gains fields without a codec change.)
 */

const enum Tag {
  Null = 0,
  False = 1,
  True = 2,
  /** A non-negative safe integer, varint. */
  Natural = 3,
  /** A negative safe integer, its magnitude as a varint. */
  Negative = 4,
  Float = 5,
  /** Every character ≤ 0xff: one byte each. */
  ByteString = 6,
  Utf8String = 7,
  Array = 8,
  Object = 9,
}

/** Nesting deeper than this is refused in both directions (bounded recursion; requests are shallow). */
const depthMax = 64;

export function encodeValue(value: unknown, sizeHint = 128): Uint8Array {
  const writer = new ByteWriter(sizeHint);
  writeJsonValue(writer, value);
  return writer.finish();
}

/** Every byte must be the value's: trailing bytes are a DecodeError. */
export function decodeValue(bytes: Uint8Array): unknown {
  const reader = new ByteReader(bytes);
  const value = readJsonValue(reader);
  reader.end();
  return value;
}

/** Appends a value to what a writer holds (after a format byte, say). */
export function writeJsonValue(writer: ByteWriter, value: unknown): void {
  writeValue(writer, value, 0);
}

export function readJsonValue(reader: ByteReader): unknown {
  return readValue(reader, 0);
}

function writeValue(writer: ByteWriter, value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      writeString(writer, value);
      return;
    case 'number':
      writeNumber(writer, value);
      return;
    case 'boolean':
      writer.uint8(value ? Tag.True : Tag.False);
      return;
    case 'object':
      if (value === null) writer.uint8(Tag.Null);
      else writeComposite(writer, value, depth + 1);
      return;
    default:
      // undefined (in an array: JSON writes null), functions, symbols, bigints: not data.
      if (value !== undefined) throw new TypeError(`a ${typeof value} is not a JSON value`);
      writer.uint8(Tag.Null);
  }
}

function writeString(writer: ByteWriter, value: string): void {
  if (isByteString(value)) writer.uint8(Tag.ByteString).varByteString(value);
  else writer.uint8(Tag.Utf8String).varBytes(encodeUtf8(value));
}


function writeNumber(writer: ByteWriter, value: number): void {
  if (!Number.isFinite(value)) writer.uint8(Tag.Null);
  else if (Number.isSafeInteger(value)) {
    if (value >= 0) writer.uint8(Tag.Natural).varint(value);
    else writer.uint8(Tag.Negative).varint(-value);
  } else writer.uint8(Tag.Float).float64(value);
}

function writeComposite(writer: ByteWriter, value: object, depth: number): void {
  if (depth > depthMax) throw new RangeError(`a value nested deeper than ${depthMax}`);
  if (Array.isArray(value)) {
    writer.uint8(Tag.Array).varint(value.length);
    for (const item of value) writeValue(writer, item, depth);
    return;
  }
  const record = value as Record<string, unknown>;
  const names = Object.keys(record);
  let count = 0;
  for (let i = 0; i < names.length; i++) if (isData(record[names[i]!])) count++;
  writer.uint8(Tag.Object).varint(count);
  for (let i = 0; i < names.length; i++) {
    const field = record[names[i]!];
    if (!isData(field)) continue;
    writeString(writer, names[i]!);
    writeValue(writer, field, depth);
  }
}

/** What JSON.stringify keeps as an object's field. */
function isData(field: unknown): boolean {
  return field !== undefined && typeof field !== 'function' && typeof field !== 'symbol';
}

function readValue(reader: ByteReader, depth: number): unknown {
  const tag = reader.uint8();
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Natural:
      return reader.varint();
    case Tag.Negative:
      return -reader.varint();
    case Tag.Float:
      return reader.float64();
    case Tag.ByteString:
    case Tag.Utf8String:
      return readStringAfter(reader, tag);
    case Tag.Array:
    case Tag.Object:
      if (depth >= depthMax) throw new DecodeError(`a value nested deeper than ${depthMax}`);
      return tag === Tag.Array ? readArray(reader, depth + 1) : readObject(reader, depth + 1);
    default:
      throw new DecodeError(`unknown value tag ${tag}`);
  }
}

function readStringAfter(reader: ByteReader, tag: number): string {
  if (tag === Tag.ByteString) return reader.varByteString();
  if (tag === Tag.Utf8String) return decodeUtf8(reader.varBytesView());
  throw new DecodeError(`a field name with tag ${tag}`);
}

function readArray(reader: ByteReader, depth: number): unknown[] {
  const count = reader.varint();
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) items.push(readValue(reader, depth));
  return items;
}

function readObject(reader: ByteReader, depth: number): Record<string, unknown> {
  const count = reader.varint();
  const object: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const name = readStringAfter(reader, reader.uint8());
    const field = readValue(reader, depth);
    // A field named __proto__ must be data, as JSON.parse makes it, never the prototype.
    if (name === '__proto__') Object.defineProperty(object, name, { value: field, enumerable: true, writable: true, configurable: true });
    else object[name] = field;
  }
  return object;
}
