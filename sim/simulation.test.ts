import test from 'ava';
import { ratio } from '../core/base/ratio.ts';
import type { NodeId, NodeProtocol } from '../core/host/node.ts';
import type { FaultPlan } from './faults.ts';
import { defaultSimOptions, type SimOptions } from './options.ts';
import { Simulation } from './simulation.ts';
import type { SimObserver } from './observer.ts';
import {
  heartbeatLiveness,
  heartbeatProtocol,
  heartbeatSafety,
  HeartbeatNode,
  type Heartbeat,
  type HeartbeatReply,
  type HeartbeatRequest,
} from './testing/heartbeat.ts';

type Observer = SimObserver<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode>;

function options(overrides: Partial<SimOptions>): SimOptions {
  return { ...defaultSimOptions, seed: 1, timeLimitUs: 10_000_000, ...overrides };
}

function simulate(opts: SimOptions, observers: Observer[] = [], protocol: NodeProtocol<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode> = heartbeatProtocol) {
  const sim = new Simulation(opts, { protocol, observers: [heartbeatSafety(), ...observers], keepTrail: true });
  return { sim, result: sim.run() };
}

/** Records every send and delivery of heartbeats with their times. */
function recorder() {
  const sent: { from: NodeId; to: NodeId; counter: number; atUs: number }[] = [];
  const delivered = new Set<string>();
  const observer: Observer = {
    onSend: (from, to, message, sim) => void sent.push({ from, to, counter: message.counter, atUs: sim.nowUs }),
    onDeliver: (from, to, message) => void delivered.add(`${from}>${to}#${message.counter}`),
  };
  return { sent, delivered, observer, wasDelivered: (m: { from: NodeId; to: NodeId; counter: number }) => delivered.has(`${m.from}>${m.to}#${m.counter}`) };
}

test('a partition drops the messages that cross it and no others', (t) => {
  const faults: FaultPlan = [
    { atUs: 2_000_000, action: { kind: 'partition', shape: { kind: 'isolate', node: 1 } } },
    { atUs: 4_000_000, action: { kind: 'heal' } },
  ];
  const record = recorder();
  const { result, sim } = simulate(options({ faults, timeLimitUs: 6_000_000 }), [record.observer]);
  t.true(result.ok, result.violation?.message);
  const crosses = (m: { from: NodeId; to: NodeId }) => m.from === 1 || m.to === 1;
  const latencyMax = defaultSimOptions.network.latencyUsMax;
  let crossingDuringPartition = 0;
  for (const message of record.sent) {
    if (message.atUs + latencyMax > 5_900_000) continue; // may still be in flight at the end
    if (!crosses(message)) t.true(record.wasDelivered(message), 'links inside the majority are untouched');
    else if (message.atUs >= 2_000_000 && message.atUs < 4_000_000) {
      crossingDuringPartition++;
      t.false(record.wasDelivered(message), 'nothing crosses the cut');
    } else if (message.atUs + latencyMax < 2_000_000 || message.atUs >= 4_000_000) t.true(record.wasDelivered(message));
  }
  t.true(crossingDuringPartition >= 70, `${crossingDuringPartition} crossing messages`);
  t.is(sim.network.stats.droppedLoss + sim.network.stats.droppedFull + sim.network.stats.droppedDown, 0);
});

test('an asymmetric cut drops one direction only', (t) => {
  const record = recorder();
  const faults: FaultPlan = [{ atUs: 1_000_000, action: { kind: 'partition', shape: { kind: 'one-way', from: 2, to: 3 } } }];
  simulate(options({ faults, timeLimitUs: 3_000_000 }), [record.observer]);
  const late = record.sent.filter((m) => m.atUs >= 1_000_000 && m.atUs < 2_900_000);
  t.true(late.filter((m) => m.from === 2 && m.to === 3).every((m) => !record.wasDelivered(m)));
  t.true(late.filter((m) => m.from === 3 && m.to === 2).every((m) => record.wasDelivered(m)));
});

test('a crash loses exactly the unsynced writes, and the restarted node resumes from what was synced', (t) => {
  let unsyncedBeforeCrash = -1;
  let lostBefore = 0;
  let durableCounterAtCrash = -1;
  const observer: Observer = {
    afterEvent(sim) {
      // Remember the disk as it is before each event; the crash event reads it.
      unsyncedBeforeCrash = sim.disk(2).unsyncedWrites;
      lostBefore = sim.disk(2).stats.writesLost;
    },
    onCrash(node, sim) {
      if (node !== 2) return;
      t.is(sim.disk(2).stats.writesLost - lostBefore, unsyncedBeforeCrash, 'every unsynced write is lost');
      const records = sim.disk(2).durableRecords('counter') as Heartbeat[];
      durableCounterAtCrash = records.at(-1)!.counter;
    },
    onRestart(node, sim) {
      if (node === 2) t.is(sim.node(2)!.counter, durableCounterAtCrash, 'the counter comes back as synced');
    },
  };
  // Slow syncs, so that the crash finds writes in flight.
  const slowDisk = { ...defaultSimOptions.disk, syncLatencyUsMin: 40_000, syncLatencyUsMax: 80_000 };
  const faults: FaultPlan = [
    { atUs: 2_345_678, action: { kind: 'crash', node: 2 } },
    { atUs: 3_000_000, action: { kind: 'restart', node: 2 } },
  ];
  const { result, sim } = simulate(options({ faults, disk: slowDisk, timeLimitUs: 4_000_000 }), [observer]);
  t.true(result.ok, result.violation?.message);
  t.true(unsyncedBeforeCrash >= 0 && durableCounterAtCrash > 0);
  t.is(sim.stats.crashes, 1);
  t.is(sim.stats.restarts, 1);
});

test('a disk stall holds the sync already in flight when it begins, and those begun during it, until its end', (t) => {
  // Syncs take 300 ms, and node 2 writes every tick: a sync is in flight when the stall begins at
  // 2.05 s, due within it. Before, only syncs begun during the stall waited; the one in flight
  // completed at its own time, as if the disk had not stalled.
  const slowDisk = { ...defaultSimOptions.disk, syncLatencyUsMin: 300_000, syncLatencyUsMax: 300_000 };
  const stall = { fromUs: 2_050_000, untilUs: 3_050_000 };
  const faults: FaultPlan = [{ atUs: stall.fromUs, action: { kind: 'disk-stall', node: 2, durationUs: stall.untilUs - stall.fromUs } }];
  const completions: { atUs: number; node: NodeId }[] = [];
  const syncsBefore = new Map<NodeId, number>();
  let inFlightAtStall = -1;
  const observer: Observer = {
    afterEvent(sim) {
      for (const node of [1, 2] as const) {
        const syncs = sim.disk(node).stats.syncs;
        if (syncs !== (syncsBefore.get(node) ?? 0)) completions.push({ atUs: sim.nowUs, node });
        syncsBefore.set(node, syncs);
      }
    },
    onFault(action, sim) {
      if (action.kind === 'disk-stall') inFlightAtStall = sim.disk(2).unsyncedWrites;
    },
  };
  const { result, sim } = simulate(options({ faults, disk: slowDisk, timeLimitUs: 4_000_000 }), [observer]);
  t.true(result.ok, result.violation?.message);
  t.true(inFlightAtStall > 0, 'a sync was in flight when the stall began');
  const node2 = completions.filter((c) => c.node === 2).map((c) => c.atUs);
  t.deepEqual(node2.filter((at) => at > stall.fromUs && at < stall.untilUs), [], 'no sync of the stalled disk completes inside the stall');
  t.true(node2.includes(stall.untilUs), 'the held syncs complete at the stall\'s end');
  t.true(node2.some((at) => at > stall.untilUs), 'syncs go on after it');
  t.true(completions.some((c) => c.node === 1 && c.atUs > stall.fromUs && c.atUs < stall.untilUs), "another node's disk is not stalled");
  t.is(sim.stats.diskStalls, 1);
});

test('a paused process handles nothing until resumed, then what waited for it', (t) => {
  const states: { atUs: number; ticks: number; heardFrom3: number }[] = [];
  const sentByNode2: number[] = [];
  const observer: Observer = {
    afterEvent(sim) {
      const node = sim.node(2)!;
      states.push({ atUs: sim.nowUs, ticks: node.ticks, heardFrom3: node.heard[3]! });
    },
    onSend(from, _to, _message, sim) {
      if (from === 2) sentByNode2.push(sim.nowUs);
    },
  };
  const faults: FaultPlan = [
    { atUs: 2_000_000, action: { kind: 'pause', node: 2 } },
    { atUs: 4_000_000, action: { kind: 'resume', node: 2 } },
  ];
  const { result, sim } = simulate(options({ faults, timeLimitUs: 5_000_000 }), [observer]);
  t.true(result.ok, result.violation?.message);
  const during = states.filter((s) => s.atUs > 2_000_000 && s.atUs < 4_000_000);
  t.true(during.length > 50, 'the world went on meanwhile');
  t.true(during.every((s) => s.ticks === during[0]!.ticks && s.heardFrom3 === during[0]!.heardFrom3), 'no tick or message was handled');
  t.false(sentByNode2.some((at) => at > 2_000_000 + 2_000 && at < 4_000_000), 'nothing was sent while paused');
  const resumed = states.find((s) => s.atUs === 4_000_000 && s.ticks > during[0]!.ticks);
  t.truthy(resumed, 'the waiting tick is handled at resume');
  t.is(resumed!.ticks, during[0]!.ticks + 1, 'one tick waited; the ticker dropped the rest');
  t.true(resumed!.heardFrom3 > during[0]!.heardFrom3, 'queued messages are handled at resume');
  t.is(sim.stats.pauses, 1);
});

test('a drifting clock fires ticks at the drifted rate; its peers keep theirs', (t) => {
  const faults: FaultPlan = [{ atUs: 0, action: { kind: 'clock-drift', node: 1, driftPpm: 100_000 } }];
  const { sim } = simulate(options({ faults, timeLimitUs: 20_000_000 }));
  t.is(sim.node(2)!.ticks, 200);
  t.true(Math.abs(sim.node(1)!.ticks - 220) <= 1, `node 1 ticked ${sim.node(1)!.ticks} times`);
});

test('a clock jump forward fires owed ticks in a burst, capped; backward stalls ticks', (t) => {
  const faults: FaultPlan = [
    { atUs: 1_000_000, action: { kind: 'clock-jump', node: 1, deltaUs: 5_000_000 } },
    { atUs: 1_000_000, action: { kind: 'clock-jump', node: 2, deltaUs: -5_000_000 } },
  ];
  const clock = { ...defaultSimOptions.clock, tickBurstMax: 4 };
  const { sim } = simulate(options({ faults, clock, timeLimitUs: 10_000_000 }));
  t.true(Math.abs(sim.node(1)!.ticks - 104) <= 1, `node 1: ${sim.node(1)!.ticks}`);
  t.true(Math.abs(sim.node(2)!.ticks - 50) <= 1, `node 2: ${sim.node(2)!.ticks}`);
  t.true(Math.abs(sim.node(3)!.ticks - 100) <= 1);
});

test('the same seed gives the same trace; different seeds give different traces', (t) => {
  const lossy = { ...defaultSimOptions.network, loss: ratio(1, 10), duplicate: ratio(1, 10) };
  const run = (seed: number) => simulate(options({ seed, network: lossy, timeLimitUs: 3_000_000 })).result.traceHash;
  t.is(run(5), run(5));
  const hashes = new Set([1, 2, 3, 4, 5, 6].map(run));
  t.is(hashes.size, 6);
});

test('the quiet fault heals everything, and liveness is required within its bound', (t) => {
  const faults: FaultPlan = [
    { atUs: 1_000_000, action: { kind: 'crash', node: 1 } },
    { atUs: 1_000_000, action: { kind: 'pause', node: 2 } },
    { atUs: 1_000_000, action: { kind: 'partition', shape: { kind: 'split', side: [3] } } },
    { atUs: 2_000_000, action: { kind: 'quiet' } },
  ];
  const sim = new Simulation(options({ faults }), { protocol: heartbeatProtocol, liveness: heartbeatLiveness(1_000_000) });
  const result = sim.run();
  t.true(result.ok, result.violation?.message);
  t.is(result.stopReason, 'live');
  t.true(result.convergedAfterUs! <= 1_000_000);
  t.deepEqual(sim.members.map((id) => sim.processState(id)), ['up', 'up', 'up']);
  t.deepEqual(sim.network.cutLinks(), []);
});

test('a cluster that does not recover fails the liveness check with its description', (t) => {
  /** Nodes that go mute once they have ticked 20 times: the cluster never hears fresh heartbeats. */
  class MuteNode extends HeartbeatNode {
    override tick(): void {
      if (this.ticks < 20) super.tick();
    }
  }
  const protocol = { ...heartbeatProtocol, start: (config: Parameters<typeof heartbeatProtocol.start>[0]) => new MuteNode(config) };
  const sim = new Simulation(options({ faults: [{ atUs: 3_000_000, action: { kind: 'quiet' } }] }), { protocol, liveness: heartbeatLiveness(1_000_000) });
  const result = sim.run();
  t.false(result.ok);
  t.regex(result.violation!.message, /liveness: "every node hears a fresh heartbeat from every peer" did not hold within 1000000us/);
});

test('a run that exceeds its event limit fails instead of running on', (t) => {
  const { result } = simulate(options({ eventLimit: 500 }));
  t.false(result.ok);
  t.is(result.stopReason, 'violation');
  t.regex(result.violation!.message, /event limit of 500 reached/);
});

test('an assertion inside a node ends the run as a violation with the time and event', (t) => {
  class FaultyNode extends HeartbeatNode {
    override tick(): void {
      if (this.id === 2 && this.ticks === 7) throw new Error('boom');
      super.tick();
    }
  }
  const protocol = { ...heartbeatProtocol, start: (config: Parameters<typeof heartbeatProtocol.start>[0]) => new FaultyNode(config) };
  const { result } = simulate(options({}), [], protocol);
  t.false(result.ok);
  t.regex(result.violation!.message, /Error: boom/);
  t.true(result.violation!.timeUs > 700_000 && result.violation!.timeUs <= 800_000);
});
