import test from 'ava';
import { describeStatusChange, formatEventLine, lineMatches } from './eventLog.ts';

test('a state line says what changed: role, term, commit, applied, configuration', (t) => {
  t.is(describeStatusChange(undefined, { role: 'follower', term: 1, commit: 1, applied: 1 }), 'follower, term 1, commit 1, applied 1');
  t.is(describeStatusChange({ role: 'follower', term: 1 }, { role: 'candidate', term: 2 }), 'follower→candidate, term 1→2');
  t.is(describeStatusChange({ role: 'leader', commit: 4, applied: 4 }, { role: 'leader', commit: 6, applied: 6 }), 'leader, commit 4→6, applied 6');
  t.is(describeStatusChange({ role: 'leader', commit: 4 }, { role: 'leader', commit: 4 }), null);
});

test('event lines line up, and filters pick by node, kind and time; world faults pass a node filter', (t) => {
  const line = { index: 3, timeUs: 2_104_300, who: 'n3', kind: 'message' as const, text: '1->3 MsgApp Term:2 Log:2/15', nodes: [1, 3] };
  t.is(formatEventLine(line), '   2.104300s  n3   message  1->3 MsgApp Term:2 Log:2/15');
  t.true(lineMatches(line, { nodes: [1] }));
  t.false(lineMatches(line, { nodes: [2] }));
  t.false(lineMatches(line, { kinds: ['state'] }));
  t.false(lineMatches(line, { fromUs: 3_000_000 }));
  t.true(lineMatches({ ...line, who: '-', kind: 'fault', text: 'heal', nodes: [] }, { nodes: [2] }));
  t.false(lineMatches({ ...line, kind: 'tick' }, {}), 'ticks only when asked for');
});
