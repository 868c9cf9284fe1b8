import test from 'ava';
import { isEtcdError } from '../api/index.ts';
import { SlabKeyValue, useSlabSize } from '../mvcc/index.ts';
import { RandomEtcdCluster } from './_test/randomCluster.ts';

// Random delivery order, drops, duplicates, crashes with lost and torn writes, partitions; the
// members' own assertions on every step, and every member's keyspace checked against the others'
// at every applied index it reaches. Then the faults stop and every member must converge.
// Longer hunts: core/server/_test/randomCluster.ts with many seeds (see README).
const runs = [
  ...[1, 2, 3, 4, 5, 6].map((seed) => ({ seed, membership: false, coalesceAppends: false })),
  ...[1, 2, 3, 4].map((seed) => ({ seed, membership: true, coalesceAppends: false })),
  // The runtime's setting: the appends queued for a follower leave as one message.
  ...[1, 2, 3, 4, 5, 6].map((seed) => ({ seed, membership: false, coalesceAppends: true })),
  ...[1, 2, 3, 4].map((seed) => ({ seed, membership: true, coalesceAppends: true })),
];

for (const { seed, membership, coalesceAppends } of runs) {
  test(`random cluster seed ${seed}${membership ? ' with membership changes' : ''}${coalesceAppends ? ', coalesced appends' : ''}: members agree at every applied index, and converge once healed`, (t) => {
    const random = new RandomEtcdCluster(seed, 3, membership, coalesceAppends);
    random.run(4000);
    t.true(random.converge(400), 'converged');
    const cluster = random.cluster;
    const leader = cluster.server(cluster.leader()!);
    t.true(leader.appliedIndex > 50, 'the run made progress');
    const members = leader.state.membership.members.map((member) => member.ID);
    const hashes = members.map((id) => cluster.server(id).state.kv.hashKV());
    t.true(hashes.every((hash) => !isEtcdError(hash) && JSON.stringify(hash) === JSON.stringify(hashes[0])));
    t.true(random.restarts > 0);
  });
}

// Values long enough for the store's slabs, in slabs of 1 kB: they fill, go sparse after the
// compactions and are relocated (21 relocation batches over these seeds), through crashes, torn
// writes and snapshots (core/mvcc/valueSlabs.ts).
for (const seed of [1, 2, 3]) {
  test(`random cluster seed ${seed} with 100-byte values in 1 kB slabs: members agree at every applied index, and converge once healed`, (t) => {
    const previous = useSlabSize(1024);
    try {
      const random = new RandomEtcdCluster(seed, 3, false, true, 100);
      random.run(4000);
      t.true(random.converge(400), 'converged');
      const leader = random.cluster.server(random.cluster.leader()!);
      t.true(leader.appliedIndex > 50, 'the run made progress');
      const kvs = leader.state.kv.range({ key: 'k', rangeEnd: 'l' });
      t.true(!isEtcdError(kvs) && kvs.kvs.some((kv) => kv instanceof SlabKeyValue));
    } finally {
      useSlabSize(previous);
    }
  });
}
