import test from 'ava';
import { ratio } from '../core/base/ratio.ts';
import type { NodeId } from '../core/host/node.ts';
import type { FaultPlan } from './faults.ts';
import type { SimObserver, SnapshotReports, SnapshotStatus } from './observer.ts';
import { defaultSimOptions, type SimOptions } from './options.ts';
import { Simulation } from './simulation.ts';
import { heartbeatProtocol, heartbeatSafety, type Heartbeat, type HeartbeatNode, type HeartbeatReply, type HeartbeatRequest } from './testing/heartbeat.ts';

/**
 * The network reports each snapshot's fate to its sender (SimParts.snapshotReports), as the
 * runtime's peer transport does: finished once handed to the receiving node, unreachable then
 * failed when lost; once per send, to the incarnation that sent it. Here every fourth heartbeat
 * plays the snapshot.
 */

type Sim = Simulation<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode>;
interface Sent {
  readonly node: HeartbeatNode;
  readonly to: NodeId;
  readonly counter: number;
  readonly atUs: number;
}
interface Report {
  readonly node: HeartbeatNode;
  readonly to: NodeId;
  readonly what: SnapshotStatus | 'unreachable';
  readonly atUs: number;
}

const isSnapshot = (message: Heartbeat): boolean => message.counter % 4 === 0;

function options(overrides: Partial<SimOptions>): SimOptions {
  return { ...defaultSimOptions, seed: 7, timeLimitUs: 6_000_000, ...overrides };
}

function reportingRun(opts: SimOptions, reporting = true) {
  const sent: Sent[] = [];
  /** Snapshots handed to a running node: `${from}>${to}@${atUs}`. */
  const handedOn: string[] = [];
  const reports: Report[] = [];
  let sim: Sim | null = null;
  const snapshotReports: SnapshotReports<Heartbeat, HeartbeatNode> = {
    carriesSnapshot: isSnapshot,
    reportSnapshot: (node, to, status) => void reports.push({ node, to, what: status, atUs: sim!.nowUs }),
    reportUnreachable: (node, to) => void reports.push({ node, to, what: 'unreachable', atUs: sim!.nowUs }),
  };
  const observer: SimObserver<Heartbeat, HeartbeatRequest, HeartbeatReply, HeartbeatNode> = {
    onSend: (from, to, message, s) => void (isSnapshot(message) && sent.push({ node: s.node(from)!, to, counter: message.counter, atUs: s.nowUs })),
    onDeliver: (from, to, message, s) => void (isSnapshot(message) && s.processState(to) === 'up' && handedOn.push(`${from}>${to}@${s.nowUs}`)),
  };
  sim = new Simulation(opts, { protocol: heartbeatProtocol, observers: [heartbeatSafety(), observer], ...(reporting ? { snapshotReports } : {}) });
  const result = sim.run();
  return { sim, result, sent, handedOn, reports, finished: reports.filter((r) => r.what === 'finished'), failed: reports.filter((r) => r.what === 'failed') };
}

test('on a calm network every snapshot is reported finished to its sender when handed on, and nothing fails', (t) => {
  const run = reportingRun(options({}));
  t.true(run.result.ok, run.result.violation?.message);
  t.true(run.finished.length > 50, `${run.finished.length} reports`);
  t.is(run.failed.length + run.reports.filter((r) => r.what === 'unreachable').length, 0);
  const described = run.finished.map((r) => `${r.node.id}>${r.to}@${r.atUs}`).sort();
  t.deepEqual(described, [...run.handedOn].sort());
  t.is(run.sim.stats.snapshotsReportedFinished, run.finished.length);
});

test('a snapshot cut by a partition is reported unreachable, then failed, to its sender at once', (t) => {
  const faults: FaultPlan = [
    { atUs: 2_000_000, action: { kind: 'partition', shape: { kind: 'isolate', node: 1 } } },
    { atUs: 4_000_000, action: { kind: 'heal' } },
  ];
  const run = reportingRun(options({ faults }));
  t.true(run.result.ok, run.result.violation?.message);
  const cut = run.sent.filter((s) => s.atUs > 2_000_000 && s.atUs < 4_000_000 && (s.node.id === 1 || s.to === 1));
  t.true(cut.length >= 16, `${cut.length} snapshots across the cut`);
  for (const s of cut) {
    const at = run.reports.filter((r) => r.node === s.node && r.to === s.to && r.atUs === s.atUs);
    t.deepEqual(at.map((r) => r.what), ['unreachable', 'failed'], `${s.node.id}>${s.to} at ${s.atUs}`);
  }
  t.is(run.failed.length, cut.length, 'nothing else failed');
  t.is(run.sim.stats.snapshotsReportedFailed, cut.length);
});

test('every snapshot is reported once, to the incarnation that sent it: crashes, pauses with a small inbox, loss and partitions', (t) => {
  const faults: FaultPlan = [
    { atUs: 1_000_000, action: { kind: 'network', loss: ratio(1, 5), duplicate: ratio(1, 5) } },
    { atUs: 1_500_000, action: { kind: 'pause', node: 2 } },
    { atUs: 2_000_000, action: { kind: 'crash', node: 3 } },
    { atUs: 2_600_000, action: { kind: 'restart', node: 3 } },
    { atUs: 2_800_000, action: { kind: 'resume', node: 2 } },
    { atUs: 3_000_000, action: { kind: 'partition', shape: { kind: 'one-way', from: 1, to: 2 } } },
    { atUs: 3_500_000, action: { kind: 'pause', node: 1 } },
    { atUs: 3_700_000, action: { kind: 'crash', node: 2 } },
    { atUs: 4_000_000, action: { kind: 'quiet' } },
  ];
  const run = reportingRun(options({ faults, inboxMax: 4 }));
  t.true(run.result.ok, run.result.violation?.message);
  t.true(run.sim.stats.inboxDropped > 0, 'the paused inbox overflowed');
  // Per sender incarnation and receiver: reports never outnumber sends, and every report names a send.
  const incarnations = new Map<HeartbeatNode, number>();
  for (const s of run.sent) if (!incarnations.has(s.node)) incarnations.set(s.node, incarnations.size);
  const count = (items: readonly { node: HeartbeatNode; to: NodeId }[]) => {
    const counts = new Map<string, number>();
    for (const item of items) {
      t.true(incarnations.has(item.node), 'a report goes to an incarnation that sent a snapshot');
      const k = `${incarnations.get(item.node)}:${item.to}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return counts;
  };
  const sends = count(run.sent);
  const reported = count([...run.finished, ...run.failed]);
  let unreported = 0;
  for (const [k, n] of sends) {
    const r = reported.get(k) ?? 0;
    t.true(r <= n, `${k}: ${r} reports for ${n} sends`);
    unreported += n - r;
  }
  // Unreported: sent by an incarnation that crashed before the fate was known, or in flight at the end.
  const crashedSenders = run.sent.filter((s) => s.node !== run.sim.node(s.node.id));
  const late = run.sent.filter((s) => s.node === run.sim.node(s.node.id) && s.atUs > opts6sLate);
  t.true(unreported <= crashedSenders.length + late.length, `${unreported} unreported, ${crashedSenders.length} sent by crashed incarnations, ${late.length} late`);
  t.true(run.failed.length > 10 && run.finished.length > 50, `${run.failed.length} failed, ${run.finished.length} finished`);
  // Each failure is reported unreachable first, at the same moment.
  for (const failure of run.failed) t.true(run.reports.some((r) => r.what === 'unreachable' && r.node === failure.node && r.to === failure.to && r.atUs === failure.atUs));
});

/** Sends after this may still be in flight when a 6 s run ends. */
const opts6sLate = 6_000_000 - defaultSimOptions.network.latencyUsMax - 1;

test('a paused receiver takes its snapshots at resume: they are reported finished then', (t) => {
  const faults: FaultPlan = [
    { atUs: 2_000_000, action: { kind: 'pause', node: 2 } },
    { atUs: 3_000_000, action: { kind: 'resume', node: 2 } },
  ];
  const run = reportingRun(options({ faults }));
  t.true(run.result.ok, run.result.violation?.message);
  const toPaused = run.finished.filter((r) => r.to === 2 && r.atUs > 2_000_000 + 2_000 && r.atUs <= 3_000_000);
  t.true(toPaused.length >= 4, `${toPaused.length}`);
  t.true(toPaused.every((r) => r.atUs === 3_000_000), 'reported when handed on at resume');
  t.is(run.failed.length, 0);
});

test('without snapshot reports, or with nothing that carries a snapshot, the run is the same run', (t) => {
  const faults: FaultPlan = [{ atUs: 2_000_000, action: { kind: 'partition', shape: { kind: 'isolate', node: 1 } } }];
  const plain = new Simulation(options({ faults }), { protocol: heartbeatProtocol }).run().traceHash;
  const none: SnapshotReports<Heartbeat, HeartbeatNode> = { carriesSnapshot: () => false, reportSnapshot: () => t.fail(), reportUnreachable: () => t.fail() };
  t.is(new Simulation(options({ faults }), { protocol: heartbeatProtocol, snapshotReports: none }).run().traceHash, plain);
  t.not(reportingRun(options({ faults })).result.traceHash, plain, 'reports are events of the trace');
});
