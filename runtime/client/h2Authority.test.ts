import test from 'ava';
import fc from 'fast-check';
import hpack from 'hpack.js';
import { frame, parseFrames, type Frame } from '../_test/h2Frames.ts';
import { AuthorityRewriter, H2_PREFACE, firstAuthority, needsRewrite, plainAuthority, scanClientStart, takePings, withoutFrame } from './h2Authority.ts';

/** A client-side encoder as grpc-go's: Huffman strings, incremental indexing (so a second block refers to the first's entries). */
function clientEncoder(): (headers: { name: string; value: string }[]) => Buffer {
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  return (headers) => {
    compressor.write(headers.map((header) => ({ ...header, huffman: true })));
    const parts: Buffer[] = [];
    for (let part = compressor.read(); part !== null; part = compressor.read()) parts.push(part);
    return Buffer.concat(parts);
  };
}

/** Decodes blocks as the server's decoder would see them, with a table of size 0: an indexed reference would fail. */
function serverDecode(block: Buffer): Record<string, string> {
  const decompressor = hpack.decompressor.create({ table: { maxSize: 0 } });
  decompressor.write(block);
  decompressor.execute();
  const headers: Record<string, string> = {};
  for (let header = decompressor.read(); header !== null; header = decompressor.read()) headers[header.name] = header.value;
  return headers;
}

const request = (path: string) => [
  { name: ':method', value: 'POST' },
  { name: ':scheme', value: 'http' },
  { name: ':path', value: path },
  { name: ':authority', value: 'http://127.0.0.1:2379' },
  { name: 'content-type', value: 'application/grpc' },
  { name: 'user-agent', value: 'grpc-go/1.26.0' },
  { name: 'te', value: 'trailers' },
];

/** Feeds `input` to a rewriter in pieces of `piece` bytes and returns what came out, frames after the preface. */
function rewrite(input: Buffer, piece: number): { preface: Buffer; frames: Frame[] } {
  const rewriter = new AuthorityRewriter(true);
  const out: Buffer[] = [];
  for (let offset = 0; offset < input.length; offset += piece) out.push(...rewriter.push(input.subarray(offset, offset + piece)));
  const all = Buffer.concat(out);
  return { preface: all.subarray(0, H2_PREFACE.length), frames: parseFrames(all.subarray(H2_PREFACE.length)).frames };
}

test('the rewriter strips the scheme from a Huffman-coded authority and from a dynamic-table reference to it; padding, priority, CONTINUATION; other frames pass byte for byte', (t) => {
  const encode = clientEncoder();
  const first = encode(request('/etcdserverpb.Maintenance/Status'));
  const second = encode(request('/etcdserverpb.Maintenance/Status'));
  // The second block refers to the first's entries: it is much shorter and spells no authority.
  t.true(second.length < 10, `second block ${second.length} bytes`);
  const padded = Buffer.concat([Buffer.from([3]), Buffer.from([0, 0, 0, 0, 15]), first, Buffer.alloc(3)]);
  const data = frame(0, 1, 1, Buffer.from('\x00\x00\x00\x00\x00', 'latin1'));
  const settings = frame(4, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100]));
  const input = Buffer.concat([
    H2_PREFACE,
    settings,
    frame(4, 1, 0, Buffer.alloc(0)), // the ACK of our empty SETTINGS: dropped
    frame(1, 0x8 | 0x20, 1, padded), // HEADERS, PADDED, PRIORITY, no END_HEADERS
    frame(9, 0x4, 1, Buffer.alloc(0)), // an empty CONTINUATION ends the block
    data,
    frame(1, 0x4 | 0x1, 3, second), // END_HEADERS, END_STREAM
    frame(4, 1, 0, Buffer.alloc(0)), // the ACK of nghttp2's SETTINGS: kept
  ]);
  for (const piece of [1, 7, 64, input.length]) {
    const { preface, frames } = rewrite(input, piece);
    t.deepEqual(preface, H2_PREFACE);
    t.deepEqual(
      frames.map((f) => [f.type, f.flags, f.streamId]),
      [
        [4, 0, 0],
        [1, 0x20 | 0x4, 1],
        [0, 1, 1],
        [1, 0x1 | 0x4, 3],
        [4, 1, 0],
      ],
      `pieces of ${piece}`,
    );
    t.deepEqual(frames[0]!.payload, settings.subarray(9));
    t.deepEqual(frames[2]!.payload, data.subarray(9));
    t.deepEqual(frames[1]!.payload.subarray(0, 5), Buffer.from([0, 0, 0, 0, 15]));
    for (const block of [frames[1]!.payload.subarray(5), frames[3]!.payload]) {
      const headers = serverDecode(block);
      t.is(headers[':authority'], '127.0.0.1:2379');
      t.is(headers[':path'], '/etcdserverpb.Maintenance/Status');
      t.is(headers['user-agent'], 'grpc-go/1.26.0');
    }
  }
});

test("the rewriter re-splits a block longer than a frame into CONTINUATIONs and honours the client's table size updates", (t) => {
  const big = [...request('/b'), { name: 'x-big', value: 'v'.repeat(40_000) }];
  // A size update to 0 and back to 4096 at the block's start, then literals.
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  compressor.write(big.map((header) => ({ ...header, huffman: false })));
  const parts: Buffer[] = [Buffer.from([0x20, 0x3f, 0xe1, 0x1f])];
  for (let part = compressor.read(); part !== null; part = compressor.read()) parts.push(part);
  const whole = Buffer.concat(parts);
  const input = Buffer.concat([H2_PREFACE, frame(1, 0, 1, whole.subarray(0, 10_000)), frame(9, 0, 1, whole.subarray(10_000, 20_000)), frame(9, 4, 1, whole.subarray(20_000))]);
  const { frames } = rewrite(input, 4096);
  t.true(frames.length >= 3);
  t.true(frames.every((f) => f.payload.length <= 16_384));
  t.deepEqual(
    frames.map((f) => f.type),
    [1, ...frames.slice(1).map(() => 9)],
  );
  t.deepEqual(
    frames.map((f) => (f.flags & 0x4) !== 0),
    [...frames.slice(1).map(() => false), true],
  );
  const headers = serverDecode(Buffer.concat(frames.map((f) => f.payload)));
  t.is(headers[':authority'], '127.0.0.1:2379');
  t.is(headers['x-big']!.length, 40_000);
});

test('the rewriter refuses a frame inside a header block', (t) => {
  const block = clientEncoder()(request('/a'));
  const rewriter = new AuthorityRewriter(false);
  t.throws(() => rewriter.push(Buffer.concat([H2_PREFACE, frame(1, 0, 1, block), frame(0, 0, 1, Buffer.alloc(1))])), { message: /inside a header block/ });
});

test("the sniff finds the ACK and the first block's authority only once they are complete", (t) => {
  const block = clientEncoder()(request('/a'));
  const ack = frame(4, 1, 0, Buffer.alloc(0));
  const whole = Buffer.concat([H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0)), ack, frame(1, 4, 1, block)]);
  t.deepEqual(scanClientStart(whole.subarray(0, 33)), { ackAt: null, firstBlock: null, wellFormed: true, pingsAt: [] });
  t.deepEqual(scanClientStart(whole.subarray(0, whole.length - 1)), { ackAt: 33, firstBlock: null, wellFormed: true, pingsAt: [] });
  const start = scanClientStart(whole);
  t.is(start.ackAt, 33);
  t.is(firstAuthority(start.firstBlock!), 'http://127.0.0.1:2379');
  t.deepEqual(withoutFrame(whole, 33), Buffer.concat([H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0)), frame(1, 4, 1, block)]));
  t.false(scanClientStart(Buffer.from('PRX * HTTP/2.0')).wellFormed);
  t.true(needsRewrite('http://127.0.0.1:2379'));
  t.false(needsRewrite('127.0.0.1:2379'));
  t.false(needsRewrite(null));
  t.is(plainAuthority('http://127.0.0.1:2379'), '127.0.0.1:2379');
  t.is(plainAuthority('https://h.example:2379/x'), 'h.example:2379');
});

test('the rewriter, property: random requests (indexed, Huffman or raw), split into padded HEADERS and CONTINUATIONs, fed in random pieces, reach the server as the same headers with the authority plain', (t) => {
  const header = fc.record({
    name: fc.constantFrom(':authority', 'x-a', 'x-b', 'grpc-timeout', 'user-agent'),
    value: fc.constantFrom('http://127.0.0.1:2379', '127.0.0.1:2379', 'v', 'x'.repeat(300), '5S'),
    huffman: fc.boolean(),
  });
  const request = fc.record({ headers: fc.array(header, { maxLength: 6 }), cuts: fc.array(fc.nat(400), { maxLength: 3 }), padding: fc.nat(20), priority: fc.boolean(), data: fc.boolean() });
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 200 }), (requests, piece) => {
      const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
      const input: Buffer[] = [H2_PREFACE, frame(4, 0, 0, Buffer.alloc(0)), frame(4, 1, 0, Buffer.alloc(0))];
      const expected: Record<string, string>[] = [];
      requests.forEach((r, index) => {
        const streamId = 2 * index + 1;
        const headers = [{ name: ':path', value: `/p${index}`, huffman: true }, ...r.headers];
        compressor.write(headers);
        const parts: Buffer[] = [];
        for (let part = compressor.read(); part !== null; part = compressor.read()) parts.push(part);
        const block = Buffer.concat(parts);
        expected.push(Object.fromEntries(headers.map((h) => [h.name, h.name === ':authority' ? plainAuthority(h.value) : h.value])));
        const cuts = [...new Set(r.cuts.filter((cut) => cut < block.length))].sort((a, b) => a - b);
        const pieces = [0, ...cuts, block.length].slice(1).map((end, i, ends) => block.subarray(i === 0 ? 0 : ends[i - 1]!, end));
        const last = pieces.length - 1;
        const end = (i: number) => (i === last ? 0x4 : 0);
        const first = Buffer.concat([Buffer.from([r.padding]), r.priority ? Buffer.from([0, 0, 0, 0, 7]) : Buffer.alloc(0), pieces[0] ?? Buffer.alloc(0), Buffer.alloc(r.padding)]);
        input.push(frame(1, 0x8 | (r.priority ? 0x20 : 0) | end(0) | (r.data ? 0 : 0x1), streamId, first));
        pieces.slice(1).forEach((bytes, i) => input.push(frame(9, end(i + 1), streamId, bytes)));
        if (r.data) input.push(frame(0, 1, streamId, Buffer.from([0, 0, 0, 0, 0])));
      });
      const { frames } = rewrite(Buffer.concat(input), piece);
      const blocks: Buffer[] = [];
      let open: Buffer[] = [];
      for (const f of frames) {
        if (f.type !== 1 && f.type !== 9) continue;
        if (f.payload.length > 16_384) return false;
        open.push(f.type === 1 && (f.flags & 0x20) !== 0 ? f.payload.subarray(5) : f.payload);
        if ((f.flags & 0x4) !== 0) {
          blocks.push(Buffer.concat(open));
          open = [];
        }
      }
      if (frames.filter((f) => f.type === 4 && (f.flags & 1) !== 0).length !== 0) return false;
      if (frames.filter((f) => f.type === 0).length !== requests.filter((r) => r.data).length) return false;
      t.deepEqual(blocks.map(serverDecode), expected);
      return true;
    }),
    { seed: 22, numRuns: 200 },
  );
});

test('PINGs before the first header block are taken out and answered with an ACK of the same payload; a PING ACK, a PING after the block and a torn PING stay', (t) => {
  const block = clientEncoder()(request('/a'));
  const ping = (flags: number, payload: string) => frame(6, flags, 0, Buffer.from(payload, 'latin1'));
  const settings = frame(4, 0, 0, Buffer.alloc(0));
  const windowUpdate = frame(8, 0, 0, Buffer.from([0, 1, 0, 0]));
  const before = Buffer.concat([H2_PREFACE, settings, ping(0, 'first...'), windowUpdate, ping(1, 'an ack..'), ping(0, 'second..')]);
  const after = Buffer.concat([frame(1, 4, 1, block), ping(0, 'after...')]);
  const start = scanClientStart(Buffer.concat([before, after]));
  t.deepEqual(start.pingsAt, [33, 80]);
  const { rest, answers } = takePings(Buffer.concat([before, after]), start);
  t.deepEqual(answers, [ping(1, 'first...'), ping(1, 'second..')]);
  t.deepEqual(rest, Buffer.concat([H2_PREFACE, settings, windowUpdate, ping(1, 'an ack..'), after]));
  t.deepEqual(scanClientStart(rest).pingsAt, []);
  t.is(firstAuthority(scanClientStart(rest).firstBlock!), 'http://127.0.0.1:2379');
  // A PING still arriving is left for the next read.
  const torn = Buffer.concat([H2_PREFACE, settings, ping(0, 'first...').subarray(0, 12)]);
  t.deepEqual(scanClientStart(torn).pingsAt, []);
  t.deepEqual(takePings(torn, scanClientStart(torn)).rest, torn);
  // A PING of the wrong size or on a stream is not ours to answer: nghttp2 gets it and says so.
  t.false(scanClientStart(Buffer.concat([H2_PREFACE, frame(6, 0, 0, Buffer.alloc(7))])).wellFormed);
  t.false(scanClientStart(Buffer.concat([H2_PREFACE, frame(6, 0, 1, Buffer.alloc(8))])).wellFormed);
});
