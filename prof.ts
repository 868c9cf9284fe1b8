import { ratio } from './core/base/ratio.ts';
import { RandomStreams } from './sim/rng.ts';
import { defaultSimOptions, type SimOptions } from './sim/options.ts';
import { Simulation } from './sim/simulation.ts';
import { drawSwarm, fullSwarmSpace } from './sim/swarm.ts';
import { heartbeatProtocol, heartbeatSafety, heartbeatWorkload } from './sim/testing/heartbeat.ts';
for (const seed of [1, 2, 3, 4]) {
  const simulatedUs = 600_000_000;
  const base: SimOptions = { ...defaultSimOptions, seed, nodeCount: 5, timeLimitUs: simulatedUs, eventLimit: 100_000_000, tickIntervalUs: 10_000 };
  const draw = drawSwarm(new RandomStreams(seed).stream('swarm'), base, { ...fullSwarmSpace, lossMax: ratio(5, 100) }, { startUs: 1_000_000, quietAtUs: simulatedUs - 10_000_000, meanGapUs: 500_000, faultUsMax: 2_000_000 }, [1, 2, 3, 4, 5]);
  const options: SimOptions = { ...draw.options, network: { ...draw.options.network, loss: ratio(2, 100), duplicate: ratio(2, 100), tail: ratio(2, 100), tailUsMax: 50_000 }, disk: { ...draw.options.disk, tornWrite: ratio(1, 2) }, clock: { offsetUsMax: 1_000_000, driftPpmMax: 50_000, tickBurstMax: 4 } };
  const sim = new Simulation(options, { protocol: heartbeatProtocol, workload: heartbeatWorkload(4, 5), observers: [heartbeatSafety()] });
  const c0 = process.cpuUsage(); const t = performance.now(); const r = sim.run(); const ms = performance.now() - t; const cpu = process.cpuUsage(c0); const cms = (cpu.user + cpu.system) / 1000;
  console.log(seed, r.ok, r.events, (r.events / ms / 1000).toFixed(2), 'M/s wall', (r.events / cms / 1000).toFixed(2), 'M/s cpu');
}
