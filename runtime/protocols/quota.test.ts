import test from 'ava';
import fc from 'fast-check';
import { Backend } from '../../core/mvcc/backend.ts';
import { encodeBackendImage } from '../../core/mvcc/backendCodec.ts';
import { KvStore } from '../../core/mvcc/kvStore.ts';
import { putAll } from '../../core/mvcc/_test/stores.ts';
import { frameBytesMax } from '../storage/frame.ts';
import { effectiveQuotaBytes, storageQuotaMaxBytes } from './etcd.ts';

test("the quota is etcd's, held at what one storage record holds", (t) => {
  t.is(effectiveQuotaBytes(0), storageQuotaMaxBytes, "etcd's default 2 GiB is over it");
  t.is(effectiveQuotaBytes(8 * 1024 * 1024 * 1024), storageQuotaMaxBytes);
  t.is(effectiveQuotaBytes(1_000_000), 1_000_000, 'a smaller quota stays');
  t.true(storageQuotaMaxBytes * 1.5 < frameBytesMax);
});

// The cap assumes a whole backend image encodes to at most 1.5x the modelled size the quota is
// checked against: then a keyspace at the quota still fits one record.
test('a backend image encodes to at most 1.5x its modelled size, whatever the keys and values', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(400), fc.nat(64), fc.nat(2_000), fc.boolean()), { minLength: 1, maxLength: 300 }), (writes) => {
      const store = KvStore.open(Backend.create());
      for (const [key, keyLength, valueLength, remove] of writes) {
        const name = String(key).padStart(Math.max(1, keyLength), 'k');
        if (remove) store.deleteRange({ key: name });
        else putAll(store, [name, 'v'.repeat(valueLength)]);
      }
      const image = store.backend.snapshot();
      return encodeBackendImage(image).byteLength <= 1.5 * store.backend.size;
    }),
    { numRuns: 200 },
  );
  t.pass();
});
