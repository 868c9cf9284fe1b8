import test from 'ava';
import type { Event, KeyValue } from '../../core/api/index.ts';
import { wrongAttachment } from './leaseAttachments.ts';

const kv = (key: string, lease: number, modRevision = 5): KeyValue => ({ key, createRevision: 2, modRevision, version: 1, value: 'v', lease });
const lessor = (attached: Record<string, number>) => ({ leaseOf: (key: string) => attached[key] ?? 0 });

test('a write whose keys the lessor attaches as the store holds them passes', (t) => {
  const events: Event[] = [{ type: 'PUT', kv: kv('a', 7) }, { type: 'PUT', kv: kv('b', 0) }, { type: 'DELETE', kv: { ...kv('c', 0), version: 0 } }];
  t.is(wrongAttachment(events, lessor({ a: 7 })), null);
});

test('a put without a lease that leaves its key on the old lease is named at the apply (mutant lease-put-without-lease-keeps-attachment)', (t) => {
  t.is(wrongAttachment([{ type: 'PUT', kv: kv('k', 0, 9) }], lessor({ k: 3 })), 'key "k" was put with lease 0 at mod revision 9, but the lessor attaches it to lease 3');
});

test('a put moved to another lease, or a deleted key still attached, is named', (t) => {
  t.regex(wrongAttachment([{ type: 'PUT', kv: kv('k', 4) }], lessor({ k: 3 }))!, /put with lease 4 .* attaches it to lease 3/);
  t.regex(wrongAttachment([{ type: 'PUT', kv: kv('j', 0) }, { type: 'DELETE', kv: kv('k', 0) }], lessor({ k: 3 }))!, /^key "k" was deleted .* lease 3$/);
});
