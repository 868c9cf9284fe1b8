import test from 'ava';
import { ErrTimeout } from '../api/index.ts';
import { historyLinearizable, kvWorkload, runSimulated } from './_test/simulatedCluster.ts';

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

// The smoke runs' history check is the etcd family's (properties/etcd/etcdHistory.ts), with the
// outcomes etcd's client gives: a stale read fails the run; an error that may follow a proposal
// (request timed out) leaves its write unknown, so the value it wrote may be read.
test('the smoke runs judge their history as the etcd family does: a stale read fails, a timed-out write may have happened', (t) => {
  const header = (revision: number) => ({ clusterId: 1, memberId: 1, revision, raftTerm: 2 });
  const value = (v: string, revision: number, version: number) => ({ key: 'a', value: v, createRevision: 2, modRevision: revision, version, lease: 0 });
  const put = (id: number, v: string, at: number, revision: number) => ({ client: id, id, to: 1, invokeUs: at, completeUs: at + 5, attempts: 1, lastTo: 1, request: { method: 'Put' as const, request: { key: 'a', value: v } }, reply: { method: 'Put' as const, response: { header: header(revision) } }, outcome: 'ok' as const });
  const read = (id: number, at: number, kv: ReturnType<typeof value>) => ({ client: id, id, to: 1, invokeUs: at, completeUs: at + 5, attempts: 1, lastTo: 1, request: { method: 'Range' as const, request: { key: 'a' } }, reply: { method: 'Range' as const, response: { header: header(kv.modRevision), kvs: [kv], more: false, count: 1 } }, outcome: 'ok' as const });
  const check = (history: unknown[]) => historyLinearizable().finish!({ history } as never);
  t.throws(() => check([put(1, '1', 0, 2), put(2, '2', 10, 3), read(3, 20, value('1', 2, 1))]), { message: /not linearizable/ });
  const timeout = { method: 'Put' as const, error: ErrTimeout };
  const timedOut = { ...put(2, '2', 10, 3), reply: timeout, outcome: kvWorkload(5, 1).outcome(timeout, put(2, '2', 10, 3).request) };
  t.is(timedOut.outcome, 'unknown');
  t.notThrows(() => check([put(1, '1', 0, 2), timedOut, read(3, 20, value('2', 3, 2))]));
});
