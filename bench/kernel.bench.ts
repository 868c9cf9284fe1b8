/**
 * The simulator kernel's speed: delivered events per wall second for 5 heartbeat nodes with every
 * fault class on. Baseline, measured in the same run: a bare binary heap pushing and popping the
 * same number of (time, seq) events, the floor under any discrete-event loop.
 */
import { ratio } from '../core/base/ratio.ts';
import { RandomStreams } from '../sim/rng.ts';
import { Scheduler } from '../sim/scheduler.ts';
import { defaultSimOptions, type SimOptions } from '../sim/options.ts';
import { Simulation } from '../sim/simulation.ts';
import { drawSwarm, fullSwarmSpace } from '../sim/swarm.ts';
import { heartbeatProtocol, heartbeatSafety, heartbeatWorkload } from '../sim/testing/heartbeat.ts';

const simulatedUs = 600_000_000; // ten simulated minutes per run
const seeds = [1, 2, 3];
/** Rounds over the seeds; the median round is reported (a shared machine is noisy). */
const rounds = 5;

function kernelRun(seed: number): { events: number; wallMs: number } {
  const base: SimOptions = { ...defaultSimOptions, seed, nodeCount: 5, timeLimitUs: simulatedUs, eventLimit: 100_000_000, tickIntervalUs: 10_000 };
  const space = { ...fullSwarmSpace, lossMax: ratio(5, 100) };
  const random = new RandomStreams(seed).stream('swarm');
  // Every fault class on: draw until the swarm picks them all would bias; instead force them.
  const draw = drawSwarm(random, base, { ...space }, { startUs: 1_000_000, quietAtUs: simulatedUs - 10_000_000, meanGapUs: 500_000, faultUsMax: 2_000_000 }, [1, 2, 3, 4, 5]);
  const options: SimOptions = {
    ...draw.options,
    network: { ...draw.options.network, loss: ratio(2, 100), duplicate: ratio(2, 100), tail: ratio(2, 100), tailUsMax: 50_000 },
    disk: { ...draw.options.disk, tornWrite: ratio(1, 2) },
    clock: { offsetUsMax: 1_000_000, driftPpmMax: 50_000, tickBurstMax: 4 },
  };
  const sim = new Simulation(options, { protocol: heartbeatProtocol, workload: heartbeatWorkload(4, 5), observers: [heartbeatSafety()] });
  const started = performance.now();
  const result = sim.run();
  const wallMs = performance.now() - started;
  if (!result.ok) throw new Error(`bench run failed: ${result.violation?.message}`);
  return { events: result.events, wallMs };
}

function heapBaseline(events: number): number {
  const scheduler = new Scheduler({ queuedEventsMax: 1_000_000 });
  const random = new RandomStreams(1).stream('bench');
  for (let i = 0; i < 200; i++) scheduler.schedule(random.below(1000), 0, 0, 0, null);
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    scheduler.pop();
    scheduler.schedule(scheduler.nowUs + 1 + (i % 997), 0, 0, 0, null);
  }
  return performance.now() - started;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export function bench(out: (line: string) => void): void {
  kernelRun(99); // warm up the JIT
  kernelRun(98);
  const kernelRates: number[] = [];
  const heapRates: number[] = [];
  let events = 0;
  for (let round = 0; round < rounds; round++) {
    let wallMs = 0;
    events = 0;
    for (const seed of seeds) {
      const run = kernelRun(seed);
      events += run.events;
      wallMs += run.wallMs;
    }
    kernelRates.push((events / wallMs) * 1000);
    heapRates.push((events / heapBaseline(events)) * 1000);
  }
  const kernel = median(kernelRates);
  const heap = median(heapRates);
  out(`kernel, 5 heartbeat nodes, all fault classes on: ${events} events per round, median of ${rounds} rounds ${(kernel / 1e6).toFixed(2)} M events/s (best ${(Math.max(...kernelRates) / 1e6).toFixed(2)}; target ≥ 2.00 M)`);
  out(`baseline, bare (time, seq) heap push+pop: ${(heap / 1e6).toFixed(2)} M events/s`);
  out(`ratio kernel / bare heap: ${(kernel / heap).toFixed(3)}`);
}
