/**
 * The unit-test half of the etcd mutation-score test command (`npm run mutation-score:etcd`):
 * every test file of core/mvcc and core/server, imported into this one module so that ava runs
 * them in one worker process. Run one by one, the 23 files cost about 60 s of CPU, two thirds of
 * it ava's and tsx's start-up per file; bundled, about 14 s for the same 156 tests — and Stryker
 * pays it once per mutant. `ava.etcd-units.config.mjs` points ava here; `npm test` does not see
 * this file (it is no *.test.ts). `etcdUnitTests.test.ts` keeps the list complete.
 */
import '../../../core/mvcc/backend.test.ts';
import '../../../core/mvcc/backendCodec.test.ts';
import '../../../core/mvcc/deleteRangeJob.test.ts';
import '../../../core/mvcc/hash.test.ts';
import '../../../core/mvcc/keyIndex.test.ts';
import '../../../core/mvcc/kvStore.test.ts';
import '../../../core/mvcc/model.test.ts';
import '../../../core/mvcc/restore.test.ts';
import '../../../core/mvcc/revision.test.ts';
import '../../../core/mvcc/treeIndex.test.ts';
import '../../../core/mvcc/txn.test.ts';
import '../../../core/mvcc/valueSlabs.test.ts';
import '../../../core/server/appliedRequests.test.ts';
import '../../../core/server/applyEntries.test.ts';
import '../../../core/server/cluster.test.ts';
import '../../../core/server/codec.test.ts';
import '../../../core/server/describe.test.ts';
import '../../../core/server/etcdServer.test.ts';
import '../../../core/server/internalRequest.test.ts';
import '../../../core/server/lease.test.ts';
import '../../../core/server/limits.test.ts';
import '../../../core/server/linearizableReads.test.ts';
import '../../../core/server/maintenance.test.ts';
import '../../../core/server/pipelining.test.ts';
import '../../../core/server/randomCluster.test.ts';
import '../../../core/server/requestIds.test.ts';
import '../../../core/server/restart.test.ts';
import '../../../core/server/simulated.test.ts';
import '../../../core/server/slicedApply.test.ts';
import '../../../core/server/watch.test.ts';
