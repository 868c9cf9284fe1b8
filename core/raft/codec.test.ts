import test from 'ava';
import { AssertionError } from '../base/assert.ts';
import { ByteWriter } from '../base/byteCodec.ts';
import { decodeMessage, encodeMessage, type SnapshotDataCodec } from './codec.ts';
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
