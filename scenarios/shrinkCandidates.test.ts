import test from 'ava';
import { caseOfRun, caseSize, type RunCase } from './case.ts';
import { findScenario } from './index.ts';
import { smaller } from './shrink.ts';
import { resumeOf, shrinkCandidates, type ShrinkCandidate } from './shrinkCandidates.ts';

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
