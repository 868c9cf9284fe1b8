import test from 'ava';
import type { FaultPlan } from './faults.ts';
import { countFaults, fitPlanToMembers, recoveries } from './planEdit.ts';

const plan: FaultPlan = [
  { atUs: 1, action: { kind: 'crash', node: 5 } },
  { atUs: 2, action: { kind: 'partition', shape: { kind: 'split', side: [1, 5] } } },
  { atUs: 3, action: { kind: 'pause', node: 2 } },
  { atUs: 4, action: { kind: 'restart', node: 5 } },
  { atUs: 5, action: { kind: 'heal' } },
  { atUs: 6, action: { kind: 'partition', shape: { kind: 'ring', order: [3, 1, 4, 5, 2] } } },
  { atUs: 7, action: { kind: 'resume', node: 2 } },
  { atUs: 8, action: { kind: 'network', loss: { numerator: 1, denominator: 10 }, duplicate: { numerator: 0, denominator: 1 } } },
  { atUs: 9, action: { kind: 'quiet' } },
];

test('each fault is paired with the recovery that ends it: restart, heal (or quiet), resume, calm weather', (t) => {
  // The weather change (index 7) is ended by nothing: the quiet was taken by the ring partition.
  t.deepEqual(recoveries(plan), [3, 4, 6, -1, -1, 8, -1, -1, -1]);
  t.is(countFaults(plan), 5, 'crash, split, pause, ring, weather: recoveries and the quiet do not count');
});

test('fitting a plan to fewer members drops the faults on the others and narrows partitions', (t) => {
  const fitted = fitPlanToMembers(plan, [1, 2, 3]);
  t.deepEqual(fitted.map((fault) => fault.atUs), [2, 3, 5, 7, 8, 9], 'node 5 crash/restart and the 5-member ring are gone');
  t.deepEqual(fitted[0]!.action, { kind: 'partition', shape: { kind: 'split', side: [1] } });
  t.deepEqual(fitPlanToMembers([{ atUs: 1, action: { kind: 'partition', shape: { kind: 'split', side: [4, 5] } } }], [1, 2, 3]), [], 'a side with nobody left cuts nothing');
});
