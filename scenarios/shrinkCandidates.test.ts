import test from 'ava';
import { caseOfRun, caseSize, type RunCase } from './case.ts';
import { findScenario } from './index.ts';
import { resumeOf, shrinkCandidates, type ShrinkCandidate } from './shrinkCandidates.ts';

/** raft-crashes seed 3 as a case: several clients with several operations each, and faults. */
function aCase(): RunCase {
  const scenario = findScenario('raft-crashes')!;
  const prepared = scenario.prepare(3);
  return caseOfRun(scenario.name, {}, prepared, prepared.execute({ recordWorkload: true }));
}

const hints = { violationUs: null, sidewaysLeft: 0 };
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
