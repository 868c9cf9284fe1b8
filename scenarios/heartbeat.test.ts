import test from 'ava';
import type { NodeReady } from '../core/host/node.ts';
import { Simulation } from '../sim/simulation.ts';
import { HeartbeatNode, heartbeatProtocol, heartbeatSafety, type Heartbeat, type HeartbeatReply } from '../sim/testing/heartbeat.ts';
import { compareRuns } from './determinism.ts';
import { heartbeatScenarios } from './heartbeat.ts';

const scenario = (name: string) => heartbeatScenarios.find((s) => s.name === name)!;

for (const each of heartbeatScenarios) {
  const verb = each.expect === 'pass' ? 'pass' : 'catch the bug';
  test(`${each.name}: seeds 0-3 ${verb} and replay to the same trace`, (t) => {
    for (let seed = 0; seed < 4; seed++) {
      const first = each.prepare(seed).execute();
      t.is(first.result.ok, each.expect === 'pass', `seed ${seed}: ${first.result.violation?.message}`);
      const second = each.prepare(seed).execute();
      t.true(compareRuns(first, second).deterministic, `seed ${seed} is not deterministic`);
    }
  });
}

/**
 * The bug the kernel benchmark found (its seed 1): ready() handed out the node's own batch arrays
 * and cleared them only in advance(), so a tick that arrived during a slow sync added its write
 * and its messages to the Ready in flight: the messages left before their write was durable, and
 * the write was never written. Pinned here to the scenario seed that catches it.
 */
class SharedBatchNode extends HeartbeatNode {
  private out = false;
  override hasReady(): boolean {
    return !this.out && (this.writes.length > 0 || this.messages.length > 0 || this.replies.length > 0);
  }
  override ready(): NodeReady<Heartbeat, HeartbeatReply> {
    this.out = true;
    return { writes: this.writes, mustSync: this.writes.length > 0, messages: this.messages, replies: this.replies };
  }
  override advance(): void {
    this.out = false;
    this.writes = [];
    this.messages = [];
    this.replies = [];
  }
}

test('regression: a Ready that shares its batches with later input is caught (heartbeat-crashes, seed 0)', (t) => {
  const prepared = scenario('heartbeat-crashes').prepare(0);
  const buggy = new Simulation(prepared.options, { protocol: { ...heartbeatProtocol, start: (config) => new SharedBatchNode(config) }, observers: [heartbeatSafety()] }).run();
  t.false(buggy.ok);
  t.regex(buggy.violation!.message, /sent counter \d+ to \d+ after already sending/);
  t.true(prepared.execute().result.ok, 'the fixed node passes the same seed');
});
