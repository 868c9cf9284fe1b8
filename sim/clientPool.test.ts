import test from 'ava';
import { ratio } from '../core/base/ratio.ts';
import type { Workload } from './client.ts';
import type { FaultPlan } from './faults.ts';
import { defaultSimOptions } from './options.ts';
import { Simulation } from './simulation.ts';
import { heartbeatProtocol, heartbeatWorkload, type HeartbeatReply, type HeartbeatRequest } from './testing/heartbeat.ts';

/** One client reading node 1 first, then retrying on the next node, as a client library with connections does. */
function retryingWorkload(overrides: Partial<Workload<HeartbeatRequest, HeartbeatReply>> = {}): Workload<HeartbeatRequest, HeartbeatReply> {
  return {
    ...heartbeatWorkload(1, 3),
    operationsPerClientMax: 20,
    connections: true,
    next: () => ({ to: 1, request: { kind: 'read' } }),
    retry: (_client, _request, reply, attempt) => (reply === null ? { to: 1 + (attempt % 3), afterUs: 25_000 } : null),
    ...overrides,
  };
}

function run(workload: Workload<HeartbeatRequest, HeartbeatReply>, faults: FaultPlan, network = defaultSimOptions.network) {
  const sim = new Simulation({ ...defaultSimOptions, seed: 3, timeLimitUs: 5_000_000, faults, network }, { protocol: heartbeatProtocol, workload });
  const result = sim.run();
  return { sim, result };
}

test('a request to a crashed machine is refused at once, and the client retries on the next node within the same operation', (t) => {
  const { sim, result } = run(retryingWorkload(), [{ atUs: 0, action: { kind: 'crash', node: 1 } }]);
  t.true(result.ok, result.violation?.message);
  const served = sim.history.filter((entry) => entry.outcome === 'ok');
  t.true(served.length >= 10);
  for (const entry of served) {
    t.is(entry.attempts, 2, 'refused by node 1, answered by node 2');
    t.is(entry.lastTo, 2);
    t.is(entry.reply!.node, 2);
    t.true(entry.completeUs! - entry.invokeUs < 100_000, 'well before the timeout');
  }
});

test('an operation whose every attempt was refused fails for sure when its deadline passes; one still in flight stays unknown', (t) => {
  const allDown: FaultPlan = [1, 2, 3].map((node) => ({ atUs: 0, action: { kind: 'crash', node } }));
  const refused = run(retryingWorkload(), allDown);
  const ended = refused.sim.history.filter((entry) => entry.completeUs !== null);
  t.true(ended.length >= 5);
  for (const entry of ended) t.is(entry.outcome, 'fail');
  t.true(ended.every((entry) => entry.attempts > 10), 'it kept retrying until the deadline');

  const paused = run(retryingWorkload(), [{ atUs: 0, action: { kind: 'pause', node: 1 } }]);
  const answered = paused.sim.history.filter((entry) => entry.completeUs !== null || entry.outcome !== 'unknown');
  t.is(answered.length, 0, 'a paused node neither answers nor refuses');
  t.true(paused.sim.history.every((entry) => entry.outcome === 'unknown' && entry.attempts === 1));
});

test("clients with connections see neither loss nor duplication of their requests and replies; the nodes' links still do", (t) => {
  const network = { ...defaultSimOptions.network, loss: ratio(30, 100), duplicate: ratio(30, 100) };
  const { sim } = run({ ...retryingWorkload(), next: (_client, random) => ({ to: 1 + random.below(3), request: { kind: 'read' } }) }, [], network);
  t.true(sim.history.length >= 10);
  t.true(sim.history.every((entry) => entry.outcome === 'ok' && entry.attempts === 1));
  t.true(sim.network.stats.droppedLoss > 0 && sim.network.stats.duplicated > 0, 'heartbeats between nodes met the weather');
});
