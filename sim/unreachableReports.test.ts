import test from 'ava';
import { ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';
import type { FaultPlan } from './faults.ts';
import type { SimObserver, UnreachableReports } from './observer.ts';
import { defaultSimOptions, type SimOptions } from './options.ts';
import { Simulation } from './simulation.ts';
import { heartbeatProtocol, heartbeatSafety, type Heartbeat, type HeartbeatNode, type HeartbeatReply, type HeartbeatRequest } from './testing/heartbeat.ts';

/**
 * The network reports an ordinary message it could not hand on to its sender's node
 * (SimParts.unreachableReports), as the runtime's peer transport does: decided at the send (the
 * link cut, the receiver down or paused with a full inbox, the link full), reported at that
 * moment to the incarnation that sent it; never for a message lost on a working link or on its way.
 */

type Sim = Simulation<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode>;
interface Sent {
  readonly node: HeartbeatNode;
  readonly to: NodeId;
  readonly atUs: number;
  /** Whether the link was cut or the receiver down at the send (what the network must report). */
  readonly refused: boolean;
}
interface Report {
  readonly node: HeartbeatNode;
  readonly to: NodeId;
  readonly atUs: number;
}

function options(overrides: Partial<SimOptions>): SimOptions {
  return { ...defaultSimOptions, seed: 11, nodeCount: 5, timeLimitUs: 6_000_000, ...overrides };
}

function reportingRun(opts: SimOptions) {
  const sent: Sent[] = [];
  const reports: Report[] = [];
  let sim: Sim | null = null;
  const unreachableReports: UnreachableReports<HeartbeatNode> = { reportUnreachable: (node, to) => void reports.push({ node, to, atUs: sim!.nowUs }) };
  const observer: SimObserver<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode> = {
    onSend: (from, to, _message, s) => void sent.push({ node: s.node(from)!, to, atUs: s.nowUs, refused: s.network.isCut(from, to) || s.processState(to) === 'down' }),
  };
  sim = new Simulation(opts, { protocol: heartbeatProtocol, observers: [heartbeatSafety(), observer], unreachableReports });
  const result = sim.run();
  return { sim, result, sent, reports };
}

/** Sends and reports as `incarnation:from>to@time` strings, sorted. */
function described(items: readonly { node: HeartbeatNode; to: NodeId; atUs: number }[], incarnations: Map<HeartbeatNode, number>): string[] {
  return items.map((item) => `${incarnations.get(item.node)}:${item.node.id}>${item.to}@${item.atUs}`).sort();
}

test('on a calm network nothing is reported, and a run without reports is the same run', (t) => {
  const run = reportingRun(options({}));
  t.true(run.result.ok, run.result.violation?.message);
  t.true(run.sent.length > 500);
  t.is(run.reports.length, 0);
  t.is(run.sim.stats.unreachableReported, 0);
  t.is(run.result.traceHash, new Simulation(options({}), { protocol: heartbeatProtocol }).run().traceHash);
});

test('a message lost on a working link is not reported: the weather loses messages unreported', (t) => {
  const faults: FaultPlan = [{ atUs: 1_000_000, action: { kind: 'network', loss: ratio(1, 3), duplicate: ratio(1, 5) } }];
  const run = reportingRun(options({ faults }));
  t.true(run.result.ok, run.result.violation?.message);
  t.true(run.sim.network.stats.droppedLoss > 100, `${run.sim.network.stats.droppedLoss} lost`);
  t.is(run.reports.length, 0);
});

test('every message sent into a cut link or to a down node is reported unreachable to its sender at once, once; nothing else is', (t) => {
  const faults: FaultPlan = [
    { atUs: 1_000_000, action: { kind: 'partition', shape: { kind: 'isolate', node: 1 } } },
    { atUs: 2_000_000, action: { kind: 'heal' } },
    { atUs: 2_500_000, action: { kind: 'crash', node: 3 } },
    { atUs: 3_000_000, action: { kind: 'restart', node: 3 } },
    { atUs: 3_200_000, action: { kind: 'partition', shape: { kind: 'one-way', from: 2, to: 4 } } },
    // Held by a stall when the cut comes: written to the connection, lost on the way, not reported.
    { atUs: 3_300_000, action: { kind: 'stall', node: 5, durationUs: 300_000 } },
    { atUs: 3_500_000, action: { kind: 'partition', shape: { kind: 'isolate', node: 5 } } },
    { atUs: 4_000_000, action: { kind: 'quiet' } },
  ];
  const run = reportingRun(options({ faults }));
  t.true(run.result.ok, run.result.violation?.message);
  const incarnations = new Map<HeartbeatNode, number>();
  for (const s of run.sent) if (!incarnations.has(s.node)) incarnations.set(s.node, incarnations.size);
  const refused = run.sent.filter((s) => s.refused);
  t.true(refused.length > 100, `${refused.length} refused`);
  t.true(refused.some((s) => s.to === 3) && refused.some((s) => s.node.id === 2 && s.to === 4), 'a down receiver and a one-way cut');
  t.deepEqual(described(run.reports, incarnations), described(refused, incarnations));
  t.is(run.sim.stats.unreachableReported, refused.length);
  const lostOnTheWay = run.sim.network.stats.droppedDown + run.sim.network.stats.droppedPartition - refused.length;
  t.true(lostOnTheWay > 10, `${lostOnTheWay} lost on their way, unreported`);
});

test('a paused receiver with a full inbox refuses new messages: reported; a full link too', (t) => {
  const faults: FaultPlan = [
    { atUs: 1_000_000, action: { kind: 'pause', node: 2 } },
    { atUs: 2_000_000, action: { kind: 'resume', node: 2 } },
  ];
  const run = reportingRun(options({ faults, inboxMax: 8 }));
  t.true(run.result.ok, run.result.violation?.message);
  t.true(run.sim.stats.inboxDropped > 0, 'the paused inbox overflowed');
  const toPaused = run.reports.filter((r) => r.to === 2);
  t.true(toPaused.length > 10, `${toPaused.length}`);
  t.true(toPaused.every((r) => r.atUs > 1_000_000 && r.atUs < 2_000_000));
  t.true(run.reports.every((r) => r.to === 2), 'only the paused node was refused');
  const full = reportingRun(options({ network: { ...defaultSimOptions.network, inFlightPerLinkMax: 1, latencyUsMin: 50_000, latencyUsMax: 200_000 } }));
  t.true(full.sim.network.stats.droppedFull > 0);
  t.is(full.sim.stats.unreachableReported, full.sim.network.stats.droppedFull);
});
