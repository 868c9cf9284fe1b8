/**
 * etcd under the simulator. The standard scenario (5 members, 16 clients, every fault class on) in
 * simulated seconds per wall second — the goal is at least 100× real time — with the cost of each
 * family of checks shown by turning them on one after another; and client operations checked per
 * wall second end to end (simulated, judged by every check, the history checked against etcd's
 * model). Baseline, measured in the same run: the heartbeat kernel's events per wall second, so
 * the ratios say what the etcd member and its checks cost per simulated event on this machine
 * now, whatever else it is doing.
 */
import type { ServerReply, ServerRequest } from '../core/server/index.ts';
import { etcdHistory } from '../properties/etcd/etcdHistory.ts';
import { checkTypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import { etcdScenarios, type EtcdTuning } from '../scenarios/etcd.ts';
import type { HistoryEntry } from '../sim/client.ts';
import { defaultSimOptions } from '../sim/options.ts';
import { Simulation } from '../sim/simulation.ts';
import { heartbeatProtocol } from '../sim/testing/heartbeat.ts';

const seeds = [1, 2, 3, 4, 5, 6];

function kernelEventsPerSecond(): number {
  const sim = new Simulation({ ...defaultSimOptions, seed: 1, nodeCount: 5, timeLimitUs: 300_000_000, tickIntervalUs: 10_000, eventLimit: 50_000_000 }, { protocol: heartbeatProtocol });
  const started = performance.now();
  const result = sim.run();
  return (result.events / (performance.now() - started)) * 1000;
}

interface Measured {
  readonly simulatedS: number;
  readonly wallS: number;
  /** This process's CPU time: what the runs cost on a machine shared with other work. */
  readonly cpuS: number;
  readonly events: number;
  readonly operations: number;
  readonly checked: number;
}

function measure(name: string, checks: EtcdTuning['checks']): Measured {
  const scenario = etcdScenarios.find((s) => s.name === name)!.tune(checks === undefined ? {} : { checks });
  let simulatedS = 0;
  let wallMs = 0;
  let cpuUs = 0;
  let events = 0;
  let operations = 0;
  let checked = 0;
  for (const seed of seeds) {
    const prepared = scenario.prepare(seed);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const { result, stats } = prepared.execute();
    wallMs += performance.now() - started;
    const used = process.cpuUsage(cpu);
    cpuUs += used.user + used.system;
    if (!result.ok) throw new Error(`bench run ${name} seed ${seed} failed: ${result.violation?.message}`);
    simulatedS += result.simulatedUs / 1e6;
    events += result.events;
    operations += stats.opsOk! + stats.opsFailed! + stats.opsUnknown!;
    checked += stats.historyOperations ?? 0;
  }
  return { simulatedS, wallS: wallMs / 1000, cpuS: cpuUs / 1e6, events, operations, checked };
}

export function bench(out: (line: string) => void): void {
  measure('etcd-standard', undefined); // warm up
  kernelEventsPerSecond();
  const baseline = kernelEventsPerSecond();
  out(`baseline: the heartbeat kernel, ${Math.round(baseline)} events/wall s`);
  const steps: [string, EtcdTuning['checks']][] = [
    ['no checks', { raft: false, members: false, history: false }],
    ["+ Raft's safety checks", { raft: true, members: false, history: false }],
    ["+ the members' cross-node checks", { raft: true, members: true, history: false }],
    ["+ the clients' history (every check)", { raft: true, members: true, history: true }],
  ];
  for (const [label, checks] of steps) {
    const m = measure('etcd-standard', checks);
    const eventsPerSecond = m.events / m.wallS;
    out(
      `etcd-standard (5 members, 16 clients, every fault class), ${label}: ${(m.simulatedS / m.wallS).toFixed(1)} simulated s/wall s (${(m.simulatedS / m.cpuS).toFixed(1)}/CPU s), ` +
        `${Math.round(eventsPerSecond)} events/wall s (${Math.round(m.events / m.simulatedS)} events per simulated s); ratio to the kernel: ${(eventsPerSecond / baseline).toFixed(3)}`,
    );
  }
  for (const name of ['etcd-swarm', 'etcd-calm', 'etcd-compaction', 'etcd-kubernetes']) {
    const histories: (readonly HistoryEntry<ServerRequest, ServerReply>[])[] = [];
    const scenario = etcdScenarios.find((s) => s.name === name)!.tune({ checks: { raft: false, members: false, history: false }, onHistory: (calls) => void histories.push(calls) });
    for (const seed of seeds) scenario.prepare(seed).execute();
    const checkAll = (): { operations: number; ms: number; cpuMs: number } => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      let operations = 0;
      for (const calls of histories) {
        const { history } = etcdHistory(calls);
        operations += history.operations.length;
        if (checkTypedHistory(history).result.verdict !== 'linearizable') throw new Error(`a ${name} history did not check`);
      }
      const used = process.cpuUsage(cpu);
      return { operations, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
    };
    checkAll(); // warm up
    const { operations, ms, cpuMs } = checkAll();
    out(
      `${name}: a run's history (${Math.round(operations / histories.length)} operations on average) converted and checked in ${(ms / histories.length).toFixed(1)} ms ` +
        `(${(cpuMs / histories.length).toFixed(1)} ms CPU; ${Math.round((operations / ms) * 1000)} operations/wall s)`,
    );
  }
  for (const name of ['etcd-standard', 'etcd-calm']) {
    const m = measure(name, undefined);
    out(
      `${name}, end to end: ${Math.round(m.operations / m.wallS)} client operations/wall s simulated and checked (${Math.round(m.checked / m.wallS)}/wall s through the history check; ` +
        `${m.operations} operations in ${m.wallS.toFixed(2)} s over ${seeds.length} seeds; ${Math.round(m.operations / m.cpuS)}/CPU s); ${(m.simulatedS / m.wallS).toFixed(1)} simulated s/wall s`,
    );
  }
}
