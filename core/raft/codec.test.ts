import test from 'ava';
import fc from 'fast-check';
import { AssertionError } from '../base/assert.ts';
import { ByteWriter } from '../base/byteCodec.ts';
import { decodeMessage, differsOnlyInRecipient, encodeMessage, readdressed, type SnapshotDataCodec } from './codec.ts';
import type { Entry } from './entry.ts';
import { makeMessage, type Message } from './message.ts';

const noData: SnapshotDataCodec = { encode: () => new Uint8Array(0), decode: () => null };

test('a message round-trips through its bytes, context included', (t) => {
  const message = makeMessage({ type: 'MsgVote', to: 2, from: 1, term: 7, logTerm: 6, index: 41, context: 'CampaignTransfer' });
  t.deepEqual(decodeMessage(encodeMessage(message, noData), noData), message);
});

test('a message whose context is a number is refused with one clear error (encoding it once hung)', (t) => {
  const bad = { ...makeMessage({ type: 'MsgHeartbeat', to: 2, from: 1, term: 3 }), context: 42 } as unknown as Message;
  const error = t.throws(() => encodeMessage(bad, noData), { instanceOf: AssertionError });
  t.regex(error.message, /MsgHeartbeat's context must be a string, got number 42/);
});

test('a byte writer sized from a malformed estimate (NaN, zero) still grows', (t) => {
  for (const capacity of [Number.NaN, 0, -1]) {
    const writer = new ByteWriter(capacity);
    writer.uint32(1).uint53(2 ** 40).string('grows');
    t.is(writer.finish().byteLength, 4 + 8 + 4 + 10);
  }
});

test('a byte writer refuses a string field that is not a string', (t) => {
  t.throws(() => new ByteWriter().string(7 as unknown as string), { instanceOf: AssertionError, message: /not a string: 7 \(number\)/ });
});

test('an append for the next follower, equal but for its recipient, is the first one\'s bytes readdressed: exactly what encoding it gives', (t) => {
  const entry = (index: number, size: number): Entry => ({ type: 'normal', term: 3, index, data: new Uint8Array(size).fill(index) });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 5 }), fc.integer({ min: 0, max: 9 }), (first, second, sizes, commit) => {
      const entries = sizes.map((size, i) => entry(10 + i, size));
      const toFirst = makeMessage({ type: 'MsgApp', from: 1, to: first, term: 3, logTerm: 3, index: 9, commit, entries });
      const toSecond = makeMessage({ ...toFirst, to: second, entries: [...entries] });
      t.true(differsOnlyInRecipient(toSecond, toFirst));
      t.deepEqual(readdressed(encodeMessage(toFirst, noData), second), encodeMessage(toSecond, noData));
    }),
    { numRuns: 100 },
  );
});

test('a message differing in anything the bytes carry besides the recipient is encoded anew', (t) => {
  const entries: Entry[] = [{ type: 'normal', term: 3, index: 10, data: new Uint8Array([1, 2]) }];
  const base = makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 3, logTerm: 3, index: 9, commit: 8, entries });
  const variants: Partial<Message>[] = [
    { type: 'MsgHeartbeat' }, { from: 4 }, { term: 4 }, { logTerm: 2 }, { index: 8 }, { commit: 9 }, { reject: true }, { rejectHint: 1 }, { context: 'x' },
    { entries: [{ ...entries[0]! }] }, { entries: [] },
  ];
  for (const variant of variants) t.false(differsOnlyInRecipient(makeMessage({ ...base, ...variant, to: 3 }), base), JSON.stringify(Object.keys(variant)));
});
