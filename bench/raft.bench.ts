/**
 * Raft under the simulator: 5 replicated-log nodes under steady proposals (no faults), measured
 * as committed proposals per wall second and simulated seconds per wall second, without and with
 * the safety checkers. Baseline, measured in the same run: the heartbeat kernel's events per wall
 * second, so the ratio says what Raft and its checks cost per simulated event.
 */
import type { Message } from '../core/raft/index.ts';
import { defaultLogReplicaConfig, logProtocol } from '../core/replica/logProtocol.ts';
import type { LogReplica, LogReply, LogRequest } from '../core/replica/logReplica.ts';
import { logHistory } from '../properties/raft/logHistory.ts';
import { raftSafety } from '../properties/raft/raftSafety.ts';
import type { Workload } from '../sim/client.ts';
import { defaultSimOptions, type SimOptions } from '../sim/options.ts';
import { Simulation } from '../sim/simulation.ts';
import type { SimObserver } from '../sim/observer.ts';
import { heartbeatProtocol } from '../sim/testing/heartbeat.ts';

const simulatedUs = 60_000_000;

function steadyAppends(clients: number): Workload<LogRequest, LogReply> {
  let value = 0;
  return {
    name: 'steady appends',
    clientCount: clients,
    operationsPerClientMax: 1_000_000,
    timeoutUs: 1_000_000,
    thinkUsMin: 0,
    thinkUsMax: 0,
    next: (_client, random) => ({ to: 1 + random.below(5), request: { kind: 'append', value: ++value } }),
    outcome: (reply) => (reply.kind === 'error' ? 'fail' : 'ok'),
  };
}

function raftRun(seed: number, checked: boolean) {
  const options: SimOptions = { ...defaultSimOptions, seed, nodeCount: 5, timeLimitUs: simulatedUs, eventLimit: 50_000_000 };
  const observers: SimObserver<Message, LogRequest, LogReply, LogReplica>[] = checked ? [raftSafety(), logHistory()] : [];
  const sim = new Simulation(options, { protocol: logProtocol({ ...defaultLogReplicaConfig, initialVoters: [1, 2, 3, 4, 5] }), workload: steadyAppends(20), observers });
  const started = performance.now();
  const result = sim.run();
  const wallMs = performance.now() - started;
  if (!result.ok) throw new Error(`bench run failed: ${result.violation?.message}`);
  const committed = sim.history.filter((entry) => entry.outcome === 'ok').length;
  return { committed, events: result.events, wallMs, simulatedS: result.simulatedUs / 1e6 };
}

function kernelBaseline(): number {
  const sim = new Simulation({ ...defaultSimOptions, seed: 1, nodeCount: 5, timeLimitUs: 300_000_000, tickIntervalUs: 10_000, eventLimit: 50_000_000 }, { protocol: heartbeatProtocol });
  const started = performance.now();
  const result = sim.run();
  return (result.events / (performance.now() - started)) * 1000;
}

export function bench(out: (line: string) => void): void {
  raftRun(99, false); // warm up
  kernelBaseline();
  const baseline = kernelBaseline();
  for (const checked of [false, true]) {
    const runs = [1, 2, 3].map((seed) => raftRun(seed, checked));
    const committed = runs.reduce((sum, r) => sum + r.committed, 0);
    const events = runs.reduce((sum, r) => sum + r.events, 0);
    const wallMs = runs.reduce((sum, r) => sum + r.wallMs, 0);
    const simulatedS = runs.reduce((sum, r) => sum + r.simulatedS, 0);
    const eventsPerSecond = (events / wallMs) * 1000;
    out(
      `raft, 5 nodes, 20 clients appending, ${checked ? 'with' : 'without'} safety checks: ${Math.round((committed / wallMs) * 1000)} committed proposals/wall s, ` +
        `${(simulatedS / (wallMs / 1000)).toFixed(1)} simulated s/wall s, ${Math.round(eventsPerSecond)} events/s (${Math.round(committed / simulatedS)} proposals per simulated s)`,
    );
    out(`  ratio to the heartbeat kernel's ${Math.round(baseline)} events/s: ${(eventsPerSecond / baseline).toFixed(3)}`);
  }
}
