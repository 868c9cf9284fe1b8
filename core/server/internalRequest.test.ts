import test from 'ava';
import { decodeInternalRequest, encodeInternalRequest, RequestCodec, type InternalRaftRequest } from './internalRequest.ts';

test('an internal request round-trips through its bytes, byte-string keys and Unicode names alike', (t) => {
  const requests: InternalRaftRequest[] = [
    { header: { member: 3, id: 2 ** 40 }, op: { kind: 'put', request: { key: 'k\u0000\u00ff', value: 'v'.repeat(20_000), lease: 0 } } },
    { header: { member: 1, id: 7 }, op: { kind: 'memberAttributes', id: 1, name: 'nœud-一', clientURLs: ['http://m1:2379'] } },
    { header: { member: 2, id: 8 }, op: { kind: 'txn', request: { compare: [{ key: 'a', target: 'VALUE', result: 'EQUAL', value: '\u0080' }], success: [{ requestRange: { key: 'a', rangeEnd: '\u0000' } }] } } },
    // Every Latin-1 character, across several of the decoder's 8 KiB chunks and a ragged last one.
    { header: { member: 4, id: 9 }, op: { kind: 'put', request: { key: String.fromCharCode(...Array.from({ length: 256 }, (_, code) => code)), value: Array.from({ length: 3 * 8192 + 17 }, (_, i) => String.fromCharCode((i * 7) % 256)).join(''), lease: 0 } } },
  ];
  const codec = new RequestCodec();
  for (const request of requests) {
    const bytes = codec.encodeRequest(request);
    t.is(codec.decodeRequest(bytes), request, 'the proposer seeds the memo: no decoding');
    t.deepEqual(codec.decodeRequest(bytes.slice()), request, 'a copy of the bytes decodes to an equal request');
    t.deepEqual(decodeInternalRequest(bytes), request, 'unmemoized');
  }
  t.is(codec.decodes, requests.length, 'only the copies were decoded');
  t.is(encodeInternalRequest(requests[0]!)[0], 2, 'format 2: binary');
  const context = { header: { member: 1, id: 9 }, added: [{ ID: 4, name: '', peerURLs: ['http://m4:2380'], clientURLs: [], isLearner: true }], promoted: [5] };
  t.deepEqual(codec.decodeContext(codec.encodeContext(context).slice()), context);
  t.is(codec.decodeContext(new Uint8Array(0)), null);
});

test('a key or value of zero bytes takes its own size in an entry, not JSON\'s six bytes a character (etcdctl check perf: 256-byte keys, 1 kB values)', (t) => {
  const request: InternalRaftRequest = { header: { member: 1, id: 2 ** 40 }, op: { kind: 'put', request: { key: '\u0000'.repeat(256), value: '\u0000'.repeat(1024), lease: 0 } } };
  const bytes = encodeInternalRequest(request);
  t.true(bytes.byteLength < 256 + 1024 + 96, `${bytes.byteLength} bytes`);
  t.deepEqual(decodeInternalRequest(bytes.slice()), request);
});

test('a member\'s memo serves only that member incarnation: another codec decodes the same bytes itself, into its own objects', (t) => {
  const request: InternalRaftRequest = { header: { member: 1, id: 3 }, op: { kind: 'put', request: { key: 'k', value: 'v', lease: 0 } } };
  const proposer = new RequestCodec();
  const bytes = proposer.encodeRequest(request);
  const restarted = new RequestCodec();
  const decoded = restarted.decodeRequest(bytes);
  t.not(decoded, request, 'not the proposer\'s object');
  t.deepEqual(decoded, request);
  t.is(restarted.decodes, 1);
  t.is(restarted.decodeRequest(bytes), decoded, 'memoized for the live path');
  t.is(restarted.decodes, 1);
  t.not(proposer.encodeRequest(request), bytes, 'every encode hands out its own bytes, never the scratch writer\'s');
});

test('entries of an older data dir or peer (JSON, formats 0 and 1) are still read', (t) => {
  const json = (format: number, text: string): Uint8Array => Uint8Array.from([format, ...Array.from(text, (character) => character.charCodeAt(0))]);
  const put = { header: { member: 3, id: 5 }, op: { kind: 'put', request: { key: 'k\u0000', value: 'v', lease: 0 } } };
  t.deepEqual(decodeInternalRequest(json(0, JSON.stringify(put))), put as InternalRaftRequest);
  // 'é' as its two UTF-8 bytes
  const named = { header: { member: 1, id: 6 }, op: { kind: 'memberAttributes', id: 1, name: 'n\u00c3\u00a9', clientURLs: [] } };
  t.deepEqual(decodeInternalRequest(json(1, JSON.stringify(named))), { ...named, op: { ...named.op, name: 'né' } } as InternalRaftRequest);
  t.throws(() => decodeInternalRequest(Uint8Array.of(9, 0)), { message: /unknown format \(9\)/ });
});

test('an entry taken for its apply leaves the memo: the proposer applies its own object, and nothing keeps the request alive beside the log\'s bytes (task heap)', (t) => {
  const request: InternalRaftRequest = { header: { member: 1, id: 4 }, op: { kind: 'put', request: { key: 'k', value: 'v'.repeat(1024), lease: 0 } } };
  const codec = new RequestCodec();
  const bytes = codec.encodeRequest(request);
  t.is(codec.takeRequest(bytes), request, 'the proposer seeded the memo: its own object, not decoded');
  t.is(codec.decodes, 0);
  const again = codec.takeRequest(bytes);
  t.not(again, request, 'the memo entry is gone: taken again (never done by a member), the bytes are decoded');
  t.deepEqual(again, request);
  t.is(codec.decodes, 1);
});
