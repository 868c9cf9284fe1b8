import test from 'ava';
import fc from 'fast-check';
import { Backend } from '../../core/mvcc/backend.ts';
import { encodeBackendImage } from '../../core/mvcc/backendCodec.ts';
import { KvStore } from '../../core/mvcc/kvStore.ts';
import { putAll } from '../../core/mvcc/_test/stores.ts';
import { recordBytesMax } from '../storage/frame.ts';
import { effectiveQuotaBytes, storageQuotaMaxBytes } from './etcd.ts';

const mib = 1024 * 1024;

test("the quota is etcd's, held at a quarter of the heap limit and at what a peer joins of a snapshot", (t) => {
  const ceiling = storageQuotaMaxBytes(4192 * mib); // Node 20's default limit on a machine of 16 GiB or more
  t.is(ceiling, 1048 * mib);
  t.is(effectiveQuotaBytes(0, ceiling), ceiling, "etcd's default 2 GiB is over it");
  t.is(effectiveQuotaBytes(8 * 1024 * mib, ceiling), ceiling);
  t.is(effectiveQuotaBytes(1_000_000, ceiling), 1_000_000, 'a smaller quota stays');
  t.is(storageQuotaMaxBytes(2 * 1024 * mib + 48 * mib), 524 * mib, 'a machine of 8 GiB');
  t.is(storageQuotaMaxBytes(16 * 1024 * mib), Math.floor((recordBytesMax * 5) / 8), '--max-old-space-size=16384: held where a snapshot still fits a record');
  t.true(storageQuotaMaxBytes(64 * 1024 * mib) * 1.5 < recordBytesMax);
  t.is(effectiveQuotaBytes(0), Math.min(2 * 1024 * mib, storageQuotaMaxBytes()), "this process's limit by default");
  t.true(storageQuotaMaxBytes() > 160 * mib, 'over the old ceiling of one 256 MiB record (160 MiB) wherever the heap limit is 640 MiB or more');
});

// The ceiling assumes a whole backend image encodes to at most 1.5x the modelled size the quota is
// checked against: then a snapshot of a keyspace at the quota is a record a peer joins (recordBytesMax).
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
