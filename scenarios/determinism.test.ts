import test from 'ava';
import type { NodeStart } from '../core/host/node.ts';
import { heartbeatProtocol, HeartbeatNode } from '../sim/testing/heartbeat.ts';
import { executeSimulation, type Scenario } from './scenario.ts';
import { checkDeterminism, compareRuns } from './determinism.ts';
import { defaultSimOptions } from '../sim/options.ts';

/**
 * Hidden state that survives a run: a module-level counter of node starts. A node whose start
 * count passes 4 skips its 30th heartbeat — a stand-in for any global cache, unordered iteration
 * or wall-clock read that makes a run depend on more than its seed.
 */
let nodesStarted = 0;
class LeakyNode extends HeartbeatNode {
  private readonly startNumber: number;
  constructor(config: NodeStart) {
    super(config);
    this.startNumber = ++nodesStarted;
  }
  override tick(): void {
    if (this.startNumber > 4 && this.ticks === 29) {
      this.ticks++;
      return;
    }
    super.tick();
  }
}

test('a nondeterministic node is caught, and the first divergent event is named', (t) => {
  const options = { ...defaultSimOptions, seed: 7, timeLimitUs: 5_000_000 };
  const parts = { protocol: { ...heartbeatProtocol, start: (config: NodeStart) => new LeakyNode(config) }, keepTrail: true };
  const first = executeSimulation(options, parts); // nodes 1-3 start
  const second = executeSimulation(options, parts); // nodes 4-6: "node 1" is start number 4, nodes 2 and 3 misbehave
  const verdict = compareRuns(first, second);
  t.false(verdict.deterministic);
  t.not(verdict.traceHashes[0], verdict.traceHashes[1]);
  // The runs agree up to the 30th tick of node 2 or 3, at about 3 s: the trail names that event.
  t.regex(verdict.firstDivergence!, /^first run event #\d+ at \d+\.\d{6}s: \w+ → #\d+ \(hash [0-9a-f]{8}\); second run event #\d+ at \d+\.\d{6}s/);
  const index = Number(/event #(\d+)/.exec(verdict.firstDivergence!)![1]);
  const atUs = Math.round(Number(/at (\d+\.\d+)s/.exec(verdict.firstDivergence!)![1]) * 1e6);
  t.true(index > 100, 'the runs agreed for a long prefix');
  t.true(atUs >= 2_900_000 && atUs <= 3_200_000, `diverged at ${atUs}us`);
  for (let i = 0; i < index; i++) t.is(first.trace.event(i)!.hash, second.trace.event(i)!.hash);
});

test('the same scenario and seed agree event by event', (t) => {
  const options = { ...defaultSimOptions, seed: 3, timeLimitUs: 3_000_000 };
  const parts = { protocol: heartbeatProtocol, keepTrail: true };
  const verdict = compareRuns(executeSimulation(options, parts), executeSimulation(options, parts));
  t.true(verdict.deterministic);
  t.is(verdict.firstDivergence, null);
});

/** Misbehaves in every second run (3 nodes a run), so that a replay of either run repeats it. */
class AlternatingNode extends HeartbeatNode {
  private readonly evenRun: boolean;
  constructor(config: NodeStart) {
    super(config);
    this.evenRun = Math.floor(nodesStarted++ / 3) % 2 === 1;
  }
  override tick(): void {
    if (this.evenRun && this.id === 2 && this.ticks === 29) {
      this.ticks++;
      return;
    }
    super.tick();
  }
}

test('the determinism report names the first divergent event as run --events does: node, kind, what', (t) => {
  const options = { ...defaultSimOptions, seed: 7, timeLimitUs: 5_000_000 };
  const protocol = { ...heartbeatProtocol, start: (config: NodeStart) => new AlternatingNode(config) };
  const leaky: Scenario = {
    name: 'leaky',
    family: 'test',
    summary: 'a node with module state that survives a run',
    expect: 'pass',
    prepare: () => ({ options, knobs: {}, notes: [], execute: (config) => executeSimulation(options, { protocol }, config) }),
  };
  nodesStarted = 0;
  const verdict = checkDeterminism(leaky, 7);
  t.false(verdict.deterministic);
  // Each run's divergent event comes with its event line: time, node, kind and what it was.
  t.regex(verdict.firstDivergence!, /^first run event #\d+ at [\d.]+s: \w+ → #\d+ \(hash [0-9a-f]{8}\)\n {2}\s*\d+\.\d{6}s {2}n\d +\w+ +\S/);
  t.regex(verdict.firstDivergence!, /\nsecond run event #\d+ .*\n {2}\s*\d+\.\d{6}s {2}n\d +\w+ +\S/s);
  t.false(verdict.firstDivergence!.includes('did not reach the same event'));
  t.log(verdict.firstDivergence);
});
