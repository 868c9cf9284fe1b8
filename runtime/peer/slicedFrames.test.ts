import test from 'ava';
import type { SlicedMessage } from '../../core/host/codec.ts';
import { frameHeaderBytes, FrameReader, scanFrames } from '../storage/frame.ts';
import { frameInTurns } from './slicedFrames.ts';

/** A message of a 5-byte head holding the body's length and a body of `slices` slices of `sliceBytes`, each written over the one before (as the backend codec's reused slices). */
function sliced(slices: number, sliceBytes: number, taken: { count: number } = { count: 0 }): { message: SlicedMessage; whole: Buffer } {
  const pieces: Buffer[] = [];
  for (let i = 0; i < slices; i++) pieces.push(Buffer.alloc(sliceBytes, 0x61 + (i % 26)));
  const body = Buffer.concat(pieces);
  const head = (bodyBytes: number) => {
    const bytes = Buffer.alloc(5, 0x48);
    bytes.writeUInt32BE(bodyBytes, 1);
    return bytes;
  };
  function* slicesOf(): Generator<Uint8Array> {
    const reused = Buffer.alloc(sliceBytes);
    for (const piece of pieces) {
      taken.count++;
      piece.copy(reused);
      yield reused;
    }
  }
  return { message: { body: slicesOf(), head }, whole: Buffer.concat([head(body.byteLength), body]) };
}

test('a message encoded in turns is framed as one record of parts, none over the part size, whose payload is the head then the body', async (t) => {
  const { message, whole } = sliced(40, 3_000);
  const framed = (await frameInTurns(message, { partBytes: 16 * 1024, turnMs: 0 }))!;
  t.is(framed.bytes, whole.byteLength);
  t.true(framed.turns >= 40, `${framed.turns} turns (one slice each at 0 ms a turn)`);
  const bytes = Buffer.concat(framed.frames);
  const scanned = scanFrames(Buffer.from(bytes));
  t.is(scanned.damage, null);
  t.is(scanned.payloads.length, 1);
  t.deepEqual(Buffer.from(scanned.payloads[0]!), whole);
  // Read as a peer reads it, in chunks of any size.
  const reader = new FrameReader(16 * 1024, 1024 * 1024);
  const payloads: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += 777) payloads.push(...(reader.push(bytes.subarray(at, at + 777)) as Uint8Array[]));
  t.deepEqual(payloads.map((payload) => Buffer.from(payload)), [whole]);
  for (let i = 1; i < framed.frames.length; i += 2) t.true(framed.frames[i]!.byteLength <= 16 * 1024);
  t.is(framed.frames[0]!.byteLength, frameHeaderBytes);
});

test('the parts grow from 1 MiB to the part size; a body that fits one part is one part after the head', async (t) => {
  const large = sliced(40, 256 * 1024);
  const framed = (await frameInTurns(large.message, { partBytes: 4 * 1024 * 1024 }))!;
  const parts = framed.frames.filter((_, i) => i % 2 === 1).map((part) => part.byteLength / 2 ** 20);
  t.deepEqual(parts, [5 / 2 ** 20, 1, 2, 4, 3]);
  const small = sliced(1, 100);
  const one = (await frameInTurns(small.message))!;
  t.is(one.frames.length, 4);
  t.deepEqual(Buffer.concat([one.frames[1]!, one.frames[3]!]), small.whole);
});

test('between turns the loop runs other work; an abandoned encoding takes no more slices and resolves null', async (t) => {
  const taken = { count: 0 };
  const { message } = sliced(1_000, 1_000, taken);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  let abandon = false;
  const encoding = frameInTurns(message, { turnMs: 0, abandoned: () => abandon });
  await new Promise((resolve) => setTimeout(resolve, 30));
  abandon = true;
  t.is(await encoding, null);
  clearInterval(timer);
  t.true(ticks > 0, 'timers fired while it was encoding');
  t.true(taken.count < 1_000, `${taken.count} slices taken`);
});
