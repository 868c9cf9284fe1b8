import test from 'ava';
import { formatRatio, never, ratio, type Ratio } from '../core/base/ratio.ts';
import { calmDisk } from '../sim/disk.ts';
import { describeFault, type FaultPlan } from '../sim/faults.ts';
import { calmNetwork } from '../sim/network.ts';
import { steadyClocks } from '../sim/options.ts';
import { calmSteps, caseOfRun, caseSize, type RunCase } from './case.ts';
import { findScenario } from './index.ts';
import { failureSignature, smaller } from './shrink.ts';
import { calmerMagnitudes, calmerRatios, resumeOf, shrinkCandidates, type ShrinkCandidate } from './shrinkCandidates.ts';

/** raft-crashes seed 3 as a case: several clients with several operations each, and faults. */
function aCase(): RunCase {
  const scenario = findScenario('raft-crashes')!;
  const prepared = scenario.prepare(3);
  return caseOfRun(scenario.name, {}, prepared, prepared.execute({ recordWorkload: true }));
}

const hints = { violationUs: null, causeUs: null, sidewaysLeft: 0 };
const removeOperationsStage = 3;
const operationsRemoved = (original: RunCase, candidate: ShrinkCandidate): number => caseSize(original).operations - caseSize(candidate.candidate).operations;

test('a full pass removes operations in halves first; a pass resumed at chunk size 1 removes single operations from the start (delta debugging keeps its granularity)', (t) => {
  const original = aCase();
  const { operations, clients } = caseSize(original);
  t.true(operations >= 20 && clients >= 2, JSON.stringify(caseSize(original)));

  const full = [...shrinkCandidates(original, hints, { stage: removeOperationsStage, chunk: Infinity })].filter((c) => c.resume.stage === removeOperationsStage);
  t.true(operationsRemoved(original, full[0]!) > 1, 'the first cut takes a half from every client');
  t.true(full.some((c) => c.resume.chunk === 1));

  const resumed = [...shrinkCandidates(original, hints, { stage: removeOperationsStage, chunk: 1 })];
  const firstTurn = resumed.slice(0, resumed.findIndex((c) => c.resume.stage !== removeOperationsStage));
  t.true(firstTurn.length > 0);
  for (const candidate of firstTurn) {
    t.is(candidate.resume.chunk, 1);
    t.true(operationsRemoved(original, candidate) >= 1 && operationsRemoved(original, candidate) <= clients, 'one operation from one client, or from each');
  }
  // The stage comes round once per round; the big cuts come back when another stage steps down.
  const laterTurn = resumed.slice(firstTurn.length).filter((c) => c.resume.stage === removeOperationsStage);
  t.is(laterTurn.length, 0);
  t.true(resumed.some((c) => c.resume.stage !== removeOperationsStage && c.resume.chunk > 1 && c.resume.chunk !== Infinity), 'other chunked stages start from their halves');
});

test("fast-check's shrink context reads back as the resume point; anything else starts a full pass", (t) => {
  t.deepEqual(resumeOf({ stage: 5, chunk: 2 }), { stage: 5, chunk: 2 });
  t.is(resumeOf(undefined), undefined);
  t.is(resumeOf(3), undefined);
});

test('a violation seen a bound after its cause (a read never answered) is cut at the cause: nothing invoked later, the run still long enough for the check to fire', (t) => {
  const original = aCase();
  const invokes = original.workload.clients.flat().map((operation) => operation.invokeUs ?? 0).sort((a, b) => a - b);
  const causeUs = invokes[Math.floor(invokes.length / 2)]!;
  const violationUs = causeUs + 1_000_000;
  const firstStage = (causeHint: number | null): RunCase[] => [...shrinkCandidates(original, { ...hints, violationUs, causeUs: causeHint })].filter((c) => c.resume.stage === 0).map((c) => c.candidate);
  const invokedBy = (runCase: RunCase, atUs: number): boolean => runCase.workload.clients.flat().every((operation) => (operation.invokeUs ?? 0) <= atUs);
  const atCause = firstStage(causeUs).find((candidate) => invokedBy(candidate, causeUs));
  t.truthy(atCause);
  t.true(caseSize(atCause!).operations < caseSize(original).operations);
  t.true(atCause!.options.faults.every((fault) => fault.atUs <= causeUs));
  t.is(atCause!.options.timeLimitUs, Math.min(original.options.timeLimitUs, violationUs + 2_000_000), 'the run goes on past the time the check fired');
  // Without a cause, the first stage has only the cut at the violation.
  t.false(firstStage(null).some((candidate) => invokedBy(candidate, causeUs)));
});

test("a lagging disk is shrunk like a fault: the lag dropped, then only its shortest lags, lags half as long, half as often; every one of them a smaller case (etcd-db-lag's 20-300 ms, a third of db writes)", (t) => {
  const scenario = findScenario('etcd-db-lag')!;
  const prepared = scenario.prepare(0);
  const original: RunCase = { scenario: scenario.name, variant: {}, knobs: prepared.knobs, seed: 0, options: prepared.options, workload: { clients: [] } };
  const lag = original.options.disk.lag!;
  t.deepEqual([lag.usMin, lag.usMax, lag.chance], [20_000, 300_000, { numerator: 1, denominator: 3 }]);
  const calmerDisks = [...shrinkCandidates(original, hints)].map((c) => c.candidate.options.disk).filter((disk) => disk !== original.options.disk && disk.syncLatencyUsMax === original.options.disk.syncLatencyUsMax && disk.tornWrite === original.options.disk.tornWrite);
  t.deepEqual(
    calmerDisks.map((disk) => (disk.lag === undefined ? 'none' : `${disk.lag.usMin}-${disk.lag.usMax} ${disk.lag.chance.numerator}/${disk.lag.chance.denominator}`)),
    ['none', '20000-20000 1/3', '10000-150000 1/3', '20000-300000 1/6'],
  );
  for (const disk of calmerDisks) t.true(smaller(caseSize({ ...original, options: { ...original.options, disk } }), caseSize(original)));
});

const calmerStage = 6;
const calmerCandidates = (original: RunCase): RunCase[] => [...shrinkCandidates(original, hints, { stage: calmerStage, chunk: Infinity })].filter((c) => c.resume.stage === calmerStage).map((c) => c.candidate);

test('a calm case has no harshness; each harsh setting of etcd-swarm seed 0 (its tick bursts of 3 too) is dropped, then halved, and every calmer candidate is a smaller case', (t) => {
  const scenario = findScenario('etcd-swarm')!;
  const prepared = scenario.prepare(0);
  const original: RunCase = { scenario: scenario.name, variant: {}, knobs: prepared.knobs, seed: 0, options: prepared.options, workload: { clients: [] } };
  const calm: RunCase = { ...original, options: { ...original.options, network: calmNetwork, disk: calmDisk, clock: steadyClocks, faults: [] } };
  t.is(caseSize(calm).harshness, 0);
  t.is(calmerCandidates(calm).length, 0, 'nothing calmer than calm');
  const { network, disk, clock } = original.options;
  t.deepEqual([network.loss, network.tail, network.tailUsMax, disk.tornWrite, clock.offsetUsMax, clock.driftPpmMax, clock.tickBurstMax], [ratio(6, 100), ratio(3, 100), 200_000, ratio(1, 2), 2_000_000, 100_000, 3]);
  const candidates = calmerCandidates(original);
  const settings = (c: RunCase): string => `loss ${formatRatio(c.options.network.loss)} tail ${formatRatio(c.options.network.tail)} up to ${c.options.network.tailUsMax} torn ${formatRatio(c.options.disk.tornWrite)} offset ${c.options.clock.offsetUsMax} drift ${c.options.clock.driftPpmMax} burst ${c.options.clock.tickBurstMax}`;
  const optionSteps = candidates.filter((c) => c.options.faults === original.options.faults).map(settings);
  t.deepEqual(optionSteps, [
    'loss 0/1 tail 3/100 up to 200000 torn 1/2 offset 2000000 drift 100000 burst 3',
    'loss 3/100 tail 3/100 up to 200000 torn 1/2 offset 2000000 drift 100000 burst 3',
    'loss 6/100 tail 0/1 up to 0 torn 1/2 offset 2000000 drift 100000 burst 3',
    'loss 6/100 tail 3/200 up to 200000 torn 1/2 offset 2000000 drift 100000 burst 3',
    'loss 6/100 tail 3/100 up to 100000 torn 1/2 offset 2000000 drift 100000 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 0/1 offset 2000000 drift 100000 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/4 offset 2000000 drift 100000 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 0 drift 0 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 0 drift 100000 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 1000000 drift 100000 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 2000000 drift 0 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 2000000 drift 50000 burst 3',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 2000000 drift 100000 burst 1',
    'loss 6/100 tail 3/100 up to 200000 torn 1/2 offset 2000000 drift 100000 burst 2',
  ]);
  for (const candidate of candidates) {
    t.true(caseSize(candidate).harshness < caseSize(original).harshness, settings(candidate));
    t.true(smaller(caseSize(candidate), caseSize(original)));
  }
});

test("each fault's magnitude is halved (a weather change's rates dropped first), down to its floor; a slow disk goes back to a calm disk's syncs, then half as slow", (t) => {
  const original = aCase();
  const plan: FaultPlan = [
    { atUs: 1_000_000, action: { kind: 'network', loss: ratio(1, 10), duplicate: never, tail: ratio(1, 20), tailUsMax: 400_000 } },
    { atUs: 2_000_000, action: { kind: 'stall', node: 1, durationUs: 3_000_000 } },
    { atUs: 3_000_000, action: { kind: 'pause-leader', resumeAfterUs: 1_500 } },
    { atUs: 4_000_000, action: { kind: 'clock-jump', node: 2, deltaUs: -5_000_000 } },
    { atUs: 5_000_000, action: { kind: 'network', loss: never, duplicate: never } },
  ];
  const harsh: RunCase = { ...original, options: { ...original.options, network: calmNetwork, disk: { ...calmDisk, syncLatencyUsMax: 250_000 }, clock: steadyClocks, faults: plan } };
  const candidates = calmerCandidates(harsh);
  const changed = candidates.map((c) => (c.options.disk !== harsh.options.disk ? `sync up to ${c.options.disk.syncLatencyUsMax}` : describeFault(c.options.faults.find((fault, i) => fault !== plan[i])!.action)));
  t.deepEqual(changed, [
    'sync up to 1000',
    'sync up to 125500',
    'clock-jump 2 -2500000us',
    'stall 1 for 1500000us',
    'network loss=0/1 duplicate=0/1 tail=1/20 up to 400000us',
    'network loss=1/20 duplicate=0/1 tail=1/20 up to 400000us',
    'network loss=1/10 duplicate=0/1',
    'network loss=1/10 duplicate=0/1 tail=1/40 up to 400000us',
    'network loss=1/10 duplicate=0/1 tail=1/20 up to 200000us',
  ], 'a 1.5 ms pause is short enough');
  for (const candidate of candidates) t.true(smaller(caseSize(candidate), caseSize(harsh)));
  // A fault's length (to its recovery) counts too: shortenFaults' candidates are calmer.
  const weatherShortened: RunCase = { ...harsh, options: { ...harsh.options, faults: plan.map((fault, i) => (i === 4 ? { ...fault, atUs: 3_000_000 } : fault)) } };
  t.true(caseSize(weatherShortened).harshness < caseSize(harsh).harshness);
});

test("slow links are calmed like any setting: the network's latency back to a calm network's, then half as much slower (the range shifted down); each slow per-link override dropped, then calmed so; a link no slower than calm left alone", (t) => {
  const original = aCase();
  const links = [
    { from: 1, to: 2, latencyUsMin: 40_000, latencyUsMax: 60_000, tail: ratio(1, 10), tailUsMax: 300_000 },
    { from: 2, to: 1, latencyUsMin: 100, latencyUsMax: 200, tail: never, tailUsMax: 0 },
  ];
  const slow: RunCase = { ...original, options: { ...original.options, network: { ...calmNetwork, latencyUsMin: 1_000, latencyUsMax: 50_000, links }, disk: calmDisk, clock: steadyClocks, faults: [] } };
  const delays = (d: { latencyUsMin: number; latencyUsMax: number; tail: Ratio; tailUsMax: number }): string => `${d.latencyUsMin}-${d.latencyUsMax}${d.tail.numerator > 0 ? ` tail ${formatRatio(d.tail)} up to ${d.tailUsMax}` : ''}`;
  const network = (c: RunCase): string => [delays(c.options.network), ...(c.options.network.links ?? []).map((link) => `${link.from}>${link.to} ${delays(link)}`)].join(', ');
  const candidates = calmerCandidates(slow);
  t.deepEqual(candidates.map(network), [
    '500-2000, 1>2 40000-60000 tail 1/10 up to 300000, 2>1 100-200',
    '500-26000, 1>2 40000-60000 tail 1/10 up to 300000, 2>1 100-200',
    '1000-50000, 2>1 100-200',
    '1000-50000, 1>2 500-2000 tail 1/10 up to 300000, 2>1 100-200',
    '1000-50000, 1>2 11000-31000 tail 1/10 up to 300000, 2>1 100-200',
    '1000-50000, 1>2 40000-60000, 2>1 100-200',
    '1000-50000, 1>2 40000-60000 tail 1/20 up to 300000, 2>1 100-200',
    '1000-50000, 1>2 40000-60000 tail 1/10 up to 150000, 2>1 100-200',
  ]);
  for (const candidate of candidates) t.true(caseSize(candidate).harshness < caseSize(slow).harshness, network(candidate));
  // The last slow override dropped, the case has no overrides left (not an empty list).
  const oneLink: RunCase = { ...slow, options: { ...slow.options, network: { ...calmNetwork, links: [links[0]!] } } };
  t.false('links' in calmerCandidates(oneLink)[0]!.options.network);
  t.is(caseSize({ ...slow, options: { ...slow.options, network: { ...calmNetwork, links: [links[1]!] } } }).harshness, 0, 'a fast link is calm');
});

test('tick bursts are calmed to a steady clock\'s one owed tick, then half as many extra; each a smaller case', (t) => {
  const original = aCase();
  const bursty: RunCase = { ...original, options: { ...original.options, network: calmNetwork, disk: calmDisk, clock: { ...steadyClocks, tickBurstMax: 9 }, faults: [] } };
  const candidates = calmerCandidates(bursty);
  t.deepEqual(candidates.map((c) => c.options.clock.tickBurstMax), [1, 5]);
  for (const candidate of candidates) t.true(smaller(caseSize(candidate), caseSize(bursty)));
  t.is(caseSize({ ...bursty, options: { ...bursty.options, clock: { ...steadyClocks, tickBurstMax: 2 } } }).harshness, 1);
  t.deepEqual(calmerCandidates({ ...bursty, options: { ...bursty.options, clock: { ...steadyClocks, tickBurstMax: 2 } } }).map((c) => c.options.clock.tickBurstMax), [1]);
});

test('calm steps: none at zero, one at the floor, one more per doubling', (t) => {
  t.is(calmSteps(0, 1_000), 0);
  t.is(calmSteps(500, 1_000), 1);
  t.is(calmSteps(1_000, 1_000), 1);
  t.is(calmSteps(4_000, 1_000), 3);
  t.deepEqual(calmerRatios(ratio(6, 100)), [never, ratio(3, 100)]);
  t.deepEqual(calmerRatios(ratio(1, 1_024)), [never]);
  t.deepEqual(calmerMagnitudes(-5_000, 1_000), [0, -2_500]);
});

test('the shrinker groups Raft safety violations by their "kind:" prefix, whatever the numbers', (t) => {
  // As raftSafety words them (session 21 gave the unprefixed ones a kind).
  const acks = [
    'ack matches leader: node 2 acknowledged index 7 to leader 1 of term 3, but holds there an entry of term 2 where the leader\'s is of term 3',
    'ack matches leader: node 5 acknowledged index 112 to leader 4 of term 9, but holds there an entry of term 8 where the leader\'s is of term 9',
  ];
  t.deepEqual(new Set(acks.map(failureSignature)), new Set(['ack matches leader']));
  t.is(failureSignature('ack durability: node 3 acknowledged index 12 (term 4) to 1 before it was durable'), 'ack durability');
  t.is(failureSignature('vote durability: node 3 granted its vote in term 5 to 2 before persisting it (durable: term 4, vote 0)'), 'vote durability');
  t.is(failureSignature('commit durability: node 1 reports index 9 (term 2) committed, but it is not durable on a quorum of [1,2,3]'), 'commit durability');
  t.is(failureSignature("term monotonicity: node 4's term went back from 6 to 5"), 'term monotonicity');
  t.is(failureSignature("durable commit monotonicity: node 4's durable commit went back from 6 to 5"), 'durable commit monotonicity');
  // logHistory's end-of-run check (session 22 gave it a kind): the value and whether it is missing or replaced do not split it.
  t.deepEqual(
    new Set(['lost append: acknowledged append of 17 at index 9 (operation 4) is missing on node 2', 'lost append: acknowledged append of 38 at index 40 (operation 31) is replaced by 36 on node 5'].map(failureSignature)),
    new Set(['lost append']),
  );
});
