import test from 'ava';
import fc from 'fast-check';
import { etcdScenarios } from './etcd.ts';

/*
 * The etcd family as a property: for any seed, scenario, amount of client work and fault
 * intensity, a run passes every check (Raft's, the members' cross-node checks, the clients'
 * history against etcd's model) and the cluster serves every client again within the stated
 * liveness bound once the faults stop. fast-check prints the seed and path of a failing case,
 * and shrinks it towards fewer operations, calmer faults and a lower seed; the run it names
 * replays with the same tuning.
 */
test('any seed, scenario, workload size and fault intensity: every check holds and the cluster is live after the faults', (t) => {
  fc.assert(
    fc.property(
      fc.nat(1_000_000),
      fc.constantFrom(...etcdScenarios.filter((scenario) => scenario.expect === 'pass').map((scenario) => scenario.name)),
      fc.integer({ min: 5, max: 200 }),
      fc.integer({ min: 300_000, max: 4_000_000 }),
      (seed, name, operationsPerClientMax, meanGapUs) => {
        const scenario = etcdScenarios.find((s) => s.name === name)!.tune({ operationsPerClientMax, meanGapUs, faultUsMax: 2 * meanGapUs });
        const { result } = scenario.prepare(seed).execute();
        if (!result.ok) throw new Error(`${name} seed ${seed} (${operationsPerClientMax} calls per client, a fault every ${meanGapUs} µs): ${result.violation!.message}`);
        return result.stopReason === 'live';
      },
    ),
    { numRuns: 6 },
  );
  t.pass();
});
