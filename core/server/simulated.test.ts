import test from 'ava';
import { runSimulated } from './_test/simulatedCluster.ts';

// The member under the simulator, every fault class drawn per seed: Raft's safety checks on every
// event, the server's own assertions, and HashKV agreement at the end. (The etcd scenario family
// adds the clients' histories and many more seeds.)
for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`seed ${seed}: 5 members under a swarm of faults apply alike and break no invariant`, (t) => {
    const { result, sim } = runSimulated(seed);
    t.true(result.ok, result.violation?.message);
    t.true(sim.history.some((entry) => entry.outcome === 'ok'), 'clients were served');
  });
}

// And 3 of 5 machines as members, an admin adding, promoting, removing and replacing members
// through single and joint changes (strict reconfiguration off, so that changes happen under faults).
// Seed 54: a joint change removing the leader; its followers dropped its messages too early.
for (const seed of [1, 2, 3, 54]) {
  test(`seed ${seed}: membership changes under a swarm of faults break no invariant`, (t) => {
    const { result, sim } = runSimulated(seed, { config: { strictReconfigCheck: false }, membership: true });
    t.true(result.ok, result.violation?.message);
    t.true(sim.history.some((entry) => entry.outcome === 'ok' && entry.request.method.startsWith('Member') && entry.request.method !== 'MemberList'), 'membership changed');
  });
}

// The same on the runtime's pipelined host loop: appends and heartbeats, and answers to applied
// entries, leave while the Ready's writes are synced; votes and acknowledgements wait for the sync.
for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`seed ${seed}, pipelined host loop: 5 members under a swarm of faults apply alike and break no invariant`, (t) => {
    const { result, sim } = runSimulated(seed, { pipelinedHost: true });
    t.true(result.ok, result.violation?.message);
    t.true(sim.history.some((entry) => entry.outcome === 'ok'), 'clients were served');
  });
}
