import { isEtcdError } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import { Backend, backendFile, KvStore, noLeases } from '../../core/mvcc/index.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import type { SimDisk } from '../../sim/disk.ts';

/**
 * After every restart the store equals what the backend holds: the restarted member's store,
 * read at the revision its backend file reopens to, hashes (etcd's HashKV) like a store opened
 * independently from that same file — and the revision the member resumed from is that
 * revision or later (the entries after the backend's consistent index are then replayed from the
 * WAL, which the revision ledger follows entry by entry). A restore that loses changes, resumes
 * from an older revision (etcd #17780) or rebuilds the index wrongly differs here at once.
 *
 * Only where the member opened its backend file: a member whose WAL snapshot is newer than its
 * backend starts from the snapshot's image instead (etcd opens the snapshot's db then).
 */
export function checkRecovery(server: EtcdServer, disk: SimDisk): boolean {
  const opened = Backend.open(disk.durableRecords(backendFile));
  if (opened.backend.consistentIndex !== server.recovery.backendConsistentIndex || server.recovery.walSnapshotIndex > opened.backend.consistentIndex) return false;
  const reference = KvStore.open(opened.backend, { compactionBatchLimit: Number.MAX_SAFE_INTEGER, leases: noLeases });
  const revision = reference.revision;
  if (server.state.kv.revision < revision) {
    throw new AssertionError(`member ${server.id} restarted at revision ${server.state.kv.revision}, but its backend file holds revision ${revision}`);
  }
  const expected = reference.hashKV({ revision });
  const actual = server.state.kv.hashKV({ revision });
  if (isEtcdError(expected) || isEtcdError(actual) || expected.compactRevision !== actual.compactRevision) return false;
  if (expected.hash !== actual.hash) {
    throw new AssertionError(`member ${server.id} restarted with a store that differs from its backend file at revision ${revision} (HashKV ${actual.hash >>> 0} vs ${expected.hash >>> 0})`);
  }
  return true;
}
