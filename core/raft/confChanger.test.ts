import test from 'ava';
import fc from 'fast-check';
import { type ChangeBase, type ChangeResult, ConfChanger, restoreConfState } from './confChanger.ts';
import type { ConfChangeSingle } from './entry.ts';
import { ProgressTracker, TrackerConfig } from './progressTracker.ts';
import { type ConfState, confStatesEqual, emptyConfState } from './state.ts';

const limits = { maxInflight: 10, maxInflightBytes: Number.MAX_SAFE_INTEGER };

function baseOf(result: ChangeResult): ChangeBase {
  if (!result.ok) throw new Error(result.error);
  return { ...limits, config: result.config, progress: result.progress };
}

function start(voters: number[], learners: number[] = []): ChangeBase {
  return baseOf(restoreConfState({ ...limits, config: TrackerConfig.empty(), progress: new Map() }, 10, { ...emptyConfState, voters, learners }));
}

const v = (nodeId: number): ConfChangeSingle => ({ type: 'addNode', nodeId });
const l = (nodeId: number): ConfChangeSingle => ({ type: 'addLearner', nodeId });
const r = (nodeId: number): ConfChangeSingle => ({ type: 'removeNode', nodeId });

function describe(result: ChangeResult): string {
  return result.ok ? result.config.describe() : `error: ${result.error}`;
}

test('simple changes alter at most one voter', (t) => {
  const base = start([1, 2, 3]);
  t.is(describe(new ConfChanger(base, 10).simple([v(4)])), 'voters=(1 2 3 4)');
  t.is(describe(new ConfChanger(base, 10).simple([r(3)])), 'voters=(1 2)');
  t.is(describe(new ConfChanger(base, 10).simple([l(4), v(5)])), 'voters=(1 2 3 5) learners=(4)');
  t.is(describe(new ConfChanger(base, 10).simple([v(4), v(5)])), 'error: more than one voter changed without entering joint config');
  t.is(describe(new ConfChanger(start([1]), 10).simple([r(1)])), 'error: removed all voters');
});

test('promoting a learner and demoting a voter', (t) => {
  const base = start([1, 2], [3]);
  t.is(describe(new ConfChanger(base, 10).simple([v(3)])), 'voters=(1 2 3)');
  t.is(describe(new ConfChanger(base, 10).simple([l(2)])), 'voters=(1) learners=(2 3)');
});

test('entering and leaving a joint configuration', (t) => {
  const base = start([1, 2, 3]);
  const joint = new ConfChanger(base, 10).enterJoint(true, [v(4), r(3), l(2)]);
  t.is(describe(joint), 'voters=(1 4)&&(1 2 3) learners_next=(2) autoleave');
  t.is(describe(new ConfChanger(baseOf(joint), 10).enterJoint(false, [v(5)])), 'error: config is already joint');
  t.is(describe(new ConfChanger(baseOf(joint), 10).simple([v(5)])), "error: can't apply simple config change in joint config");
  const left = new ConfChanger(baseOf(joint), 10).leaveJoint();
  t.is(describe(left), 'voters=(1 4) learners=(2)');
  t.false(baseOf(left).progress.has(3), 'the removed voter loses its progress on leaving');
  t.is(describe(new ConfChanger(base, 10).leaveJoint()), "error: can't leave a non-joint config");
});

test('the changer never touches the configuration it starts from', (t) => {
  const base = start([1, 2, 3]);
  const before = base.config.describe();
  new ConfChanger(base, 10).enterJoint(false, [l(1), r(2)]);
  t.is(base.config.describe(), before);
  t.false(base.progress.get(1)!.isLearner);
});

test('new members are probed from the last index and count as active', (t) => {
  const result = baseOf(new ConfChanger(start([1]), 42).simple([v(2)]));
  const progress = result.progress.get(2)!;
  t.is(progress.next, 42);
  t.is(progress.match, 0);
  t.true(progress.recentActive);
});

/** Valid conf states: voters, learners disjoint; outgoing voters; learnersNext ⊆ outgoing \ incoming-voters. */
const confStateArbitrary: fc.Arbitrary<ConfState> = fc
  .record({
    roles: fc.array(fc.constantFrom('voter', 'learner', 'outgoing', 'both', 'next', 'none'), { minLength: 1, maxLength: 7 }),
    joint: fc.boolean(),
    autoLeave: fc.boolean(),
  })
  .map(({ roles, joint, autoLeave }) => {
    const ids = (wanted: string[]) => roles.flatMap((role, i) => (wanted.includes(role) ? [i + 1] : []));
    const voters = ids(['voter', 'both']);
    if (!joint) return { ...emptyConfState, voters: voters.length > 0 ? voters : [1], learners: ids(['learner']).filter((id) => id !== 1 || voters.length > 0) };
    const outgoing = ids(['outgoing', 'both', 'next']);
    return {
      voters: voters.length > 0 ? voters : [99],
      learners: ids(['learner']),
      votersOutgoing: outgoing.length > 0 ? outgoing : [98],
      learnersNext: ids(['next']),
      autoLeave,
    };
  });

test('restoring a conf state yields the same conf state (property)', (t) => {
  fc.assert(
    fc.property(confStateArbitrary, (cs) => {
      const tracker = new ProgressTracker(10, Number.MAX_SAFE_INTEGER);
      const restored = restoreConfState(tracker, 5, cs);
      return restored.ok && confStatesEqual(restored.config.confState(), cs);
    }),
  );
  t.pass();
});
