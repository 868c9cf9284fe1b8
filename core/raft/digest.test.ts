import test from 'ava';
import { describeMessage } from './describe.ts';
import { digestMessage } from './digest.ts';
import { normalEntry } from './entry.ts';
import { makeMessage, type Message } from './message.ts';

const base: Message = makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 3, logTerm: 2, index: 10, commit: 9, entries: [normalEntry(new Uint8Array([1]), 3, 11)] });

test('a digest is a stable 32-bit number', (t) => {
  const digest = digestMessage(base);
  t.true(Number.isInteger(digest) && digest >= 0 && digest < 2 ** 32);
  t.is(digestMessage(makeMessage({ ...base })), digest);
});

test('every summarized field changes the digest', (t) => {
  const variants: Partial<Message>[] = [
    { type: 'MsgAppResp' },
    { from: 3 },
    { to: 3 },
    { term: 4 },
    { logTerm: 3 },
    { index: 11 },
    { commit: 10 },
    { reject: true },
    { rejectHint: 5 },
    { entries: [] },
    { entries: [normalEntry(new Uint8Array([1, 2]), 3, 11)] },
    { context: 'ctx' },
  ];
  const digests = new Set([digestMessage(base), ...variants.map((v) => digestMessage(makeMessage({ ...base, ...v })))]);
  t.is(digests.size, variants.length + 1);
});

test('messages describe themselves in etcd-io/raft style', (t) => {
  t.is(describeMessage(base), '1->2 MsgApp Term:3 Log:2/10 Commit:9 Entries:[3/11 EntryNormal 0x01]');
  t.is(
    describeMessage(makeMessage({ type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 12, reject: true, rejectHint: 8, logTerm: 2 })),
    '2->1 MsgAppResp Term:3 Log:2/12 Rejected (Hint: 8)',
  );
});
