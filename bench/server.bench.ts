/**
 * The etcd member under the simulator: 5 members, 20 clients writing and reading keys (puts,
 * txns, linearizable and serializable ranges), no faults, measured as operations per wall second
 * and simulated seconds per wall second. Baseline, measured in the same run: the replicated log
 * (core/replica) under the same clients appending and reading, so the ratio says what the etcd
 * member costs over bare Raft per operation: its request handling, MVCC store, backend and WAL.
 * (The standard scenario with every fault class and the history checks is the etcd family's bench.)
 */
import type { Random } from '../core/base/random.ts';
import type { ClientId } from '../core/host/node.ts';
import { defaultLogReplicaConfig, logProtocol } from '../core/replica/logProtocol.ts';
import type { LogReply, LogRequest } from '../core/replica/logReplica.ts';
import { etcdProtocol, etcdServerConfig, isErrorReply, type ServerReply, type ServerRequest } from '../core/server/index.ts';
import type { Workload } from '../sim/client.ts';
import { defaultSimOptions, type SimOptions } from '../sim/options.ts';
import { Simulation } from '../sim/simulation.ts';

const simulatedUs = 30_000_000;
const clients = 20;
const members = [1, 2, 3, 4, 5];

export function kvWorkload(): Workload<ServerRequest, ServerReply> {
  let value = 0;
  return {
    name: 'kv',
    clientCount: clients,
    operationsPerClientMax: 1_000_000,
    timeoutUs: 1_000_000,
    thinkUsMin: 0,
    thinkUsMax: 0,
    next(_client: ClientId, random: Random) {
      const to = 1 + random.below(5);
      const key = `key${random.below(100)}`;
      const roll = random.below(10);
      if (roll < 5) return { to, request: { method: 'Put', request: { key, value: `${++value}` } } };
      if (roll < 6) return { to, request: { method: 'Txn', request: { compare: [{ key, target: 'MOD', result: 'GREATER', modRevision: 0 }], success: [{ requestPut: { key, value: `${++value}` } }] } } };
      if (roll < 9) return { to, request: { method: 'Range', request: { key } } };
      return { to, request: { method: 'Range', request: { key, serializable: true } } };
    },
    outcome: (reply) => (isErrorReply(reply) ? 'fail' : 'ok'),
  };
}

export function logWorkload(): Workload<LogRequest, LogReply> {
  let value = 0;
  return {
    name: 'log',
    clientCount: clients,
    operationsPerClientMax: 1_000_000,
    timeoutUs: 1_000_000,
    thinkUsMin: 0,
    thinkUsMax: 0,
    next: (_client, random) => ({ to: 1 + random.below(5), request: random.below(10) < 6 ? { kind: 'append', value: ++value } : { kind: 'read' } }),
    outcome: (reply) => (reply.kind === 'error' ? 'fail' : 'ok'),
  };
}

interface Measured {
  readonly ok: number;
  readonly events: number;
  readonly wallMs: number;
  readonly simulatedS: number;
}

function options(seed: number): SimOptions {
  return { ...defaultSimOptions, seed, nodeCount: 5, timeLimitUs: simulatedUs, eventLimit: 50_000_000 };
}

function measure(run: () => { ok: boolean; events: number; simulatedUs: number; served: number }): Measured {
  const started = performance.now();
  const result = run();
  const wallMs = performance.now() - started;
  if (!result.ok) throw new Error('bench run failed');
  return { ok: result.served, events: result.events, wallMs, simulatedS: result.simulatedUs / 1e6 };
}

function etcdRun(seed: number): Measured {
  return measure(() => {
    const sim = new Simulation(options(seed), { protocol: etcdProtocol(etcdServerConfig(members)), workload: kvWorkload() });
    const result = sim.run();
    return { ...result, served: sim.history.filter((entry) => entry.outcome === 'ok').length };
  });
}

function logRun(seed: number): Measured {
  return measure(() => {
    const sim = new Simulation(options(seed), { protocol: logProtocol({ ...defaultLogReplicaConfig, initialVoters: members }), workload: logWorkload() });
    const result = sim.run();
    return { ...result, served: sim.history.filter((entry) => entry.outcome === 'ok').length };
  });
}

function total(runs: readonly Measured[]): Measured {
  return runs.reduce((sum, run) => ({ ok: sum.ok + run.ok, events: sum.events + run.events, wallMs: sum.wallMs + run.wallMs, simulatedS: sum.simulatedS + run.simulatedS }));
}

export function bench(out: (line: string) => void): void {
  etcdRun(99); // warm up both
  logRun(99);
  // Interleaved rounds, so a change in the machine's load hits both alike.
  const etcd: Measured[] = [];
  const log: Measured[] = [];
  for (const seed of [1, 2, 3]) {
    etcd.push(etcdRun(seed));
    log.push(logRun(seed));
  }
  const e = total(etcd);
  const l = total(log);
  const perSecond = (m: Measured) => (m.ok / m.wallMs) * 1000;
  out(`etcd member, 5 members, ${clients} clients (puts, txns, ranges), no faults: ${Math.round(perSecond(e))} ops/wall s, ${(e.simulatedS / (e.wallMs / 1000)).toFixed(1)} simulated s/wall s, ${Math.round(e.ok / e.simulatedS)} ops per simulated s`);
  out(`baseline, the replicated log under the same clients: ${Math.round(perSecond(l))} ops/wall s, ${(l.simulatedS / (l.wallMs / 1000)).toFixed(1)} simulated s/wall s, ${Math.round(l.ok / l.simulatedS)} ops per simulated s`);
  out(`  ratio, etcd member to replicated log, wall time per operation: ${(perSecond(l) / perSecond(e)).toFixed(2)}`);
}
