import test from 'ava';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { frame, frameHeaderBytes, frameParts, FrameReader, PartedRecord, scanFrames } from './frame.ts';

/** Payloads of distinct bytes, so a join in the wrong order or with a header left in shows. */
function payload(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7) & 0xff;
  return bytes;
}

/** Where each frame of `framed` starts and how long it is, header included (read from the headers). */
function frameSpans(framed: Buffer): { start: number; bytes: number }[] {
  const spans: { start: number; bytes: number }[] = [];
  for (let at = 0; at < framed.byteLength; ) {
    const bytes = frameHeaderBytes + ((framed.readUInt32BE(at) & 0x7fff_ffff) >>> 0);
    spans.push({ start: at, bytes });
    at += bytes;
  }
  return spans;
}

test('a record that fits in a part is framed as before: its length, its CRC-32, its bytes', (t) => {
  const bytes = payload(100, 1);
  const expected = Buffer.alloc(108);
  expected.writeUInt32BE(100, 0);
  expected.writeUInt32BE(crc32(bytes), 4);
  bytes.copy(expected, 8);
  t.true(frame(bytes, 100).equals(expected));
  t.is(frameParts(bytes, 100).length, 2, 'a header and the payload, uncopied');
});

test('a record larger than a part is framed as parts of at most that size and read back whole, beside one-part records', (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(600), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 128 }), (lengths, partBytes) => {
      const records = lengths.map((length, index) => payload(length, index));
      const framed = Buffer.concat(records.map((record) => frame(record, partBytes)));
      if (frameSpans(framed).some((span) => span.bytes - frameHeaderBytes > partBytes)) return false;
      const scanned = scanFrames(Buffer.from(framed));
      return scanned.damage === null && scanned.end === framed.byteLength && scanned.payloads.length === records.length && scanned.payloads.every((bytes, index) => Buffer.from(bytes).equals(records[index]!));
    }),
  );
  t.pass();
});

test('a record of one frame larger than a part (an image an earlier detcd wrote whole) still reads', (t) => {
  const image = payload(5_000, 3);
  const scanned = scanFrames(Buffer.concat([frame(payload(10, 1)), frame(image)]));
  t.is(scanned.damage, null);
  t.true(Buffer.from(scanned.payloads[1]!).equals(image));
});

test('a corrupt byte in any frame of a record of parts (header or payload) makes the whole record damage from its first part; the records before it stay', (t) => {
  const before = payload(30, 1);
  const image = payload(200, 2);
  const framed = Buffer.concat([frame(before, 64), frame(image, 64), frame(payload(20, 3), 64)]);
  const imageStart = frameHeaderBytes + 30;
  const imageEnd = imageStart + frame(image, 64).byteLength;
  for (let at = imageStart; at < imageEnd; at++) {
    for (const bit of [0x01, 0x80]) {
      const bytes = Buffer.from(framed);
      bytes[at]! ^= bit;
      const scanned = scanFrames(bytes);
      t.is(scanned.damage?.offset, imageStart, `byte ${at} bit ${bit}`);
      t.is(scanned.payloads.length, 1);
      t.true(Buffer.from(scanned.payloads[0]!).equals(before));
    }
  }
});

test('a record of parts torn at any byte is damage from its first part, never a shorter record', (t) => {
  const image = payload(200, 2);
  const framed = Buffer.concat([frame(payload(30, 1), 64), frame(image, 64)]);
  const imageStart = frameHeaderBytes + 30;
  for (let end = imageStart + 1; end < framed.byteLength; end++) {
    const scanned = scanFrames(Buffer.from(framed.subarray(0, end)));
    t.is(scanned.damage?.offset, imageStart, `torn at ${end}`);
    t.is(scanned.payloads.length, 1);
    // In a preallocated segment the rest of the write is zeros.
    const zeroed = Buffer.concat([framed.subarray(0, end), Buffer.alloc(framed.byteLength - end + 100)]);
    const inSegment = scanFrames(zeroed, { zeroTail: true });
    t.is(inSegment.damage?.offset, imageStart, `torn at ${end} before a zero tail`);
    t.is(inSegment.payloads.length, 1);
  }
  // Torn exactly after a part that says more follows.
  const firstPart = imageStart + frameHeaderBytes + 64;
  t.is(scanFrames(Buffer.from(framed.subarray(0, firstPart))).damage?.reason, 'unfinished record');
  t.is(scanFrames(Buffer.concat([framed.subarray(0, firstPart), Buffer.alloc(64)]), { zeroTail: true }).damage?.reason, 'unfinished record');
});

test("a part's continuation flag is covered by its checksum: cleared, the record does not end early; set, it does not swallow the next", (t) => {
  const framed = frame(payload(100, 1), 64);
  const cleared = Buffer.from(framed);
  cleared[0]! &= 0x7f;
  t.is(scanFrames(cleared).damage?.reason, 'checksum mismatch');
  const one = frame(payload(10, 1));
  const set = Buffer.concat([one, frame(payload(10, 2))]);
  set[0]! |= 0x80;
  t.deepEqual([scanFrames(set).damage?.reason, scanFrames(set).payloads.length], ['checksum mismatch', 0]);
});

test('a stream of records of parts, cut into chunks anywhere, is read back whole by a FrameReader', (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(700), { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (lengths, cuts) => {
      const records = lengths.map((length, index) => payload(length, index));
      const stream = Buffer.concat(records.map((record) => frame(record, 50)));
      const reader = new FrameReader(50, 1_000);
      const out: Uint8Array[] = [];
      for (let at = 0, i = 0; at < stream.byteLength; i++) {
        const end = Math.min(stream.byteLength, at + cuts[i % cuts.length]!);
        const read = reader.push(stream.subarray(at, end));
        if (typeof read === 'string') return false;
        out.push(...read);
        at = end;
      }
      return out.length === records.length && out.every((bytes, index) => Buffer.from(bytes).equals(records[index]!));
    }),
  );
  t.pass();
});

test("pushRecords hands a record of several parts over as its parts, not copied; joined, they are push's payload", (t) => {
  const records = [payload(40, 1), payload(170, 2), payload(50, 3)];
  const stream = Buffer.concat(records.map((record) => frame(record, 50)));
  const read = new FrameReader(50, 1_000).pushRecords(stream);
  if (typeof read === 'string') return t.fail(read);
  t.deepEqual(read.map((record) => (record instanceof PartedRecord ? `parts ${record.parts.length}, ${record.byteLength} bytes` : `one ${record.byteLength}`)), ['one 40', 'parts 4, 170 bytes', 'one 50']);
  const parted = read[1] as PartedRecord;
  t.true(parted.parts.every((part) => part.buffer === stream.buffer), 'views of the bytes read');
  t.true(parted.join().equals(records[1]!));
  t.deepEqual(new FrameReader(50, 1_000).push(stream), records.map((record) => Buffer.from(record)));
});

test('a FrameReader refuses a frame over its frame limit, a record whose parts pass its record limit, and a corrupt part', (t) => {
  t.regex(new FrameReader(50, 1_000).push(frame(payload(60, 1), 60)) as string, /frame of 60 bytes is over the limit of 50/);
  t.regex(new FrameReader(50, 1_000).push(frame(payload(1_100, 1), 50)) as string, /a record of more than 1000 bytes/);
  const corrupt = frame(payload(120, 1), 50);
  corrupt[frameHeaderBytes + 50 + frameHeaderBytes + 3]! ^= 1;
  t.is(new FrameReader(50, 1_000).push(corrupt), 'frame checksum mismatch');
});
