import test from 'ava';
import { Inflights } from './inflights.ts';
import { Progress } from './progress.ts';

function progress(match: number, next: number): Progress {
  return new Progress({ match, next, inflights: new Inflights(2, Number.MAX_SAFE_INTEGER), isLearner: false });
}

test('a probing follower gets one message per answer', (t) => {
  const p = progress(5, 6);
  t.true(p.shouldSendMsgApp(10, 5));
  p.sentEntries(3, 3);
  // Probes do not advance next optimistically.
  t.is(p.next, 6);
  t.false(p.shouldSendMsgApp(10, 5));
  t.true(p.isPaused());
});

test('a replicating follower streams until the window is full', (t) => {
  const p = progress(5, 6);
  p.becomeReplicate();
  p.sentEntries(2, 2);
  p.sentCommitIndex(5);
  t.is(p.next, 8);
  t.true(p.shouldSendMsgApp(10, 5));
  p.sentEntries(2, 2);
  t.is(p.next, 10);
  t.true(p.inflights.full());
  t.false(p.shouldSendMsgApp(12, 5));
  t.true(p.maybeUpdate(7));
  p.inflights.freeLE(7);
  t.true(p.shouldSendMsgApp(12, 5));
});

test('an empty append goes out when the follower can learn a newer commit index', (t) => {
  const p = progress(10, 11);
  p.becomeReplicate();
  p.sentCommitIndex(8);
  t.true(p.canBumpCommit(10));
  t.true(p.shouldSendMsgApp(10, 10));
  p.sentCommitIndex(10);
  t.false(p.shouldSendMsgApp(10, 10));
});

test('stale acknowledgements and rejections leave the progress alone', (t) => {
  const p = progress(5, 6);
  p.becomeReplicate();
  p.sentEntries(4, 4);
  t.false(p.maybeUpdate(5));
  t.true(p.maybeUpdate(7));
  t.is(p.match, 7);
  // A rejection of an index already matched is stale.
  t.false(p.maybeDecrTo(6, 6));
  // A genuine one falls back to match + 1.
  t.true(p.maybeDecrTo(9, 3));
  t.is(p.next, 8);
});

test('a probe rejection moves next to the hint, never below match + 1', (t) => {
  const p = progress(3, 11);
  t.false(p.maybeDecrTo(9, 2), 'not the probe in flight');
  t.true(p.maybeDecrTo(10, 6));
  t.is(p.next, 7);
  t.true(p.maybeDecrTo(6, 0));
  t.is(p.next, 4);
});

test('after a snapshot, probing resumes past it', (t) => {
  const p = progress(3, 4);
  p.becomeSnapshot(20);
  t.true(p.isPaused());
  t.false(p.shouldSendMsgApp(30, 20));
  p.becomeProbe();
  t.is(p.next, 21);
  t.is(p.state, 'probe');
});

test('describes itself in etcd-io/raft style', (t) => {
  const p = progress(3, 4);
  p.becomeSnapshot(9);
  t.is(p.describe(), 'StateSnapshot match=3 next=10 paused pendingSnap=9 inactive');
});

test('match must stay below next', (t) => {
  t.throws(() => progress(5, 5), { message: /match 5 must be < next 5/ });
});
