import test from 'ava';
import fc from 'fast-check';
import { frame, frameHeaderBytes, scanFrames } from './frame.ts';
import { PartBuilder, PartsInMemory } from './partBuilder.ts';

/** Payload bytes that differ from position to position, so a piece out of place shows. */
function payload(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + (i >> 8)) & 0xff;
  return bytes;
}

/** `whole` cut into slices of these lengths (the last takes the rest), each handed over in one reused buffer, as a codec does. */
function* reusedSlices(whole: Buffer, lengths: readonly number[]): Generator<Uint8Array> {
  const reused = Buffer.alloc(whole.byteLength);
  let at = 0;
  for (const length of [...lengths, whole.byteLength]) {
    const end = Math.min(whole.byteLength, at + length);
    if (end === at && at < whole.byteLength) continue;
    whole.copy(reused, 0, at, end);
    yield reused.subarray(0, end - at);
    at = end;
    if (at === whole.byteLength) return;
  }
}

/** Sizes around a part's end: a part's size and one either side, two parts and one either side, tiny ones. */
const sizesAroundParts = (partBytes: number) => fc.oneof(fc.constantFrom(0, 1, partBytes - 1, partBytes, partBytes + 1, 2 * partBytes - 1, 2 * partBytes, 2 * partBytes + 1, 3 * partBytes).filter((n) => n >= 0), fc.nat(4 * partBytes));

test("the shared part builder's pieces, placed at their offsets, are the record framed whole, for payloads and slices around the part boundaries", (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }).chain((partBytes) => fc.tuple(fc.constant(partBytes), sizesAroundParts(partBytes), fc.array(sizesAroundParts(partBytes), { maxLength: 8 }))),
      ([partBytes, length, sliceLengths]) => {
        const whole = payload(length);
        const expected = frame(whole, partBytes);
        const builder = new PartBuilder(() => partBytes);
        const placed = Buffer.alloc(expected.byteLength, 0xee);
        const place = (bytes: Uint8Array, at: number) => {
          if (at + bytes.byteLength > placed.byteLength) throw new Error(`a piece at ${at} of ${bytes.byteLength} bytes past the record's ${placed.byteLength}`);
          placed.set(bytes, at);
        };
        for (const slice of reusedSlices(whole, sliceLengths)) for (const piece of builder.add(slice)) place(piece.bytes, piece.at);
        const last = builder.end();
        place(last.bytes, last.at);
        return placed.equals(expected) && builder.framedBytes === expected.byteLength && builder.payloadBytes === length;
      },
    ),
  );
  t.pass();
});

test('parts framed in memory (chunks of any size, the slices reused) are the bytes frameParts makes of the whole payload; each chunk stays inside its part', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }).chain((partBytes) => fc.tuple(fc.constant(partBytes), sizesAroundParts(partBytes), fc.array(sizesAroundParts(partBytes), { maxLength: 8 }), fc.integer({ min: 1, max: 2 * partBytes }))),
      ([partBytes, length, sliceLengths, chunkBytes]) => {
        const whole = payload(length);
        const parts = new PartsInMemory(() => partBytes, () => chunkBytes);
        for (const slice of reusedSlices(whole, sliceLengths)) parts.add(slice);
        const frames = parts.end();
        if (frames.some((piece) => piece.byteLength > Math.max(partBytes, frameHeaderBytes))) return false;
        return Buffer.concat(frames).equals(frame(whole, partBytes));
      },
    ),
  );
  t.pass();
});

test('parts of growing sizes (the peer\'s 1, 2, 4... MiB) read back as the one record, each part one buffer', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 200 }), fc.nat(600), fc.array(fc.nat(100), { maxLength: 8 }), (first, cap, length, sliceLengths) => {
      const sizeOf = (part: number) => Math.min(first * 2 ** part, cap);
      const whole = payload(length);
      const parts = new PartsInMemory(sizeOf, (capacity) => capacity);
      for (const slice of reusedSlices(whole, sliceLengths)) parts.add(slice);
      const frames = parts.end();
      const scanned = scanFrames(Buffer.concat(frames));
      if (scanned.damage !== null || scanned.payloads.length !== 1 || !Buffer.from(scanned.payloads[0]!).equals(whole)) return false;
      // Header, part, header, part...: the n-th part full at its size but the last.
      const sizes = frames.filter((_, i) => i % 2 === 1).map((part) => part.byteLength);
      return length === 0 ? frames.length === 1 : sizes.every((size, n) => (n === sizes.length - 1 ? size <= sizeOf(n) : size === sizeOf(n)));
    }),
  );
  t.pass();
});

test('a part size that is not a positive whole number is refused', (t) => {
  t.throws(() => new PartBuilder(() => 0), { instanceOf: RangeError });
  const parts = new PartsInMemory((part) => (part === 0 ? 2 : Number.NaN), () => 2);
  t.throws(() => parts.add(payload(3)), { instanceOf: RangeError });
});
